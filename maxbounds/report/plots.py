"""Pictures of validation results (matplotlib, written atomically as PNG)."""

from __future__ import annotations

import os
import tempfile

import numpy as np


def check_plot_path(path, argument: str = "plot") -> None:
    """Raise a one-line error now, before any work, if a PNG cannot be written at ``path``."""
    from .._validate import MaxboundsValueError

    if not str(path).lower().endswith(".png"):
        raise MaxboundsValueError(argument, f"the plot is written as PNG; give a FILE.png, got {str(path)!r}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise MaxboundsValueError(argument, f"the folder of {str(path)!r} does not exist")
    if not os.access(folder, os.W_OK):
        raise MaxboundsValueError(argument, f"the folder of {str(path)!r} is not writable")
    if os.path.isdir(path):
        raise MaxboundsValueError(argument, f"{str(path)!r} is a folder; give the name of a PNG file")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise MaxboundsValueError(argument, f"{str(path)!r} exists and is not writable")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _save(fig, path) -> None:
    """Write ``fig`` to ``path`` through a temporary file, so no half-written file is left."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(suffix=".png", dir=folder)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=120, bbox_inches="tight")
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def plot_validation(result: dict, path) -> None:
    """Estimates with 95% intervals beside the bounds or exact values of ``result``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker  # noqa: F401

    fig, ax = plt.subplots(figsize=(6, 4))
    q = result["quantity"]
    if q in ("gradient", "ntk"):
        rows = result["layers"] if q == "gradient" else [{"layer": 0, "name": "NTK", **result["ntk"]}]
        for i, r in enumerate(rows):
            est = r["estimate"]
            ax.errorbar([i], [est["mean"]], yerr=[[est["mean"] - est["interval"][0]], [est["interval"][1] - est["mean"]]],
                        fmt="o", color="C0", capsize=4, label="estimate, 95% interval" if i == 0 else None)
            ax.vlines(i + 0.2, r["bounds"]["lower"], r["bounds"]["upper"], color="C1", lw=3,
                      label="bounds (a tick where they coincide)" if i == 0 else None)
            ax.plot([i + 0.2] * 2, [r["bounds"]["lower"], r["bounds"]["upper"]], "_", color="C1", ms=12, mew=3)
        ax.set_xticks(range(len(rows)), [f"{r['name']} l={r['layer']}" if q == "gradient" else "E Theta(x,x)"
                                         for r in rows], rotation=70, fontsize=7)
        ax.set_yscale("log")
    elif q in ("jacobian", "length"):
        names = ["mean", "second_moment"]
        for i, name in enumerate(names):
            r = result[name]
            est = r["estimate"]
            lo, hi = r["bounds"]["lower"], r["bounds"]["upper"]
            ax.errorbar([i], [est["mean"]], yerr=[[est["mean"] - est["interval"][0]], [est["interval"][1] - est["mean"]]],
                        fmt="o", color="C0", capsize=4, label="estimate, 95% interval" if i == 0 else None)
            if lo is None:  # one-sided: an upper bound only
                ax.plot([i + 0.15], [hi], "v", color="C1", ms=10, label="upper bound (one-sided)")
            else:
                ax.vlines(i + 0.15, lo, hi, color="C1", lw=3, label="bounds" if i == 0 else None)
        ax.set_xticks(range(len(names)), ["E||Ju||^2", "E||Ju||^4"] if q == "jacobian"
                      else ["E[distortion]", "E[distortion^2]"])
        ax.set_yscale("log")
        ax.set_xlim(-0.5, len(names) - 0.5)
    else:
        layers = np.array([r["layer"] for r in result["layers"]])
        means = np.array([r["estimate"]["mean"] for r in result["layers"]])
        half = np.array([r["estimate"]["interval"][1] - r["estimate"]["mean"] for r in result["layers"]])
        ax.errorbar(layers, means, yerr=half, fmt="o", capsize=3, label=f"{result['method']} estimate, 95% interval")
        if q == "activation":
            ax.plot(layers, [r["exact"] for r in result["layers"]], "k_", ms=14, mew=2, label="exact mean")
            ax.set_ylabel("E||x_l||^2")
        else:
            ref = result["layers"][0]["reference"]["method"]
            ax.plot(layers, [r["reference"]["mean"] for r in result["layers"]], "k_", ms=14, mew=2,
                    label=f"{ref} estimate")
            ax.set_ylabel("E|cos gamma_l|")
        ax.set_xlabel("layer")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_title(f"{q}: {result['architecture']}", fontsize=9)
    ax.legend(fontsize=8)
    _save(fig, path)
    plt.close(fig)


def plot_sweep(rows: list[dict], key: str, quantity: str, title: str, path) -> None:
    """Estimates with 95% intervals against a swept depth or scale, with the bounds as a band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    if key == "depth":
        xs = np.array([r[key] for r in rows], dtype=float)
    else:
        xs = np.arange(len(rows), dtype=float)
        ax.set_xticks(xs, [str(r[key]) for r in rows])
    est = np.array([r["estimate"] for r in rows])
    half = 1.96 * np.array([r["stderr"] for r in rows])
    upper = np.array([r["upper"] for r in rows])
    lower = np.array([np.nan if r["lower"] is None else r["lower"] for r in rows])
    if np.all(np.isfinite(lower)):
        ax.fill_between(xs, lower, upper, color="C1", alpha=0.25, label="bounds")
    ax.plot(xs, upper, color="C1", lw=1.5, label=None if np.all(np.isfinite(lower)) else "upper bound")
    if np.all(np.isfinite(lower)):
        ax.plot(xs, lower, color="C1", lw=1.5)
    ax.errorbar(xs, est, yerr=half, fmt="o", color="C0", capsize=3, label="estimate, 95% interval")
    ax.set_yscale("log")
    ax.set_xlabel("depth L" if key == "depth" else "c")
    ax.set_ylabel({"jacobian": "E||J u||^2", "ntk": "E Theta(x,x)", "length": "E[length distortion]"}[quantity])
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    _save(fig, path)
    plt.close(fig)
