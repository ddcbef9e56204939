r"""Depth-exponential ReLU networks (seed 004, Milkert, Hyde & Laine): error against depth, exact piece counts.

The network is the construction of :mod:`maxbounds.layers.depth_exponential` (``d`` ReLU layers of width
3 on ``[0, 1]``, then a linear output; every admissible parameter gives a convex function with exactly
:math:`2^d` pieces).  For each depth and seed, every target of
:data:`maxbounds.layers.depth_exponential.TARGETS` (:math:`x^2`, :math:`e^x`, the circle arc
:math:`1 - \sqrt{1 - (x - 1/2)^2}`, :math:`|x - 1/2|^{1.5}`) is fitted twice with Adam and the same total
number of steps (:mod:`maxbounds.torch.depth_exponential`):

* **derived**: phase 1 in the derived parameters (apexes, curvatures, slope, offset), phase 2 in the raw
  weights of the ``nn.Sequential`` built from them;
* **He**: the same architecture from :func:`maxbounds.torch.init_` ``"he"`` (biases :math:`N(0, \beta)`),
  raw weights throughout.

Reported: the maximum and RMS error on a dense grid (mean ± standard deviation over seeds, ``ddof = 1``),
after phase 1 and at the end; the exact piece counts at initialisation, after phase 1 and during phase 2;
the sawtooth reference :math:`f_d = x - \sum_s g^{\circ s}/4^s` for :math:`x^2` (exact supremum error
:math:`2^{-2d-2}`); and, for contrast, the exact piece counts of the architecture under Gaussian (He)
initialisation for several bias variances (maxbounds' draw, many networks), with the analytic upper bound
on their expectation (:func:`maxbounds.layers.depth_exponential.relu_pieces_bound`).
"""

from __future__ import annotations

import math
import time

import numpy as np

from . import _common

#: Per level: depths, seeds, Adam steps of phase 1 and 2 (He: their sum), training and evaluation points,
#: networks per depth and bias variance of the He contrast, its bias variances, counts during phase 2.
SIZES = {
    "tiny": {"depths": (2, 3), "seeds": 2, "steps1": 20, "steps2": 20, "n_train": 256, "n_eval": 4097,
             "networks": 40, "betas": (0.1,), "counts": 1},
    "quick": {"depths": (2, 4, 6, 8, 10), "seeds": 3, "steps1": 600, "steps2": 600, "n_train": 2048,
              "n_eval": 65537, "networks": 300, "betas": (0.01, 0.1, 1.0), "counts": 2},
    "full": {"depths": tuple(range(2, 11)), "seeds": 5, "steps1": 3000, "steps2": 3000, "n_train": 2048,
             "n_eval": 65537, "networks": 2000, "betas": (0.01, 0.1, 1.0), "counts": 4},
}
METHOD_LABELS = {"derived-init": "derived (start of phase 1)", "derived-phase1": "derived (phase 1 only)",
                 "derived": "derived (phase 1 + 2)", "he": "He"}
#: The rows of the error tables, in order.
ROWS = ("derived-init", "derived-phase1", "derived", "he")


def seeds_for(seed: int, count: int) -> list:
    """The ``count`` run seeds of figure seed ``seed``."""
    return [1000 * int(seed) + i for i in range(count)]


def compute(quick: bool = True, seed: int = 0, progress=None, *, size: str | None = None) -> dict:
    """Train every (depth, method, target, seed), count the pieces, and simulate the He contrast."""
    lvl = _common.level(quick, size)
    with _common.torch_threads() as threads:
        data = _compute(lvl, seed, progress)
    data["settings"]["torch_threads"] = threads
    return data


def _mean_std(values) -> tuple:
    v = np.asarray([np.nan if x is None else x for x in values], dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return None, None
    return float(v.mean()), (float(v.std(ddof=1)) if v.size > 1 else 0.0)


def _compute(lvl, seed, progress):
    from ..layers import depth_exponential as de
    from ..torch import depth_exponential as tde

    sizes = SIZES[lvl]
    seeds = seeds_for(seed, sizes["seeds"])
    targets = list(de.TARGETS)
    fit = tde.FitSettings(steps1=sizes["steps1"], steps2=sizes["steps2"], n_train=sizes["n_train"],
                          n_eval=sizes["n_eval"], counts=sizes["counts"])
    depths = sizes["depths"]
    advance = _common.tracker(progress, len(depths) * (len(tde.METHODS) + 1))
    every = max(1, (fit.steps1 + fit.steps2) // 100)
    runs, timings = [], []
    for depth in depths:
        for method in tde.METHODS:
            start = time.perf_counter()
            runs += tde.fit_group(targets, depth, seeds, method=method, settings=fit, losses_every=every)
            timings.append({"depth": depth, "method": method, "runs": len(targets) * len(seeds),
                            "seconds": round(time.perf_counter() - start, 3)})
            advance()
        advance()
    reference = []
    x = np.linspace(0.0, 1.0, fit.n_eval)
    for depth in depths:
        p = de.sawtooth_square(depth)
        diff = p.network().forward(x[:, None])[:, 0] - x * x
        reference.append({"depth": depth, "sup_error": de.square_sup_error(p.network()),
                          "formula": 2.0 ** (-2 * depth - 2), "max_error": float(np.max(np.abs(diff))),
                          "rms_error": float(np.sqrt(np.mean(diff * diff))), "pieces": 2 ** depth})
    start = time.perf_counter()
    contrast = []
    for beta in sizes["betas"]:
        for depth in depths:
            counts = de.random_piece_counts(depth, sizes["networks"], seed, bias_var=beta)
            row = {"depth": depth, "bias_var": beta, "networks": sizes["networks"],
                   "bound": de.relu_pieces_bound(depth, bias_var=beta), "pieces_2d": 2 ** depth}
            for kind in ("activation", "linear"):
                values = counts[kind].astype(float)
                row[f"{kind}_mean"] = float(values.mean())
                row[f"{kind}_stderr"] = float(values.std(ddof=1) / math.sqrt(values.size))
                row[f"{kind}_max"] = int(values.max())
            contrast.append(row)
    timings.append({"depth": None, "method": "contrast", "runs": len(sizes["betas"]) * len(depths),
                    "seconds": round(time.perf_counter() - start, 3)})
    settings = {
        "level": lvl, "seeds": seeds, "depths": list(depths), "targets": {k: v[1] for k, v in de.TARGETS.items()},
        "width": de.WIDTH, "fit": fit.as_dict(), "optimiser": "Adam (PyTorch defaults but lr), full batch, float64",
        "schedule": f"each phase's learning rate decays geometrically to {fit.decay:g} times itself",
        "he": f"maxbounds.torch.init_(model, 'he', bias_var={fit.he_bias_var:g}), lr {fit.lr_he:g}, "
              f"{fit.steps1 + fit.steps2} steps",
        "derived": f"phase 1: {fit.steps1} steps, lr {fit.lr1:g}, in (logit apex, log curvature, slope, offset) "
                   f"from apexes 1/2 and the least-squares (b, c_0, kappa); phase 2: {fit.steps2} steps, lr "
                   f"{fit.lr2:g}, in the raw weights",
        "training_inputs": f"seed s: 0, 1 and {fit.n_train - 2} uniform points of [0, 1]",
        "errors": f"on {fit.n_eval} equally spaced points of [0, 1]; mean ± std (ddof=1) over seeds",
        "contrast": {"networks": sizes["networks"], "bias_vars": list(sizes["betas"]), "weights": "He, c = 2",
                     "output": "c = 1", "seed": seed},
        "timings": timings,
    }
    return {"settings": settings, "runs": runs, "summary": _summary(runs, depths, targets, seeds),
            "reference": reference, "contrast": contrast}


def _summary(runs, depths, targets, seeds):
    rows = []
    for target in targets:
        for method in ROWS:
            for depth in depths:
                base = "derived" if method.startswith("derived") else method
                chosen = [r for r in runs if r["target"] == target and r["method"] == base and r["depth"] == depth]
                if method == "derived-init":
                    errors = [r["at_init"] for r in chosen]
                    pieces = [r["pieces"][0] for r in chosen]
                elif method == "derived-phase1":
                    errors = [r["after_phase1"] for r in chosen]
                    pieces = [next(p for p in r["pieces"] if p["phase"] == "phase 1") for r in chosen]
                else:
                    errors = chosen
                    pieces = [r["pieces"][-1] for r in chosen]
                row = {"target": target, "method": method, "depth": depth, "seeds": len(chosen)}
                for field in ("max_error", "rms_error"):
                    values = [e[field] for e in errors]
                    row[f"{field}_mean"], row[f"{field}_std"] = _mean_std(values)
                    row[f"{field}_min"], row[f"{field}_max"] = float(min(values)), float(max(values))
                linear = [p["linear"] for p in pieces]
                row.update({"pieces_2d": 2 ** depth, "init_linear_mean": float(np.mean([r["pieces"][0]["linear"]
                                                                                      for r in chosen])),
                            "linear_mean": float(np.mean(linear)), "linear_min": int(min(linear)),
                            "linear_max": int(max(linear)),
                            "activation_mean": float(np.mean([p["activation"] for p in pieces])),
                            "seeds_with_2d": int(sum(v == 2 ** depth for v in linear))})
                rows.append(row)
    return rows


# ---------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------
def csv_rows(data: dict) -> list:
    """The summary (one row per target, method, depth), the sawtooth reference and the He contrast."""
    rows = [{"table": "fits", **row} for row in data["summary"]]
    rows += [{"table": "sawtooth reference", "target": "x^2", "method": "sawtooth", "depth": r["depth"],
              "max_error_mean": r["max_error"], "rms_error_mean": r["rms_error"], "sup_error": r["sup_error"],
              "pieces_2d": r["pieces"], "linear_mean": r["pieces"]} for r in data["reference"]]
    rows += [{"table": "He contrast", "method": f"He init, beta={r['bias_var']:g}", "depth": r["depth"],
              "pieces_2d": r["pieces_2d"], "activation_mean": r["activation_mean"],
              "activation_stderr": r["activation_stderr"], "linear_mean": r["linear_mean"],
              "linear_stderr": r["linear_stderr"], "bound": r["bound"], "networks": r["networks"]}
             for r in data["contrast"]]
    return rows


def _err(mean, std):
    if mean is None:
        return "nan"
    return f"{mean:.2e} ± {std:.1e}" if std is not None else f"{mean:.2e}"


def _grid(data, field):
    """Header and rows of one error table (``field`` ``"max_error"`` or ``"rms_error"``)."""
    depths = data["settings"]["depths"]
    header = ["target", "method"] + [f"d={d}" for d in depths]
    rows = []
    for target in data["settings"]["targets"]:
        for method in ROWS:
            cells = {r["depth"]: r for r in data["summary"] if r["target"] == target and r["method"] == method}
            rows.append([target, METHOD_LABELS[method]]
                        + [_err(cells[d][f"{field}_mean"], cells[d][f"{field}_std"]) for d in depths])
    ref = {r["depth"]: r for r in data["reference"]}
    rows.append(["x^2", "sawtooth reference"] + [f"{ref[d][field]:.2e}" for d in depths])
    return header, rows


def _pieces_grid(data):
    depths = data["settings"]["depths"]
    header = ["target", "method"] + [f"d={d}" for d in depths]
    rows = [["", "2^d"] + [str(2 ** d) for d in depths]]
    for target in data["settings"]["targets"]:
        for method in ("derived", "he"):
            cells = {r["depth"]: r for r in data["summary"] if r["target"] == target and r["method"] == method}
            label = "derived, end of phase 2" if method == "derived" else "He, end"
            rows.append([target, label] + [
                f"{cells[d]['linear_mean']:.1f} [{cells[d]['linear_min']}, {cells[d]['linear_max']}]"
                for d in depths])
    for beta in sorted({r["bias_var"] for r in data["contrast"]}):
        cells = {r["depth"]: r for r in data["contrast"] if r["bias_var"] == beta}
        rows.append(["", f"He init, beta={beta:g}: activation pieces"]
                    + [f"{cells[d]['activation_mean']:.2f} ± {cells[d]['activation_stderr']:.2f}" for d in depths])
        rows.append(["", f"He init, beta={beta:g}: linear pieces"]
                    + [f"{cells[d]['linear_mean']:.2f} ± {cells[d]['linear_stderr']:.2f}" for d in depths])
        rows.append(["", f"He init, beta={beta:g}: bound on E[activation pieces]"]
                    + [f"{cells[d]['bound']:.2f}" for d in depths])
    return header, rows


def _notes(data):
    s = data["settings"]
    return [f"Level {s['level']}, seeds {s['seeds']}; {s['errors']}.", f"Derived: {s['derived']}.",
            f"He: {s['he']}.", f"Training inputs: {s['training_inputs']}.",
            ("Pieces: exact linear pieces on [0, 1] (mean [min, max] over seeds); phase 1 always has 2^d. "
             f"He contrast: {s['contrast']['networks']} networks per depth and bias variance, mean ± standard "
             "error.")]


def markdown(data: dict) -> str:
    def cell(text):
        return str(text).replace("|", "\\|")

    out = []
    for title, (header, rows) in (("Maximum error on [0, 1]", _grid(data, "max_error")),
                                  ("RMS error on [0, 1]", _grid(data, "rms_error")),
                                  ("Exact linear pieces on [0, 1]", _pieces_grid(data))):
        out.append(f"**{title}**\n")
        out.append("| " + " | ".join(cell(h) for h in header) + " |")
        out.append("|" + "|".join("---" if i < 2 else "---:" for i in range(len(header))) + "|")
        out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
        out.append("")
    return "\n".join(out) + "\n".join(_notes(data)) + "\n"


def latex(data: dict) -> str:
    from .training import tex_escape

    out = []
    for title, (header, rows) in (("Maximum error on [0, 1]", _grid(data, "max_error")),
                                  ("RMS error on [0, 1]", _grid(data, "rms_error")),
                                  ("Exact linear pieces on [0, 1]", _pieces_grid(data))):
        out += [f"% {tex_escape(title)}", r"\begin{tabular}{ll" + "r" * (len(header) - 2) + "}", r"\toprule",
                " & ".join(tex_escape(h) for h in header) + r" \\", r"\midrule"]
        out += [" & ".join(tex_escape(c) for c in row) + r" \\" for row in rows]
        out += [r"\bottomrule", r"\end{tabular}", ""]
    out += [f"% {tex_escape(note)}" for note in _notes(data)]
    return "\n".join(out) + "\n"


def tables(data: dict) -> dict:
    """``{"md": Markdown, "tex": LaTeX}``: maximum error, RMS error and piece counts against depth."""
    return {"md": markdown(data), "tex": latex(data)}


# ---------------------------------------------------------------------------
# figure
# ---------------------------------------------------------------------------
def figure(data: dict):
    """The figure of :func:`plot` (a matplotlib Figure; the caller closes it)."""
    from ..report.plots import interval_bars, legend_below

    plt = _common.pyplot()
    depths = np.array(data["settings"]["depths"])
    targets = list(data["settings"]["targets"])
    fig, axes = plt.subplots(2, 3, figsize=(14, 9.5), layout="constrained")
    styles = {"derived-phase1": ("tab:blue", "--", "o"), "derived": ("tab:blue", "-", "o"),
              "he": ("tab:red", "-", "s")}
    ref = np.array([r["sup_error"] for r in data["reference"]])

    def series(target, method, field):
        cells = {r["depth"]: r for r in data["summary"] if r["target"] == target and r["method"] == method}
        return tuple(np.array([np.nan if cells[d][f"{field}_{k}"] is None else cells[d][f"{field}_{k}"]
                               for d in depths]) for k in ("mean", "min", "max"))

    for ax, target in zip(axes.flat[:4], targets):
        for method, (color, ls, marker) in styles.items():
            mean, lo, hi = series(target, method, "max_error")
            if method != "derived-phase1":
                ax.fill_between(depths, lo, hi, color=color, alpha=0.15, lw=0)
            ax.plot(depths, mean, color=color, ls=ls, marker=marker, ms=4, label=METHOD_LABELS[method])
        ax.plot(depths, ref, color="grey", ls=":", marker=".", label=r"sawtooth $x^2$: $2^{-2d-2}$")
        ax.set_yscale("log")
        ax.set_title(data["settings"]["targets"][target], fontsize=9)
        ax.set_xlabel("depth d")
        ax.set_ylabel("max error on [0, 1] (mean, min-max band)")
        ax.set_xticks(depths)
    ax = axes.flat[4]
    ax.plot(depths, 2.0 ** depths, color="black", lw=1, label=r"$2^d$ (every admissible parameter)")
    colors = plt.get_cmap("tab10")
    for i, target in enumerate(targets):
        for method, ls in (("derived", "-"), ("he", ":")):
            cells = {r["depth"]: r for r in data["summary"] if r["target"] == target and r["method"] == method}
            ax.plot(depths, [cells[d]["linear_mean"] for d in depths], color=colors(i), ls=ls, marker=".",
                    label=f"{target}, {'derived end' if method == 'derived' else 'He end'}")
    for beta in sorted({r["bias_var"] for r in data["contrast"]}):
        cells = [r for r in data["contrast"] if r["bias_var"] == beta]
        interval_bars(ax, [r["depth"] for r in cells], [r["activation_mean"] for r in cells],
                      half=[r["activation_stderr"] for r in cells], log=True, fmt="--", color="grey", lw=0.8,
                      capsize=2, label=f"He init, beta={beta:g} (simulated, +-1 s.e.)")
    ax.set_yscale("log", base=2)
    ax.set_xlabel("depth d")
    ax.set_ylabel("linear pieces on [0, 1]")
    ax.set_title("exact piece counts", fontsize=9)
    ax.set_xticks(depths)
    legend_below(ax, ncol=2, fontsize=6.5)
    ax = axes.flat[5]
    for i, target in enumerate(targets):
        for method, ls in (("derived", "-"), ("he", ":")):
            mean = series(target, method, "rms_error")[0]
            ax.plot(depths, mean, color=colors(i), ls=ls, marker=".",
                    label=f"{target}, {METHOD_LABELS[method]}")
    ax.plot(depths, [r["rms_error"] for r in data["reference"]], color="grey", ls=":", label="sawtooth $x^2$")
    ax.set_yscale("log")
    ax.set_xlabel("depth d")
    ax.set_ylabel("RMS error on [0, 1]")
    ax.set_title("RMS error (mean over seeds)", fontsize=9)
    ax.set_xticks(depths)
    legend_below(ax, ncol=2, fontsize=6.5)
    fig.suptitle(f"Depth-exponential ReLU networks (width {data['settings']['width']}, depth d): derived-parameter "
                 f"training against He initialisation ({data['settings']['level']})", fontsize=10)
    handles, labels = axes.flat[3].get_legend_handles_labels()  # one legend for the four max-error panels
    legend_below(axes.flat[3], ncol=2, fontsize=7, handles=handles, labels=labels,
                 title="the four max-error panels", title_fontsize=7)
    return fig


def plot(data: dict, path) -> None:
    """Four panels of maximum error against depth (one per target; mean over seeds with a min-max band) with
    the sawtooth reference, one of the piece counts, one of the RMS errors."""
    _common.save(figure(data), path, dpi=110)
