r"""Figure 1 of docs/reproduce.md: squared weight gradients against depth, for several ``c``.

The paper plots, for maxout networks of width 2 and rank ``K = 5`` with
``depth = 2..10`` maxout layers, zero biases and a linear scalar output
(:math:`c_L = 1`), the distribution of :math:`n_0(\partial N/\partial W)^2`
over the non-zero entries of all weight layers pooled, for
:math:`c \in \{1/L, 1/M, 1, 2, 1/S, 0.1, 100\}` (constants at ``K = 5``).
The input is a fixed random unit vector (fully connected, :math:`n_0 = 2`)
or a random unit-norm image (convolutional, ``3 x 3`` kernels, ``C`` = 2
channels, ``H x W x 3`` input, :math:`n_0 = 3HW`).

Estimates (per ``(c, depth)``):

* quartiles and median of the pooled entries (the paper's band): every entry
  :math:`(\partial N/\partial W_{l,i,k,j})^2` of networks ``0, 1, ...`` of the
  seed (the Numba draw, :func:`maxbounds.layers.draw.draw_parameters`),
  computed by the NumPy reference :func:`maxbounds.reference.parameter_gradients`
  (no Numba simulator keeps single entries);
* the mean of the pooled entries with its standard error, as the mean over
  networks of each network's average non-zero entry, which for fully
  connected networks comes from the Numba sampler
  :func:`maxbounds.simulate.gradient_samples` (its first networks are those of
  the quartiles):
  :math:`\sum_l \lVert\delta_l\rVert^2\lVert x_{l-1}\rVert^2 / \sum_l n_l n_{l-1}`;
  for convolutional networks from the reference's entries;
* fully connected only, the bounds of docs/bounds.md on that mean:
  :math:`\sum_l n_l n_{l-1}\,[\text{lower}_l, \text{upper}_l] / \sum_l n_l n_{l-1}`
  with the per-entry bounds of :func:`maxbounds.laws.gradients.gradient_bounds`
  (a weighted average of bounds bounds the weighted average of means).
  Convolutional layers share weights across positions, so no bound is drawn.
"""

from __future__ import annotations

import math

import numpy as np

from .. import reference
from ..architecture import Architecture
from ..constants import constant
from ..laws.gradients import gradient_bounds
from ..layers.draw import draw_many
from ..simulate import gradient_samples
from . import _common

K = 5
WIDTH = 2
DEPTHS = tuple(range(2, 11))

#: Sample sizes: networks for the mean, networks for the quartiles, depths, conv image side.
_FC_SIZES = {
    "tiny": {"mean_networks": 400, "entry_networks": 200, "depths": (2, 4)},
    "quick": {"mean_networks": 20_000, "entry_networks": 5_000, "depths": DEPTHS},
    "full": {"mean_networks": 200_000, "entry_networks": 50_000, "depths": DEPTHS},
}
_CONV_SIZES = {
    "tiny": {"networks": 8, "image": 4, "depths": (2, 3), "batch": 8},
    "quick": {"networks": 100, "image": 32, "depths": DEPTHS, "batch": 25},
    "full": {"networks": 1_000, "image": 32, "depths": DEPTHS, "batch": 20},
}


def c_values() -> list[tuple[str, float]]:
    """The paper's seven scales with their labels; ``1/L``, ``1/M``, ``1/S`` evaluated at ``K = 5``."""
    return sorted([
        ("1/L", 1 / constant("L", K)), ("1/M", 1 / constant("M", K)), ("1", 1.0), ("2", 2.0),
        ("1/S", 1 / constant("S", K)), ("0.1", 0.1), ("100", 100.0),
    ], key=lambda item: item[1])


def _fc_arch(depth: int, c: float) -> Architecture:
    return Architecture((WIDTH,) * (depth + 1) + (1,), ranks=K, c=c, c_out=1.0, bias_var=0.0)


def _conv_arch(depth: int, c: float, side: int) -> Architecture:
    return Architecture.convolutional((3,) + (WIDTH,) * depth, (side, side), 1, kernel_size=3, ranks=K, c=c,
                                      c_out=1.0, bias_var=0.0)


def weight_entries(arch: Architecture, x, seed: int, first: int, count: int) -> np.ndarray:
    r"""Every squared weight gradient :math:`(\partial N/\partial W)^2` of networks ``first..first+count-1`` of ``seed``.

    The networks are those of the Numba simulators (:func:`~maxbounds.layers.draw.draw_parameters`), the
    gradients those of the NumPy reference (scalar output); shape ``(count, E)``, ``E`` the number of weights
    (pieces never selected give exact zeros).
    """
    net = arch.network()
    params = draw_many(net, seed, first, count)
    grads = reference.parameter_gradients(net, params, np.asarray(x, float).reshape(-1), np.ones(1))
    return np.concatenate([g[0].reshape(count, -1) ** 2 for g in grads if g is not None], axis=1)


def _pooled_bounds(arch: Architecture, x) -> tuple[float, float]:
    r"""Bounds on :math:`E` of a network's average non-zero weight-gradient entry (weights :math:`n_l n_{l-1}`)."""
    counts = np.array([arch.widths[l] * arch.widths[l - 1] for l in range(1, arch.depth + 1)], dtype=float)
    rows = gradient_bounds(arch, x, log=True)
    lo = np.array([r["weight_nonzero"]["lower"] for r in rows])
    hi = np.array([r["weight_nonzero"]["upper"] for r in rows])
    log_total = math.log(counts.sum())
    return (float(np.logaddexp.reduce(lo + np.log(counts))) - log_total,
            float(np.logaddexp.reduce(hi + np.log(counts))) - log_total)


def _quartiles(entries) -> dict:
    q25, q50, q75 = np.quantile(entries, [0.25, 0.5, 0.75])
    return {"q25": float(q25), "median": float(q50), "q75": float(q75), "entries": int(np.size(entries))}


def compute(quick: bool = True, seed: int = 0, progress=None, *, size: str | None = None) -> dict:
    """Fully connected variant: estimates, quartiles and bounds of ``n_0 (dN/dW)^2`` per ``(c, depth)``."""
    lvl = _common.level(quick, size)
    sizes = _FC_SIZES[lvl]
    rng = np.random.default_rng([seed, 1])
    x = _common.unit_vector(rng, WIDTH)
    n0 = WIDTH
    cs = c_values()
    advance = _common.tracker(progress, len(cs) * len(sizes["depths"]))
    curves = []
    for label, c in cs:
        curve = {"c": c, "label": label, "mean": [], "stderr": [], "n": [], "q25": [], "median": [], "q75": [],
                 "lower": [], "upper": []}
        for depth in sizes["depths"]:
            arch = _fc_arch(depth, c)
            g = gradient_samples(arch, x, sizes["mean_networks"], seed)
            counts = np.array(arch.widths[1:]) * np.array(arch.widths[:-1])
            per_network = n0 * g.weight_layer_sum.sum(axis=1) / counts.sum()
            stats = _common.summary(per_network)
            entries = n0 * weight_entries(arch, x, seed, 0, sizes["entry_networks"])
            entries = entries[entries != 0.0]
            quart = _quartiles(entries)
            lo, hi = _pooled_bounds(arch, x)
            curve["mean"].append(stats["mean"])
            curve["stderr"].append(stats["stderr"])
            curve["n"].append(stats["n"])
            for key in ("q25", "median", "q75"):
                curve[key].append(quart[key])
            curve["lower"].append(n0 * math.exp(lo))
            curve["upper"].append(n0 * math.exp(hi))
            advance()
        curves.append(curve)
    settings = {
        "variant": "fully connected", "width": WIDTH, "K": K, "n_0": n0, "biases": 0.0, "c_out": 1.0,
        "depths (maxout layers)": list(sizes["depths"]), "input": _common.clean(x),
        "mean_networks": sizes["mean_networks"], "entry_networks": sizes["entry_networks"], "size": lvl,
        "mean": "over networks of the network's average non-zero n_0 (dN/dW)^2 (Numba gradient_samples)",
        "quartiles": ("of all non-zero entries n_0 (dN/dW)^2 of all layers pooled (networks 0.. of the seed, "
                      "gradients by the NumPy reference)"),
        "bounds": "docs/bounds.md on the mean (count-weighted average of the per-layer entry bounds)",
    }
    return {"settings": settings, "depths": list(sizes["depths"]), "curves": curves}


def compute_conv(quick: bool = True, seed: int = 0, progress=None, *, size: str | None = None) -> dict:
    """Convolutional variant: mean (with standard error) and quartiles of ``n_0 (dN/dW)^2`` per ``(c, depth)``."""
    lvl = _common.level(quick, size)
    sizes = _CONV_SIZES[lvl]
    rng = np.random.default_rng([seed, 2])
    side = sizes["image"]
    image = _common.unit_vector(rng, 3 * side * side).reshape(3, side, side)
    n0 = image.size
    cs = c_values()
    batches = -(-sizes["networks"] // sizes["batch"])
    advance = _common.tracker(progress, len(cs) * len(sizes["depths"]) * batches)
    curves = []
    for label, c in cs:
        curve = {"c": c, "label": label, "mean": [], "stderr": [], "n": [], "q25": [], "median": [], "q75": []}
        for depth in sizes["depths"]:
            arch = _conv_arch(depth, c, side)
            means, pooled = [], []
            for first in range(0, sizes["networks"], sizes["batch"]):
                squared = weight_entries(arch, image, seed, first, min(sizes["batch"], sizes["networks"] - first))
                nonzero = squared != 0.0
                means.append(squared.sum(axis=1) / np.maximum(nonzero.sum(axis=1), 1))
                pooled.append(squared[nonzero])
                advance()
            stats = _common.summary(n0 * np.concatenate(means))
            quart = _quartiles(n0 * np.concatenate(pooled))
            curve["mean"].append(stats["mean"])
            curve["stderr"].append(stats["stderr"])
            curve["n"].append(stats["n"])
            for key in ("q25", "median", "q75"):
                curve[key].append(quart[key])
        curves.append(curve)
    settings = {
        "variant": "convolutional", "channels": WIDTH, "K": K, "kernel": 3, "padding": "same",
        "image": [3, side, side], "n_0": n0, "biases": 0.0, "c_out": 1.0,
        "depths (maxout layers)": list(sizes["depths"]), "networks": sizes["networks"], "size": lvl,
        "note": ("the paper's input is 32x32x3; --quick uses a smaller image to finish in about a minute, "
                 "--full the paper's") if side != 32 else "the paper's 32x32x3 input",
        "mean": "over networks of the network's average non-zero n_0 (dN/dW)^2",
        "quartiles": "of all non-zero entries n_0 (dN/dW)^2 of all layers pooled",
        "bounds": "none: the bounds of docs/bounds.md are derived for fully connected layers",
    }
    return {"settings": settings, "depths": list(sizes["depths"]), "curves": curves}


def figure(data: dict):
    """The figure of :func:`plot` (a matplotlib Figure; the caller closes it)."""
    from ..report.plots import interval_bars

    plt = _common.pyplot()
    has_bounds = "lower" in data["curves"][0]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), sharey=True, layout="constrained")
    depths = np.array(data["depths"], dtype=float)
    for i, curve in enumerate(data["curves"]):
        color = f"C{i}"
        _common.band(axes[0], depths, curve, color, f"c = {curve['label']} ({curve['c']:.3g})", line="median")
        mean = np.array(curve["mean"], dtype=float)
        half = 1.96 * np.array(curve["stderr"], dtype=float)
        interval_bars(axes[1], depths, mean, half=half, log=True, fmt="o-", color=color, ms=3, lw=1, capsize=2)
        if has_bounds:
            axes[1].fill_between(depths, curve["lower"], curve["upper"], color=color, alpha=0.15, lw=0)
    for ax in axes:
        ax.set_yscale("log")
        ax.axhline(1.0, color="black", lw=1)
        ax.set_xlabel("depth (maxout layers)")
        ax.set_xticks(depths)
    axes[0].set_ylabel(r"$n_0\,(\partial N/\partial W)^2$")
    axes[0].set_title("median and interquartile range of the entries", fontsize=9)
    axes[1].set_title("mean, 95% interval" + (" and bounds (bands)" if has_bounds else "; no bounds for conv"),
                      fontsize=9)
    handles, labels = axes[0].get_legend_handles_labels()
    extra, extra_labels = axes[1].get_legend_handles_labels()  # the caret of an interval reaching 0, if any
    axes[1].legend(handles + extra, labels + extra_labels, title="weight scale", fontsize=7, title_fontsize=8,
                   loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    s = data["settings"]
    if s["variant"] == "convolutional":
        image = "x".join(map(str, s["image"]))
        arch = f"{s['channels']} channels, {s['kernel']}x{s['kernel']} kernels, {image} input"
    else:
        arch = f"width {s['width']}"
    fig.suptitle(f"{s['variant']}: {arch}, K={s['K']}, n_0={s['n_0']}, c_L={s['c_out']:g}, zero biases "
                 f"(c per curve)", fontsize=10)
    return fig


def plot(data: dict, path) -> None:
    """Left: median and interquartile band (the paper's view); right: means with 95% intervals and the bounds.

    On the log axis an interval whose lower end is <= 0 is drawn as its upper half with a caret below the
    point (:func:`maxbounds.report.plots.interval_bars`), not down to the bottom of the axis.
    """
    _common.save(figure(data), path, dpi=90, bbox_inches="tight")


def csv_rows(data: dict) -> list[dict]:
    """One row per ``(c, depth)``."""
    rows = []
    for curve in data["curves"]:
        for i, depth in enumerate(data["depths"]):
            row = {"c_label": curve["label"], "c": curve["c"], "depth": depth}
            for key in ("mean", "stderr", "q25", "median", "q75", "lower", "upper"):
                if key in curve:
                    row[key] = curve[key][i]
            rows.append(row)
    return rows
