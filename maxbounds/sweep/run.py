"""Run a sweep on Dask, committing each finished task to the database at once (:func:`run_sweep`).

The client submits the unfinished tasks (pending, or failed in an earlier run)
to a Dask cluster, at most ``window`` at a time, and takes the results as they
complete: each result is committed in its own transaction before the next is
taken.  Workers only compute; only this process writes the database.

* Without ``scheduler`` a local cluster of ``workers`` processes (one thread
  each) is started and closed afterwards.  A worker process that dies is
  restarted by its nanny; the scheduler gives its tasks to another worker.
* With an address (``tcp://host:8786``) an existing cluster is used; with a
  :class:`distributed.Client`, that client (left open).
* A task that raises is retried ``retries`` times, then recorded as failed with
  its error; a task whose worker dies is re-run by the scheduler (a task that
  kills ``distributed.scheduler.allowed-failures`` workers fails with
  ``KilledWorker``).  Failed tasks are run again by the next run.
* On Ctrl-C (or any exception) the outstanding tasks are cancelled and the
  cluster closed; every result received is already committed, so re-running
  the same command resumes the sweep.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import time
import traceback
import uuid

from .._validate import MaxboundsValueError
from .config import SweepConfig, load_config
from .db import SweepDB
from .task import run_task

__all__ = ["run_sweep", "SweepProgress", "SweepSummary", "dask_key"]

#: Most tasks in flight on the cluster at once, per worker thread (at least 64 in all).
WINDOW_PER_THREAD = 16


@dataclasses.dataclass(frozen=True)
class SweepProgress:
    """Where a running sweep stands: tasks done (in the database), failed in this run, remaining."""

    total: int
    done: int
    failed: int
    remaining: int


@dataclasses.dataclass(frozen=True)
class SweepSummary:
    """The outcome of :func:`run_sweep`.

    ``done``, ``failed`` and ``pending`` count the database's tasks after the
    run; ``skipped`` were done before it; ``ran`` finished (done or failed) in
    it; ``errors`` are ``(key, error)`` of the tasks that failed in it.
    """

    db: str
    total: int
    done: int
    failed: int
    pending: int
    skipped: int
    ran: int
    seconds: float
    errors: tuple = ()


def dask_key(task_key: str, run: str) -> str:
    """The Dask key of a task in one run: ``maxbounds-sweep-<task key>-<run token>``.

    A new token each run: Dask cancels asynchronously, so a key cancelled by an
    interrupted run (or still held for a killed client) and submitted again at
    once by the next run could be cancelled with the old one.
    """
    return f"maxbounds-sweep-{task_key}-{run}"


def run_sweep(config, db_path, *, scheduler=None, workers: int = 2, progress=None, retries: int = 1,
              window: int | None = None) -> SweepSummary:
    """Run the unfinished tasks of ``config`` (a :class:`SweepConfig` or a TOML path) into ``db_path``.

    ``scheduler``: ``None`` (a local cluster of ``workers`` processes), a
    scheduler address, or a :class:`distributed.Client`.  ``progress`` is
    called with a :class:`SweepProgress` before the first task and after each.
    """
    start = time.perf_counter()
    if not isinstance(config, SweepConfig):
        config = load_config(config)
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 1024:
        raise MaxboundsValueError("workers", f"expected an integer between 1 and 1024, got {workers!r}")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise MaxboundsValueError("retries", f"expected an integer >= 0, got {retries!r}")
    if window is not None and (isinstance(window, bool) or not isinstance(window, int) or window < 1):
        raise MaxboundsValueError("window", f"expected an integer >= 1, got {window!r}")
    if scheduler is not None and not isinstance(scheduler, str) and not hasattr(scheduler, "submit"):
        raise MaxboundsValueError("scheduler", f"expected an address like tcp://host:8786, got {scheduler!r}")
    path = os.fspath(db_path)
    created = not os.path.exists(path)
    try:
        with SweepDB.create_or_resume(path, config) as db:
            before = db.counts()
            todo = db.unfinished()
            errors = []
            state = {"done": before["done"], "failed": 0, "remaining": len(todo)}

            def report():
                if progress is not None:
                    progress(SweepProgress(len(config.tasks), state["done"], state["failed"], state["remaining"]))

            report()
            if todo:
                with _client(scheduler, workers) as client:
                    threads = sum(client.nthreads().values()) or workers
                    _run(client, db, todo, retries, window or max(64, WINDOW_PER_THREAD * threads),
                         state, errors, report, 1 if scheduler is None else None)
            after = db.counts()
    except BaseException:
        if created:
            _remove_if_untouched(path)
        raise
    return SweepSummary(db=os.fspath(db_path), total=len(config.tasks), done=after["done"], failed=after["failed"],
                        pending=after["pending"], skipped=before["done"], ran=len(todo) - state["remaining"],
                        seconds=time.perf_counter() - start, errors=tuple(errors))


def _remove_if_untouched(path: str) -> None:
    """Remove a database this run created if no task finished in it (e.g. the scheduler was unreachable)."""
    import sqlite3

    try:
        con = sqlite3.connect(path, isolation_level=None)
        try:
            tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            untouched = not tables or con.execute("SELECT COUNT(*) FROM tasks WHERE status!='pending'").fetchone()[0] == 0
        finally:
            con.close()
    except sqlite3.Error:  # not readable: leave it for a person to look at
        return
    if untouched:
        for suffix in ("-wal", "-shm", ""):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path + suffix)


def _run(client, db: SweepDB, todo: list, retries: int, window: int, state: dict, errors: list, report,
         threads: int | None) -> None:
    from distributed import as_completed

    run = uuid.uuid4().hex[:12]
    queue = iter(todo)
    tasks = {}
    completed = as_completed()

    def submit_next():
        task = next(queue, None)
        if task is not None:
            future = client.submit(run_task, task.params(), threads, key=dask_key(task.key, run), pure=False,
                                   retries=retries)
            tasks[future.key] = (task, future)
            completed.add(future)

    try:
        for _ in range(window):
            submit_next()
        for future in completed:
            task, _ = tasks.pop(future.key)
            try:
                out = future.result()
            except Exception as error:  # the task raised (after its retries) or its workers died
                message = "".join(traceback.format_exception_only(type(error), error)).strip()
                db.record_failed(task.key, message)
                errors.append((task.key, message))
                state["failed"] += 1
            else:
                if db.record_done(task.key, out["result"], out["seconds"], out["worker"]):
                    state["done"] += 1
            future.release()
            state["remaining"] -= 1
            submit_next()
            report()
    finally:
        if tasks:
            with contextlib.suppress(Exception):
                client.cancel([future for _, future in tasks.values()])


@contextlib.contextmanager
def _interrupts_ignored():
    """SIGINT ignored while the local cluster starts its processes, which inherit that setting.

    A Ctrl-C then reaches only this process, which stops the sweep and reports
    it in one line; without it every worker printed its own traceback.  The
    previous handler is restored at once (main thread only: elsewhere this
    does nothing).
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _client(scheduler, workers: int):
    """A Dask client: the one given, one connected to an address, or one of a new local cluster."""
    if scheduler is not None and not isinstance(scheduler, str):
        yield scheduler
        return
    from distributed import Client, LocalCluster

    if scheduler is None:
        # failed tasks are reported by the sweep itself (and kept in the database): the workers' own
        # tracebacks and restart warnings would only bury the progress bar
        with _interrupts_ignored():  # the worker processes inherit it: Ctrl-C is the parent's alone
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                                   env={"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
                                   silence_logs=logging.CRITICAL)
        try:
            with Client(cluster) as client:
                yield client
        finally:
            cluster.close()
        return
    try:
        client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError, ValueError) as error:
        raise MaxboundsValueError("scheduler", f"cannot connect to {scheduler!r}: {error}") from None
    try:
        yield client
    finally:
        client.close()
