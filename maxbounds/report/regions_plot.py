"""Pictures of activation regions: the coloured partition of a 2-D slice and its decision boundary.

Regions are coloured by a greedy colouring of their adjacency graph (:func:`region_adjacency`,
:func:`greedy_colours`): two regions that share a piece of an edge never get the same colour, so every
region boundary reads as a change of colour, not only as a thin white edge.
"""

from __future__ import annotations

import numpy as np

from .plots import _pyplot, _save, legend_outside


def _palette() -> np.ndarray:
    """Ten light qualitative hues (the black decision boundary stays readable), then their darker partners."""
    plt = _pyplot()
    tab20 = plt.get_cmap("tab20")(np.arange(20))
    return np.concatenate([tab20[1::2], tab20[0::2]])


def region_adjacency(polygons, *, tolerance: float = 1e-7) -> np.ndarray:
    """Pairs ``(i, j)``, ``i < j``, of polygons that share a piece of an edge of positive length.

    Edges meet in T-junctions (a neighbour split by a later hyperplane), so two edges count as shared when
    they lie on one line and their overlap is longer than ``tolerance`` times the extent of the picture.
    Regions touching in a single point are not adjacent.  Shape ``(pairs, 2)``.
    """
    starts, ends, owner = [], [], []
    for r, poly in enumerate(polygons):
        poly = np.asarray(poly, dtype=float).reshape(-1, 2)
        if len(poly) < 2:
            continue
        starts.append(poly)
        ends.append(np.roll(poly, -1, axis=0))
        owner.append(np.full(len(poly), r))
    if not starts:
        return np.empty((0, 2), dtype=int)
    P, Q, owner = np.concatenate(starts), np.concatenate(ends), np.concatenate(owner)
    scale = max(float(np.ptp(np.concatenate([P, Q]), axis=0).max()), 1e-300)
    eps = tolerance * scale
    d = Q - P
    length = np.hypot(d[:, 0], d[:, 1])
    keep = length > eps
    P, Q, d, length, owner = P[keep], Q[keep], d[keep], length[keep], owner[keep]
    angle = np.mod(np.arctan2(d[:, 1], d[:, 0]), np.pi)
    order = np.argsort(angle)
    gaps = np.flatnonzero(np.diff(angle[order]) > 1e-6) + 1
    groups = np.split(order, gaps)
    if len(groups) > 1 and angle[order[0]] + np.pi - angle[order[-1]] <= 1e-6:  # angles near 0 and near pi
        groups[0] = np.concatenate([groups.pop(), groups[0]])
    pairs = set()
    for g in groups:
        if len(g) < 2 or len(set(owner[g].tolist())) < 2:
            continue
        u = d[g] / length[g, None]
        n = np.stack([-u[:, 1], u[:, 0]], axis=1)
        for first in range(0, len(g), 512):  # rows a against all b: b's end points on a's line, and the
            a = slice(first, first + 512)     # overlap of their projections on a's direction
            dp = P[g][None, :, :] - P[g][a, None, :]
            dq = Q[g][None, :, :] - P[g][a, None, :]
            off_p = np.abs(np.einsum("ak,abk->ab", n[a], dp))
            off_q = np.abs(np.einsum("ak,abk->ab", n[a], dq))
            tp = np.einsum("ak,abk->ab", u[a], dp)
            tq = np.einsum("ak,abk->ab", u[a], dq)
            lo = np.maximum(0.0, np.minimum(tp, tq))
            hi = np.minimum(length[g][a, None], np.maximum(tp, tq))
            shared = (off_p <= eps) & (off_q <= eps) & (hi - lo > eps) & (owner[g][a, None] != owner[g][None, :])
            for i, j in zip(owner[g][a][np.nonzero(shared)[0]], owner[g][np.nonzero(shared)[1]]):
                pairs.add((int(min(i, j)), int(max(i, j))))
    return np.array(sorted(pairs), dtype=int).reshape(-1, 2)


def label_adjacency(labels) -> np.ndarray:
    """Pairs ``(i, j)``, ``i < j``, of labels of a 2-D label image that touch horizontally or vertically."""
    labels = np.asarray(labels)
    a = np.concatenate([labels[:, :-1].ravel(), labels[:-1, :].ravel()])
    b = np.concatenate([labels[:, 1:].ravel(), labels[1:, :].ravel()])
    differ = a != b
    pairs = np.stack([np.minimum(a[differ], b[differ]), np.maximum(a[differ], b[differ])], axis=1)
    return np.unique(pairs, axis=0) if len(pairs) else np.empty((0, 2), dtype=int)


def greedy_colours(count: int, pairs, colours: int = 10) -> np.ndarray:
    """A colour index per node such that no pair of ``pairs`` shares one (Welsh-Powell order).

    Nodes are taken by decreasing degree; each gets the least used of the first ``colours`` indices that
    none of its coloured neighbours has (which spreads the hues over the picture), or the next free index
    beyond them when its neighbours use all of them.
    """
    neighbours = [[] for _ in range(count)]
    for i, j in np.asarray(pairs, dtype=int).reshape(-1, 2):
        neighbours[i].append(j)
        neighbours[j].append(i)
    out = np.full(count, -1, dtype=int)
    used = np.zeros(colours, dtype=int)
    for node in sorted(range(count), key=lambda k: (-len(neighbours[k]), k)):
        taken = {int(out[k]) for k in neighbours[node] if out[k] >= 0}
        free = [c for c in range(colours) if c not in taken]
        if free:
            choice = min(free, key=lambda c: (used[c], c))
            used[choice] += 1
        else:
            choice = colours
            while choice in taken:
                choice += 1
        out[node] = choice
    return out


def region_colours(polygons) -> np.ndarray:
    """RGBA colours, one per polygon, with different colours for polygons that share an edge."""
    palette = _palette()
    index = greedy_colours(len(polygons), region_adjacency(polygons))
    return palette[index % len(palette)]


def _heading(architecture: str | None, line: str) -> str:
    return f"{architecture}\n{line}" if architecture else line


def partition_figure(partition, *, title: str | None = None, grid=None, architecture: str | None = None):
    """The figure of :func:`plot_partition` (a matplotlib Figure; the caller closes it)."""
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.colors import ListedColormap

    plt = _pyplot()
    panels = 2 if grid is not None else 1
    fig, axes = plt.subplots(1, panels, figsize=(5.2 * panels, 5.4), squeeze=False, layout="constrained")
    sl = partition.slice
    ax = axes[0, 0]
    ax.add_collection(PolyCollection(partition.polygons, facecolors=region_colours(partition.polygons),
                                     edgecolors="white", linewidths=0.3))
    if partition.boundary_pieces:
        ax.add_collection(LineCollection(partition.segments, colors="black", linewidths=1.6))
    ax.set_xlim(*sl.s_range)
    ax.set_ylim(*sl.t_range)
    ax.set_aspect("equal")
    ax.set_title(_heading(architecture, title or f"{partition.regions} regions, {partition.boundary_pieces} "
                                                  "boundary pieces (black; exact)"), fontsize=9)
    xlabel = "$s$" if sl.e1.size != 2 or sl.e1[0] != 1 else "$x_1$"
    ax.set_xlabel(xlabel)
    ax.set_ylabel("$t$" if sl.e2.size != 2 or sl.e2[1] != 1 else "$x_2$")
    if grid is not None:
        ax2 = axes[0, 1]
        labels = np.asarray(grid.labels)
        _, dense = np.unique(labels, return_inverse=True)
        dense = dense.reshape(labels.shape)
        index = greedy_colours(int(dense.max()) + 1 if dense.size else 0, label_adjacency(dense))
        palette = _palette()
        ax2.imshow(index[dense] % len(palette), origin="lower", cmap=ListedColormap(palette), vmin=-0.5,
                   vmax=len(palette) - 0.5, interpolation="nearest", extent=(*sl.s_range, *sl.t_range))
        ax2.set_title(_heading(architecture, f"{grid.regions} patterns on a {grid.resolution}x{grid.resolution} "
                                             "grid"), fontsize=9)
        ax2.set_aspect("equal")
        ax2.set_xlabel(xlabel)
    return fig


def plot_partition(partition, path, *, title: str | None = None, grid=None, architecture: str | None = None) -> None:
    """Draw every region of ``partition`` in its own colour, the decision boundary in black, as a PNG.

    ``partition`` is a :class:`maxbounds.regions.PlanePartition`.  With
    ``grid`` (a :class:`maxbounds.regions.GridCount` of the same slice) a
    second panel shows the grid's patterns for comparison.  ``architecture``
    (e.g. ``Architecture.describe()``) heads the title.  Neighbouring regions
    always differ in colour (:func:`region_colours`).
    """
    fig = partition_figure(partition, title=title, grid=grid, architecture=architecture)
    _save(fig, path)
    _pyplot().close(fig)


def line_figure(lines, *, title: str | None = None, architecture: str | None = None):
    """The figure of :func:`plot_line` (a matplotlib Figure; the caller closes it)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.6, 3.6), layout="constrained")
    length = lines.length
    outputs = lines.slope.shape[1] if np.ndim(lines.slope) == 2 else 1
    for p in range(lines.pieces):
        t = np.array([lines.t[p], lines.t[p + 1]])
        y = (lines.intercept[p] + t[:, None] * lines.slope[p]).reshape(2, -1)
        for j in range(y.shape[1]):
            ax.plot(t * length, y[:, j], color=f"C{j}", linewidth=1.2, label=f"output {j + 1}" if p == 0 else None)
    for i, t in enumerate(lines.t[1:-1]):
        ax.axvline(t * length, color="0.7", linewidth=0.6, linestyle=":",
                   label="breakpoint (new region)" if i == 0 else None)
    for i, t in enumerate(lines.boundary):
        ax.axvline(t * length, color="black", linewidth=1.0, label="decision boundary" if i == 0 else None)
    ax.set_xlabel("arc length along the segment")
    ax.set_ylabel("network output" + ("s" if outputs > 1 else ""))
    ax.set_title(_heading(architecture, title or f"{lines.pieces} pieces, {lines.boundary.size} boundary "
                                                  f"point{'' if lines.boundary.size == 1 else 's'} (exact)"), fontsize=9)
    legend_outside(ax)
    return fig


def plot_line(lines, path, *, title: str | None = None, architecture: str | None = None) -> None:
    """The output along a segment with its breakpoints (dotted) and decision-boundary zeros (black)."""
    fig = line_figure(lines, title=title, architecture=architecture)
    _save(fig, path)
    _pyplot().close(fig)
