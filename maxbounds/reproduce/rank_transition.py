r"""The rank transition of Karhadkar, Murray, Tseran & Montufar (seed 003): full-rank regions against the width.

Four panels, all for two-layer networks on Gaussian data :math:`x_i \sim N(0, I_d)`
(one data set per ``(N, d)``, from the seed), ranks by SVD with the tolerance
:math:`\max(N, P)\,\varepsilon\,\sigma_{\max}` (:mod:`maxbounds.landscape`):

(a) ReLU, ``d = 2``, several ``N``: the fraction of activation patterns with a
    Jacobian of rank ``N`` against the width ``m``, for uniformly random patterns
    (every :math:`A_{ij}` uniform on {0, 1}) and for the patterns of random
    parameters (:math:`w \sim N(0, I_d/d)`, :math:`b, v \sim N(0, 1)`);
(b) ReLU, ``N = 20``, several ``d``, against :math:`m(d + 1)/N` (the counting
    threshold is 1);
(c) ``d = 1``: the exact fraction of the :math:`(2N)^m` realisable activation
    regions whose rank is ``N`` (small ``N``, :func:`maxbounds.landscape.region_counts`),
    a uniform sample of realisable regions for larger ``N``, and the patterns of
    random parameters, against :math:`m/N`;
(d) ``N = 20``, ``d = 2``: ReLU, leaky ReLU (slope 0.01), maxout ``K = 2, 3``.

Every sampled fraction carries its binomial standard error.
"""

from __future__ import annotations

import math

import numpy as np

from ..landscape import Proportion, max_pattern_rank, random_data, region_counts, sample_ranks
from . import _common

_SIZES = {
    "tiny": {"samples": 20, "a": {"points": (6, 10), "dim": 2, "widths": 8},
             "b": {"points": 8, "dims": (1, 2), "ratio": 3.0},
             "c": {"exact": (3, 4), "sampled": (8,), "ratio": 3.0, "grid": 6},
             "d": {"points": 8, "dim": 2, "widths": 6}},
    "quick": {"samples": 400, "a": {"points": (10, 20, 40), "dim": 2, "widths": 40},
              "b": {"points": 20, "dims": (1, 2, 4, 8), "ratio": 6.0},
              "c": {"exact": (4, 6, 8), "sampled": (20, 40), "ratio": 3.0, "grid": 15},
              "d": {"points": 20, "dim": 2, "widths": 30}},
    "full": {"samples": 4000, "a": {"points": (10, 20, 40, 80), "dim": 2, "widths": 80},
             "b": {"points": 40, "dims": (1, 2, 4, 8, 16), "ratio": 8.0},
             "c": {"exact": (4, 6, 8), "sampled": (20, 40, 80), "ratio": 4.0, "grid": 30},
             "d": {"points": 40, "dim": 2, "widths": 60}},
}

#: The activations of panel (d): (label, activation, rank K, slope).
_ACTIVATIONS = (("ReLU", "relu", None, None), ("leaky ReLU a=0.01", "leaky-relu", None, 0.01),
                ("maxout K=2", "maxout", 2, None), ("maxout K=3", "maxout", 3, None))


def _grid(top: int, count: int) -> list:
    """About ``count`` distinct widths from 1 to ``top``."""
    return sorted({max(1, round(top * (i + 1) / count)) for i in range(count)} | {1})


def _half(widths, fractions):
    """The first width whose fraction is at least 1/2 (``None`` if none is)."""
    return next((m for m, f in zip(widths, fractions) if f >= 0.5), None)


def _series(panel, label, N, dim, activation, K, slope, mode, widths, proportions):
    fractions = [p.fraction for p in proportions]
    return {"panel": panel, "label": label, "mode": mode, "activation": activation, "rank": K, "slope": slope,
            "points": N, "dim": dim, "widths": widths, "fraction": fractions, "mean": fractions,
            "stderr": [p.stderr for p in proportions], "n": [p.n for p in proportions],
            "count": [p.count for p in proportions], "samples": proportions[0].n,
            "max_rank": [max_pattern_rank(N, dim, m, activation, K or 2) for m in widths],
            "half_width": _half(widths, fractions)}


def compute(quick: bool = True, seed: int = 0, progress=None, *, size: str | None = None) -> dict:
    """The four panels' series (see the module docstring), JSON-ready, with ``"settings"``."""
    lvl = _common.level(quick, size)
    sz = _SIZES[lvl]
    S = sz["samples"]
    a, b, c, d = sz["a"], sz["b"], sz["c"], sz["d"]
    jobs = []  # (panel, label, points, dim, widths, activation, rank, slope, modes)
    for N in a["points"]:
        jobs.append(("a", f"N={N}", N, a["dim"], list(range(1, a["widths"] + 1)), "relu", None, None,
                     ("uniform", "parameters")))
    for dim in b["dims"]:
        top = max(1, math.ceil(b["ratio"] * b["points"] / (dim + 1)))
        jobs.append(("b", f"d={dim}", b["points"], dim, list(range(1, top + 1)), "relu", None, None,
                     ("uniform", "parameters")))
    for i, N in enumerate(c["sampled"]):  # random parameters for the smallest N only (they need m >> N)
        jobs.append(("c", f"N={N}", N, 1, _grid(round(c["ratio"] * N), c["grid"]), "relu", None, None,
                     ("regions", "parameters") if i == 0 else ("regions",)))
    for label, act, K, slope in _ACTIVATIONS:
        jobs.append(("d", label, d["points"], d["dim"], list(range(1, d["widths"] + 1)), act, K, slope,
                     ("uniform", "parameters")))
    total = sum(len(job[4]) * len(job[8]) for job in jobs) + len(c["exact"])
    advance = _common.tracker(progress, total)
    cache = {}  # panels share settings (panel (a) N=20 is panel (d) ReLU): each width and mode is sampled once
    series = []
    for panel, label, N, dim, widths, act, K, slope, modes in jobs:
        X = random_data(N, dim, seed)
        kw = {"rank": K or 2, "slope": 0.01 if slope is None else slope}
        for mode in modes:
            counts = []
            for m in widths:
                key = (N, dim, act, K, slope, mode, m)
                if key not in cache:
                    ranks = sample_ranks(X, m, act, mode, samples=S, seed=seed, **kw)
                    cache[key] = Proportion(int(np.sum(ranks == N)), S)
                counts.append(cache[key])
                advance()
            series.append(_series(panel, label, N, dim, act, K, slope, mode, widths, counts))
    exact = []
    for N in c["exact"]:
        x = random_data(N, 1, seed)
        widths = list(range(1, round(c["ratio"] * N) + 1))
        counts = region_counts(x, widths, "relu")
        fractions = [r["fraction"] for r in counts]
        exact.append({"panel": "c", "label": f"N={N} exact", "mode": "exact regions", "points": N, "dim": 1,
                      "widths": widths, "fraction": fractions,
                      "regions": [r["regions"] for r in counts],
                      "full_rank_regions": [r["full_rank_regions"] for r in counts],
                      "half_width": _half(widths, fractions)})
        advance()
    settings = {"size": lvl, "samples per point": S, "data": "x_i ~ N(0, I_d), one data set per (N, d)",
                "parameters law": "w ~ N(0, I_d/d), b ~ N(0, 1), v ~ N(0, 1)",
                "uniform patterns": "A_ij uniform on {0, 1}; maxout: winning piece uniform on 0..K-1",
                "regions": "d = 1: each unit uniform on its 2N realisable patterns (a uniform realisable region)",
                "exact regions": "d = 1: all (2N)^m realisable regions, ranks of all 2^(2N) sets of unit patterns",
                "tolerance": "max(N, P) * eps * sigma_max",
                "panels": {f"panel {name}": value for name, value in sz.items()}}
    return {"settings": settings, "series": series, "exact": exact}


def figure(data: dict):
    """The figure of :func:`plot` (a matplotlib Figure; the caller closes it)."""
    from ..report.plots import legend_outside

    plt = _common.pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(13, 8), layout="constrained")
    ax = {"a": axes[0, 0], "b": axes[0, 1], "c": axes[1, 0], "d": axes[1, 1]}
    style = {"uniform": "-", "parameters": "--", "regions": "-"}
    colours = {}
    for s in data["series"]:
        key = (s["panel"], s["label"])
        colour = colours.setdefault(key, f"C{sum(1 for k in colours if k[0] == s['panel'])}")
        m = np.array(s["widths"], dtype=float)
        x = {"a": m, "d": m, "b": m * (s["dim"] + 1) / s["points"], "c": m / s["points"]}[s["panel"]]
        f = np.array(s["fraction"])
        se = np.array(s["stderr"])
        ax[s["panel"]].plot(x, f, style[s["mode"]], color=colour, lw=1.3, label=f"{s['label']}, {s['mode']}")
        ax[s["panel"]].fill_between(x, np.clip(f - 1.96 * se, 0, 1), np.clip(f + 1.96 * se, 0, 1), color=colour,
                                    alpha=0.15, lw=0)
    for i, e in enumerate(data["exact"]):
        x = np.array(e["widths"], dtype=float) / e["points"]
        ax["c"].plot(x, e["fraction"], "o:", ms=3, color=f"C{i + 4}", lw=1, label=e["label"])
    ax["a"].set_xlabel("width m")
    ax["a"].set_title("(a) ReLU, d = 2", fontsize=9)
    ax["b"].set_xlabel("m(d + 1) / N")
    ax["b"].axvline(1.0, color="k", lw=0.6, ls=":")
    ax["b"].set_title(f"(b) ReLU, N = {data['settings']['panels']['panel b']['points']}", fontsize=9)
    ax["c"].set_xlabel("m / N")
    ax["c"].set_title("(c) d = 1: realisable regions (exact, sampled) and random parameters", fontsize=9)
    ax["d"].set_xlabel("width m")
    pd = data["settings"]["panels"]["panel d"]
    ax["d"].set_title(f"(d) N = {pd['points']}, d = {pd['dim']}: activations", fontsize=9)
    for a in ax.values():
        a.set_ylabel("fraction with Jacobian rank N")
        a.set_ylim(-0.03, 1.03)
        legend_outside(a, fontsize=6.5)
    fig.suptitle("Full-rank activation regions of two-layer networks (d inputs, m hidden units, one output) on N "
                 "Gaussian points, against the width\n(solid: uniform patterns / regions; dashed: random parameters; "
                 "bands: 95%)", fontsize=9)
    return fig


def plot(data: dict, path) -> None:
    """A 2 x 2 figure: (a) against m, several N; (b) against m(d+1)/N; (c) d = 1, against m/N; (d) activations."""
    _common.save(figure(data), path, dpi=80, bbox_inches="tight")


def csv_rows(data: dict) -> list[dict]:
    """One row per series and width (sampled series carry the standard error; exact ones the counts)."""
    rows = []
    for s in data["series"]:
        for i, m in enumerate(s["widths"]):
            rows.append({"panel": s["panel"], "label": s["label"], "mode": s["mode"], "activation": s["activation"],
                         "rank": s["rank"], "slope": s["slope"], "points": s["points"], "dim": s["dim"],
                         "width": m, "fraction": s["fraction"][i], "stderr": s["stderr"][i],
                         "count": s["count"][i], "samples": s["samples"], "regions": None,
                         "full_rank_regions": None})
    for e in data["exact"]:
        for i, m in enumerate(e["widths"]):
            rows.append({"panel": "c", "label": e["label"], "mode": e["mode"], "activation": "relu", "rank": None,
                         "slope": None, "points": e["points"], "dim": 1, "width": m, "fraction": e["fraction"][i],
                         "stderr": 0.0, "count": None, "samples": None, "regions": e["regions"][i],
                         "full_rank_regions": e["full_rank_regions"][i]})
    return rows
