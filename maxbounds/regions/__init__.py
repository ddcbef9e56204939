"""Exact counts of activation regions and decision-boundary pieces, and the pictures of them.

* :class:`Network`: an explicit maxout (or ReLU) network, random from an
  :class:`~maxbounds.architecture.Architecture` or from given weights;
* :func:`line_regions`: every breakpoint along a segment (1-D);
* :func:`plane_partition`, :func:`count_plane_regions`: the exact polygonal
  partition of a 2-D slice by successive half-plane splitting;
* :func:`grid_count`: distinct activation patterns on a grid (approximate);
* :func:`sawtooth`, :func:`tangent_unit`: hand-built networks with known counts;
* :func:`lp_count_plane_regions`: the same count with one linear program per
  candidate region, the method of the 2021 paper's code (reference and baseline).
"""

from .examples import sawtooth, tangent_unit
from .grid import GridCount, grid_count
from .line import LineRegions, line_region_samples, line_regions
from .lp import lp_count_plane_regions
from .network import Network
from .plane import (
    PlaneCounts,
    PlanePartition,
    Slice,
    count_plane_regions,
    plane_partition,
    plane_region_samples,
)

__all__ = [
    "GridCount", "LineRegions", "Network", "PlaneCounts", "PlanePartition", "Slice", "count_plane_regions",
    "grid_count", "line_region_samples", "line_regions", "lp_count_plane_regions", "plane_partition",
    "plane_region_samples", "sawtooth", "tangent_unit",
]
