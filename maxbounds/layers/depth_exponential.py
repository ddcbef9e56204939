r"""ReLU networks of depth ``d`` and width 3 with exactly :math:`2^d` linear pieces on ``[0, 1]`` (seed 004).

The construction (derived in ``docs/depth_exponential.md``) is a plain chain of the existing layer kinds:
``d`` ReLU layers of width 3 (:func:`maxbounds.layers.relu`) and a linear output
(:func:`maxbounds.layers.linear`), :func:`depth_exponential_layers`.  Its parameters are written by
:meth:`TentParameters.raw` in the shapes of :func:`maxbounds.layers.draw.draw_parameters`, so
``maxbounds.torch.build(depth_exponential_layers(d), params=p.raw())`` is the PyTorch model and
:func:`maxbounds.regions.line_regions` counts its pieces exactly.

Layer ``s`` computes, from :math:`y_{s-1}` (:math:`y_0 = x`), the three units

* :math:`u_s = \mathrm{ReLU}(y_{s-1} + 1) = y_{s-1} + 1` (never off on ``[0, 1]``),
* :math:`v_s = \mathrm{ReLU}(y_{s-1} - a_s)` (off for :math:`y_{s-1} < a_s`: the only unit that switches),
* :math:`r_s = \mathrm{ReLU}(K + c_0 x + \sum_{q<s} c_q y_q)` (the accumulator; :math:`K = 1 + \sum_q |c_q|`
  keeps its argument :math:`\ge 1`),

and :math:`y_s = g_{a_s}(y_{s-1}) = (u_s - 1)/a_s - (1/a_s + 1/(1 - a_s))\,v_s`, the tent with apex
:math:`a_s \in (0, 1)` (:math:`y/a` for :math:`y \le a`, :math:`(1-y)/(1-a)` above), is read linearly by the
next layer.  The output is :math:`F = b + c_0 x + \sum_{s=1}^d c_s y_s`.

**Admissible parameters** (:class:`TentParameters`): apexes :math:`a_s \in (0, 1)`, *curvatures*
:math:`D_s > 0`, a slope :math:`c_0` and an offset :math:`b` (any reals).  The skip weights
:math:`c_1..c_d` are the solution of the triangular system

.. math:: D_r = -c_r + \sum_{s=r+1}^{d} c_s\,\pi_{r,s},\qquad
          \pi_{r,s} = \frac{1}{(1 - a_{r+1})\,a_{r+2}\cdots a_s},

because at each of the :math:`2^{r-1}` new breakpoints of level ``r`` (where :math:`y_{r-1} = a_r`) the slope
of :math:`F` jumps by :math:`m\,D_r/(a_r(1-a_r))`, ``m`` the slope of :math:`y_{r-1}` there.  Hence every
admissible parameter gives a *convex* :math:`F` with exactly :math:`2^d` linear pieces (and the hidden
units exactly :math:`2^d` activation patterns), and every convex :math:`F` of this form with
:math:`2^d` pieces is admissible.  The sawtooth construction of :math:`x^2` (docs/depth_exponential.md,
:func:`sawtooth_square`) is :math:`a_s = 1/2`, :math:`c_0 = 1`, :math:`c_s = -4^{-s}`,
:math:`D_r = 2^{-r-d}`, with maximum error :math:`2^{-2d-2}`.

Also here: exact piece counts along ``[0, 1]`` (:func:`count_pieces`), the exact supremum error against
:math:`x^2` (:func:`square_sup_error`), the targets of the training experiment (:data:`TARGETS`,
:func:`target_function`: convex functions only), and, for contrast, the piece counts of the same
architecture under Gaussian (He) initialisation (:func:`random_piece_counts`) with the analytic bound on
their expectation (:func:`relu_pieces_bound`).
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np

from .._validate import MaxboundsValueError

__all__ = [
    "MAX_DEPTH",
    "TARGETS",
    "WIDTH",
    "PieceCount",
    "TentParameters",
    "as_network",
    "check_convex",
    "check_depth",
    "count_pieces",
    "curvature_from_skip",
    "depth_exponential_layers",
    "random_piece_counts",
    "relu_pieces_bound",
    "sawtooth_square",
    "skip_from_curvature",
    "square_sup_error",
    "target_function",
]

#: Hidden units per layer of the construction.
WIDTH = 3
#: Largest depth accepted (``2**24`` pieces; deeper constructions exist but cannot be counted in memory).
MAX_DEPTH = 24


def check_depth(depth, argument="depth") -> int:
    """``depth`` as an integer in ``1..MAX_DEPTH`` (a one-line error otherwise)."""
    if (isinstance(depth, bool) or not isinstance(depth, numbers.Integral)) and \
            not (isinstance(depth, float) and depth.is_integer()):
        raise MaxboundsValueError(argument, f"expected an integer between 1 and {MAX_DEPTH}, got {depth!r}")
    if not 1 <= depth <= MAX_DEPTH:
        raise MaxboundsValueError(argument, f"expected an integer between 1 and {MAX_DEPTH}, got {depth!r} "
                                            "(depth 0 has no tent and one piece)")
    return int(depth)


def depth_exponential_layers(depth: int, *, c="he", bias_var: float = 0.0):
    """The architecture: ``depth`` ReLU layers of width 3 on one input, then a linear output (a ``Serial``).

    ``c`` and ``bias_var`` are the Gaussian law of the hidden layers (used only by a random draw, e.g. the
    He contrast); the output layer has ``c = 1`` and the same ``bias_var``.
    """
    from . import linear, relu, serial

    depth = check_depth(depth)
    hidden = [relu(1 if s == 0 else WIDTH, WIDTH, c=c, bias_var=bias_var) for s in range(depth)]
    return serial(hidden + [linear(WIDTH, 1, bias_var=bias_var)])


def _vector(values, argument, depth=None):
    v = np.array(values, dtype=float).reshape(-1)
    if depth is not None and v.size != depth:
        raise MaxboundsValueError(argument, f"expected {depth} values, got {v.size}")
    if v.size == 0:
        raise MaxboundsValueError(argument, "expected at least one value (depth 0 has no tent)")
    if not np.all(np.isfinite(v)):
        raise MaxboundsValueError(argument, "values must be finite")
    return v


def _pi(apex: np.ndarray) -> np.ndarray:
    r""":math:`\pi_{r,s}` (0-based ``[r, s]``, zero for ``s <= r``)."""
    d = apex.size
    pi = np.zeros((d, d))
    for r in range(d):
        factor = 1.0 / (1.0 - apex[r + 1]) if r + 1 < d else 0.0
        for s in range(r + 1, d):
            if s > r + 1:
                factor /= apex[s]
            pi[r, s] = factor
    return pi


def skip_from_curvature(apex, curvature) -> np.ndarray:
    r"""The skip weights :math:`c_1..c_d` with :math:`D_r = -c_r + \sum_{s>r} c_s\pi_{r,s}` (back substitution)."""
    apex = _check_apex(apex)
    D = _vector(curvature, "curvature", apex.size)
    pi = _pi(apex)
    c = np.zeros(apex.size)
    for r in range(apex.size - 1, -1, -1):
        c[r] = -D[r] + float(pi[r, r + 1:] @ c[r + 1:])
    return c


def curvature_from_skip(apex, skip) -> np.ndarray:
    r""":math:`D_r = -c_r + \sum_{s>r} c_s\pi_{r,s}`: positive for every ``r`` exactly when :math:`F` is convex."""
    apex = _check_apex(apex)
    c = _vector(skip, "skip", apex.size)
    return -c + _pi(apex) @ c


def _check_apex(apex):
    a = _vector(apex, "apex")
    if not np.all((a > 0) & (a < 1)):
        raise MaxboundsValueError("apex", f"every apex must lie in the open interval (0, 1), got {a.tolist()}")
    return a


@dataclasses.dataclass(frozen=True)
class TentParameters:
    r"""Admissible parameters of the construction: apexes :math:`a_s \in (0,1)`, curvatures :math:`D_s > 0`,
    the slope :math:`c_0` and the offset :math:`b` (see the module docstring).

    ``skip`` (:math:`c_1..c_d`) follows from them; :meth:`raw` gives the network's weights.
    """

    apex: np.ndarray
    curvature: np.ndarray
    slope: float = 0.0
    offset: float = 0.0

    def __post_init__(self):
        a = _check_apex(self.apex)
        check_depth(a.size)
        D = _vector(self.curvature, "curvature", a.size)
        if not np.all(D > 0):
            raise MaxboundsValueError("curvature", f"every curvature must be > 0 (the admissible set), got "
                                                   f"{D.tolist()}")
        for name in ("slope", "offset"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise MaxboundsValueError(name, f"expected a finite number, got {value!r}")
            object.__setattr__(self, name, float(value))
        a.setflags(write=False)
        D.setflags(write=False)
        object.__setattr__(self, "apex", a)
        object.__setattr__(self, "curvature", D)

    @classmethod
    def from_skip(cls, apex, skip, slope=0.0, offset=0.0) -> TentParameters:
        """The parameters with given skip weights :math:`c_1..c_d` (refused unless they are admissible)."""
        return cls(_check_apex(apex), curvature_from_skip(apex, skip), slope, offset)

    @property
    def depth(self) -> int:
        return int(self.apex.size)

    @property
    def skip(self) -> np.ndarray:
        """:math:`c_1..c_d`."""
        return skip_from_curvature(self.apex, self.curvature)

    def tents(self, x) -> np.ndarray:
        r""":math:`y_1..y_d` at ``x`` (shape ``x.shape + (d,)``), evaluated directly (not by the network)."""
        y = np.asarray(x, dtype=float)
        out = []
        for a in self.apex:
            y = np.where(y <= a, y / a, (1.0 - y) / (1.0 - a))
            out.append(y)
        return np.stack(out, axis=-1)

    def __call__(self, x) -> np.ndarray:
        r""":math:`F(x) = b + c_0 x + \sum_s c_s y_s(x)` evaluated directly (for ``x`` in ``[0, 1]``)."""
        x = np.asarray(x, dtype=float)
        return self.offset + self.slope * x + self.tents(x) @ self.skip

    def breakpoints(self) -> np.ndarray:
        """The :math:`2^d - 1` interior breakpoints of :math:`F`, sorted (preimages of the apexes)."""
        points = np.empty(0)
        segments = [(0.0, 1.0, 1)]  # pieces of y_{s-1}: (left, right, +1 rising / -1 falling), y from 0 to 1
        for a in self.apex:
            new = []
            for left, right, direction in segments:
                if direction > 0:   # y rises from 0 to 1: y = a at left + a (right - left)
                    p = left + a * (right - left)
                    new += [(left, p, 1), (p, right, -1)]
                else:               # y falls from 1 to 0: y = a at right - a (right - left)
                    p = right - a * (right - left)
                    new += [(left, p, 1), (p, right, -1)]
                points = np.append(points, p)
            segments = new
        return np.sort(points)

    def raw(self) -> list:
        """``[(W_1, b_1), ..., (W_d, b_d), (W_out, b_out)]`` in the shapes of ``draw_parameters`` (float64)."""
        a, c = self.apex, self.skip
        K = 1.0 + abs(self.slope) + float(np.abs(c).sum())
        layers = []
        # layer 1 reads x
        W = np.array([[[1.0]], [[1.0]], [[self.slope]]])
        b = np.array([[1.0], [-a[0]], [K]])
        layers.append((W, b))
        for s in range(1, self.depth):
            p, q = 1.0 / a[s - 1], -(1.0 / a[s - 1] + 1.0 / (1.0 - a[s - 1]))  # y_{s-1} = p (u - 1) + q v
            cs = c[s - 1]
            W = np.array([[[p, q, 0.0]], [[p, q, 0.0]], [[cs * p, cs * q, 1.0]]])
            b = np.array([[1.0 - p], [-p - a[s]], [-cs * p]])
            layers.append((W, b))
        p, q = 1.0 / a[-1], -(1.0 / a[-1] + 1.0 / (1.0 - a[-1]))
        W = np.array([[[c[-1] * p, c[-1] * q, 1.0]]])
        b = np.array([[-c[-1] * p - K + self.offset]])
        layers.append((W, b))
        return layers

    def network(self):
        """The network as a :class:`maxbounds.regions.Network` (each ReLU unit a rank-2 maxout unit)."""
        return as_network(self.raw())


def sawtooth_square(depth: int) -> TentParameters:
    r"""The sawtooth construction of :math:`x^2`: :math:`f_d = x - \sum_{s\le d} g^{\circ s}(x)/4^s`.

    :math:`a_s = 1/2`, :math:`c_0 = 1`, :math:`b = 0`, :math:`c_s = -4^{-s}` (curvatures :math:`2^{-r-d}`):
    the interpolant of :math:`x^2` at :math:`k/2^d`, maximum error :math:`2^{-2d-2}`.
    """
    d = check_depth(depth)
    return TentParameters(np.full(d, 0.5), 2.0 ** (-np.arange(1, d + 1) - d), 1.0, 0.0)


def as_network(params):
    """A ReLU chain's parameters ``[(W, b), ...]`` (``draw_parameters`` shapes, last layer linear) as a
    :class:`maxbounds.regions.Network`: each hidden unit :math:`\\max(w\\cdot x + b, 0)` of rank 2."""
    from ..regions import Network

    if isinstance(params, TentParameters):
        params = params.raw()
    params = list(params)
    if len(params) < 2:
        raise MaxboundsValueError("params", "expected hidden ReLU layers and a linear output layer")
    hidden = []
    for W, b in params[:-1]:
        W, b = np.asarray(W, dtype=float), np.asarray(b, dtype=float)
        W = W.reshape(W.shape[0], 1, -1)
        b = b.reshape(W.shape[0], 1)
        hidden.append((np.concatenate([W, np.zeros_like(W)], axis=1), np.concatenate([b, np.zeros_like(b)], axis=1)))
    W, b = (np.asarray(v, dtype=float) for v in params[-1])
    return Network(hidden + [(W.reshape(W.shape[0], 1, -1), b.reshape(W.shape[0], 1))])


@dataclasses.dataclass(frozen=True)
class PieceCount:
    """Pieces of a network on a segment: ``activation`` (intervals of constant activation pattern, the exact
    count of :func:`maxbounds.regions.line_regions`) and ``linear`` (maximal intervals on which the output is
    one affine function: neighbouring activation pieces with equal output slope merged)."""

    activation: int
    linear: int
    convex: bool

    def as_dict(self) -> dict:
        return {"activation": self.activation, "linear": self.linear, "convex": self.convex}


#: Relative tolerance below which two neighbouring slopes count as equal (``count_pieces``).
SLOPE_RTOL = 1e-9


def count_pieces(net, a=0.0, b=1.0, *, rtol: float = SLOPE_RTOL) -> PieceCount:
    """Exact pieces of ``net`` (a ``regions.Network``, ReLU-chain parameters or :class:`TentParameters`) on
    ``[a, b]`` (one input).

    Two neighbouring activation pieces are one linear piece when their output slopes differ by at most
    ``rtol`` times the largest absolute slope; ``convex`` says every slope change is positive or such a tie.
    """
    from ..regions import Network, line_regions

    if not isinstance(net, Network):
        net = as_network(net)
    if net.n_in != 1 or net.n_out != 1:
        raise MaxboundsValueError("net", f"expected one input and one output, got widths {net.widths}")
    run = line_regions(net, np.array([float(a)]), np.array([float(b)]))
    slope = run.slope[:, 0]
    jumps = np.diff(slope)
    tol = rtol * max(1.0, float(np.abs(slope).max()))
    return PieceCount(run.pieces, 1 + int(np.sum(np.abs(jumps) > tol)), bool(np.all(jumps >= -tol)))


def square_sup_error(net) -> float:
    r""":math:`\sup_{x\in[0,1]}|F(x) - x^2|`, exact: per linear piece :math:`\alpha + \beta x` the extremes of
    :math:`\alpha + \beta x - x^2` are at the ends and at :math:`x = \beta/2`."""
    from ..regions import Network, line_regions

    if not isinstance(net, Network):
        net = as_network(net)
    run = line_regions(net, np.array([0.0]), np.array([1.0]))
    t, alpha, beta = run.t, run.intercept[:, 0], run.slope[:, 0]
    left, right = t[:-1], t[1:]
    vertex = np.clip(beta / 2, left, right)
    values = [alpha + beta * x - x * x for x in (left, right, vertex)]
    return float(np.max(np.abs(np.stack(values))))


# -- targets ------------------------------------------------------------------------------------------
def _square(x):
    return x * x


def _exp(x):
    return np.exp(x)


def _circle(x):
    return 1.0 - np.sqrt(1.0 - (x - 0.5) ** 2)


def _abs15(x):
    return np.abs(x - 0.5) ** 1.5


#: The convex targets on ``[0, 1]``: name -> (function, formula).  ``circle`` is the lower arc of the unit
#: circle centred at (1/2, 1), a smooth convex bowl (second derivative (1 - u^2)^(-3/2) >= 1, u = x - 1/2);
#: ``abs1.5`` is C^1, not C^2 (its curvature is infinite at 1/2).
TARGETS = {
    "x^2": (_square, "x^2"),
    "exp": (_exp, "exp(x)"),
    "circle": (_circle, "1 - sqrt(1 - (x - 1/2)^2)"),
    "abs1.5": (_abs15, "|x - 1/2|^1.5"),
}


def check_convex(function, name="target", points: int = 4097) -> None:
    """Refuse ``function`` unless it is finite and convex on ``[0, 1]`` (second differences on a grid)."""
    x = np.linspace(0.0, 1.0, points)
    try:
        y = np.asarray(function(x), dtype=float).reshape(-1)
    except Exception as error:  # noqa: BLE001 - a user function may raise anything
        raise MaxboundsValueError("target", f"{name} cannot be evaluated on a NumPy grid of [0, 1]: {error}") from None
    if y.shape != x.shape or not np.all(np.isfinite(y)):
        raise MaxboundsValueError("target", f"{name} must give one finite value per point of [0, 1]")
    second = y[2:] - 2 * y[1:-1] + y[:-2]
    tol = 1e-10 * max(1.0, float(np.abs(y).max()))
    if np.any(second < -tol):
        where = float(x[1 + int(np.argmin(second))])
        raise MaxboundsValueError("target", f"{name} is not convex on [0, 1] (it bends down near x = {where:.3g}); "
                                            "the construction realises convex functions only (every admissible "
                                            "parameter gives a convex network): fit -f for a concave f")


def target_function(target):
    """``(name, function, formula)`` of a target: a name of :data:`TARGETS` or a convex NumPy function."""
    if isinstance(target, str):
        if target not in TARGETS:
            raise MaxboundsValueError("target", f"unknown target {target!r}; choose from {', '.join(TARGETS)} "
                                                "or give a convex function")
        function, formula = TARGETS[target]
        return target, function, formula
    if not callable(target):
        raise MaxboundsValueError("target", f"expected a target name or a function, got {type(target).__name__}")
    name = getattr(target, "__name__", "the target")
    check_convex(target, name)
    return name, target, name


# -- the contrast: Gaussian (He) initialisation ----------------------------------------------------------
def random_piece_counts(depth: int, networks: int = 1000, seed: int = 0, *, bias_var: float = 0.1, c="he",
                        first: int = 0) -> dict:
    """Exact pieces on ``[0, 1]`` of networks ``first..first+networks-1`` of ``seed`` of the architecture
    (:func:`depth_exponential_layers` with weights :math:`N(0, c/\\mathrm{fan\\_in})`, biases
    :math:`N(0, \\beta)`), drawn by maxbounds' draw: ``{"activation": array, "linear": array}``."""
    from .draw import draw_many

    net = depth_exponential_layers(depth, c=c, bias_var=bias_var)
    drawn = draw_many(net, seed, first, networks)
    activation = np.empty(networks, dtype=np.int64)
    linear = np.empty(networks, dtype=np.int64)
    for i in range(networks):
        count = count_pieces([(W[i], b[i]) for W, b in drawn])
        activation[i], linear[i] = count.activation, count.linear
    return {"activation": activation, "linear": linear}


def relu_pieces_bound(depth: int, *, bias_var: float = 0.1, c="he", length: float = 1.0) -> float:
    r"""Upper bound on the expected activation pieces of the random architecture on a segment of ``length``.

    :math:`1 + T\sum_{l=1}^{d} n_l\,C_{\mathrm{bias}}\sqrt{2c_l/(\pi n_{l-1})}\,\prod_{m<l}E[G_m^{1/2}]`,
    :math:`C_{\mathrm{bias}} = 1/\sqrt{2\pi\beta}`, :math:`G_m` the exact law of layer ``m``'s squared
    Jacobian gain (``layer.jacobian_log_moment("upper", 1/2)``): the argument of the maxout breakpoint
    bound of :mod:`maxbounds.laws.regions` (which is stated for maxout units, rank :math:`\ge 2`), written for
    ReLU units (one kink each, at a zero of :math:`w\cdot x_{l-1} + b`).  Needs :math:`\beta > 0`.
    """
    if isinstance(bias_var, bool) or not isinstance(bias_var, numbers.Real) or not bias_var > 0:
        raise MaxboundsValueError("bias_var", f"the bound needs biases with a density: a variance > 0, got "
                                              f"{bias_var!r}")
    net = depth_exponential_layers(depth, c=c, bias_var=bias_var)
    c_bias = 1.0 / math.sqrt(2 * math.pi * bias_var)
    log_gain, rho = 0.0, 0.0
    for layer in net.layers[:-1]:
        rho += layer.width * c_bias * math.sqrt(2 * layer.scale / (math.pi * layer.fan_in)) * math.exp(log_gain)
        log_gain += layer.jacobian_log_moment("upper", 0.5)
    return 1.0 + float(length) * rho
