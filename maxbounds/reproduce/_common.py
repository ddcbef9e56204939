"""Helpers shared by the figure modules: summaries with standard errors, progress, JSON-safe values, plotting."""

from __future__ import annotations

import contextlib
import math
import os

import numpy as np

from .._validate import MaxboundsValueError

#: Sample-size levels every figure module understands; ``"tiny"`` is for the tests.
SIZES = ("tiny", "quick", "full")


def level(quick: bool, size: str | None) -> str:
    """The size level: ``size`` if given (``"tiny"``, ``"quick"`` or ``"full"``), else quick or full."""
    if size is None:
        return "quick" if quick else "full"
    if size not in SIZES:
        raise MaxboundsValueError("size", f"expected one of {', '.join(SIZES)}, got {size!r}")
    return size


def tracker(progress, total: int):
    """``advance(count=1)`` for a progress ``start(total)`` callable, or a no-op without one."""
    if progress is None:
        return lambda count=1: None
    return progress(int(total))


def clean(values):
    """A nested list of floats with NaN and infinities replaced by ``None`` (JSON has neither)."""
    array = np.asarray(values, dtype=float)
    if array.ndim == 0:
        value = float(array)
        return value if math.isfinite(value) else None
    return [clean(v) for v in array]


def summary(values, axis: int = 0) -> dict:
    r"""Mean, its standard error :math:`s/\sqrt{n}` (``ddof = 1``), the quartiles and ``n`` (also ``samples``) along ``axis``.

    Raises :class:`MaxboundsValueError` if a value is not finite: an estimate
    must never silently carry an overflow.
    """
    values = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(values)):
        raise MaxboundsValueError("values", "a sampled value overflowed or is not finite; use a smaller setting")
    n = values.shape[axis]
    if n < 2:
        raise MaxboundsValueError("samples", "need at least 2 samples for a standard error")
    q25, q50, q75 = np.quantile(values, [0.25, 0.5, 0.75], axis=axis)
    return {
        "mean": clean(values.mean(axis=axis)),
        "stderr": clean(values.std(axis=axis, ddof=1) / math.sqrt(n)),
        "q25": clean(q25),
        "median": clean(q50),
        "q75": clean(q75),
        "samples": int(n),
        "n": int(n),
    }


def unit_vector(rng, n: int) -> np.ndarray:
    """A uniformly random unit vector of ``R^n`` (a normalised standard Gaussian vector)."""
    while True:
        v = rng.standard_normal(n)
        norm = float(np.linalg.norm(v))
        if norm > 0:
            return v / norm


def save(fig, path, **options) -> None:
    """Write a figure's PNG (``Figure.savefig(path, **options)``) and close it; ``reproduce`` has already
    made ``path`` a temporary file that it moves into place when every file is written."""
    fig.savefig(path, **options)
    pyplot().close(fig)


def pyplot():
    """matplotlib's pyplot on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def band(ax, xs, stats: dict, color, label: str, *, line: str = "mean", marker=None, alpha=0.18):
    """Draw ``stats[line]`` against ``xs`` with the interquartile range as a shaded band."""
    xs = np.asarray(xs, dtype=float)
    y = np.array([np.nan if v is None else v for v in stats[line]], dtype=float)
    lo = np.array([np.nan if v is None else v for v in stats["q25"]], dtype=float)
    hi = np.array([np.nan if v is None else v for v in stats["q75"]], dtype=float)
    ax.fill_between(xs, lo, hi, color=color, alpha=alpha, lw=0)
    ax.plot(xs, y, color=color, lw=1.6, marker=marker, ms=3, label=label)


def torch_thread_count() -> int:
    """PyTorch threads for the training figures: ``MAXBOUNDS_TORCH_THREADS`` (default 1).

    The networks are small: on a few shared cores, PyTorch's OpenMP threads waiting for each other
    cost far more than they gain (measured: a forward pass 60x slower with 2 threads than with 1 on a
    loaded 2-core machine).
    """
    value = os.environ.get("MAXBOUNDS_TORCH_THREADS", "1")
    try:
        threads = int(value)
    except ValueError:
        threads = 0
    if threads < 1:
        raise MaxboundsValueError("MAXBOUNDS_TORCH_THREADS", f"expected an integer >= 1, got {value!r}")
    return threads


@contextlib.contextmanager
def torch_threads():
    """Run PyTorch on :func:`torch_thread_count` threads inside the block (restored after); yields the count."""
    from ..torch._require import require_torch

    torch = require_torch()
    threads = torch_thread_count()
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield threads
    finally:
        torch.set_num_threads(before)
