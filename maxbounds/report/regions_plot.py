"""Pictures of activation regions: the coloured partition of a 2-D slice and its decision boundary."""

from __future__ import annotations

import numpy as np

from .plots import _save


def plot_partition(partition, path, *, title: str | None = None, grid=None) -> None:
    """Draw every region of ``partition`` in its own colour, the decision boundary in black, as a PNG.

    ``partition`` is a :class:`maxbounds.regions.PlanePartition`.  With
    ``grid`` (a :class:`maxbounds.regions.GridCount` of the same slice) a
    second panel shows the grid's patterns for comparison.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection, PolyCollection

    panels = 2 if grid is not None else 1
    fig, axes = plt.subplots(1, panels, figsize=(5.2 * panels, 5.0), squeeze=False)
    sl = partition.slice
    rng = np.random.default_rng(0)  # colours only: neighbours get unrelated hues
    colours = plt.get_cmap("tab20")(rng.permutation(max(partition.regions, 1)) % 20)
    ax = axes[0, 0]
    ax.add_collection(PolyCollection(partition.polygons, facecolors=colours[: partition.regions],
                                     edgecolors="white", linewidths=0.3))
    if partition.boundary_pieces:
        ax.add_collection(LineCollection(partition.segments, colors="black", linewidths=1.6))
    ax.set_xlim(*sl.s_range)
    ax.set_ylim(*sl.t_range)
    ax.set_aspect("equal")
    ax.set_title(title or f"{partition.regions} regions, {partition.boundary_pieces} boundary pieces (exact)",
                 fontsize=10)
    ax.set_xlabel("$s$" if sl.e1.size != 2 or sl.e1[0] != 1 else "$x_1$")
    ax.set_ylabel("$t$" if sl.e2.size != 2 or sl.e2[1] != 1 else "$x_2$")
    if grid is not None:
        ax2 = axes[0, 1]
        ax2.imshow(grid.labels % 20, origin="lower", cmap="tab20", interpolation="nearest",
                   extent=(*sl.s_range, *sl.t_range))
        ax2.set_title(f"{grid.regions} patterns on a {grid.resolution}x{grid.resolution} grid", fontsize=10)
        ax2.set_aspect("equal")
    _save(fig, path)
    plt.close(fig)


def plot_line(lines, path, *, title: str | None = None) -> None:
    """The output along a segment with its breakpoints (dotted) and decision-boundary zeros (black)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.0, 3.6))
    length = lines.length
    for p in range(lines.pieces):
        t = np.array([lines.t[p], lines.t[p + 1]])
        y = lines.intercept[p] + t[:, None] * lines.slope[p]
        for j in range(y.shape[1]):
            ax.plot(t * length, y[:, j], color=f"C{j}", linewidth=1.2)
    for t in lines.t[1:-1]:
        ax.axvline(t * length, color="0.8", linewidth=0.5, linestyle=":")
    for t in lines.boundary:
        ax.axvline(t * length, color="black", linewidth=1.0)
    ax.set_xlabel("arc length along the segment")
    ax.set_ylabel("network outputs")
    ax.set_title(title or f"{lines.pieces} pieces, {lines.boundary.size} boundary points (exact)", fontsize=10)
    _save(fig, path)
    plt.close(fig)
