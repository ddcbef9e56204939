"""``maxbounds sweep``: run a grid of estimators on Dask into a resumable SQLite database, or summarise one.

Two forms::

    maxbounds sweep CONFIG.toml --db results.sqlite [--scheduler ADDRESS] [--workers N]
    maxbounds sweep show results.sqlite [--format table|csv|json|latex|markdown] [--plot FILE.png] [--all]

A thin layer over :func:`maxbounds.sweep.run_sweep` and :mod:`maxbounds.sweep.show`.
"""

from __future__ import annotations

import contextlib
import os
import sys

from .._validate import MaxboundsValueError
from ..report import output, render
from ._parse import add_digits_option, nonnegative_int, positive_int

#: Command-line option of each Python argument name of this command, for error messages.
OPTION_NAMES: dict = {"config": "CONFIG.toml", "db": "--db", "scheduler": "--scheduler", "workers": "--workers",
                      "retries": "--retries", "all": "--all", "format": "--format"}

HELP = "Run a grid of estimators on Dask into a resumable SQLite database, or summarise one ('sweep show DB')."
_FORMATS = ("table", "csv", "json", "latex", "markdown")


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "sweep", help=HELP,
        description=HELP + " Each finished task is committed at once; re-running the same command skips the "
        "finished tasks, so an interrupted sweep resumes. See docs/sweep.md for the config keys.",
        usage="maxbounds sweep CONFIG.toml --db DB [--scheduler ADDRESS] [--workers N] [--retries N] [--quiet]\n"
              "       maxbounds sweep show DB [--format FORMAT] [--plot FILE.png] [--all]",
    )
    parser.add_argument("config", metavar="CONFIG.toml|show",
                        help="the sweep's TOML config, or 'show' to summarise a database")
    parser.add_argument("database", nargs="?", default=None, metavar="DB", help="show: the sweep database")
    run = parser.add_argument_group("running a sweep")
    run.add_argument("--db", default=None, metavar="DB", help="SQLite database of results (created or resumed)")
    run.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="address of a running Dask scheduler, e.g. tcp://10.0.0.1:8786 "
                          "(default: a local cluster of --workers processes)")
    run.add_argument("--workers", type=positive_int, default=None, metavar="N",
                     help="worker processes of the local cluster (default 2)")
    run.add_argument("--retries", type=nonnegative_int, default=1, metavar="N",
                     help="re-runs of a task that raises before it is recorded as failed (default 1)")
    run.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    show = parser.add_argument_group("sweep show")
    show.add_argument("--format", choices=_FORMATS, default=None, help="output format (default table)")
    add_digits_option(show)
    show.add_argument("--plot", default=None, metavar="FILE.png",
                      help="draw each estimate over its upper bound, with the bounds")
    show.add_argument("--all", action="store_true", help="every statistic of every task, not one per task")
    parser.set_defaults(run=_run)


def _run(args) -> int:
    if args.config == "show":
        return _show(args)
    if args.database is not None:
        raise MaxboundsValueError("db", f"give the database as --db {args.database} (or use 'sweep show DB')")
    for name in ("format", "plot"):
        if getattr(args, name) is not None:
            raise MaxboundsValueError(name, "only for 'maxbounds sweep show DB'")
    if args.all:
        raise MaxboundsValueError("all", "only for 'maxbounds sweep show DB'")
    if args.db is None:
        raise MaxboundsValueError("db", "missing: give the results database, e.g. --db results.sqlite")
    if args.scheduler is not None and args.workers is not None:
        raise MaxboundsValueError("workers", "the workers of a --scheduler are started with 'dask worker'")
    cores = os.cpu_count() or 1
    if args.workers is not None and args.workers > max(8, 4 * cores):
        raise MaxboundsValueError("workers", f"at most {max(8, 4 * cores)} local worker processes on this machine "
                                             f"({cores} cores; each worker is a process of its own), got {args.workers}")
    return _sweep(args)


def _sweep(args) -> int:
    from ..sweep import load_config, run_sweep

    config = load_config(args.config)
    try:
        with _progress_bar(f"sweep {os.path.basename(args.config)}", not args.quiet) as progress:
            summary = run_sweep(config, args.db, scheduler=args.scheduler, workers=args.workers or 2,
                                progress=progress, retries=args.retries)
    except KeyboardInterrupt:
        if os.path.exists(args.db):
            sys.stderr.write(f"maxbounds sweep: interrupted; every finished task is in {args.db}: run the same "
                             "command again to resume\n")
        else:
            sys.stderr.write("maxbounds sweep: interrupted before the database was created; nothing was written\n")
        return 130
    for key, error in summary.errors:
        sys.stderr.write(f"maxbounds sweep: task {key[:12]} failed: {error}\n")
    sys.stdout.write(
        f"sweep: {summary.total} tasks in {args.db}: {summary.done} done ({summary.skipped} before this run), "
        f"{summary.failed} failed, {summary.pending} pending; {summary.ran} run in {summary.seconds:.1f} s\n")
    return 0 if summary.failed == 0 and summary.pending == 0 else 1


def _show(args) -> int:
    from ..sweep import show

    path = args.database or args.db
    if path is None:
        raise MaxboundsValueError("db", "missing: 'maxbounds sweep show results.sqlite'")
    if args.database is not None and args.db is not None and args.db != args.database:
        raise MaxboundsValueError("db", "give the database once")
    if args.scheduler is not None or args.workers is not None:
        raise MaxboundsValueError("scheduler" if args.scheduler else "workers", "not used by 'sweep show'")
    if args.plot is not None:
        from ..report.plots import check_plot_path

        check_plot_path(args.plot)
    db_rows, rows, counts, meta = show.load(path, everything=args.all)
    failed = show.failures(db_rows)
    fmt = args.format or "table"
    if fmt == "json":
        output.write(sys.stdout, "sweep show", {"name": meta.get("name"), "counts": counts,
                                                "rows": [_json_row(r) for r in rows],
                                                "failed": [_json_row(r) for r in failed]})
    elif fmt == "csv":
        sys.stdout.write(render(_blank(rows, ""), "csv", digits=args.digits) + "\n")
    else:
        if rows:
            sys.stdout.write(render(_blank(rows, "-"), fmt, digits=args.digits) + "\n")
        if failed and fmt == "table":
            sys.stdout.write("\nfailed tasks:\n" + render(failed, "table") + "\n")
        line = (f"sweep {meta.get('name') or path}: {counts['tasks']} tasks, {counts['done']} done, "
                f"{counts['failed']} failed, {counts['pending']} pending; {counts['statistics']} statistics, "
                f"{counts['inside']} inside their theory, {counts['outside']} outside")
        sys.stdout.write(("% " if fmt == "latex" else "") + line + "\n")
    if args.plot is not None:
        show.plot_summary(show.summary_rows(db_rows), args.plot, title=meta.get("name") or os.path.basename(path))
    return 0


def _json_row(row: dict) -> dict:
    """A row of ``sweep show --format json``: the task's architecture as an object, its estimate as ``{mean, stderr, n}``."""
    from ..architecture import Architecture

    arch = Architecture(tuple(int(n) for n in row["widths"].split("-")), row["K"], row["c"], row["c_out"],
                        row["bias_var"])
    out = {"task": row["task"], "estimator": row["estimator"], "architecture": output.architecture_json(arch),
           "method": row["method"], "samples": row["samples"], "seed": row["seed"]}
    if "error" in row:
        return {**out, "error": row["error"]}
    return {**out, "statistic": row["statistic"], "estimate": output.estimate_json(row["estimate"], row["stderr"],
                                                                                   row["n"]),
            "lower": row["lower"], "upper": row["upper"], "z": row["z"], "verdict": row["verdict"]}


def _blank(rows, blank):
    return [{k: blank if v is None else v for k, v in row.items()} for row in rows]


@contextlib.contextmanager
def _progress_bar(description: str, enabled: bool):
    """Yield a ``progress(SweepProgress)`` callback drawing a rich bar on a terminal, or ``None``."""
    if not (enabled and sys.stderr.isatty()):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(),
        TextColumn("{task.fields[done]} done, {task.fields[failed]} failed, {task.fields[remaining]} remaining"),
        TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True), transient=True,
    ) as bar:
        task = bar.add_task(description, total=None, done=0, failed=0, remaining=0)

        def progress(state):
            bar.update(task, total=state.total, completed=state.done + state.failed, done=state.done,
                       failed=state.failed, remaining=state.remaining)

        yield progress
