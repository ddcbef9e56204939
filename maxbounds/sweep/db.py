"""The sweep database: SQLite (write-ahead log), one row per task, written by the client only.

Schema::

    meta(name TEXT PRIMARY KEY, value TEXT)          -- format, digest, name, config, created
    tasks(key TEXT PRIMARY KEY, position INTEGER UNIQUE, params TEXT, status TEXT,
          result TEXT, error TEXT, attempts INTEGER, seconds REAL, worker TEXT, finished TEXT)

A new database gets every task of the config as ``pending`` in one
transaction.  Each finished task is committed in its own transaction at once
(:meth:`SweepDB.record_done`), and only over a row that is not ``done``
already, so a result is never counted twice and never overwritten.  SQLite's
journal makes each commit atomic: a crash of the client, a killed worker or
Ctrl-C leaves the database as it was after the last commit.  Opening a database
made for a different config (another task list) is an error.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import sqlite3
import urllib.parse

from .. import __version__
from .._validate import MaxboundsValueError
from ..report.json import dumps
from .config import SweepConfig, Task

__all__ = ["SweepDB", "open_db", "FORMAT", "STATUSES"]

#: Version of the database layout.
FORMAT = "maxbounds-sweep-1"
STATUSES = ("pending", "done", "failed")

_SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE tasks (
    key TEXT PRIMARY KEY,
    position INTEGER NOT NULL UNIQUE,
    params TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
    result TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    seconds REAL,
    worker TEXT,
    finished TEXT
);
"""


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


class SweepDB:
    """A sweep database opened for reading (:func:`open_db`) or for a run (:meth:`create_or_resume`)."""

    def __init__(self, connection: sqlite3.Connection, path: str):
        self._con = connection
        self.path = path

    # -- opening ------------------------------------------------------------
    @classmethod
    def create_or_resume(cls, path, config: SweepConfig) -> "SweepDB":
        """Open ``path`` for ``config``: create it with every task pending, or check it belongs to ``config``."""
        path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise MaxboundsValueError("db", f"the folder of {path!r} does not exist")
        if os.path.isdir(path):
            raise MaxboundsValueError("db", f"{path!r} is a folder")
        if os.path.exists(path):  # verify it is this sweep's database before any PRAGMA or write
            with cls(_connect_read_only(path), path) as existing:
                try:
                    tables = _tables(existing._con, path)
                    if not tables:
                        raise MaxboundsValueError(
                            "db", f"{path!r} is an SQLite database without tables, not a maxbounds sweep; "
                            "give a new --db path")
                    existing._check(tables, config)
                except sqlite3.Error as error:
                    raise MaxboundsValueError("db", f"{path!r} is not a sweep database ({error})") from None
        db = cls(_connect(path), path)
        try:
            with db._transaction(immediate=True):
                tables = {row[0] for row in db._con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
                if not tables:
                    db._create(config)
                else:
                    db._check(tables, config)
        except sqlite3.Error as error:
            db.close()
            raise MaxboundsValueError("db", f"cannot use {path!r}: {error}") from None
        except BaseException:
            db.close()
            raise
        return db

    def _create(self, config: SweepConfig) -> None:
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                self._con.execute(statement)
        meta = {"format": FORMAT, "digest": config.digest, "name": config.name, "config": config.source,
                "tasks": str(len(config.tasks)), "created": _now(), "maxbounds": __version__}
        self._con.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        self._con.executemany(
            "INSERT INTO tasks (key, position, params, status) VALUES (?, ?, ?, 'pending')",
            ((t.key, i, json.dumps(t.params(), sort_keys=True)) for i, t in enumerate(config.tasks)))

    def _check(self, tables: set, config: SweepConfig) -> None:
        _check_format(self._con, tables, self.path)
        digest = self.meta().get("digest")
        if digest != config.digest:
            raise MaxboundsValueError(
                "db", f"{self.path!r} holds a sweep of another config ({self.meta().get('tasks')} tasks, "
                f"name {self.meta().get('name')!r}); give a new --db for this config")

    # -- transactions -------------------------------------------------------
    @contextlib.contextmanager
    def _transaction(self, immediate: bool = False):
        self._con.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
        try:
            yield
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        self._con.execute("COMMIT")

    def close(self) -> None:
        self._con.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- writing (the client only) ------------------------------------------
    def record_done(self, key: str, result: dict, seconds: float | None = None, worker: str | None = None) -> bool:
        """Commit the result of task ``key``; ``False`` (nothing written) if it was done already."""
        with self._transaction(immediate=True):
            cursor = self._con.execute(
                "UPDATE tasks SET status='done', result=?, error=NULL, attempts=attempts+1, seconds=?, worker=?, "
                "finished=? WHERE key=? AND status!='done'",
                (dumps(result, indent=None, sort_keys=True), seconds, worker, _now(), key))
        return cursor.rowcount == 1

    def record_failed(self, key: str, error: str, worker: str | None = None) -> bool:
        """Commit that task ``key`` raised ``error``; ``False`` if it was done already (a result wins)."""
        with self._transaction(immediate=True):
            cursor = self._con.execute(
                "UPDATE tasks SET status='failed', error=?, attempts=attempts+1, worker=?, finished=? "
                "WHERE key=? AND status!='done'", (error, worker, _now(), key))
        return cursor.rowcount == 1

    # -- reading -------------------------------------------------------------
    def meta(self) -> dict:
        return dict(self._con.execute("SELECT name, value FROM meta"))

    def counts(self) -> dict:
        """``{"pending": n, "done": n, "failed": n}``."""
        counts = dict.fromkeys(STATUSES, 0)
        counts.update(self._con.execute("SELECT status, COUNT(*) FROM tasks GROUP BY status"))
        return counts

    def unfinished(self) -> list[Task]:
        """Tasks not done (pending or failed), in grid order."""
        rows = self._con.execute("SELECT params FROM tasks WHERE status!='done' ORDER BY position")
        return [Task.from_params(json.loads(p)) for (p,) in rows]

    def rows(self) -> list[dict]:
        """Every task in grid order: key, params, status, result, error, attempts, seconds, worker, finished."""
        cursor = self._con.execute(
            "SELECT key, params, status, result, error, attempts, seconds, worker, finished FROM tasks "
            "ORDER BY position")
        out = []
        for key, params, status, result, error, attempts, seconds, worker, finished in cursor:
            out.append({"key": key, "params": json.loads(params), "status": status,
                        "result": None if result is None else json.loads(result), "error": error,
                        "attempts": attempts, "seconds": seconds, "worker": worker, "finished": finished})
        return out

    def integrity(self) -> str:
        """``PRAGMA integrity_check``: ``"ok"`` for a sound database."""
        return "; ".join(row[0] for row in self._con.execute("PRAGMA integrity_check"))


_SQLITE_HEADER = b"SQLite format 3\x00"


def _connect_read_only(path: str) -> sqlite3.Connection:
    """A read-only connection to the existing file ``path``, refusing an empty or non-SQLite file unopened.

    Nothing is written: not the file, and no ``-wal``/``-shm`` beside it.  A
    file without a ``-wal`` holds every commit, so it is opened ``immutable``
    (SQLite then makes no ``-shm``/``-wal``, which a read-only open of a
    write-ahead-log database would otherwise leave behind); a file with a
    ``-wal`` (a sweep running, or one killed) is opened ``mode=ro`` so the
    commits in the log are read too.
    """
    try:
        with open(path, "rb") as file:
            header = file.read(len(_SQLITE_HEADER))
    except OSError as error:
        raise MaxboundsValueError("db", f"cannot read {path!r}: {error.strerror or error}") from None
    if not header:
        raise MaxboundsValueError("db", f"{path!r} is an empty file, not a sweep database")
    if header != _SQLITE_HEADER:
        raise MaxboundsValueError("db", f"{path!r} is not a sweep database (not an SQLite file)")
    uri = "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro"
    if not os.path.exists(path + "-wal"):
        uri += "&immutable=1"
    try:
        return sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30)
    except sqlite3.Error as error:
        raise MaxboundsValueError("db", f"cannot open {path!r}: {error}") from None


def _tables(con, path: str) -> set:
    return {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _connect(path: str) -> sqlite3.Connection:
    try:
        con = sqlite3.connect(path, isolation_level=None, timeout=30)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=FULL")
    except sqlite3.DatabaseError as error:
        raise MaxboundsValueError("db", f"{path!r} is not a sweep database ({error})") from None
    return con


def _check_format(con, tables: set, path: str) -> None:
    if not {"meta", "tasks"} <= tables:
        raise MaxboundsValueError("db", f"{path!r} is an SQLite database but not a maxbounds sweep")
    fmt = dict(con.execute("SELECT name, value FROM meta")).get("format")
    if fmt != FORMAT:
        raise MaxboundsValueError("db", f"{path!r} has format {fmt!r}; this maxbounds reads {FORMAT!r}")


def open_db(path) -> SweepDB:
    """Open an existing sweep database at ``path`` for reading (read-only: nothing is written)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise MaxboundsValueError("db", f"no such sweep database: {path!r}")
    con = _connect_read_only(path)
    try:
        _check_format(con, _tables(con, path), path)
    except sqlite3.DatabaseError as error:
        con.close()
        raise MaxboundsValueError("db", f"{path!r} is not a sweep database ({error})") from None
    except BaseException:
        con.close()
        raise
    return SweepDB(con, path)
