"""Progress bars for long commands: shown on a terminal, silent otherwise."""

from __future__ import annotations

import contextlib
import sys


@contextlib.contextmanager
def progress_bar(description: str, enabled: bool = True):
    """Yield ``start(total) -> advance()`` for :func:`maxbounds.validation.run_suite`.

    The bar (rich, on standard error) appears only when standard error is a
    terminal and ``enabled`` is true; otherwise ``None`` is yielded.
    """
    if not (enabled and sys.stderr.isatty()):
        yield None
        return
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

