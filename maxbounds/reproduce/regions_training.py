r"""Activation regions and decision-boundary pieces of a maxout network in a 2-D slice during training (2021).

After Tseran & Montufar (NeurIPS 2021, the experiments on training): a small maxout network
(64 - 16 - 16 - 16 - 10 on the 8 x 8 digits, rank ``K = 3``, linear output) is initialised by
:func:`maxbounds.torch.init_` with each of the schemes ``"maxout"`` (maxout-He, :math:`c = 1/M(K)`,
zero biases), ``"sphere"`` and ``"many-regions"`` (the paper's two constructions,
:mod:`maxbounds.layers.constructions`), and trained in float64 with SGD (Nesterov momentum 0.9,
learning rate 0.01, batches of 32; :func:`maxbounds.torch.training.train`).  Three training
points :math:`p_0, p_1, p_2` of three different classes (chosen by the figure seed, the same for every
network) span a plane; the slice is the rectangle of that plane, in its orthonormal coordinates
(:class:`maxbounds.regions.Slice`), that covers the three points with a margin of a quarter of the
larger side on every side.

Before training and after the chosen epochs, the model is converted by
:func:`maxbounds.torch.to_network` (checked here to reproduce the model's outputs at the slice's
points to :math:`10^{-10}`, relative to the outputs' scale, in float64) and its exact partition of the
slice is computed by :func:`maxbounds.regions.plane_partition` (half-plane splitting: no grid).

Counted per network: the activation regions in the slice, and the *decision-boundary pieces*.  The
library counts the boundary for one or two outputs (:math:`N = 0`, :math:`N_1 = N_2`); with ``C``
classes the decision boundary is where the two largest outputs tie.  Inside one activation region
the outputs are ``C`` affine functions of ``(s, t)`` (composed from the region's activation pattern),
and the set where classes ``a`` and ``b`` tie above all the others is convex: one segment or
nothing.  A piece is one such segment of positive length, one per region and pair of classes; for
two outputs this is exactly the library's count (one pair), which the tests check.  Also recorded:
the regions the boundary crosses, and its length.

Several seeds per scheme give the mean and standard error of each count; the pictures show one seed
per scheme before and after training.
"""

from __future__ import annotations

import numpy as np

from .._validate import MaxboundsValueError
from ..torch._require import require_torch as _torch  # imports no torch until called
from . import _common
from .gradients_training import float64_data, seeds_for

DATASET = "digits"
INITS = ("maxout", "sphere", "many-regions")
K = 3
HIDDEN = (16, 16, 16)
OPTIMIZER = "sgd"
LR = 1e-2
BATCH_SIZE = 32
#: Margin of the box around the three points, as a fraction of the larger side of their bounding box.
MARGIN = 0.25
#: Most relative difference allowed between the model and its converted network on the slice points.
CONVERSION_TOLERANCE = 1e-10

_SIZES = {
    "tiny": {"seeds": 2, "epochs": (0, 1, 2), "hidden": (6, 6), "K": 2},
    "quick": {"seeds": 5, "epochs": (0, 1, 2, 5, 10, 20, 50), "hidden": HIDDEN, "K": K},
    "full": {"seeds": 10, "epochs": (0, 1, 2, 5, 10, 20, 50, 100, 200), "hidden": HIDDEN, "K": K},
}
_COUNTS = ("regions", "pieces", "crossed")


def make_model(n_in: int, n_out: int, hidden=HIDDEN, rank: int = K):
    """The float64 ``nn.Sequential`` of :class:`~maxbounds.torch.Maxout` layers ``hidden`` and an ``nn.Linear``."""
    torch = _torch()
    from ..torch import Maxout

    layers, previous = [], n_in
    with torch.random.fork_rng(devices=[]):  # the modules' placeholder draw leaves torch's generator alone
        for width in hidden:
            layers.append(Maxout(previous, width, rank))
            previous = width
        layers.append(torch.nn.Linear(previous, n_out))
    return torch.nn.Sequential(*layers).double()


def plane_points(data, seed: int):
    """``(indices, classes)``: three training points of three different classes, chosen by ``seed``."""
    rng = np.random.default_rng([seed, 43])
    y = data.y_train.numpy()
    classes = rng.choice(data.n_classes, size=3, replace=False)
    indices = [int(rng.choice(np.flatnonzero(y == c))) for c in classes]
    return indices, [int(c) for c in classes]


def slice_box(points) -> tuple:
    """``((s_lo, s_hi), (t_lo, t_hi))``: the rectangle of the plane through ``points`` covering them with margin."""
    from ..regions.plane import make_slice

    points = np.asarray(points, dtype=float)
    sl = make_slice(points.shape[1], (-1.0, 1.0), points)
    st = np.stack([(points - sl.origin) @ sl.e1, (points - sl.origin) @ sl.e2], axis=1)
    lo, hi = st.min(axis=0), st.max(axis=0)
    pad = MARGIN * float((hi - lo).max())
    return ((float(lo[0] - pad), float(hi[0] + pad)), (float(lo[1] - pad), float(hi[1] + pad)))


def slice_points(points, box, grid: int = 9) -> np.ndarray:
    """Input points of the slice: the three points, the box's corners and a ``grid x grid`` lattice of it."""
    from ..regions.plane import make_slice

    sl = make_slice(np.asarray(points).shape[1], box, points)
    s = np.linspace(*sl.s_range, grid)
    t = np.linspace(*sl.t_range, grid)
    st = np.concatenate([np.stack(np.meshgrid(s, t), axis=-1).reshape(-1, 2), sl.corners()])
    return np.concatenate([np.asarray(points, dtype=float), sl.to_input(st)])


def conversion_error(model, net, x) -> float:
    """``max |model(x) - net(x)| / max(1, max |model(x)|)`` in float64."""
    torch = _torch()
    with torch.no_grad():
        expected = model.double()(torch.as_tensor(np.asarray(x, dtype=float))).numpy()
    got = net.forward(x)
    return float(np.abs(got - expected).max() / max(1.0, float(np.abs(expected).max())))


def checked_network(model, points, box):
    """``to_network(model)``, after checking it reproduces ``model`` at the slice points to 1e-10."""
    from ..torch import to_network

    net = to_network(model)
    error = conversion_error(model, net, slice_points(points, box))
    if not error <= CONVERSION_TOLERANCE:
        raise MaxboundsValueError("model", f"to_network differs from the model by {error:.3g} on the slice "
                                           f"(more than {CONVERSION_TOLERANCE:g})")
    return net, error


def region_outputs(net, partition) -> np.ndarray:
    r"""``(R, C, 3)``: on region ``r`` the outputs are ``G[r] @ (s, t, 1)`` (from the region's pattern)."""
    patterns = np.asarray(partition.patterns)
    R = patterns.shape[0]
    M = np.broadcast_to(partition.slice.affine(), (R,) + partition.slice.affine().shape)  # (R, n_0, 3)
    offset = 0
    for W, b in net.layers[:-1]:
        n = W.shape[0]
        k = patterns[:, offset:offset + n]  # (R, n)
        units = np.arange(n)[None, :]
        M = np.einsum("rij,rjc->ric", W[units, k], M)  # (R, n, 3)
        M = M.copy()
        M[:, :, 2] += b[units, k]
        offset += n
    W, b = net.layers[-1]
    G = np.einsum("ij,rjc->ric", W[:, 0, :], M)
    G[:, :, 2] += b[:, 0]
    return G


def decision_pieces(net, partition) -> dict:
    """The multi-class decision boundary of ``partition`` (see the module docstring).

    Returns ``{"pieces", "crossed", "length", "segments"}``: the number of (region, pair of classes)
    segments, the regions with at least one, their total length and the segments ``(P, 2, 2)``.
    """
    G = region_outputs(net, partition)
    C = G.shape[1]
    segments, crossed, length = [], 0, 0.0
    for r, poly in enumerate(partition.polygons):
        V = np.concatenate([np.asarray(poly, dtype=float), np.ones((len(poly), 1))], axis=1)  # (nv, 3)
        values = G[r] @ V.T  # (C, nv)
        top = int(np.argmax(values[:, 0]))
        if np.all(values[top] >= values):  # one class is largest on the whole region
            continue
        # class j can tie at the top somewhere only if, for every i, O_j - O_i >= 0 at some vertex
        diff_max = (values[:, None, :] - values[None, :, :]).max(axis=2)  # [j, i] = max over vertices
        candidates = [j for j in range(C) if np.all(diff_max[j] >= 0)]
        found = 0
        for ia, a in enumerate(candidates):
            for b in candidates[ia + 1:]:
                seg = _tie_segment(poly, G[r], a, b)
                if seg is not None:
                    segments.append(seg)
                    length += float(np.linalg.norm(seg[1] - seg[0]))
                    found += 1
        crossed += found > 0
    return {"pieces": len(segments), "crossed": int(crossed), "length": length,
            "segments": np.array(segments) if segments else np.empty((0, 2, 2))}


def _tie_segment(poly, G, a, b):
    """The segment of ``poly`` where outputs ``a`` and ``b`` tie and no other output is larger, or None."""
    poly = np.asarray(poly, dtype=float)
    g = G[a] - G[b]
    h = poly @ g[:2] + g[2]
    if not (h.min() < 0.0 < h.max()):
        return None
    ends = []
    nv = len(poly)
    for q in range(nv):
        r = (q + 1) % nv
        if len(ends) < 2 and ((h[q] >= 0.0 > h[r]) or (h[q] < 0.0 <= h[r])):
            lam = h[q] / (h[q] - h[r])
            ends.append(poly[q] + lam * (poly[r] - poly[q]))
    if len(ends) != 2:
        return None
    P, Q = ends
    lo, hi = 0.0, 1.0
    for j in range(G.shape[0]):
        if j in (a, b):
            continue
        d = G[a] - G[j]
        u0 = float(d[:2] @ P + d[2])
        u1 = float(d[:2] @ Q + d[2])
        # u0 + u (u1 - u0) >= 0 on [lo, hi]
        if u0 < 0 and u1 < 0:
            return None
        if u0 < 0 <= u1:
            lo = max(lo, u0 / (u0 - u1))
        elif u1 < 0 <= u0:
            hi = min(hi, u0 / (u0 - u1))
        if hi - lo <= 1e-12:
            return None
    return np.array([P + lo * (Q - P), P + hi * (Q - P)])


def count(net, box, points) -> dict:
    """Regions of ``net`` in the slice and its decision-boundary pieces (and the partition)."""
    from ..regions import plane_partition

    partition = plane_partition(net, box, points)
    boundary = decision_pieces(net, partition)
    return {"regions": int(partition.regions), "pieces": boundary["pieces"], "crossed": boundary["crossed"],
            "length": boundary["length"], "partition": partition, "segments": boundary["segments"]}


def _network_lists(net) -> list:
    return [[W.tolist(), b.tolist()] for W, b in net.layers]


def compute(quick: bool = True, seed: int = 0, progress=None, *, size: str | None = None) -> dict:
    """Train the networks of every scheme and seed; count regions and boundary pieces at the chosen epochs."""
    lvl = _common.level(quick, size)
    with _common.torch_threads():
        return _compute(lvl, seed, progress)


def _compute(lvl: str, seed: int, progress) -> dict:
    torch = _torch()
    from ..torch import init_
    from ..torch.training import load_dataset, train

    sizes = _SIZES[lvl]
    epochs = tuple(sizes["epochs"])
    data = float64_data(load_dataset(DATASET))
    n0, n_out = data.n_features, data.n_classes
    indices, classes = plane_points(data, seed)
    points = data.x_train[indices].numpy()
    box = slice_box(points)
    seeds = seeds_for(seed, sizes["seeds"])
    advance = _common.tracker(progress, len(INITS) * len(seeds) * len(epochs))
    rows, pictures, worst = [], [], 0.0
    for init in INITS:
        for number, s in enumerate(seeds):
            model = make_model(n0, n_out, sizes["hidden"], sizes["K"])
            init_(model, init, seed=s)

            def callback(epoch, model, init=init, s=s, number=number):
                nonlocal worst
                if epoch not in epochs:
                    return
                advance()
                row = {"init": init, "seed": s, "epoch": int(epoch)}
                rows.append(row)
                if not all(bool(torch.isfinite(p).all()) for p in model.parameters()):
                    row.update({key: None for key in _COUNTS + ("length", "conversion_error", "predicted")})
                    row["diverged"] = True
                    return
                net, error = checked_network(model, points, box)
                worst = max(worst, error)
                counted = count(net, box, points)
                row.update({key: counted[key] for key in _COUNTS + ("length",)})
                row.update({"conversion_error": error, "diverged": False,
                            "predicted": [int(p) for p in net.forward(points).argmax(axis=1)]})
                if number == 0 and epoch in (epochs[0], epochs[-1]):
                    pictures.append({"init": init, "seed": s, "epoch": int(epoch),
                                     "network": _network_lists(net), "regions": counted["regions"],
                                     "pieces": counted["pieces"]})

            history = train(model, data, optimizer=OPTIMIZER, epochs=max(epochs), batch_size=BATCH_SIZE,
                            lr=LR, halve_every=10**6, seed=s, callback=callback)
            for row in rows:
                if row["init"] == init and row["seed"] == s:
                    row["train_acc"] = _common.clean(history.train_acc[row["epoch"]])
                    row["test_acc"] = _common.clean(history.test_acc[row["epoch"]])
    diverged = sorted({(row["init"], row["seed"]) for row in rows if row["diverged"]})
    curves = [_curve(init, [row for row in rows if (row["init"], row["seed"]) not in diverged], epochs)
              for init in INITS]
    settings = {
        "dataset": DATASET, "widths": [n0, *sizes["hidden"], n_out], "K": sizes["K"], "inits": list(INITS),
        "init": "maxbounds.torch.init_(model, scheme, seed=s) (maxout: c = 1/M(K), zero biases)",
        "optimizer": "SGD, Nesterov momentum 0.9", "lr": LR, "batch_size": BATCH_SIZE, "dtype": "float64",
        "epochs": list(epochs), "seeds": seeds, "size": lvl,
        "plane": {"train_indices": indices, "classes": classes, "box": [list(box[0]), list(box[1])],
                  "margin": MARGIN, "points": points.tolist()},
        "regions": "exact, maxbounds.regions.plane_partition of maxbounds.torch.to_network(model)",
        "pieces": ("segments of the decision boundary (two largest outputs tie) inside one activation region, "
                   "one per region and pair of classes"),
        "crossed": "activation regions the decision boundary crosses",
        "conversion check": f"to_network equals the model at the slice points to {CONVERSION_TOLERANCE:g}",
        "max conversion error": worst,
        "diverged": [{"init": init, "seed": s} for init, s in diverged],
    }
    summary = "; ".join(
        f"{c['init']}: regions {c['regions']['mean'][0]:.0f} -> {c['regions']['mean'][-1]:.0f}, "
        f"pieces {c['pieces']['mean'][0]:.1f} -> {c['pieces']['mean'][-1]:.1f}" for c in curves)
    return {"settings": settings, "epochs": list(epochs), "curves": curves, "counts": rows, "pictures": pictures,
            "summary": f"epoch {epochs[0]} -> {epochs[-1]}, mean over {len(seeds)} seeds: {summary}"}


def _curve(init, rows, epochs) -> dict:
    """Mean and standard error over the seeds of every count of ``init`` at each epoch."""
    curve = {"init": init}
    for key in _COUNTS + ("train_acc",):
        values = np.array([[row[key] for row in rows if row["init"] == init and row["epoch"] == e]
                           for e in epochs], dtype=float)  # (epochs, seeds)
        if values.shape[1] < 2:
            raise MaxboundsValueError("seed", f"training with {init!r} diverged for all but "
                                              f"{values.shape[1]} networks: too few for a standard error")
        stats = _common.summary(values, axis=1)
        curve[key] = {"mean": stats["mean"], "stderr": stats["stderr"], "n": stats["n"]}
    curve["seeds"] = int(values.shape[1])
    return curve


def _draw_partition(ax, net, box, points, title, plt):
    from matplotlib.collections import LineCollection, PolyCollection

    from ..report.regions_plot import region_colours

    counted = count(net, box, points)
    partition = counted["partition"]
    # neighbouring regions never share a colour (a greedy colouring of the region adjacency)
    ax.add_collection(PolyCollection(partition.polygons, facecolors=region_colours(partition.polygons),
                                     edgecolors="white", linewidths=0.2))
    if counted["pieces"]:
        ax.add_collection(LineCollection(counted["segments"], colors="black", linewidths=1.4))
    sl = partition.slice
    st = np.stack([(points - sl.origin) @ sl.e1, (points - sl.origin) @ sl.e2], axis=1)
    ax.scatter(st[:, 0], st[:, 1], s=28, c="white", edgecolors="black", zorder=3)
    ax.set_xlim(*sl.s_range)
    ax.set_ylim(*sl.t_range)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"{title}\n{counted['regions']} regions, {counted['pieces']} boundary pieces", fontsize=8)
    return counted


def figure(data: dict):
    """The figure of :func:`plot` (a matplotlib Figure; the caller closes it)."""
    from ..regions import Network
    from ..report.plots import interval_bars, legend_outside

    plt = _common.pyplot()
    s = data["settings"]
    inits = [c["init"] for c in data["curves"]]
    box = tuple(tuple(side) for side in s["plane"]["box"])
    points = _plane_inputs(s)
    epochs = np.array(data["epochs"], dtype=float)
    fig, axes = plt.subplots(3, len(inits), figsize=(4.0 * len(inits) + 1.5, 11.5), squeeze=False,
                             layout="constrained")
    for col, init in enumerate(inits):
        shown = [p for p in data["pictures"] if p["init"] == init]
        for row, picture in enumerate(shown[:2]):
            net = Network([(np.array(W), np.array(b)) for W, b in picture["network"]])
            _draw_partition(axes[row, col], net, box, points, f"{init}, epoch {picture['epoch']}", plt)
    x = np.maximum(epochs, 0.5)  # epoch 0 drawn at 0.5 on the log axis
    for i, curve in enumerate(data["curves"]):
        for ax, key in zip(axes[2], ("regions", "pieces", "train_acc")):
            mean = np.array(curve[key]["mean"], dtype=float)
            half = 1.96 * np.array(curve[key]["stderr"], dtype=float)
            interval_bars(ax, x, mean, half=half, fmt="o-", color=f"C{i}", ms=3, lw=1.2, capsize=2,
                          label=curve["init"])
    titles = ("activation regions in the slice", "decision-boundary pieces", "training accuracy")
    for ax, title in zip(axes[2], titles):
        ax.set_xscale("log")
        ax.set_xlabel("epoch (0 drawn at 0.5)")
        ax.set_title(f"{title}: mean, 95% interval", fontsize=8)
    for ax, label in zip(axes[2], ("regions", "pieces", "accuracy")):
        ax.set_ylabel(label, fontsize=8)
    for ax in axes[2][3:]:
        ax.set_visible(False)
    legend_outside(axes[2, min(2, len(inits) - 1)], fontsize=7, title="initialisation")
    widths = "-".join(map(str, s["widths"])) if isinstance(s["widths"], (list, tuple)) else s["widths"]
    fig.suptitle(f"{s['dataset']}: widths {widths}, K={s['K']}, SGD lr {s['lr']}, {len(s['seeds'])} seeds; "
                 f"slice through training points of classes {s['plane']['classes']}", fontsize=10)
    return fig


def plot(data: dict, path) -> None:
    """Rows: one seed per scheme before and after training (partition and boundary); last row: the counts."""
    _common.save(figure(data), path, dpi=90, bbox_inches="tight")


def _plane_inputs(settings) -> np.ndarray:
    return np.array(settings["plane"]["points"], dtype=float)


def csv_rows(data: dict) -> list[dict]:
    """One row per ``(init, epoch, seed)``: the counts, the boundary length, the accuracies."""
    keys = ("init", "epoch", "seed", "regions", "pieces", "crossed", "length", "train_acc", "test_acc",
            "conversion_error", "diverged")
    return [{key: row[key] for key in keys} for row in sorted(data["counts"],
                                                               key=lambda r: (data["settings"]["inits"].index(
                                                                   r["init"]), r["epoch"], r["seed"]))]
