"""Summaries of a sweep database: one row per statistic, the estimate beside its bounds (``maxbounds sweep show``).

Each done task gives its statistics (:func:`statistic_rows`): the estimate
and its standard error beside the theory it is checked against, as
``lower``/``upper``:

* bounds (Jacobian moments, gradients, NTK, curve length): ``lower <= E <= upper``
  (``lower`` empty for a one-sided bound);
* an exact value (the activation length): ``lower = upper`` = the value;
* the cosine, which has no closed form: ``lower = upper`` = the other sampler's
  estimate (its standard error enters ``z``).

``z`` and ``verdict`` are those of :func:`maxbounds.estimators.compare`
(4.5 standard errors).  By default one headline statistic per task is shown
(:data:`HEADLINE`); ``everything=True`` gives them all.
"""

from __future__ import annotations

import numpy as np

from .db import open_db

__all__ = ["HEADLINE", "plot_summary", "statistic_rows", "summary_counts", "summary_figure", "summary_rows"]

#: The statistic shown for each estimator by default.
HEADLINE = {
    "jacobian": "E||Ju||^2", "length": "E[distortion]", "ntk": "E[Theta(x,x)]",
    "gradient": "weight_layer_sum l=1", "activation": "E||x_l||^2 l=last", "cosine": "E|cos gamma_l| l=last",
}
_PAIRS = {
    "jacobian": (("mean", "E||Ju||^2"), ("second_moment", "E||Ju||^4")),
    "length": (("mean", "E[distortion]"), ("second_moment", "E[distortion^2]")),
    "ntk": (("ntk", "E[Theta(x,x)]"),),
}
_LAYER_NAMES = {"activation": "E||x_l||^2", "cosine": "E|cos gamma_l|"}


def _theory(entry: dict) -> tuple:
    if entry.get("bounds") is not None:
        return entry["bounds"]["lower"], entry["bounds"]["upper"]
    if entry.get("exact") is not None:
        return entry["exact"], entry["exact"]
    reference = entry["reference"]["mean"]
    return reference, reference


def statistic_rows(estimator: str, result: dict) -> list[tuple]:
    """``(statistic, entry)`` for every statistic of one task's result."""
    if estimator in _PAIRS:
        out = [(label, result[name]) for name, label in _PAIRS[estimator]]
        out += [(f"E||Ju||^(2t) t={name[7:]}", entry) for name, entry in result.items()
                if name.startswith("moment_")]
        return out
    layers = result["layers"]
    if estimator == "gradient":
        return [(f"{e['name']} l={e['layer']}", e) for e in layers]
    last = max((e["layer"] for e in layers), default=None)  # no hidden layer: no statistic
    return [(f"{_LAYER_NAMES[estimator]} l={'last' if e['layer'] == last else e['layer']}", e) for e in layers]


def _params(position: int, params: dict) -> dict:
    return {"task": position, "estimator": params["estimator"], "widths": "-".join(map(str, params["widths"])),
            "K": params["rank"], "c": params["c"], "c_out": params["c_out"], "bias_var": params["bias_var"],
            "method": params["method"], "samples": params["samples"], "seed": params["seed"]}


def summary_rows(db_rows: list[dict], everything: bool = False) -> list[dict]:
    """Rows (params, statistic, estimate, stderr, n, lower, upper, z, verdict) of the done tasks of ``db_rows``."""
    rows = []
    for position, row in enumerate(db_rows):
        if row["status"] != "done":
            continue
        params = row["params"]
        for statistic, entry in statistic_rows(params["estimator"], row["result"]):
            if not everything and statistic != HEADLINE[params["estimator"]]:
                continue
            lower, upper = _theory(entry)
            rows.append({**_params(position, params), "statistic": statistic,
                         "estimate": entry["estimate"]["mean"], "stderr": entry["estimate"]["stderr"],
                         "n": entry["estimate"]["n"], "lower": lower, "upper": upper, "z": entry["z"], "verdict": entry["verdict"]})
    return rows


def summary_counts(db_rows: list[dict], rows: list[dict]) -> dict:
    """Tasks pending, done and failed, and statistics shown inside and outside their theory."""
    counts = {status: sum(r["status"] == status for r in db_rows) for status in ("done", "failed", "pending")}
    counts["tasks"] = len(db_rows)
    counts["statistics"] = len(rows)
    counts["inside"] = sum(r["verdict"] in ("inside", "agrees") for r in rows)
    counts["outside"] = counts["statistics"] - counts["inside"]
    return counts


def failures(db_rows: list[dict]) -> list[dict]:
    """``{"task", "estimator", "widths", ..., "error"}`` of every failed task."""
    return [{**_params(i, r["params"]), "error": r["error"]} for i, r in enumerate(db_rows) if r["status"] == "failed"]


def load(path, everything: bool = False) -> tuple:
    """``(db_rows, rows, counts, meta)`` of the sweep database at ``path``."""
    with open_db(path) as db:
        db_rows, meta = db.rows(), db.meta()
    rows = summary_rows(db_rows, everything)
    return db_rows, rows, summary_counts(db_rows, rows), meta


#: What each estimator's values are divided by in the plot (its "theory" column).
_SCALE_NAME = {"activation": "exact mean", "cosine": "other sampler's estimate"}
#: Parameters named on a tick only when they vary within a panel (widths, K and c are always named).
_VARYING = (("c_out", "c_L"), ("bias_var", "beta"), ("method", ""), ("samples", "n="), ("seed", "seed "))
#: At most this many tick labels per panel; beyond it every k-th task is labelled.
_MAX_LABELS = 150


def _tick_label(row: dict, varying: list) -> str:
    """``3-8-8-2 K=2 c=1/M #12``: the architecture, rank and scale of a task, then its position in the grid."""
    c = row["c"] if isinstance(row["c"], str) else f"{float(row['c']):g}"
    extra = "".join(f" {prefix}{row[key] if prefix == '' else _g(row[key])}" for key, prefix in varying)
    return f"{row['widths']} K={row['K']} c={c}{extra}  #{row['task']}"


def _g(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def summary_figure(rows: list[dict], title: str = ""):
    """The figure of :func:`plot_summary` (a matplotlib Figure; the caller closes it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..report.plots import interval_bars, legend_outside

    estimators = list(dict.fromkeys(r["estimator"] for r in rows))
    most = max([sum(r["estimator"] == e for r in rows) for e in estimators], default=1)
    labelled = min(most, _MAX_LABELS)
    width = min(max(7.0, 3.5 + 0.15 * labelled), 40.0)
    longest = max([len(_tick_label(r, [])) for r in rows], default=10)
    panel = 2.4 + 0.065 * longest  # the rotated tick labels hang below each panel
    fig, axes = plt.subplots(len(estimators) or 1, 1, figsize=(width, panel * max(1, len(estimators))),
                             squeeze=False, layout="constrained")
    for ax, estimator in zip(axes[:, 0], estimators):
        mine = [r for r in rows if r["estimator"] == estimator]
        varying = [(key, prefix) for key, prefix in _VARYING if len({str(r[key]) for r in mine}) > 1]
        xs = np.arange(len(mine), dtype=float)
        scale = np.array([r["upper"] if r["upper"] else 1.0 for r in mine], dtype=float)
        est = np.array([r["estimate"] for r in mine], dtype=float) / scale
        half = 1.96 * np.array([r["stderr"] for r in mine], dtype=float) / scale
        lower = np.array([np.nan if r["lower"] is None else r["lower"] for r in mine], dtype=float) / scale
        exact = np.array([r["lower"] is not None and r["lower"] == r["upper"] for r in mine])
        one_sided = ~np.isfinite(lower)
        two_sided = ~exact & ~one_sided
        positive = np.concatenate([est - half, lower[two_sided]])
        values = np.concatenate([est, lower[two_sided], [1.0]])
        log = bool(np.all(values > 0) and values.max() / values.min() > 20)
        if np.any(two_sided):
            ax.vlines(xs[two_sided], lower[two_sided], 1.0, color="C1", lw=4, alpha=0.45,
                      label="bounds / upper bound")
        if np.any(exact):
            ax.plot(xs[exact], np.ones(int(exact.sum())), "_", color="black", ms=12, mew=2,
                    label=f"{_SCALE_NAME.get(estimator, 'bounds coincide')} (= 1)")
        if np.any(one_sided):
            ax.plot(xs[one_sided], np.ones(int(one_sided.sum())), "v", color="C1", ms=7,
                    label="upper bound only (= 1)")
        interval_bars(ax, xs, est, half=half, log=log, color="C0", ms=3.5, capsize=2,
                      label="estimate / theory, 95% interval")
        if log:
            ax.set_yscale("log")
        elif np.any(positive <= 0) or np.any(two_sided):
            ax.set_ylim(bottom=min(0.0, float(np.min(positive))) if len(positive) else 0.0)
        step = max(1, -(-len(mine) // _MAX_LABELS))
        ax.set_xticks(xs[::step], [_tick_label(r, varying) for r in mine[::step]], rotation=90, fontsize=6.5)
        if step > 1:
            ax.set_xticks(xs, minor=True)
        ax.set_xlim(-0.6, len(mine) - 0.4)
        name = _SCALE_NAME.get(estimator, "upper bound")
        ax.set_ylabel(f"{estimator}: {mine[0]['statistic']}\n/ {name}", fontsize=8)
        legend_outside(ax, fontsize=7)
    axes[-1, 0].set_xlabel("task: widths, rank K, scale c (and #position in the grid)", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    return fig


def plot_summary(rows: list[dict], path, title: str = "") -> None:
    """Each estimate over its theory (95% interval), beside the bounds, one panel per estimator, as a PNG.

    Dividing by the upper bound (or the exact value, or the other sampler's estimate) puts every task on
    one scale: a check passes where the dot's interval meets the bar from ``lower/upper`` to 1 (or the
    tick at 1).  Each point is labelled by its task's widths, rank ``K`` and scale ``c``, then the other
    parameters that vary within the panel, then its position ``#i`` in the grid.
    """
    import matplotlib.pyplot as plt

    from ..report.plots import _save

    fig = summary_figure(rows, title)
    _save(fig, path)
    plt.close(fig)
