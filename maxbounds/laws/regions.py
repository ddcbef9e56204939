r"""Upper bounds on the expected complexity of random maxout networks (docs/regions_bounds.md).

Three densities, each an upper bound on an expected count per unit volume
(derivations and assumptions in ``docs/regions_bounds.md``):

* **breakpoints per unit length** along any line (derived here, no condition
  on the segment):

  .. math:: \rho_1 = \sum_{l=1}^{L-1} n_l\binom{K_l}{2}\,C_{\mathrm{bias},l}\,G_l,
            \qquad C_{\mathrm{bias},l} = \frac{1}{\sqrt{2\pi\beta_l}},

  where :math:`G_l \ge \sup_x E|\partial_u\zeta_{l,i,k}(x)|` (analytic:
  :math:`G_l = \sqrt{2c_l/(\pi n_{l-1})}\,E[B_{l-1}^{1/2}]`); a segment of
  length :math:`T` has at most :math:`1 + \rho_1 T` pieces in expectation;
* **activation regions** per unit volume of a cube in :math:`\mathbb R^{n_0}`
  (Tseran & Montúfar 2021, as evaluated in the authors' code):
  :math:`(2^5 C_{\mathrm{grad}} C_{\mathrm{bias}} K N)^{n_0}\binom{Kn_0}{2n_0}/n_0!`;
* **pieces of the decision boundary** per unit volume:
  :math:`(2^4 C_{\mathrm{grad}} C_{\mathrm{bias}})^{n_0}(2KN)^{n_0-1}
  \binom{K(n_0-1)}{2(n_0-1)}/(n_0-1)!`,

with :math:`N` the number of hidden maxout units, :math:`K = \max_l K_l`,
:math:`C_{\mathrm{bias}} = \max_l 1/\sqrt{2\pi\beta_l}` and
:math:`C_{\mathrm{grad}} \ge \sup_{l,x}E[\|\nabla\zeta_{l,i,k}(x)\|^t]^{1/t}`
(order :math:`t = n_0`).  The two cube statements hold for side lengths
:math:`\delta \ge \delta_0 = 1/(2C_{\mathrm{grad}}C_{\mathrm{bias}})`.

The analytic :math:`C_{\mathrm{grad}}` uses the stochastic-order bound of
section 4: :math:`\nabla\zeta_{l,i,k} = J_{l-1}^\top W_{l,i,k}^\top` with the
Gaussian row :math:`W_{l,i,k}` independent of the Jacobian :math:`J_{l-1}`, and
:math:`\|J_{l-1}u\|^2 \le B_{l-1} = \prod_{m<l}(c_m/n_{m-1})\sum_{i\le n_m}\Xi_{m,i}`
for every unit :math:`u`; hence, for :math:`t \ge 2`,

.. math:: E\|\nabla\zeta_{l,i,k}(x)\|^t \le \Big(\frac{n_0 c_l}{n_{l-1}}\Big)^{t/2}
          E|h|^t\,E\big[B_{l-1}^{t/2}\big]

(Minkowski over the :math:`n_0` input directions; exact for :math:`l = 1`).
Everything is computed in log-space; the ``log_`` variants never overflow.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers

import numpy as np

from .._validate import MaxboundsValueError, as_order
from ..architecture import Architecture
from .jacobian import exp_checked
from .sums import chi2_log_moment

__all__ = [
    "c_bias", "layer_c_bias", "log_grad_moment_bound", "c_grad_bound", "c_grad_estimate", "GradEstimate",
    "DensityBound", "RegionBounds", "region_bounds", "default_points", "asymptotic_forms", "symbolic_bounds",
]


# -- C_bias ---------------------------------------------------------------------------------------
def layer_c_bias(arch: Architecture) -> tuple:
    r""":math:`1/\sqrt{2\pi\beta_l}` for ``l = 1..L`` (the output layer last).

    The supremum of the :math:`N(0, \beta_l)` density; a collection of
    :math:`t` independent biases has joint density at most the product.
    Zero variance has no density, so it raises :class:`MaxboundsValueError`.
    """
    _check_arch(arch)
    out = []
    for l, beta in enumerate(arch.bias_var, start=1):
        if beta <= 0:
            raise MaxboundsValueError(
                "bias_var", f"layer {l} has bias variance 0: biases without a density give no finite C_bias "
                "(the bounds need every bias to have a bounded conditional density); use a variance > 0")
        out.append(1.0 / math.sqrt(2 * math.pi * beta))
    return tuple(out)


def c_bias(arch: Architecture, *, include_output: bool = False) -> float:
    r""":math:`C_{\mathrm{bias}} = \max_l 1/\sqrt{2\pi\beta_l}` over the hidden layers (and the output layer).

    Every bias :math:`b_{l,i,k} \sim N(0, \beta_l)` is independent of all other
    parameters, so its conditional density given them is the Gaussian density,
    whose supremum is :math:`1/\sqrt{2\pi\beta_l}`.
    """
    values = layer_c_bias(arch) if include_output else _hidden_c_bias(arch)
    return max(values)


def _hidden_c_bias(arch):
    _check_arch(arch)
    hidden = arch.bias_var[:-1]
    for l, beta in enumerate(hidden, start=1):
        if beta <= 0:
            layer_c_bias(arch.with_(bias_var=hidden + (1.0,)))  # raises naming the layer
    return tuple(1.0 / math.sqrt(2 * math.pi * b) for b in hidden)


# -- C_grad (analytic) ----------------------------------------------------------------------------
def _check_arch(arch):
    if not isinstance(arch, Architecture):
        raise MaxboundsValueError("arch", f"expected an Architecture, got {type(arch).__name__}")
    arch.require_fully_connected("the region bounds")
    if arch.depth < 2:
        raise MaxboundsValueError("widths", "the region bounds need at least one hidden maxout layer")


def _layer_params(arch, layer):
    """``(c_l, fan-in)`` of weight layer ``layer`` (1-based), read off the network's layer."""
    if not isinstance(layer, numbers.Integral) or isinstance(layer, bool) or not 1 <= layer <= arch.depth:
        raise MaxboundsValueError("layer", f"must be an integer in 1..{arch.depth}, got {layer!r}")
    unit = arch.network()[layer - 1]
    return unit.scale, unit.fan_in


def _log_B_moment(arch, layer, s):
    r""":math:`\log E[B_{l-1}^s]`, :math:`B_{l-1} = \prod_{m<l}(c_m/n_{m-1})\sum_{i\le n_m}\Xi_{m,i}`.

    Each factor is the layer's upper stochastic-order factor, ``layer.jacobian_log_moment("upper", s)``.
    """
    return sum(_upper_log_moment(unit, s) for unit in arch.network()[:layer - 1])


@functools.lru_cache(maxsize=4096)
def _upper_log_moment(unit, s):
    """``unit.jacobian_log_moment("upper", s)``, cached by the layer's law (repeated layers ask for the same)."""
    if unit.index is not None:
        return _upper_log_moment(dataclasses.replace(unit, index=None), s)
    return unit.jacobian_log_moment("upper", s)


def _log_abs_gauss(t):
    r""":math:`\log E|h|^t = \log E[(\chi^2_1)^{t/2}]`."""
    return float(chi2_log_moment(1, t / 2))


def log_grad_moment_bound(arch: Architecture, layer: int, t) -> float:
    r"""Logarithm of an upper bound on :math:`\sup_x E\|\nabla_x\zeta_{l,i,k}(x)\|^t` (``layer = l``, 1..L).

    * :math:`l = 1`: exact, :math:`(c_1/n_0)^{t/2}E[(\chi^2_{n_0})^{t/2}]`;
    * :math:`n_0 = 1`: :math:`(c_l/n_{l-1})^{t/2}E|h|^t E[B_{l-1}^{t/2}]`;
    * :math:`n_0 > 1`, :math:`t \ge 2`: :math:`(n_0c_l/n_{l-1})^{t/2}E|h|^tE[B_{l-1}^{t/2}]` (Minkowski);
    * :math:`n_0 > 1`, :math:`t < 2`: the smaller of :math:`(n_0c_l E[B_{l-1}]/n_{l-1})^{t/2}`
      (Lyapunov from :math:`t = 2`) and :math:`n_0(c_l/n_{l-1})^{t/2}E|h|^tE[B_{l-1}^{t/2}]`
      (:math:`(\sum_j a_j)^{s} \le \sum_j a_j^{s}` for :math:`s \le 1`).

    ``layer = L`` is an output :math:`N_j` (scale :math:`c_L`).
    """
    _check_arch(arch)
    t = float(as_order(t))
    c, fan_in = _layer_params(arch, layer)
    n0 = arch.n_in
    if t == 0:
        return 0.0
    if layer == 1:
        return t / 2 * math.log(c / fan_in) + float(chi2_log_moment(n0, t / 2))
    log_row = _log_abs_gauss(t) + _log_B_moment(arch, layer, t / 2)
    if n0 == 1:
        return t / 2 * math.log(c / fan_in) + log_row
    if t >= 2:
        return t / 2 * math.log(n0 * c / fan_in) + log_row
    lyapunov = t / 2 * (math.log(n0 * c / fan_in) + _log_B_moment(arch, layer, 1.0))
    subadditive = math.log(n0) + t / 2 * math.log(c / fan_in) + log_row
    return min(lyapunov, subadditive)


def _log_directional_mean_bound(arch, layer):
    r""":math:`\log` of :math:`\sqrt{2c_l/(\pi n_{l-1})}\,E[B_{l-1}^{1/2}] \ge \sup_{x,\|u\|=1}E|\partial_u\zeta_{l,i,k}(x)|`."""
    c, fan_in = _layer_params(arch, layer)
    return 0.5 * math.log(c / fan_in) + _log_abs_gauss(1.0) + _log_B_moment(arch, layer, 0.5)


def _order(arch, order):
    if order is None:
        return float(arch.n_in)
    t = float(as_order(order, "order"))
    if t < 1:
        raise MaxboundsValueError("order", f"C_grad is defined for orders t >= 1, got {t:g}")
    return t


def log_c_grad_bound(arch: Architecture, *, order=None, include_output: bool = False) -> float:
    """``log`` of :func:`c_grad_bound`."""
    _check_arch(arch)
    t = _order(arch, order)
    layers = range(1, arch.depth + (1 if include_output else 0))
    return max(log_grad_moment_bound(arch, l, t) / t for l in layers)


def c_grad_bound(arch: Architecture, *, order=None, include_output: bool = False) -> float:
    r"""Analytic :math:`C_{\mathrm{grad}} = \max_l \big(\text{bound on }\sup_x E\|\nabla\zeta_{l,i,k}(x)\|^t\big)^{1/t}`.

    Maximum over the hidden layers (and the output layer with
    ``include_output``); ``order`` :math:`t` defaults to :math:`n_0`.  By
    Lyapunov's inequality the same value bounds every order :math:`1 \le s \le t`.
    """
    return exp_checked(log_c_grad_bound(arch, order=order, include_output=include_output), "C_grad")


# -- C_grad (simulated) ---------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class GradEstimate:
    r"""Simulated :math:`\max_{l,x}E[\|\nabla\zeta_{l,i,k}(x)\|^t]^{1/t}` with a delta-method standard error.

    ``per_layer[p, l-1]`` is :math:`E[\|\nabla\zeta\|^t]^{1/t}` estimated at
    point ``p`` for layer ``l`` and ``per_layer_stderr`` its standard error.
    ``value`` is the largest entry (over the layers considered) and
    ``stderr`` that entry's standard error.  The maximum of noisy estimates is
    biased upward as an estimate of the maximum of the true values, and the
    supremum over all inputs is only sampled at ``points``: an estimate, not
    a bound.
    """

    value: float
    stderr: float
    order: float
    networks: int
    points: np.ndarray
    per_layer: np.ndarray
    per_layer_stderr: np.ndarray
    argmax: tuple

    def as_dict(self) -> dict:
        return {"value": self.value, "stderr": self.stderr, "order": self.order, "networks": self.networks,
                "points": int(self.points.shape[0]), "argmax": {"point": list(map(float, self.points[self.argmax[0]])),
                                                               "layer": self.argmax[1] + 1}}


def c_grad_estimate(arch: Architecture, points, networks: int = 100, seed: int = 0, *, order=None,
                    include_output: bool = False) -> GradEstimate:
    r"""Simulated :math:`C_{\mathrm{grad}}`: explicit random networks, exact feature gradients at ``points``.

    For each point and layer, :math:`m = E\|\nabla\zeta\|^t` is estimated by
    the mean over ``networks`` i.i.d. networks of the layer-average of
    :math:`\|\nabla\zeta\|^t` (standard error :math:`s/\sqrt{\text{networks}}`),
    then :math:`m^{1/t}` with standard error :math:`m^{1/t-1}\,\mathrm{se}(m)/t`.
    """
    from ..simulate.feature_gradients import feature_gradient_moments

    _check_arch(arch)
    t = _order(arch, order)
    moments = feature_gradient_moments(arch, points, networks, seed, orders=(t,))[t]
    return _grad_estimate(moments, include_output)


def _grad_estimate(moments, include_output):
    t = moments.order
    last = moments.arch.depth if include_output else moments.arch.depth - 1
    mean, se = moments.mean[:, :last], moments.stderr[:, :last]
    root = mean ** (1 / t)
    root_se = np.where(mean > 0, root / np.where(mean > 0, mean, 1.0) * se / t, 0.0)
    p, l = np.unravel_index(int(np.argmax(root)), root.shape)
    return GradEstimate(float(root[p, l]), float(root_se[p, l]), t, moments.values.shape[0], moments.points,
                        root, root_se, (int(p), int(l)))


# -- the bounds -----------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class DensityBound:
    r"""An upper bound on an expected count per unit volume of :math:`\mathbb R^{\mathrm{dimension}}`.

    ``log_density`` is the natural logarithm of the bound (``-inf`` for 0).
    ``delta0`` is the side length from which the statement is guaranteed
    (``None``: any size); :meth:`in_box` raises below it unless
    ``strict=False``.
    """

    name: str
    log_density: float
    dimension: int
    delta0: float | None = None

    @property
    def density(self) -> float:
        return 0.0 if self.log_density == -math.inf else exp_checked(self.log_density, f"the {self.name} density")

    def side_ok(self, lo, hi) -> bool:
        """Whether the cube ``[lo, hi]^dimension`` is large enough for the statement."""
        lo, hi = _box(lo, hi)
        return self.delta0 is None or hi - lo >= self.delta0

    def log_in_box(self, lo, hi, *, strict: bool = True) -> float:
        r""":math:`\log` of the bound on the expected count in :math:`[lo, hi]^{\mathrm{dimension}}`."""
        lo, hi = _box(lo, hi)
        if strict and not self.side_ok(lo, hi):
            raise MaxboundsValueError(
                "box", f"side length {hi - lo:g} is below delta_0 = {self.delta0:.6g} = 1/(2 C_grad C_bias); "
                f"the {self.name} bound is stated for cubes at least that large (strict=False to evaluate anyway)")
        return self.log_density + self.dimension * math.log(hi - lo)

    def in_box(self, lo, hi, *, strict: bool = True) -> float:
        """The bound on the expected count in the cube ``[lo, hi]^dimension`` (a float; raises on overflow)."""
        value = self.log_in_box(lo, hi, strict=strict)
        return 0.0 if value == -math.inf else exp_checked(value, f"the {self.name} bound")

    def log_pieces_on_segment(self, length) -> float:
        r""":math:`\log(1 + \rho\,T)`: expected pieces on a segment of length ``T`` (1-D densities only)."""
        if self.dimension != 1:
            raise MaxboundsValueError("length", f"the {self.name} bound is a density in {self.dimension} dimensions")
        length = _length(length)
        if length == 0 or self.log_density == -math.inf:
            return 0.0
        return float(np.logaddexp(0.0, self.log_density + math.log(length)))

    def pieces_on_segment(self, length) -> float:
        return exp_checked(self.log_pieces_on_segment(length), "the expected number of pieces")


def _box(lo, hi):
    for name, v in (("box", lo), ("box", hi)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            raise MaxboundsValueError(name, f"the cube's ends must be finite numbers, got {v!r}")
    if not hi > lo:
        raise MaxboundsValueError("box", f"need lo < hi, got [{lo!r}, {hi!r}]")
    return float(lo), float(hi)


def _length(length):
    if isinstance(length, bool) or not isinstance(length, numbers.Real) or not math.isfinite(length) or length < 0:
        raise MaxboundsValueError("length", f"must be a finite number >= 0, got {length!r}")
    return float(length)


@dataclasses.dataclass(frozen=True)
class RegionBounds:
    r"""The three complexity bounds of an architecture, with the constants they use.

    ``regions`` and ``pieces`` are the cube statements (:math:`n_0`-dimensional
    densities with ``delta0``); ``breakpoints`` the per-length density along
    any line.  ``N`` counts the hidden maxout units, ``K`` is the largest rank.
    ``c_grad``/``c_bias`` cover the hidden layers (regions, breakpoints);
    ``c_grad_boundary``/``c_bias_boundary`` include the output layer (decision
    boundary).  ``c_grad_stderr`` is set for simulated :math:`C_{\mathrm{grad}}`.
    """

    architecture: str
    n_in: int
    N: int
    K: int
    order: float
    c_grad_method: str
    c_grad: float
    c_grad_boundary: float
    c_bias: float
    c_bias_boundary: float
    regions: DensityBound
    pieces: DensityBound
    breakpoints: DensityBound
    c_grad_stderr: float | None = None
    c_grad_networks: int | None = None

    def as_dict(self, box=None) -> dict:
        """A JSON-ready summary; with ``box = (lo, hi)`` also the counts in that cube (``None`` on overflow)."""
        out = {
            "architecture": self.architecture, "n_in": self.n_in, "N_hidden_units": self.N, "K_max": self.K,
            "c_bias": {"hidden": self.c_bias, "with_output": self.c_bias_boundary},
            "c_grad": {"method": self.c_grad_method, "order": self.order, "hidden": self.c_grad,
                       "with_output": self.c_grad_boundary},
        }
        if self.c_grad_stderr is not None:  # simulated: the hidden value is an estimate over c_grad_networks
            out["c_grad"]["estimate"] = {"mean": self.c_grad, "stderr": self.c_grad_stderr,
                                         "n": self.c_grad_networks}
        for key, bound in (("regions", self.regions), ("pieces", self.pieces),
                           ("breakpoints_per_length", self.breakpoints)):
            entry = {"per_unit_volume": _maybe(lambda b=bound: b.density),
                     "log10_per_unit_volume": bound.log_density / math.log(10), "dimension": bound.dimension,
                     "delta0": bound.delta0}
            if box is not None:
                lo, hi = box
                entry["in_box"] = _maybe(lambda b=bound: b.in_box(lo, hi, strict=False))
                entry["log10_in_box"] = bound.log_in_box(lo, hi, strict=False) / math.log(10)
                entry["side_condition_met"] = bound.side_ok(lo, hi)
            out[key] = entry
        if box is not None:
            lo, hi = box
            out["breakpoints_per_length"]["pieces_on_edge"] = _maybe(lambda: self.breakpoints.pieces_on_segment(hi - lo))
            out["box"] = [lo, hi]
        return out


def _maybe(f):
    from ..constants import OutOfRangeError

    try:
        return f()
    except OutOfRangeError:
        return None


def _log_binom(n, k):
    if k < 0 or k > n:
        return -math.inf
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def log_regions_density(c_grad, c_bias, K, N, n0) -> float:
    r""":math:`\log\big[(2^5 C_{\mathrm{grad}}C_{\mathrm{bias}}KN)^{n_0}\binom{Kn_0}{2n_0}/n_0!\big]`."""
    return n0 * math.log(32 * c_grad * c_bias * K * N) + _log_binom(K * n0, 2 * n0) - math.lgamma(n0 + 1)


def log_pieces_density(c_grad, c_bias, K, N, n0) -> float:
    r""":math:`\log\big[(2^4 C_{\mathrm{grad}}C_{\mathrm{bias}})^{n_0}(2KN)^{n_0-1}\binom{K(n_0-1)}{2(n_0-1)}/(n_0-1)!\big]`."""
    return (n0 * math.log(16 * c_grad * c_bias) + (n0 - 1) * math.log(2 * K * N)
            + _log_binom(K * (n0 - 1), 2 * (n0 - 1)) - math.lgamma(n0))


def _positive_number(value, argument):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise MaxboundsValueError(argument, f"expected 'analytic', 'simulated' or a finite number > 0, got {value!r}")
    return float(value)


def region_bounds(arch: Architecture, *, c_grad="analytic", order=None, points=None, box=(-1.0, 1.0),
                  networks: int = 100, seed: int = 0) -> RegionBounds:
    r"""The regions, decision-boundary and breakpoint bounds of ``arch``.

    The breakpoint density uses per-layer gradient constants: analytic
    :math:`\sqrt{2c_l/(\pi n_{l-1})}E[B_{l-1}^{1/2}]`, or the simulated
    :math:`\sup_x E\|\nabla\zeta_l\|` per layer, or the given number.

    Parameters
    ----------
    c_grad : {"analytic", "simulated"} or float
        ``"analytic"``: :func:`c_grad_bound` (a bound); ``"simulated"``:
        :func:`c_grad_estimate` at ``points`` (default: :func:`default_points`
        of ``box`` and ``seed``, a grid of at most 125 points or, for
        ``n0 = 5`` and ``n0 >= 7``, 125 uniform points drawn from ``seed``)
        from ``networks`` networks of ``seed`` (an estimate); a number: used
        as :math:`C_{\mathrm{grad}}` everywhere.
    order : float, optional
        The moment order :math:`t` of :math:`C_{\mathrm{grad}}` (default
        :math:`n_0`).
    """
    _check_arch(arch)
    t = _order(arch, order)
    K = max(arch.ranks)
    if K < 2:
        raise MaxboundsValueError("rank", "every rank is 1: the network is affine (one region, no breakpoints); "
                                  "the bounds are stated for maxout ranks K >= 2")
    N = int(sum(arch.hidden_widths))
    n0 = arch.n_in
    cb_layers = layer_c_bias(arch)
    cb, cb_out = max(cb_layers[:-1]), max(cb_layers)
    pairs = [arch.widths[l] * arch.ranks[l - 1] * (arch.ranks[l - 1] - 1) / 2 for l in range(1, arch.depth)]
    stderr = None
    if isinstance(c_grad, str) and c_grad == "analytic":
        method = "analytic"
        cg = c_grad_bound(arch, order=t)
        cg_out = c_grad_bound(arch, order=t, include_output=True)
        log_g = [_log_directional_mean_bound(arch, l) for l in range(1, arch.depth)]
    elif isinstance(c_grad, str) and c_grad == "simulated":
        from ..simulate.feature_gradients import feature_gradient_moments

        method = "simulated"
        _box(*box)
        x = default_points(n0, box, seed=seed) if points is None else points
        moments = feature_gradient_moments(arch, x, networks, seed, orders=sorted({t, 1.0}))
        hidden, with_out = _grad_estimate(moments[t], False), _grad_estimate(moments[t], True)
        cg, cg_out, stderr = hidden.value, with_out.value, hidden.stderr
        first = moments[1.0].mean[:, : arch.depth - 1].max(axis=0)
        log_g = [math.log(g) for g in first]
    elif isinstance(c_grad, str):
        raise MaxboundsValueError("c_grad", f"expected 'analytic', 'simulated' or a number > 0, got {c_grad!r}")
    else:
        method = "given"
        cg = cg_out = _positive_number(c_grad, "c_grad")
        log_g = [math.log(cg)] * (arch.depth - 1)
    log_terms = [math.log(p) + math.log(cb_layers[l]) + log_g[l] for l, p in enumerate(pairs) if p > 0]
    breakpoints = DensityBound("breakpoints", float(np.logaddexp.reduce(log_terms)) if log_terms else -math.inf, 1)
    regions = DensityBound("regions", log_regions_density(cg, cb, K, N, n0), n0, 1 / (2 * cg * cb))
    pieces = DensityBound("decision-boundary pieces", log_pieces_density(cg_out, cb_out, K, N, n0), n0,
                          1 / (2 * cg_out * cb_out))
    return RegionBounds(arch.describe(), n0, N, K, t, method, cg, cg_out, cb, cb_out, regions, pieces,
                        breakpoints, stderr, networks if stderr is not None else None)


def default_points(n0, box=(-1.0, 1.0), *, seed: int = 0, per_axis=None) -> np.ndarray:
    r"""The points at which ``c_grad="simulated"`` estimates :math:`\sup_x E\|\nabla\zeta\|^t` by default.

    A grid of ``p`` points per axis, ``p = max(2, min(9, round(125**(1/n0))))``,
    when it has at most 125 points; otherwise (``n0 = 5`` and ``n0 >= 7``) 125
    points drawn uniformly in the box by ``numpy.random.default_rng(seed)``,
    so the same seed gives the same points and another seed other points.
    """
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise MaxboundsValueError("seed", f"expected an integer >= 0, got {seed!r}")
    lo, hi = _box(*box)
    per_axis = per_axis or max(2, min(9, int(round(125 ** (1 / n0)))))
    if per_axis**n0 > 125:
        rng = np.random.default_rng(int(seed))
        return rng.uniform(lo, hi, size=(125, n0))
    axes = np.meshgrid(*[np.linspace(lo, hi, per_axis)] * n0, indexing="ij")
    return np.stack([a.ravel() for a in axes], axis=1)


# -- asymptotics ----------------------------------------------------------------------------------
def asymptotic_forms(bounds: RegionBounds) -> dict:
    r"""Leading-order forms of the two cube bounds for large :math:`N` and large :math:`K` (constants fixed).

    With :math:`T = C_{\mathrm{grad}}C_{\mathrm{bias}}` held fixed,
    :math:`\binom{Kn}{2n} \sim (Kn)^{2n}/(2n)!` as :math:`K\to\infty`, so

    * regions: :math:`\sim (2^5T)^{n_0}K^{n_0}\binom{Kn_0}{2n_0}N^{n_0}/n_0!`
      (:math:`N\to\infty`) and :math:`\sim (2^5TN)^{n_0}n_0^{2n_0}K^{3n_0}/(n_0!(2n_0)!)`
      (:math:`K\to\infty`);
    * pieces: :math:`\propto N^{n_0-1}` and :math:`\propto K^{3(n_0-1)}` likewise.

    Returns ``{"regions": {"N_power", "K_power", "log_K_coefficient"}, "pieces": {...}}``
    where the large-:math:`K` bound is :math:`\exp(\text{log\_K\_coefficient})K^{\text{K\_power}}`
    per unit volume at this :math:`N`.  Both constants depend on :math:`N`
    and :math:`K` through the architecture; the forms hold them fixed.
    """
    n0, N = bounds.n_in, bounds.N
    tr = bounds.c_grad * bounds.c_bias
    tp = bounds.c_grad_boundary * bounds.c_bias_boundary
    reg_coef = (n0 * math.log(32 * tr * N) + 2 * n0 * math.log(n0) - math.lgamma(n0 + 1) - math.lgamma(2 * n0 + 1))
    m = n0 - 1
    pie_coef = (n0 * math.log(16 * tp) + m * math.log(2 * N) + (2 * m * math.log(m) if m else 0.0)
                - math.lgamma(m + 1) - math.lgamma(2 * m + 1))
    return {"regions": {"N_power": n0, "K_power": 3 * n0, "log_K_coefficient": reg_coef},
            "pieces": {"N_power": m, "K_power": 3 * m, "log_K_coefficient": pie_coef}}


def symbolic_bounds(n0: int | None = None) -> dict:
    r"""The bounds as sympy expressions in :math:`K, N, C_{\mathrm{grad}}, C_{\mathrm{bias}}` (and :math:`n_0`).

    Returns ``{"regions", "pieces", "regions_large_K", "pieces_large_K"}``;
    both bounds are exactly proportional to :math:`N^{n_0}` and
    :math:`N^{n_0-1}`, and the ``large_K`` entries are their leading terms in
    :math:`K` (the ratio tends to 1).  Pass an integer ``n0``
    for expressions in :math:`K` and :math:`N` only.
    """
    import sympy as sp

    K, N, Cg, Cb = sp.symbols("K N C_grad C_bias", positive=True)
    n = sp.Symbol("n_0", positive=True, integer=True) if n0 is None else sp.Integer(n0)
    regions = (2**5 * Cg * Cb * K * N) ** n * sp.binomial(K * n, 2 * n) / sp.factorial(n)
    pieces = (2**4 * Cg * Cb) ** n * (2 * K * N) ** (n - 1) * sp.binomial(K * (n - 1), 2 * (n - 1)) / sp.factorial(n - 1)
    return {
        "regions": regions,
        "pieces": pieces,
        "regions_large_K": (2**5 * Cg * Cb * N) ** n * n ** (2 * n) * K ** (3 * n) / (sp.factorial(n) * sp.factorial(2 * n)),
        "pieces_large_K": ((2**4 * Cg * Cb) ** n * (2 * N) ** (n - 1) * (n - 1) ** (2 * (n - 1)) * K ** (3 * (n - 1))
                           / (sp.factorial(n - 1) * sp.factorial(2 * (n - 1)))),
    }
