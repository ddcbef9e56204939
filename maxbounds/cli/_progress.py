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
            return lambda: bar.advance(task)

        yield start


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)


@contextlib.contextmanager
def status(message: str, enabled: bool = True):
    """A spinner with ``message`` on standard error while a single long computation runs.

    Shown only on a terminal and when ``enabled``; the samplers run as one
    parallel call, so there is no finer progress to report.
    """
    if not (enabled and sys.stderr.isatty()):
        yield
        return
    with _stderr_console().status(message):
        yield
