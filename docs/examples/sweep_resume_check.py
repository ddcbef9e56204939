"""Run a sweep three ways with the ``maxbounds sweep`` command and check that the rows agree.

1. uninterrupted, on a local cluster of two worker processes;
2. with one worker process killed (SIGKILL) after ``--after`` results: the nanny
   restarts it and the scheduler re-runs its task;
3. with the command interrupted (SIGINT, as Ctrl-C) after ``--after`` results,
   then the same command run again to resume.

Usage (from the repository root)::

    python docs/examples/sweep_resume_check.py docs/examples/sweep.toml --folder /tmp/sweep-check

Prints the wall time of each run and whether the rows (key, parameters,
status, result) of 2 and 3 are those of 1; exits 1 if they are not.
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import time

import psutil

from maxbounds.sweep import open_db


def done_count(path: str) -> int:
    if not os.path.exists(path):
        return 0
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute("SELECT COUNT(*) FROM tasks WHERE status='done'").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0
    finally:
        con.close()


def rows(path: str) -> list:
    with open_db(path) as db:
        return [(r["key"], r["params"], r["status"], r["result"]) for r in db.rows()]


def sweep(config: str, db: str, workers: int, after: int | None = None, action=None) -> tuple[float, int]:
    """Run ``maxbounds sweep`` into ``db``; after ``after`` results call ``action(process)``."""
    command = [sys.executable, "-m", "maxbounds.cli.main", "sweep", config, "--db", db, "--workers", str(workers),
               "-q"]
    start = time.perf_counter()
    process = subprocess.Popen(command)
    acted = False
    while process.poll() is None:
        time.sleep(0.05)
        if after is not None and not acted and done_count(db) >= after:
            action(process)
            acted = True
    seconds = time.perf_counter() - start
    if after is not None and not acted:
        sys.exit(f"the sweep finished before {after} results: nothing was interrupted")
    return seconds, process.returncode


def kill_a_worker(process) -> None:
    """SIGKILL one Dask worker process (spawned by a nanny of the command's local cluster)."""
    workers = [p for p in psutil.Process(process.pid).children(recursive=True)
               if any("spawn_main" in part for part in p.cmdline())]
    if not workers:
        sys.exit("no worker process found")
    print(f"  killing worker process {workers[0].pid}", flush=True)
    workers[0].kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--folder", default=".")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--after", type=int, default=100, help="results before the kill or the interrupt")
    args = parser.parse_args()
    os.makedirs(args.folder, exist_ok=True)
    paths = {name: os.path.join(args.folder, f"{name}.sqlite") for name in ("plain", "killed", "resumed")}
    for path in paths.values():
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)

    seconds, status = sweep(args.config, paths["plain"], args.workers)
    print(f"uninterrupted: {seconds:.1f} s (exit {status})")
    reference = rows(paths["plain"])

    seconds, status = sweep(args.config, paths["killed"], args.workers, args.after, kill_a_worker)
    same_killed = rows(paths["killed"]) == reference
    print(f"one worker killed: {seconds:.1f} s (exit {status}); rows identical: {same_killed}")

    first, status1 = sweep(args.config, paths["resumed"], args.workers, args.after,
                           lambda p: p.send_signal(signal.SIGINT))
    with open_db(paths["resumed"]) as db:
        interrupted = db.counts()
        integrity = db.integrity()
    second, status2 = sweep(args.config, paths["resumed"], args.workers)
    same_resumed = rows(paths["resumed"]) == reference
    print(f"interrupted (Ctrl-C): {first:.1f} s (exit {status1}), {interrupted['done']} done, integrity "
          f"{integrity}; resumed: {second:.1f} s (exit {status2}); rows identical: {same_resumed}")
    print(f"{len(reference)} tasks")
    return 0 if same_killed and same_resumed else 1


if __name__ == "__main__":
    sys.exit(main())
