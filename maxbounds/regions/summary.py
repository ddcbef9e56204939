r"""One call that counts regions of one or many networks and reports means with standard errors.

This is what ``maxbounds regions count`` prints; the command only parses its
options.  Methods:

* ``exact``: the exact partition of the 2-D slice (:mod:`.plane`);
* ``grid``: distinct patterns on a grid of the slice (:mod:`.grid`), a lower
  bound of the exact count;
* ``line``: the exact pieces along a segment (:mod:`.line`): for one input the
  interval ``box`` itself, otherwise the given segment or the diagonal of
  the box from ``(lo, ..., lo)`` to ``(hi, ..., hi)``.

For random networks (an architecture and ``networks >= 1``) the counts of
networks ``0 .. networks - 1`` of ``seed`` are summarised by their mean and
standard error (``NaN`` for one network).
"""

from __future__ import annotations

import math

import numpy as np

from .._budget import TimeBudget, check_memory, chunk_sizes
from .._validate import MaxboundsValueError
from ..architecture import Architecture
from ..simulate.chain import check_count, check_seed
from ..simulate.length import mean_and_stderr
from .grid import grid_count
from .line import line_regions
from .network import Network
from .plane import make_slice, plane_partition, plane_region_samples

__all__ = ["METHODS", "count_regions"]

METHODS = ("exact", "grid", "line")

#: Networks per progress step.
_CHUNKS = 50


def _segment(n_in, box, line):
    if line is not None:
        try:
            a, b = line
        except (TypeError, ValueError):
            raise MaxboundsValueError("line", "expected two points a, b") from None
        return np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    s_range = make_slice(2, box).s_range
    return np.full(n_in, s_range[0]), np.full(n_in, s_range[1])


def _one(net, method, box, plane, line, resolution):
    """``(regions, boundary pieces, measure, extra)`` of one explicit network."""
    if method == "exact":
        part = plane_partition(net, box, plane)
        return part.regions, part.boundary_pieces, part.slice.area, part
    if method == "grid":
        grid = grid_count(net, box, plane, resolution)
        return grid.regions, math.nan, grid.slice.area, grid
    a, b = _segment(net.n_in, box, line)
    lines = line_regions(net, a, b)
    return lines.pieces, lines.boundary.size, lines.length, lines


def count_regions(model, box=(-1.0, 1.0), *, method: str = "exact", networks: int = 1, seed: int = 0,
                  plane=None, line=None, resolution: int = 200, relu: bool = False, advance=None) -> dict:
    r"""Count regions and decision-boundary pieces of ``model`` (a :class:`Network` or an :class:`Architecture`).

    Returns a dict with ``regions`` and ``pieces`` (means over the networks),
    their standard errors ``regions_se`` and ``pieces_se``, the ``measure``
    of the domain (area of the slice, or length of the segment), the
    ``density`` (regions per unit area; for ``line``, breakpoints per unit
    length), and, for one network, ``last``:
    the :class:`~maxbounds.regions.PlanePartition`,
    :class:`~maxbounds.regions.GridCount` or
    :class:`~maxbounds.regions.LineRegions` of the last network (for plots).
    ``advance(n)`` is called as networks finish.
    """
    if method not in METHODS:
        raise MaxboundsValueError("method", f"expected one of {', '.join(METHODS)}, got {method!r}")
    if isinstance(model, Network):
        if networks != 1:
            raise MaxboundsValueError("networks", "one given network: leave networks at 1")
        regions, pieces, measure, last = _one(model, method, box, plane, line, resolution)
        if advance is not None:
            advance(1)
        counts = (np.array([regions]), np.array([pieces], dtype=float))
    elif isinstance(model, Architecture):
        model.require_fully_connected("region counting")
        networks = check_count(networks, "networks")
        seed = check_seed(seed)
        what = f"counting the regions of {networks} networks"
        check_memory(16.0 * networks, "networks", what)  # two float64 counts per network
        budget = TimeBudget(networks, "networks", what)
        if method == "exact" and networks > 1:
            parts, first = [], 0
            for count in chunk_sizes(networks, _CHUNKS):  # small first chunks: the budget sees the time early
                run = plane_region_samples(model, box, count, seed, plane=plane, relu=relu, first_sample=first)
                first += count
                parts.append(run)
                budget.advance(run.networks)
                if advance is not None:
                    advance(run.networks)
            counts = (np.concatenate([p.regions for p in parts]),
                      np.concatenate([p.boundary_pieces for p in parts]).astype(float))
            measure, last = parts[0].slice.area, None
        else:
            regions, pieces = np.empty(networks), np.empty(networks)
            for s in range(networks):
                net = Network.random(model, seed, s, relu=relu)
                regions[s], pieces[s], measure, last = _one(net, method, box, plane, line, resolution)
                budget.advance(1)
                if advance is not None:
                    advance(1)
            counts = (regions, pieces)
            if networks > 1:
                last = None
    else:
        raise MaxboundsValueError("model", f"expected a Network or an Architecture, got {type(model).__name__}")
    regions_mean, regions_se = mean_and_stderr(counts[0])
    pieces_mean, pieces_se = mean_and_stderr(counts[1])
    return {
        "method": method,
        "networks": int(counts[0].size),
        "regions": regions_mean,
        "regions_se": regions_se,
        "pieces": pieces_mean,
        "pieces_se": pieces_se,
        "measure": float(measure),
        # regions per unit area; along a line, breakpoints (pieces - 1) per unit length
        "density": (regions_mean - (method == "line")) / float(measure),
        "last": last,
    }
