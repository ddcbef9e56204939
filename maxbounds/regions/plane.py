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

__all__ = ["PlanePartition", "PlaneCounts", "Slice", "plane_partition", "count_plane_regions",
           "plane_region_samples"]

#: Cells of area at most this fraction of the box are round-off slivers and are dropped.
MIN_AREA = 1e-12


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

    @property
    def density(self) -> float:
        """Regions per unit area of the slice."""
        return self.regions / self.slice.area


def _run(net, sl, keep):
    check_size(net, "exact")
    widths, ranks, w_off, b_off, weights, biases = net.flat()
    out_rows = net.n_out if net.n_out in (1, 2) else 0
    polygons, patterns, segments = _plane_kernel.new_lists()
    regions, pieces, length = _plane_kernel.partition(
        widths, ranks, w_off, b_off, weights, biases, sl.affine(), sl.corners(), MIN_AREA * sl.area, keep,
        out_rows, polygons, patterns, segments)
    return int(regions), int(pieces), float(length), polygons, patterns, segments


def plane_partition(net: Network, box=(-1.0, 1.0), plane=None) -> PlanePartition:
    """The exact partition of the slice ``box`` (see :class:`Slice`) into activation regions, with polygons."""
    net = check_network(net)
    sl = make_slice(net.n_in, box, plane)
    regions, pieces, length, polygons, patterns, segments = _run(net, sl, True)
    patterns = (np.array(list(patterns)) if regions else np.empty((0, net.hidden_units), dtype=np.int32))
    patterns = patterns[:, : net.hidden_units]
    segments = np.array(list(segments)) if pieces else np.empty((0, 2, 2))
    return PlanePartition(sl, regions, pieces, length, [np.asarray(p) for p in polygons], patterns, segments)


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
                   *plan.dense_layout(), sl.affine(), sl.corners(), MIN_AREA * sl.area, out_rows, np.uint64(seed),
                   first, regions, pieces, length)
    if not np.all(np.isfinite(length)):
        raise MaxboundsValueError("box", "non-finite boundary length: the box is too large for double precision")
    return PlaneCounts(arch, sl, seed, regions, pieces, length)

