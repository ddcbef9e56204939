r"""Exact activation regions and decision-boundary pieces in a 2-D slice of input space.

The slice is the input plane itself when :math:`n_0 = 2`, or the plane through
three points :math:`p_0, p_1, p_2` otherwise, with orthonormal coordinates

.. math::

    x(s, t) = p_0 + s\,e_1 + t\,e_2,\qquad
    e_1 = \frac{p_1 - p_0}{\lVert p_1 - p_0\rVert},\quad
    e_2 = \frac{r}{\lVert r\rVert},\ r = (p_2 - p_0) - \big((p_2 - p_0)\cdot e_1\big)e_1,

so that areas in ``(s, t)`` are areas in input space and region densities
are per unit of input area.  The domain is the rectangle ``box`` in these
coordinates.  The partition is computed by successive half-plane splitting
(:mod:`maxbounds.regions._plane_kernel`): no linear program and no grid.

A *decision-boundary piece* is the intersection of the boundary
(:math:`N = 0` for one output, :math:`N_1 = N_2` for two) with one
activation region, where it is a segment; the count is the number of regions
the boundary crosses.

**What "exact" means.**  On the cell of a pattern prefix :math:`\pi`, the
kernel computes every feature as three floating-point coefficients
:math:`\hat\zeta^\pi_{l,i,k}` (from the weights and the previous layer's
coefficients, in a fixed order), starting from the slice map
:math:`A_0 = (e_1, e_2, p_0)` as stored in :class:`Slice`.  These are
rational numbers, and every sign the kernel uses (which side of a line a
vertex lies on, which feature is largest at a vertex, whether the decision
function changes sign) is decided exactly for them.  So the count is exactly
the number of patterns :math:`\pi` whose cell

.. math::

    \hat R_\pi = \{x \in \text{box} : \text{for every unit } u,\ \pi_u
    \text{ is the first argmax of } \hat\zeta^\pi_{u,\cdot}(x)\}

has an interior, whatever its area, and the boundary pieces are exactly the
cells where the computed decision function takes both signs.  When the
coefficients are computed without rounding -- always in the first hidden
layer of a two-input network in its own plane (``plane=None``: the
coefficients are the weights and biases), and in any layer whose products and
sums happen to be exact, such as small integer or dyadic weights -- these are
the true regions of the network.  In general, every computed coefficient
differs from the true one by a forward error bound, and
:func:`plane_error_bound` gives :math:`\delta`, a bound on
:math:`|\hat\zeta^\pi_{l,i,k}(x) - \zeta^\pi_{l,i,k}(x)|` (and on the error
of the decision function) for every pattern, feature and point of the box.
Hence a true region that contains a point where each of its inequalities
:math:`\zeta_{u,\pi_u} - \zeta_{u,j} \ge 0` holds with margin more than
:math:`2\delta` is counted, and a counted cell that contains such a point
for the computed features is a true region: the two counts can only differ by
regions that lie entirely within :math:`2\delta` (in feature value) of their
own boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._parallel import run_chunks
from .._validate import MaxboundsValueError, as_vector
from ..architecture import Architecture
from ..simulate.chain import check_count, check_first, check_seed
from ..simulate.length import _check_arch, mean_and_stderr
from . import _plane_kernel
from .network import Network, check_network, check_size, finite_box

__all__ = [
    "PlaneCounts",
    "PlanePartition",
    "Slice",
    "count_plane_regions",
    "plane_error_bound",
    "plane_partition",
    "plane_region_samples",
]

_U = 2.0 ** -53


@dataclass(frozen=True)
class Slice:
    r"""A rectangle ``[s_lo, s_hi] x [t_lo, t_hi]`` of the plane :math:`x = p_0 + s e_1 + t e_2`."""

    origin: np.ndarray
    e1: np.ndarray
    e2: np.ndarray
    s_range: tuple
    t_range: tuple

    @property
    def area(self) -> float:
        return (self.s_range[1] - self.s_range[0]) * (self.t_range[1] - self.t_range[0])

    def affine(self) -> np.ndarray:
        """``A_0`` of shape ``(n_0, 3)``: :math:`x_0 = A_0 (s, t, 1)^\\top`."""
        return np.ascontiguousarray(np.stack([self.e1, self.e2, self.origin], axis=1))

    def corners(self) -> np.ndarray:
        (a, b), (c, d) = self.s_range, self.t_range
        return np.array([[a, c], [b, c], [b, d], [a, d]], dtype=float)

    def to_input(self, st) -> np.ndarray:
        """Input points of slice coordinates ``st`` (shape ``(..., 2)``)."""
        st = np.asarray(st, dtype=float)
        return self.origin + st[..., :1] * self.e1 + st[..., 1:2] * self.e2


def make_slice(n_in: int, box, plane=None) -> Slice:
    """The :class:`Slice` of ``box`` (``(lo, hi)`` or ``((s_lo, s_hi), (t_lo, t_hi))``) in ``plane``."""
    box = np.asarray(box, dtype=object)
    if box.shape == (2, 2):
        s_range, t_range = finite_box(box[0]), finite_box(box[1])
    else:
        s_range = t_range = finite_box(box)
    if plane is None:
        if n_in != 2:
            raise MaxboundsValueError(
                "plane", f"the network has {n_in} inputs: give three points p0, p1, p2 spanning the slice")
        return Slice(np.zeros(2), np.array([1.0, 0.0]), np.array([0.0, 1.0]), s_range, t_range)
    try:
        p0, p1, p2 = plane
    except (TypeError, ValueError):
        raise MaxboundsValueError("plane", "expected three points p0, p1, p2") from None
    p0, p1, p2 = (np.asarray(as_vector(p, "plane", n_in), dtype=float) for p in (p0, p1, p2))
    d1, d2 = p1 - p0, p2 - p0
    if not np.linalg.norm(d1) > 0:
        raise MaxboundsValueError("plane", "p0 and p1 must differ")
    e1 = d1 / np.linalg.norm(d1)
    r = d2 - (d2 @ e1) * e1
    if not np.linalg.norm(r) > 1e-12 * max(np.linalg.norm(d2), 1.0):
        raise MaxboundsValueError("plane", "the three points lie on one line")
    return Slice(p0, e1, r / np.linalg.norm(r), s_range, t_range)


@dataclass(frozen=True)
class PlanePartition:
    """The activation regions of one network in one slice, with the decision boundary.

    ``polygons[r]`` (vertices in slice coordinates, counter-clockwise) is
    region ``r`` and ``patterns[r]`` its activation pattern (argmax of every
    hidden unit); ``segments[p]`` is boundary piece ``p`` as two end points.
    """

    slice: Slice
    regions: int
    boundary_pieces: int
    boundary_length: float
    polygons: list = field(repr=False)
    patterns: np.ndarray = field(repr=False)
    segments: np.ndarray = field(repr=False)
    #: Bound on the error of every computed hidden feature in the box (:func:`plane_error_bound`; 0 when exact).
    error_bound: float = 0.0
    #: Bound on the error of the computed decision function in the box (:func:`plane_error_bound`).
    boundary_error_bound: float = 0.0

    @property
    def density(self) -> float:
        """Regions per unit area of the slice."""
        return self.regions / self.slice.area


def _gamma(m: int) -> float:
    return m * _U / (1.0 - m * _U)


def _error_bound(net: Network, sl: Slice) -> tuple:
    r"""Forward error bound of the kernel's feature coefficients, for all patterns (see :func:`plane_error_bound`).

    Layer by layer, with ``P[j, r]`` a bound on the magnitude of the computed
    coefficient ``r`` (of ``s``, ``t``, 1) of unit ``j``'s output and ``E[j, r]``
    a bound on its error, over all patterns: feature ``(i, k)`` of the next
    layer is computed as ``fl(b + sum_j w_j p_j)`` by recursive summation, so
    (Higham, *Accuracy and Stability of Numerical Algorithms*, 3.1)

    .. math::

        |\hat c - c| \le \gamma_{n+1}\big(|b| + \textstyle\sum_j |w_j| P_j\big)
        + \textstyle\sum_j |w_j| E_j,\qquad \gamma_m = \frac{m u}{1 - m u},

    and a feature's error at ``(s, t)`` is at most
    ``E_s |s| + E_t |t| + E_1``.  The first layer is exact when ``A_0`` has
    entries in ``{-1, 0, 1}`` and each sum has at most one non-zero term
    (the plane of a two-input network).  The decision function ``N_1 - N_2``
    is summed into one accumulator (``2 n + 2`` terms).  The bound is
    inflated by ``1 + 1e-9`` for the rounding of its own evaluation.
    """
    A0 = sl.affine()
    point = np.array([max(abs(v) for v in sl.s_range), max(abs(v) for v in sl.t_range), 1.0])
    P, E = np.abs(A0), np.zeros_like(A0)
    unit_first = bool(np.all(np.isin(A0, (-1.0, 0.0, 1.0))))
    delta = 0.0
    for number, (W, b) in enumerate(net.layers):
        aW = np.abs(W)
        bias = np.zeros(b.shape + (3,))
        bias[..., 2] = np.abs(b)
        S = np.einsum("ikj,jr->ikr", aW, P) + bias
        prop = np.einsum("ikj,jr->ikr", aW, E)
        gamma = _gamma(W.shape[2] + 1)
        if number == 0 and unit_first:
            terms = np.einsum("ikj,jr->ikr", (W != 0).astype(float), (A0 != 0).astype(float))
            terms[..., 2] += b != 0
            rounding = np.where(terms <= 1, 0.0, gamma * S)
        else:
            rounding = gamma * S
        err = rounding + prop
        if number == len(net.layers) - 1:
            if net.n_out == 2:
                err = _gamma(2 * W.shape[2] + 2) * S.sum(axis=0) + prop.sum(axis=0)
            decision = float(np.max(err @ point)) if net.n_out in (1, 2) else 0.0
            return delta * (1.0 + 1e-9), decision * (1.0 + 1e-9)
        delta = max(delta, float(np.max(err @ point)))
        P = np.max(S, axis=1) * (1.0 + gamma)
        E = np.max(err, axis=1)


def plane_error_bound(net: Network, box=(-1.0, 1.0), plane=None) -> tuple:
    r"""``(features, decision)``: bounds on the error of the computed features and decision function in the box.

    For every activation pattern, hidden feature :math:`\zeta_{l,i,k}` and
    point of the slice's box, the affine feature computed by the exact
    partition (:func:`plane_partition`) differs from the true one by at most
    ``features`` (:math:`\delta` of the module docstring), and the computed
    decision function (``N`` or ``N_1 - N_2``; 0 for other output counts)
    from the true one by at most ``decision``.  ``features`` is 0 for a
    two-input network with one hidden layer in its own plane (``plane=None``):
    its region count is then exact for the true network.
    """
    net = check_network(net)
    return _error_bound(net, make_slice(net.n_in, box, plane))


def _run(net, sl, keep):
    check_size(net, "exact")
    widths, ranks, w_off, b_off, weights, biases = net.flat()
    out_rows = net.n_out if net.n_out in (1, 2) else 0
    polygons, patterns, segments = _plane_kernel.new_lists()
    regions, pieces, length = _plane_kernel.partition(
        widths, ranks, w_off, b_off, weights, biases, sl.affine(), sl.corners(), keep, out_rows,
        polygons, patterns, segments)
    return int(regions), int(pieces), float(length), polygons, patterns, segments


def plane_partition(net: Network, box=(-1.0, 1.0), plane=None) -> PlanePartition:
    """The exact partition of the slice ``box`` (see :class:`Slice`) into activation regions, with polygons."""
    net = check_network(net)
    sl = make_slice(net.n_in, box, plane)
    regions, pieces, length, polygons, patterns, segments = _run(net, sl, True)
    patterns = (np.array(list(patterns)) if regions else np.empty((0, net.hidden_units), dtype=np.int32))
    patterns = patterns[:, : net.hidden_units]
    segments = np.array(list(segments)) if pieces else np.empty((0, 2, 2))
    return PlanePartition(sl, regions, pieces, length, [np.asarray(p) for p in polygons], patterns, segments,
                          *_error_bound(net, sl))


def count_plane_regions(net: Network, box=(-1.0, 1.0), plane=None) -> int:
    """The number of activation regions of ``net`` in the slice ``box`` (no polygons kept)."""
    net = check_network(net)
    return _run(net, make_slice(net.n_in, box, plane), False)[0]


@dataclass(frozen=True)
class PlaneCounts:
    """Region and boundary-piece counts of independent random networks in one slice."""

    arch: Architecture
    slice: Slice
    seed: int
    regions: np.ndarray
    boundary_pieces: np.ndarray
    boundary_length: np.ndarray

    @property
    def networks(self) -> int:
        return int(self.regions.size)

    def mean_regions(self) -> tuple:
        """``(mean, standard error)`` of the number of regions."""
        return mean_and_stderr(self.regions)

    def mean_pieces(self) -> tuple:
        """``(mean, standard error)`` of the number of decision-boundary pieces."""
        return mean_and_stderr(self.boundary_pieces)


def plane_region_samples(arch: Architecture, box=(-1.0, 1.0), networks: int = 1, seed: int = 0, *, plane=None,
                         relu: bool = False, first_sample: int = 0) -> PlaneCounts:
    """Exact counts for networks ``first_sample ..`` of ``seed`` drawn from ``arch``, in parallel.

    Network ``s`` is :meth:`Network.random(arch, seed, s) <Network.random>`.
    """
    _check_arch(arch, "exact region counting")
    networks = check_count(networks, "networks")
    seed = check_seed(seed)
    first = check_first(first_sample, networks)
    sl = make_slice(arch.n_in, box, plane)
    check_size(arch, "exact")
    out_rows = arch.n_out if arch.n_out in (1, 2) else 0
    regions = np.empty(networks, dtype=np.int64)
    pieces = np.empty(networks, dtype=np.int64)
    length = np.empty(networks)
    if relu:
        for s in range(networks):
            regions[s], pieces[s], length[s] = _run(Network.random(arch, seed, first + s, relu=True), sl, False)[:3]
    else:
        plan = arch.network().plan()
        run_chunks(_plane_kernel.random_counts, networks, plan.ispec, plan.fspec, plan.n_params,
                   *plan.dense_layout(), sl.affine(), sl.corners(), out_rows, np.uint64(seed),
                   first, regions, pieces, length)
    if not np.all(np.isfinite(length)):
        raise MaxboundsValueError("box", "non-finite boundary length: the box is too large for double precision")
    return PlaneCounts(arch, sl, seed, regions, pieces, length)

