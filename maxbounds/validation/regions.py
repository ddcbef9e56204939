"""Checks of the region counts and of the expected-complexity bounds (``maxbounds validate``, suite ``regions``).

* **known counts**: a sawtooth of depth ``d`` has ``2**d`` pieces on
  ``[0, 1]``; one unit of rank ``K`` with tangent features has ``K``;
* **independent recounts**: the exact 2-D count equals the count with one
  linear program per candidate region, and is at least the grid count;
* **bounds**: over a design of architectures across depth, width, ``K`` and
  ``c`` (two inputs, bias variance 1), the mean exact number of regions and
  of decision-boundary pieces in ``[-3, 3]^2`` over random networks, and the
  mean breakpoints per unit length along a random segment, lie below their
  upper bounds (one-sided, ``z <= 4.5``: false failure below ``3.4e-6`` per
  check when the bound holds).  The bounds are loose by orders of magnitude;
  the check reports the ratio.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from ..architecture import Architecture
from ..estimators import Z_TOLERANCE, compare, estimate
from ..laws.regions import region_bounds
from ..regions import (
    Network,
    count_plane_regions,
    grid_count,
    line_region_samples,
    line_regions,
    lp_count_plane_regions,
    plane_region_samples,
)
from ..regions.examples import sawtooth, tangent_unit
from .checks import Check, bounds_detectable, relative_error

SUITE = "regions"
SEED = 20210701
NETWORKS = 200
#: Networks whose exact 2-D count is recounted with one linear program per region.
LP_NETWORKS = 2
LINE_NETWORKS = 1000
BOX = (-3.0, 3.0)

#: Architectures of the bound checks: (widths, K, c), bias variance 1.
DESIGN = (
    ((2, 10, 1), 2, "1"),
    ((2, 10, 10, 2), 2, "1"),
    ((2, 10, 10, 10, 2), 3, "1/M"),
    ((2, 20, 20, 2), 3, "1"),
    ((2, 5, 5, 5, 5, 2), 5, "1/M"),
    ((2, 10, 10, 2), 5, "2"),
)


def _arch(widths, K, c) -> Architecture:
    return Architecture.parse(",".join(map(str, widths)), rank=str(K), c=c, bias_var="1")


def _sawtooth_check(depth: int) -> Check:
    pieces = line_regions(sawtooth(depth), [0.0], [1.0]).pieces
    return Check(SUITE, f"sawtooth of depth {depth}: 2^{depth} pieces", 2, 1.0, float(pieces), float(2**depth),
                 "exact 1-D pieces of a hand-built network", "relative", relative_error(pieces, 2**depth), 0.0)


def _tangent_check(K: int) -> Check:
    pieces = line_regions(tangent_unit(K), [-1.0], [float(K)]).pieces
    return Check(SUITE, f"one unit of rank {K} with tangent features: {K} pieces", K, 1.0, float(pieces), float(K),
                 "exact 1-D pieces", "relative", relative_error(pieces, K), 0.0)


def _lp_check(widths, K) -> Check:
    arch = Architecture(widths, ranks=K, bias_var=1.0)
    exact, lp = [], []
    for s in range(LP_NETWORKS):
        net = Network.random(arch, SEED, s)
        exact.append(count_plane_regions(net, BOX))
        lp.append(lp_count_plane_regions(net, BOX))
    worst = max(relative_error(e, r) for e, r in zip(exact, lp))
    return Check(SUITE, f"exact 2-D count = one LP per region ({'-'.join(map(str, widths))})", K, 1.0,
                 float(sum(exact)), float(sum(lp)), f"{LP_NETWORKS} random networks, counts summed", "relative", worst, 0.0)


def _grid_check() -> Check:
    arch = Architecture((2, 8, 8, 2), ranks=3, bias_var=1.0)
    excess = []
    for s in range(5):
        net = Network.random(arch, SEED, s)
        excess.append(grid_count(net, BOX, resolution=100).regions - count_plane_regions(net, BOX))
    return Check(SUITE, "grid patterns <= exact regions (2-8-8-2)", 3, 1.0, float(max(excess)), 0.0,
                 "5 networks, 100x100 grid; value = largest grid - exact", "relative", max(0.0, max(excess)), 0.0,
                 detectable=math.inf)  # an inequality: an over-count of any size passes


def _bound_checks(widths, K, c) -> list:
    arch = _arch(widths, K, c)
    bounds = region_bounds(arch)
    name = f"{'-'.join(map(str, widths))}, K={K}, c={c}"
    counts = plane_region_samples(arch, BOX, NETWORKS, SEED)
    out = []
    for label, values, bound in (("regions", counts.regions, bounds.regions),
                                 ("boundary pieces", counts.boundary_pieces, bounds.pieces)):
        upper = bound.in_box(*BOX, strict=False)
        est = estimate(values)
        z = compare(est, upper=upper)["z"]
        side = "" if bound.side_ok(*BOX) else "; box below delta_0"
        out.append(Check(SUITE, f"E[{label} in [-3,3]^2] <= bound ({name})", K, 1.0, est.mean, math.nan,
                         f"exact, {NETWORKS} networks, stderr {est.stderr:.2g}, mean/bound {est.mean / upper:.1e}"
                         f"{side}", "z", z, Z_TOLERANCE, reference_upper=upper,
                         detectable=bounds_detectable(est.mean, est.stderr, None, upper, Z_TOLERANCE)))
    rng = np.random.default_rng([SEED, K, len(widths)])
    a = rng.uniform(-3, 3, size=2)
    b = a + 6.0 * _unit(rng.standard_normal(2))
    lines = line_region_samples(arch, a, b, LINE_NETWORKS, SEED)
    density = (lines.pieces - 1) / lines.length
    est = estimate(density)
    upper = bounds.breakpoints.density
    out.append(Check(SUITE, f"E[breakpoints per length] <= bound ({name})", K, 1.0, est.mean, math.nan,
                     f"exact, random segment of length 6, {LINE_NETWORKS} networks, stderr {est.stderr:.2g}, "
                     f"mean/bound {est.mean / upper:.2f}", "z", compare(est, upper=upper)["z"], Z_TOLERANCE,
                     reference_upper=upper, detectable=bounds_detectable(est.mean, est.stderr, None, upper,
                                                                         Z_TOLERANCE)))
    return out


def _unit(v):
    return v / np.linalg.norm(v)


def checks():
    """Yield the checks of the regions suite as zero-argument callables."""
    for depth in (1, 4, 10):
        yield partial(_sawtooth_check, depth)
    for K in (2, 5):
        yield partial(_tangent_check, K)
    yield partial(_lp_check, (2, 5, 5, 2), 3)
    yield partial(_lp_check, (2, 6, 6, 1), 2)
    yield _grid_check
    for widths, K, c in DESIGN:
        cache = {}

        def get(i, key=(widths, K, c), cache=cache):
            if "checks" not in cache:
                cache["checks"] = _bound_checks(*key)
            return cache["checks"][i]

        for i in range(3):
            yield partial(get, i)

