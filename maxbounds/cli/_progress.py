"""Progress bars for long commands: shown on a terminal, silent otherwise."""

from __future__ import annotations

import contextlib
import sys


@contextlib.contextmanager
def progress_bar(description: str, enabled: bool = True, compiles: bool = False):
    """Yield ``start(total) -> advance()`` for :func:`maxbounds.validation.run_suite`.

    The bar (rich, on standard error) appears only when standard error is a
    terminal and ``enabled`` is true; otherwise ``None`` is yielded.
    ``compiles``: the command runs Numba kernels; on a cold cache (the first
    run after installing) the description says that they are being compiled.
    """
    if not (enabled and sys.stderr.isatty()):
        yield None
        return
    if compiles:
        from .._numba_cache import FIRST_RUN_NOTE, cache_is_cold

        if cache_is_cold():
            description += FIRST_RUN_NOTE
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        transient=True, console=_stderr_console(),
    ) as bar:
        def start(total):
            task = bar.add_task(description, total=total)
            return lambda count=1: bar.advance(task, count)

        yield start


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)

