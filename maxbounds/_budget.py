"""A time budget for long runs: measure the first pieces of the work, refuse what would take too long.

Long Monte Carlo runs are split into chunks (for progress bars); the first
chunks are made small (1, 2, 4, ... networks) so that after about a second
the run's total time can be projected from what it has done.  A run whose
projection exceeds the budget stops there with a one-line
:class:`~maxbounds._validate.MaxboundsValueError` naming the argument to
reduce, before anything is written.  The budget is ``MAXBOUNDS_MAX_HOURS``
hours (default 24).
"""

from __future__ import annotations

import math
import os
import time

from ._validate import MaxboundsValueError

#: Default budget, hours.
DEFAULT_HOURS = 24.0
#: Seconds of work after which the projection is trusted.
PILOT_SECONDS = 1.0


def budget_seconds() -> float:
    """The budget in seconds: ``MAXBOUNDS_MAX_HOURS`` (a positive number of hours) or 24 hours."""
    text = os.environ.get("MAXBOUNDS_MAX_HOURS")
    if text is None:
        return DEFAULT_HOURS * 3600.0
    try:
        hours = float(text)
    except ValueError:
        hours = math.nan
    if not hours > 0 or math.isinf(hours):
        raise MaxboundsValueError("MAXBOUNDS_MAX_HOURS", f"must be a positive number of hours, got {text!r}")
    return hours * 3600.0


def chunk_sizes(total: int, chunks: int) -> list[int]:
    """Sizes that add up to ``total``: 1, 2, 4, ... up to ``ceil(total / chunks)``, then that size."""
    step = max(1, -(-total // chunks))
    sizes, size, done = [], 1, 0
    while done < total:
        count = min(size, step, total - done)
        sizes.append(count)
        done += count
        size *= 2
    return sizes


def duration(seconds: float) -> str:
    """``seconds`` in words: ``"3.2 hours"``, ``"6.1 days"``, ``"40 years"``."""
    for unit, length in (("years", 365.25 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= length:
            return f"{seconds / length:.2g} {unit}"
    return f"{seconds:.2g} s"


def physical_memory() -> int | None:
    """Bytes of physical memory, or ``None`` where the system does not say."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(needed: float, argument: str, what: str) -> None:
    """Refuse a run whose results alone would take more than half of the physical memory."""
    memory = physical_memory()
    if memory is not None and needed > memory / 2:
        raise MaxboundsValueError(argument, f"{what} would keep {needed / 2**30:.3g} GiB of results in memory, more "
                                            f"than half of this machine's {memory / 2**30:.3g} GiB; reduce it")


class TimeBudget:
    """``advance(count)`` as pieces of ``total`` finish; raises when the projected time exceeds the budget.

    ``argument`` is the argument the message names (``"samples"``,
    ``"networks"``), ``what`` the run (``"validate jacobian"``).  The clock
    starts when the first piece is done: that piece also compiles the Numba
    kernels on a cold cache (tens of seconds), which says nothing of the rest.
    """

    def __init__(self, total: int, argument: str, what: str, limit: float | None = None):
        self.total, self.argument, self.what = int(total), argument, what
        self.limit = budget_seconds() if limit is None else float(limit)
        self.done = 0
        self.base = None  # pieces done when the clock started
        self.start = time.perf_counter()

    def advance(self, count: int = 1) -> None:
        self.done += int(count)
        if self.base is None:
            self.base, self.start = self.done, time.perf_counter()
            return
        elapsed = time.perf_counter() - self.start
        if self.done >= self.total or elapsed < PILOT_SECONDS:
            return
        measured = self.done - self.base
        projected = elapsed * (self.total - self.base) / measured
        if projected > self.limit:
            raise MaxboundsValueError(
                self.argument,
                f"{self.what} would take about {duration(projected)} (projected from {measured} of {self.total} "
                f"in {elapsed:.1f} s, after the first), beyond the budget of {self.limit / 3600:g} hours "
                f"(MAXBOUNDS_MAX_HOURS); reduce it, or raise the budget")
