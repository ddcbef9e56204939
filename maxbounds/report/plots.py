"""Pictures of validation results (matplotlib, written atomically as PNG)."""

from __future__ import annotations

import math
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


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# -- helpers shared by every picture of the package ---------------------------------------------------------
#: Legend text of an interval whose lower end is <= 0, drawn on a log axis as its upper half and a caret.
REACHES_ZERO = "interval reaches 0 (upper half drawn, caret below)"


def interval_bars(ax, xs, mean, lower=None, upper=None, *, half=None, log: bool = False, color="C0",
                  label=None, fmt: str = "o", ms: float = 4.0, lw: float = 1.2, capsize: float = 3.0,
                  alpha: float = 1.0, zorder: float = 3.0) -> None:
    """Points ``mean`` at ``xs`` with the intervals ``[lower, upper]`` (or ``mean -+ half``), honest on a log axis.

    On a log axis (``log=True``) an interval whose lower end is <= 0 has no place below the point: it is
    drawn as its upper half only, with a downward caret just under the point (legend :data:`REACHES_ZERO`),
    never as a bar running down to the bottom of the axis.  ``fmt`` is the marker and line style of the
    points (``"o-"`` joins them).  NaN intervals draw no bar.
    """
    from matplotlib.transforms import offset_copy

    xs = np.asarray(xs, dtype=float)
    mean = np.asarray(mean, dtype=float)
    if half is not None:
        half = np.asarray(half, dtype=float)
        lower, upper = mean - half, mean + half
    lower = np.asarray(lower, dtype=float) if lower is not None else np.full_like(mean, np.nan)
    upper = np.asarray(upper, dtype=float) if upper is not None else np.full_like(mean, np.nan)
    known = np.isfinite(lower) & np.isfinite(upper)
    whole = known & ((lower > 0) | (not log))
    joined = any(ch in fmt for ch in "-:")
    bar_label = np.any(whole) and not joined  # the legend entry: points with their bar, or the joining line
    ax.plot(xs, mean, fmt, color=color, ms=ms, lw=lw, label=None if bar_label else label, alpha=alpha,
            zorder=zorder)
    if np.any(whole):
        marker = "".join(ch for ch in fmt if ch not in "-:") if bar_label else ""
        ax.errorbar(xs[whole], mean[whole], yerr=np.stack([mean[whole] - lower[whole], upper[whole] - mean[whole]]),
                    fmt=marker or "none", ms=ms, color=color, ecolor=color, elinewidth=lw, capsize=capsize,
                    alpha=alpha, zorder=zorder, label=label if bar_label else None)
    cut = known & ~whole
    if np.any(cut):
        ax.vlines(xs[cut], mean[cut], upper[cut], color=color, lw=lw, alpha=alpha, zorder=zorder)
        ax.plot(xs[cut], upper[cut], "_", color=color, ms=2 * capsize, mew=lw, alpha=alpha, zorder=zorder)
        below = offset_copy(ax.transData, fig=ax.figure, y=-(ms + 4.0), units="points")
        ax.plot(xs[cut], mean[cut], ls="none", marker=7, ms=ms + 3, color=color, transform=below, alpha=alpha,
                zorder=zorder)  # marker 7: a caret pointing down
        if not getattr(ax, "_maxbounds_reaches_zero", False):  # one neutral legend entry per axes
            ax.plot([], [], ls="none", marker=7, ms=ms + 3, color="0.35", label=REACHES_ZERO)
            ax._maxbounds_reaches_zero = True


def legend_outside(ax, **kwargs):
    """The legend of ``ax`` to the right of the axes, where it covers no data."""
    kwargs.setdefault("fontsize", 8)
    return ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, **kwargs)


def legend_below(ax, ncol: int = 2, **kwargs):
    """The legend of ``ax`` under the axes (below its x label), where it covers no data."""
    kwargs.setdefault("fontsize", 7)
    return ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), borderaxespad=0.0, ncol=ncol, **kwargs)


def _swept_title(title: str, key: str) -> str:
    """An ``Architecture.describe()`` title with the swept quantity named as swept, not the base value."""
    import re

    if key == "c":
        return re.sub(r"\bc=.*?, c_L=", "c swept (x axis), c_L=", title, count=1)
    return re.sub(r"^widths (\d+)-(\d+)(?:-\d+)*-(\d+)\b", r"widths \1-\2x(L-1)-\3, depth L swept (x axis)",
                  title, count=1)


def _c_points(rows, arch) -> list:
    """``(number, label)`` of each row of a ``c=...`` sweep: the numeric hidden-layer scale and its tick label.

    A row carries ``c`` as a number (with ``c_rule`` naming ``1/M`` etc. where given so), or as the text
    of the ``--sweep`` option (``"1/M"`` is then evaluated at the rank of ``arch``, when given).
    """
    out = []
    for r in rows:
        value, rule = r["c"], r.get("c_rule")
        if isinstance(value, str):
            rule, value = value, None
            try:
                num, _, den = rule.partition("/")
                value = float(num) / float(den or 1)
            except ValueError:
                if arch is not None:
                    from ..laws.sweep import scale_sweep

                    value = float(scale_sweep(arch, [rule])[0].c[0])
            if value is not None and not any(ch.isalpha() for ch in rule):
                rule = None
        if value is None:  # a named scale without the architecture: last, in its given order
            out.append((math.inf, rule))
        else:
            out.append((float(value), f"{float(value):.3g}" if rule is None else f"{rule}\n({float(value):.3g})"))
    return out


# -- maxbounds validate QUANTITY --plot ------------------------------------------------------------------------
def validation_figure(result: dict):
    """The figure of :func:`plot_validation` (a matplotlib Figure; the caller closes it)."""
    import matplotlib.ticker

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    q = result["quantity"]
    if q in ("gradient", "ntk"):
        rows = result["layers"] if q == "gradient" else [{"layer": 0, "name": "NTK", **result["ntk"]}]
        for i, r in enumerate(rows):
            est = r["estimate"]
            interval_bars(ax, [i], [est["mean"]], [est["interval"][0]], [est["interval"][1]], log=True, color="C0",
                          label="estimate, 95% interval" if i == 0 else None, ms=6, capsize=4)
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
            interval_bars(ax, [i], [est["mean"]], [est["interval"][0]], [est["interval"][1]], log=True, color="C0",
                          label="estimate, 95% interval" if i == 0 else None, ms=6, capsize=4)
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
        lo = np.array([r["estimate"]["interval"][0] for r in result["layers"]])
        hi = np.array([r["estimate"]["interval"][1] for r in result["layers"]])
        interval_bars(ax, layers, means, lo, hi, label=f"{result['method']} estimate, 95% interval", ms=6)
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
    legend_outside(ax)
    return fig


def plot_validation(result: dict, path) -> None:
    """Estimates with 95% intervals beside the bounds or exact values of ``result``, as a PNG at ``path``."""
    fig = validation_figure(result)
    _save(fig, path)
    _pyplot().close(fig)


# -- maxbounds validate QUANTITY --sweep ... --plot ------------------------------------------------------------
def sweep_figure(rows: list[dict], key: str, quantity: str, arch):
    """The figure of :func:`plot_sweep`; ``arch`` is the base :class:`~maxbounds.Architecture` (or a title).

    A ``c=...`` sweep is drawn in increasing order of the numeric scale (``1/M`` etc. evaluated at the
    rank), one equally spaced category per value, labelled ``name (value)``; the title names the
    architecture with ``c`` (or the depth) marked as swept, never the base value.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4), layout="constrained")
    arch_obj = None if isinstance(arch, str) else arch
    if key == "depth":
        rows = sorted(rows, key=lambda r: r[key])
        xs = np.array([r[key] for r in rows], dtype=float)
        ax.set_xticks(xs, [str(r[key]) for r in rows])
    else:
        points = _c_points(rows, arch_obj)
        order = sorted(range(len(rows)), key=lambda i: points[i][0])
        rows, labels = [rows[i] for i in order], [points[i][1] for i in order]
        xs = np.arange(len(rows), dtype=float)
        ax.set_xticks(xs, labels)
    est = np.array([r["estimate"] for r in rows], dtype=float)
    half = 1.96 * np.array([r["stderr"] for r in rows], dtype=float)
    upper = np.array([r["upper"] for r in rows], dtype=float)
    lower = np.array([np.nan if r["lower"] is None else r["lower"] for r in rows], dtype=float)
    two_sided = bool(np.all(np.isfinite(lower)))
    if two_sided:
        ax.fill_between(xs, lower, upper, color="C1", alpha=0.25, label="bounds")
        ax.plot(xs, lower, color="C1", lw=1.5)
    ax.plot(xs, upper, color="C1", lw=1.5, label=None if two_sided else "upper bound")
    interval_bars(ax, xs, est, half=half, log=True, color="C0", label="estimate, 95% interval", ms=6)
    ax.set_yscale("log")
    ax.set_xlabel("depth L (weight layers)" if key == "depth"
                  else "c, the hidden-layer weight scale (increasing; equally spaced)")
    ax.set_ylabel({"jacobian": "E||J u||^2", "ntk": "E Theta(x,x)", "length": "E[length distortion]"}[quantity])
    ax.set_title(_swept_title(arch if arch_obj is None else arch_obj.describe(), key), fontsize=9)
    legend_outside(ax)
    return fig


def plot_sweep(rows: list[dict], key: str, quantity: str, arch, path) -> None:
    """Estimates with 95% intervals against a swept depth or scale, with the bounds as a band (a PNG at ``path``)."""
    fig = sweep_figure(rows, key, quantity, arch)
    _save(fig, path)
    _pyplot().close(fig)
