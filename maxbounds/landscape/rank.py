r"""Numerical and exact ranks, and what the rank of the Jacobian says about the global minima.

**Numerical rank.** :func:`numerical_rank` counts the singular values
:math:`\sigma_i > \tau` with the default tolerance

.. math:: \tau = \max(N, P)\,\varepsilon\,\sigma_{\max},

:math:`\varepsilon = 2^{-52}` (NumPy's ``matrix_rank`` default, Press et al.,
*Numerical Recipes*, section 2.6): the size of the singular values that
rounding alone produces in a matrix whose exact rank is lower.  A matrix of
exact rank ``r`` whose ``r``-th singular value is below :math:`\tau` is
reported deficient; the exact cross-check below measures how often that
happens (never, in the tests and the figure's settings).

**Exact rank.** :func:`exact_rank` is Gaussian elimination over the rationals:
every entry is converted exactly (a float is a dyadic rational,
``Fraction(0.1)`` is the double nearest 0.1, not 1/10), each row is scaled to
integers, and the elimination is fraction-free on Python integers.
:func:`exact_jacobian` computes the Jacobian of :mod:`.network` in rational
arithmetic from the exact values of the floating-point data and parameters, so
the exact rank is the rank of the very network the floats describe.

**Global minima.** On a region (a fixed pattern) with every :math:`v_j \ne 0`
the map :math:`F:\theta \mapsto (f_\theta(x_i))_i` has constant rank
:math:`r` = the rank of the pattern matrix.  By the constant rank theorem:

* :math:`r = N` (full rank): :math:`F` is a submersion, so the image of the region
  is open in :math:`\mathbb R^N`.  For the squared loss
  :math:`L(\theta) = \lVert F(\theta) - y\rVert^2`, a critical point has
  :math:`J^\top (F - y) = 0`, hence :math:`F = y`: every differentiable critical
  point in the region is a global minimum with zero loss (no bad local minima
  there).  The zero-loss set :math:`F^{-1}(y)` in the region is either empty
  (:math:`y` outside the image) or a smooth manifold of dimension :math:`P - N`;
  :func:`minima_dimension` returns that :math:`P - N`.  Whether it is empty
  depends on :math:`y`; full rank alone does not decide it.
* :math:`r < N`: the image is locally an :math:`r`-dimensional manifold, which a
  generic target misses; the fibres have dimension :math:`P - r`, but they are
  not zero-loss sets for a generic :math:`y`, and critical points of :math:`L` in
  the region need not be global minima.  :func:`minima_dimension` returns
  ``None``.
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import numpy as np

from .._validate import MaxboundsValueError
from .network import (
    TwoLayer,
    _check_input,
    activation_name,
    activation_pattern,
    check_data,
    jacobian,
    pattern_matrix,
)

__all__ = [
    "JacobianRank",
    "Rank",
    "batch_ranks",
    "default_tolerance",
    "exact_jacobian",
    "exact_pattern_matrix",
    "exact_rank",
    "jacobian_rank",
    "minima_dimension",
    "numerical_rank",
]

EPS = float(np.finfo(float).eps)


def default_tolerance(shape, sigma_max: float) -> float:
    r""":math:`\max(N, P)\,\varepsilon\,\sigma_{\max}` for a matrix of shape ``(N, P)``."""
    return max(shape) * EPS * float(sigma_max)


@dataclasses.dataclass(frozen=True)
class Rank:
    """A numerical rank: ``rank`` singular values above ``tolerance`` (of ``singular_values``, largest first)."""

    rank: int
    tolerance: float
    singular_values: np.ndarray
    shape: tuple

    def as_dict(self) -> dict:
        return {"rank": self.rank, "tolerance": self.tolerance, "shape": list(self.shape),
                "sigma_max": float(self.singular_values[0]) if self.singular_values.size else 0.0,
                "sigma_last_kept": float(self.singular_values[self.rank - 1]) if self.rank else None,
                "sigma_first_dropped": (float(self.singular_values[self.rank])
                                        if self.rank < self.singular_values.size else None)}


def _matrix(M, argument="matrix") -> np.ndarray:
    arr = np.asarray(M, dtype=float)
    if arr.ndim != 2:
        raise MaxboundsValueError(argument, f"expected a matrix, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise MaxboundsValueError(argument, "must be finite (no NaN or infinity)")
    return arr


def numerical_rank(M, tol: float | None = None) -> Rank:
    """The rank of ``M`` by SVD: singular values ``> tol`` (default :func:`default_tolerance`)."""
    M = _matrix(M)
    if M.size == 0:
        return Rank(0, 0.0, np.zeros(0), M.shape)
    s = np.linalg.svd(M, compute_uv=False)
    tau = default_tolerance(M.shape, s[0]) if tol is None else float(tol)
    if not tau >= 0:
        raise MaxboundsValueError("tol", f"the tolerance must be >= 0, got {tol!r}")
    return Rank(int(np.sum(s > tau)), tau, s, M.shape)


def batch_ranks(stack, chunk: int = 1 << 22) -> np.ndarray:
    """Numerical ranks (default tolerance) of a stack ``(S, N, P)`` of matrices, SVD in chunks of ``chunk`` numbers."""
    stack = np.asarray(stack, dtype=float)
    S, N, P = stack.shape
    out = np.empty(S, dtype=np.int64)
    step = max(1, chunk // max(1, N * P))
    for lo in range(0, S, step):
        part = stack[lo:lo + step]
        s = np.linalg.svd(part, compute_uv=False)
        tau = max(N, P) * EPS * s[:, :1]
        out[lo:lo + step] = np.sum(s > tau, axis=1)
    return out


def _fraction(value) -> Fraction:
    if isinstance(value, Fraction):
        return value
    if isinstance(value, (bool, np.bool_)):
        return Fraction(int(value))
    if isinstance(value, (int, np.integer)):
        return Fraction(int(value))
    if hasattr(value, "p") and hasattr(value, "q"):  # a sympy Rational
        return Fraction(int(value.p), int(value.q))
    value = float(value)
    if not math.isfinite(value):
        raise MaxboundsValueError("matrix", "must be finite (no NaN or infinity)")
    return Fraction(value)


def exact_rank(M) -> int:
    """The exact rank of ``M`` (numbers, Fractions or sympy Rationals), by fraction-free elimination on integers.

    Floats are taken at their exact binary value.
    """
    rows = [[_fraction(x) for x in row] for row in (M.tolist() if isinstance(M, np.ndarray) else M)]
    if not rows or not rows[0]:
        return 0
    width = len(rows[0])
    if any(len(r) != width for r in rows):
        raise MaxboundsValueError("matrix", "rows of different lengths")
    if len(rows) > width:  # eliminate along the shorter side
        rows = [list(col) for col in zip(*rows)]
        width = len(rows[0])
    ints = []
    for r in rows:
        scale = math.lcm(*(x.denominator for x in r))
        ints.append([int(x * scale) for x in r])
    rank = 0
    for col in range(width):
        pivot = next((i for i in range(rank, len(ints)) if ints[i][col] != 0), None)
        if pivot is None:
            continue
        ints[rank], ints[pivot] = ints[pivot], ints[rank]
        p = ints[rank]
        for i in range(rank + 1, len(ints)):
            q = ints[i][col]
            if q:
                row = [p[col] * ints[i][c] - q * p[c] for c in range(width)]
                g = math.gcd(*row)
                ints[i] = [x // g for x in row] if g > 1 else row
        rank += 1
        if rank == len(ints):
            break
    return rank


def _exact_net(net: TwoLayer, X):
    Xq = [[Fraction(float(x)) for x in row] for row in X]
    Wq = np.vectorize(lambda x: Fraction(float(x)), otypes=[object])(net.W)
    bq = np.vectorize(lambda x: Fraction(float(x)), otypes=[object])(net.b)
    vq = [Fraction(float(x)) for x in net.v]
    return Xq, Wq, bq, vq


def exact_jacobian(net: TwoLayer, X) -> tuple:
    """``(J, pattern)``: the Jacobian as rows of Fractions and the pattern, both in exact rational arithmetic.

    The pattern is decided on the exact pre-activations, so it is the true pattern
    of the floating-point parameters even where rounding would flip a sign.
    """
    X = _check_input(net, X)
    Xq, Wq, bq, vq = _exact_net(net, X)
    a = None if net.activation == "maxout" else Fraction(float(net.slope))
    J, pattern = [], []
    for xi in Xq:
        row, prow = [], []
        for j in range(net.width):
            if net.activation == "maxout":
                z = [sum((w * x for w, x in zip(Wq[j, k], xi)), Fraction(0)) + bq[j, k] for k in range(net.rank)]
                win = max(range(net.rank), key=lambda k: (z[k], -k))
                for k in range(net.rank):
                    g = vq[j] if k == win else Fraction(0)
                    row.extend([g * x for x in xi] + [g])
                row.append(z[win])
                prow.append(win)
            else:
                z = sum((w * x for w, x in zip(Wq[j], xi)), Fraction(0)) + bq[j]
                D = Fraction(1) if z > 0 else a
                row.extend([vq[j] * D * x for x in xi] + [vq[j] * D, D * z])
                prow.append(int(z > 0))
        J.append(row)
        pattern.append(prow)
    return J, np.asarray(pattern, dtype=np.int64)


def exact_pattern_matrix(pattern, X, activation: str = "relu", *, rank: int | None = None,
                         slope: float = 0.01) -> list:
    """:func:`~maxbounds.landscape.network.pattern_matrix` in rational arithmetic (rows of Fractions).

    Each entry is ``D_ij`` times an exact data value (or times 1), with ``D_ij`` in
    {1, the exact slope} (ReLU, leaky ReLU) or {0, 1} (maxout), so no product is rounded.
    """
    activation = activation_name(activation)
    M = pattern_matrix(pattern, X, activation, rank=rank, slope=slope)  # validates; gives the layout
    if M.ndim != 2:
        raise MaxboundsValueError("pattern", "expected one (N, m) pattern")
    X = check_data(X)
    A = np.asarray(pattern).astype(np.int64)
    N, d = X.shape
    a = Fraction(0) if activation == "relu" else Fraction(float(slope)) if activation == "leaky-relu" else None
    K = (M.shape[1] // (A.shape[1] * (d + 1))) if activation == "maxout" else 1
    rows = []
    for i in range(N):
        xt = [Fraction(float(x)) for x in X[i]] + [Fraction(1)]
        row = []
        for j in range(A.shape[1]):
            if activation == "maxout":
                for k in range(K):
                    row.extend(xt if A[i, j] == k else [Fraction(0)] * (d + 1))
            else:
                D = Fraction(1) if A[i, j] == 1 else a
                row.extend(D * x for x in xt)
        rows.append(row)
    return rows


def minima_dimension(rank: int, points: int, parameters: int):
    """``P - N`` when ``rank == N`` (the dimension of the zero-loss set in the region, where it is not empty), else ``None``.

    See the module docstring for what a deficient rank implies.
    """
    rank, points, parameters = int(rank), int(points), int(parameters)
    if rank > min(points, parameters):
        raise MaxboundsValueError("rank", f"a rank of {rank} exceeds min(N, P) = {min(points, parameters)}")
    return parameters - points if rank == points else None


@dataclasses.dataclass(frozen=True)
class JacobianRank:
    """The rank of the Jacobian of one network on one data set, beside the rank of its pattern.

    ``rank``: numerical rank of the ``N x P`` Jacobian; ``pattern_rank``: that of
    the pattern matrix (equal when every ``v_j != 0``); ``exact``: the exact rank
    (``None`` unless asked for); ``full``: ``rank == N``; ``minima_dimension``:
    ``P - N`` if full, else ``None``.
    """

    points: int
    parameters: int
    rank: int
    pattern_rank: int
    tolerance: float
    exact: int | None
    pattern: np.ndarray = dataclasses.field(repr=False)

    @property
    def full(self) -> bool:
        return self.rank == self.points

    @property
    def minima_dimension(self):
        return minima_dimension(self.rank, self.points, self.parameters)

    def as_dict(self) -> dict:
        return {"points": self.points, "parameters": self.parameters, "rank": self.rank,
                "pattern_rank": self.pattern_rank, "exact_rank": self.exact, "tolerance": self.tolerance,
                "full_rank": self.full, "minima_dimension": self.minima_dimension}


def jacobian_rank(net: TwoLayer, X, *, tol: float | None = None, exact: bool = False) -> JacobianRank:
    """The numerical rank of :func:`~maxbounds.landscape.network.jacobian` (and of the pattern matrix; ``exact``: also exactly)."""
    X = _check_input(net, X)
    J = jacobian(net, X)
    r = numerical_rank(J, tol)
    A = activation_pattern(net, X)
    pr = numerical_rank(pattern_matrix(A, X, net.activation, rank=net.rank, slope=net.slope)).rank
    ex = exact_rank(exact_jacobian(net, X)[0]) if exact else None
    return JacobianRank(X.shape[0], net.parameter_count, r.rank, pr, r.tolerance, ex, A)
