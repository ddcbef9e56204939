r"""The approximate region count: distinct activation patterns at the points of a grid.

The ``resolution x resolution`` grid covers the slice rectangle (end points
included).  Every pattern seen is a region, so the grid count is a lower
bound of the exact count; it misses the regions that hold no grid point
(those of inradius below about half the grid spacing).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validate import MaxboundsValueError
from .network import Network, check_network
from .plane import Slice, make_slice

__all__ = ["GridCount", "grid_count"]

#: Largest grid side accepted (the patterns of resolution**2 points are kept).
MAX_RESOLUTION = 4000

#: Most multiply-adds of one grid count (points times weights), about a minute.
MAX_WORK = 2e11

#: Points pushed through the network at once.
_CHUNK = 16384


@dataclass(frozen=True)
class GridCount:
    """Distinct patterns on a grid; ``labels[i, j]`` numbers the pattern at grid point ``(s_j, t_i)``."""

    slice: Slice
    resolution: int
    regions: int
    labels: np.ndarray = field(repr=False)


def grid_count(net: Network, box=(-1.0, 1.0), plane=None, resolution: int = 200) -> GridCount:
    """Count the distinct activation patterns on a ``resolution x resolution`` grid of the slice."""
    net = check_network(net)
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) \
            or not 2 <= resolution <= MAX_RESOLUTION:
        raise MaxboundsValueError("resolution", f"expected an integer between 2 and {MAX_RESOLUTION}, got {resolution!r}")
    sl = make_slice(net.n_in, box, plane)
    work = int(resolution) ** 2 * sum(W.size for W, _ in net.layers)
    if work > MAX_WORK:
        raise MaxboundsValueError(
            "resolution", f"{resolution}^2 points through this network are {work:.2g} multiply-adds (more than "
            f"{MAX_WORK:.0e}); lower the resolution or use --method exact")
    s = np.linspace(*sl.s_range, int(resolution))
    t = np.linspace(*sl.t_range, int(resolution))
    st = np.stack(np.meshgrid(s, t), axis=-1).reshape(-1, 2)
    patterns = np.empty((st.shape[0], net.hidden_units), dtype=np.int32)
    for start in range(0, st.shape[0], _CHUNK):
        patterns[start: start + _CHUNK] = net.patterns(sl.to_input(st[start: start + _CHUNK]))
    _, labels = np.unique(patterns, axis=0, return_inverse=True)
    labels = labels.reshape(int(resolution), int(resolution))
    return GridCount(sl, int(resolution), int(labels.max()) + 1, labels)
