r"""Two-layer networks on a finite data set: forward pass, activation pattern, Jacobian of the parametrisation.

The network is :math:`f_\theta(x) = \sum_{j \le m} v_j\,\phi_j(x)` with, per hidden unit ``j``,

* ReLU / leaky ReLU of slope :math:`a`: :math:`\phi_j(x) = \sigma(w_j\cdot x + b_j)`,
  :math:`\sigma(z) = z` for :math:`z > 0` and :math:`a z` otherwise (:math:`a = 0`: ReLU);
* maxout of rank :math:`K`: :math:`\phi_j(x) = \max_{k \le K}(w_{jk}\cdot x + b_{jk})`.

For data :math:`x_1, \dots, x_N \in \mathbb R^d` the *activation pattern* is the
:math:`N \times m` integer matrix :math:`A_{ij} = 1[w_j\cdot x_i + b_j > 0]` (ReLU,
leaky ReLU) or :math:`A_{ij} = \arg\max_k (w_{jk}\cdot x_i + b_{jk})` (maxout, pieces
numbered ``0..K-1``; a tie, of probability 0 for continuous parameters, goes to
the lowest index).  On the open set of parameters with one pattern the map
:math:`\theta \mapsto (f_\theta(x_1), \dots, f_\theta(x_N))` is polynomial, with the
:math:`N \times P` Jacobian of docs/landscape.md:

.. math::

   \partial f(x_i)/\partial w_j = v_j D_{ij} x_i,\quad
   \partial f(x_i)/\partial b_j = v_j D_{ij},\quad
   \partial f(x_i)/\partial v_j = \phi_j(x_i),

with :math:`D_{ij} = A_{ij} + a(1 - A_{ij})`, and for maxout
:math:`\partial f(x_i)/\partial w_{jk} = v_j 1[A_{ij} = k]\,x_i`,
:math:`\partial f(x_i)/\partial b_{jk} = v_j 1[A_{ij} = k]`.

**Parameter order** (the columns of :func:`jacobian`, and :meth:`TwoLayer.flat`):
unit by unit; within unit ``j``, ReLU / leaky ReLU ``[w_j (d entries), b_j, v_j]``
(:math:`P = m(d + 2)`), maxout ``[w_j1, b_j1, ..., w_jK, b_jK, v_j]``
(:math:`P = m(K(d + 1) + 1)`).

:func:`pattern_matrix` is the matrix of column blocks :math:`\mathrm{diag}(D_{:,j})[X, 1]`
(maxout: :math:`\mathrm{diag}(1[A_{:,j} = k])[X, 1]`, one block per unit and piece).
Its column space equals the Jacobian's whenever every :math:`v_j \ne 0`: the
:math:`(w_j, b_j)` columns are :math:`v_j` times block ``j``, and the :math:`v_j` column,
:math:`\phi_j(x_i) = D_{ij}(w_j\cdot x_i + b_j)`, is block ``j`` times :math:`(w_j, b_j)`.
So the rank of the Jacobian depends on the pattern alone (and on the data).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._validate import MaxboundsValueError, as_real_array

__all__ = [
    "ACTIVATIONS",
    "TwoLayer",
    "activation_name",
    "activation_pattern",
    "check_data",
    "forward",
    "jacobian",
    "load_data",
    "parameter_count",
    "pattern_matrix",
    "random_parameters",
]

#: Activation names (the command line's spelling; ``leaky_relu`` is accepted too).
ACTIVATIONS = ("relu", "leaky-relu", "maxout")


def activation_name(activation) -> str:
    """``activation`` as one of :data:`ACTIVATIONS` (``leaky_relu`` -> ``leaky-relu``)."""
    name = str(activation).strip().lower().replace("_", "-") if isinstance(activation, str) else None
    if name not in ACTIVATIONS:
        raise MaxboundsValueError("activation", f"expected one of {', '.join(ACTIVATIONS)}, got {activation!r}")
    return name


def _rank(activation: str, K) -> int:
    """The number of pieces: ``K`` for maxout (an integer >= 1), 1 otherwise."""
    if activation != "maxout":
        return 1
    if isinstance(K, bool) or not isinstance(K, (int, np.integer)) or K < 1:
        raise MaxboundsValueError("rank", f"the maxout rank K must be an integer >= 1, got {K!r}")
    return int(K)


def _slope(activation: str, slope) -> float:
    if activation == "relu":
        return 0.0
    if activation == "maxout":
        return float("nan")
    if isinstance(slope, bool):
        raise MaxboundsValueError("slope", "the slope must be a real number, not a boolean")
    try:
        a = float(slope)
    except (TypeError, ValueError):
        raise MaxboundsValueError("slope", f"the slope must be a real number, got {slope!r}") from None
    if not np.isfinite(a):
        raise MaxboundsValueError("slope", f"the slope must be finite, got {slope!r}")
    return a


def parameter_count(width: int, dim: int, activation: str = "relu", rank: int = 2) -> int:
    """``P``: ``m(d + 2)`` (ReLU, leaky ReLU) or ``m(K(d + 1) + 1)`` (maxout of rank ``K``)."""
    activation = activation_name(activation)
    K = _rank(activation, rank)
    return int(width) * (int(dim) + 2 if activation != "maxout" else K * (int(dim) + 1) + 1)


def check_data(X, argument: str = "X") -> np.ndarray:
    """``X`` as a finite float array of shape ``(N, d)`` with ``N, d >= 1`` (a 1-D array is ``N`` points of R^1)."""
    arr = np.asarray(X)
    if arr.dtype.kind not in "iuf":
        raise MaxboundsValueError(argument, f"expected real numbers (an (N, d) array), got dtype {arr.dtype}")
    arr = as_real_array(arr, argument)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise MaxboundsValueError(argument, f"expected an (N, d) array of N points in R^d, got shape {arr.shape}")
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise MaxboundsValueError(argument, f"expected at least one point and one coordinate, got shape {arr.shape}")
    return np.ascontiguousarray(arr)


def load_data(path, argument: str = "data") -> np.ndarray:
    """The ``(N, d)`` data array of the ``.npy`` file ``path`` (a 1-D array is ``N`` points of R^1).

    Only plain numeric arrays are read (integers or floats; never Python
    objects).  Every failure (a missing or unreadable file, not a ``.npy``
    file, a ``.npz`` archive, a truncated file, objects, booleans, complex or
    non-finite numbers, a wrong shape) raises a one-line
    :class:`MaxboundsValueError` naming ``argument``.
    """
    name = str(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(6)
            if head[:2] == b"PK":
                raise MaxboundsValueError(argument, f"{name} is a .npz archive; give a .npy file holding one "
                                                    f"(N, d) array")
            if head != b"\x93NUMPY":
                raise MaxboundsValueError(argument, f"{name} is not a .npy file (no NumPy array header)")
            handle.seek(0)
            try:
                version = np.lib.format.read_magic(handle)
                reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                    np.lib.format.read_array_header_2_0
                shape, _, dtype = reader(handle)
            except (ValueError, SyntaxError, EOFError, TypeError):  # a damaged header (numpy's words are internal)
                raise MaxboundsValueError(argument, f"{name} has a malformed .npy header") from None
    except OSError as error:
        raise MaxboundsValueError(argument, f"cannot read {name}: {error.strerror or error}") from None
    if dtype.hasobject or dtype.fields is not None or dtype.kind not in "iuf":
        what = "Python objects" if dtype.hasobject else f"dtype {dtype}"
        raise MaxboundsValueError(argument, f"{name} holds {what}; expected an (N, d) array of real numbers")
    if len(shape) not in (1, 2):
        raise MaxboundsValueError(argument, f"{name} holds an array of shape {shape}; expected (N, d)")
    try:
        arr = np.load(path, allow_pickle=False)
    except OSError as error:
        raise MaxboundsValueError(argument, f"cannot read {name}: {error.strerror or error}") from None
    except (ValueError, EOFError):  # truncated data and the like
        raise MaxboundsValueError(argument, f"{name} is truncated or malformed (its data do not match its "
                                            f"header)") from None
    try:
        return check_data(arr, argument)
    except MaxboundsValueError as error:
        raise MaxboundsValueError(argument, f"{name}: {error.problem}") from None


@dataclasses.dataclass(frozen=True, eq=False)
class TwoLayer:
    r"""Parameters of :math:`f(x) = \sum_j v_j \phi_j(x)`.

    ``W``: ``(m, d)`` (ReLU, leaky ReLU) or ``(m, K, d)`` (maxout); ``b``: ``(m,)`` or
    ``(m, K)``; ``v``: ``(m,)``.  ``activation`` is one of :data:`ACTIVATIONS`;
    ``slope`` is the leaky slope :math:`a` (0 for ReLU, unused for maxout).
    """

    W: np.ndarray
    b: np.ndarray
    v: np.ndarray
    activation: str = "relu"
    slope: float = 0.0

    def __post_init__(self):
        activation = activation_name(self.activation)
        W = as_real_array(self.W, "W")
        b = as_real_array(self.b, "b")
        v = as_real_array(self.v, "v")
        want = 3 if activation == "maxout" else 2
        if W.ndim != want or W.shape[0] < 1 or W.shape[-1] < 1:
            shape = "(m, K, d)" if activation == "maxout" else "(m, d)"
            raise MaxboundsValueError("W", f"expected the {activation} weights as an {shape} array, got {W.shape}")
        if b.shape != W.shape[:-1]:
            raise MaxboundsValueError("b", f"expected biases of shape {W.shape[:-1]}, got {b.shape}")
        if v.shape != (W.shape[0],):
            raise MaxboundsValueError("v", f"expected output weights of shape ({W.shape[0]},), got {v.shape}")
        if activation == "maxout" and W.shape[1] < 1:
            raise MaxboundsValueError("W", "a maxout unit needs at least one piece")
        object.__setattr__(self, "activation", activation)
        object.__setattr__(self, "slope", _slope(activation, self.slope))
        for name, value in (("W", W), ("b", b), ("v", v)):
            object.__setattr__(self, name, np.ascontiguousarray(value))

    @property
    def width(self) -> int:
        return int(self.W.shape[0])

    @property
    def dim(self) -> int:
        return int(self.W.shape[-1])

    @property
    def rank(self) -> int:
        """``K`` for maxout, 1 otherwise."""
        return int(self.W.shape[1]) if self.activation == "maxout" else 1

    @property
    def parameter_count(self) -> int:
        return parameter_count(self.width, self.dim, self.activation, self.rank)

    def flat(self) -> np.ndarray:
        """The parameter vector in the documented order (the columns of :func:`jacobian`)."""
        if self.activation == "maxout":
            wb = np.concatenate([self.W, self.b[..., None]], axis=2).reshape(self.width, -1)
        else:
            wb = np.concatenate([self.W, self.b[:, None]], axis=1)
        return np.concatenate([wb, self.v[:, None]], axis=1).ravel()

    def with_flat(self, theta) -> TwoLayer:
        """The network of the same shape with parameter vector ``theta``."""
        theta = as_real_array(theta, "theta")
        if theta.shape != (self.parameter_count,):
            raise MaxboundsValueError("theta", f"expected {self.parameter_count} parameters, got shape {theta.shape}")
        rows = theta.reshape(self.width, -1)
        v = rows[:, -1]
        if self.activation == "maxout":
            wb = rows[:, :-1].reshape(self.width, self.rank, self.dim + 1)
            return TwoLayer(wb[..., :-1], wb[..., -1], v, "maxout")
        return TwoLayer(rows[:, :self.dim], rows[:, self.dim], v, self.activation, self.slope)

    def describe(self) -> str:
        kind = {"relu": "ReLU", "leaky-relu": f"leaky ReLU (slope {self.slope:g})",
                "maxout": f"maxout (K={self.rank})"}[self.activation]
        return f"two-layer {kind}, width {self.width}, input dimension {self.dim}, {self.parameter_count} parameters"


def random_parameters(width: int, dim: int, activation: str = "relu", *, rank: int = 2, slope: float = 0.01,
                      rng=None) -> TwoLayer:
    r"""Gaussian parameters: :math:`w \sim N(0, I_d/d)`, :math:`b \sim N(0, 1)`, :math:`v \sim N(0, 1)`, all independent.

    With data :math:`x \sim N(0, I_d)` the pre-activation :math:`w\cdot x` then has
    variance near 1, comparable with the bias.  The pattern only depends on the
    direction of :math:`(w, b)`, and the rank only on the pattern (every
    :math:`v_j \ne 0` almost surely), so these scales only fix which patterns are
    likely.  ``rng`` is a NumPy ``Generator`` (or a seed for one).
    """
    activation = activation_name(activation)
    K = _rank(activation, rank)
    rng = np.random.default_rng(rng)
    m, d = int(width), int(dim)
    shape = (m, K, d) if activation == "maxout" else (m, d)
    W = rng.standard_normal(shape) / np.sqrt(d)
    b = rng.standard_normal(shape[:-1])
    v = rng.standard_normal(m)
    return TwoLayer(W, b, v, activation, slope)


def _check_input(net: TwoLayer, X) -> np.ndarray:
    if not isinstance(net, TwoLayer):
        raise MaxboundsValueError("net", f"expected a TwoLayer network, got {type(net).__name__}")
    X = check_data(X)
    if X.shape[1] != net.dim:
        raise MaxboundsValueError("X", f"the network takes inputs in R^{net.dim}, got points in R^{X.shape[1]}")
    return X


def _preactivations(net: TwoLayer, X: np.ndarray) -> np.ndarray:
    """``(N, m)`` (ReLU, leaky ReLU) or ``(N, m, K)`` (maxout) pre-activations."""
    if net.activation == "maxout":
        return np.einsum("id,jkd->ijk", X, net.W) + net.b[None]
    return X @ net.W.T + net.b[None]


def activation_pattern(net: TwoLayer, X) -> np.ndarray:
    """The ``(N, m)`` pattern: ``1[w_j.x_i + b_j > 0]`` (ReLU, leaky ReLU) or the winning piece ``0..K-1`` (maxout)."""
    X = _check_input(net, X)
    z = _preactivations(net, X)
    if net.activation == "maxout":
        return np.argmax(z, axis=2).astype(np.int64)
    return (z > 0).astype(np.int64)


def forward(net: TwoLayer, X) -> np.ndarray:
    """``(f(x_1), ..., f(x_N))``."""
    X = _check_input(net, X)
    z = _preactivations(net, X)
    if net.activation == "maxout":
        h = z.max(axis=2)
    else:
        h = np.where(z > 0, z, net.slope * z)
    return h @ net.v


def jacobian(net: TwoLayer, X) -> np.ndarray:
    """The ``(N, P)`` Jacobian of ``theta -> (f(x_1), ..., f(x_N))``, columns in the order of :meth:`TwoLayer.flat`.

    The closed form of the module docstring; it is the derivative wherever no
    pre-activation (ReLU) or no pair of winning pieces (maxout) is tied at a
    data point, that is, everywhere but on a set of parameters of measure zero.
    """
    X = _check_input(net, X)
    N, m, d = X.shape[0], net.width, net.dim
    z = _preactivations(net, X)
    Xt = np.concatenate([X, np.ones((N, 1))], axis=1)  # [X, 1], shape (N, d + 1)
    if net.activation == "maxout":
        K = net.rank
        win = np.argmax(z, axis=2)
        onehot = (win[:, :, None] == np.arange(K)).astype(float)  # (N, m, K)
        wb = (net.v[None, :, None, None] * onehot[..., None]) * Xt[:, None, None, :]  # (N, m, K, d + 1)
        value = np.take_along_axis(z, win[..., None], axis=2)  # (N, m, 1)
        J = np.concatenate([wb.reshape(N, m, K * (d + 1)), value], axis=2)
    else:
        D = np.where(z > 0, 1.0, net.slope)  # (N, m)
        wb = (net.v[None, :] * D)[..., None] * Xt[:, None, :]  # (N, m, d + 1)
        J = np.concatenate([wb, (D * z)[..., None]], axis=2)
    return J.reshape(N, -1)


def pattern_matrix(pattern, X, activation: str = "relu", *, rank: int | None = None, slope: float = 0.01) -> np.ndarray:
    r"""The matrix of column blocks :math:`\mathrm{diag}(D_{:,j})[X, 1]` of a pattern (see the module docstring).

    ``pattern`` is ``(N, m)``: zeros and ones (ReLU, leaky ReLU; ``D = A + a(1 - A)``)
    or winning pieces ``0..K-1`` (maxout; ``rank`` is ``K``, by default one more
    than the largest piece in the pattern).  The result is ``(N, m(d + 1))`` or
    ``(N, mK(d + 1))``; its rank is the Jacobian's rank at every parameter with
    this pattern and all :math:`v_j \ne 0`.  The pattern need not be realisable
    by any parameter.  A stack of patterns ``(S, N, m)`` gives ``(S, N, ...)``.
    """
    activation = activation_name(activation)
    X = check_data(X)
    A = np.asarray(pattern)
    if A.dtype.kind not in "biu" and not (A.dtype.kind == "f" and np.all(np.isfinite(A)) and np.all(A == np.round(A))):
        raise MaxboundsValueError("pattern", "expected an integer pattern (0/1, or winning pieces 0..K-1)")
    A = A.astype(np.int64)
    if A.ndim not in (2, 3) or A.shape[-2] != X.shape[0] or A.shape[-1] < 1:
        raise MaxboundsValueError("pattern", f"expected an (N, m) pattern with N = {X.shape[0]} rows (the data "
                                             f"points), got shape {A.shape}")
    N = X.shape[0]
    Xt = np.concatenate([X, np.ones((N, 1))], axis=1)
    if activation == "maxout":
        K = int(A.max()) + 1 if rank is None else _rank("maxout", rank)
        if A.min() < 0 or A.max() >= K:
            raise MaxboundsValueError("pattern", f"maxout pieces must lie in 0..{K - 1}")
        onehot = (A[..., None] == np.arange(K)).astype(float)  # (..., N, m, K)
        blocks = onehot[..., None] * Xt[:, None, None, :]
        return blocks.reshape(A.shape[:-1] + (-1,))
    if A.min() < 0 or A.max() > 1:
        raise MaxboundsValueError("pattern", "a ReLU / leaky ReLU pattern has entries 0 and 1 only")
    a = _slope(activation, slope)
    D = np.where(A == 1, 1.0, a)
    return (D[..., None] * Xt[:, None, :]).reshape(A.shape[:-1] + (-1,))


def cell_condition(pattern, dim: int, activation: str = "relu", slope: float = 0.01) -> bool:
    r"""A necessary condition for rank ``N``: no cell holds more than ``d + 1`` data points, and (ReLU) none is dead.

    A *cell* is a set of data points with the same row of the pattern.  On a
    cell every unit has the same activation (or winning piece), so every
    :math:`f_\theta` in the span of the Jacobian's columns is one affine function
    there, and the values at more than :math:`d + 1` points of a cell are
    dependent.  With ReLU a point where every unit is inactive gives a zero row.
    So rank ``N`` implies this condition; docs/landscape.md reports how often the
    converse held for the patterns of random parameters (always, in the samples
    measured), while uniformly drawn patterns are a different matter.
    """
    activation = activation_name(activation)
    A = np.asarray(pattern)
    if A.ndim != 2:
        raise MaxboundsValueError("pattern", f"expected one (N, m) pattern, got shape {A.shape}")
    _, counts = np.unique(A, axis=0, return_counts=True)
    if counts.max() > int(dim) + 1:
        return False
    dead_rows = activation == "relu" or (activation == "leaky-relu" and _slope(activation, slope) == 0)
    return not (dead_rows and np.any(np.all(A == 0, axis=1)))
