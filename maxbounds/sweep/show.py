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

__all__ = ["summary_rows", "statistic_rows", "summary_counts", "plot_summary", "HEADLINE"]

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
    """Rows (params, statistic, estimate, stderr, lower, upper, z, verdict) of the done tasks of ``db_rows``."""
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
                         "lower": lower, "upper": upper, "z": entry["z"], "verdict": entry["verdict"]})
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


def plot_summary(rows: list[dict], path, title: str = "") -> None:
    """Each estimate over its upper bound (95% interval), with the bounds, one panel per estimator.

    Dividing by the upper bound puts every task on one scale: a check passes
    where the dot lies between ``lower/upper`` (bar bottom) and 1 (bar top).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..report.plots import _save

    estimators = list(dict.fromkeys(r["estimator"] for r in rows))
    fig, axes = plt.subplots(len(estimators) or 1, 1, figsize=(7, 2.6 * max(1, len(estimators))), squeeze=False)
    for ax, estimator in zip(axes[:, 0], estimators):
        mine = [r for r in rows if r["estimator"] == estimator]
        xs = np.arange(len(mine))
        scale = np.array([r["upper"] if r["upper"] else 1.0 for r in mine])
        est = np.array([r["estimate"] for r in mine]) / scale
        half = 1.96 * np.array([r["stderr"] for r in mine]) / scale
        lower = np.array([np.nan if r["lower"] is None else r["lower"] for r in mine]) / scale
        ax.vlines(xs, np.where(np.isfinite(lower), lower, np.nanmin(est) / 2 if len(est) else 0.5), 1.0,
                  color="C1", lw=3, alpha=0.5, label="bounds / upper")
        ax.errorbar(xs, est, yerr=half, fmt="o", ms=3, color="C0", capsize=2, label="estimate / upper, 95%")
        if np.all(est > 0) and np.all(lower[np.isfinite(lower)] > 0):
            ax.set_yscale("log")
        ax.set_ylabel(f"{estimator}\n{mine[0]['statistic']}", fontsize=8)
        ax.legend(fontsize=7, loc="lower left")
    axes[-1, 0].set_xlabel("task (in grid order, per estimator)")
    if title:
        axes[0, 0].set_title(title, fontsize=9)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
