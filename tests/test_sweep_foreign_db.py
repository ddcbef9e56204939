"""Issue 16 (4): a file that is not a maxbounds sweep database is refused unchanged by ``sweep`` and ``sweep show``.

Each refusal is one line naming ``--db``, exit status 2, and the file keeps its
bytes and modification time, with no ``-wal``/``-shm``/``-journal`` left beside it.
"""

from __future__ import annotations

import os
import sqlite3

import pytest

from maxbounds.cli.main import main
from maxbounds.sweep import parse_config
from maxbounds.sweep.db import SweepDB, open_db

CONFIG = """
[sweep]
name = "foreign"
[sweep.grid]
estimator = ["jacobian"]
rank = [2]
widths = ["3,4x2,1"]
samples = 200
seed = 7
"""


def _rollback_db(path):
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (x)")
    con.execute("INSERT INTO t VALUES (1)")
    con.commit()
    con.close()


def _wal_db(path):
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE t (x)")
    con.execute("INSERT INTO t VALUES (1)")
    con.close()


def _lookalike_db(path):
    """Tables named meta and tasks, but not of maxbounds."""
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE meta (k, v)")
    con.execute("CREATE TABLE tasks (id)")
    con.commit()
    con.close()


def _other_format(path):
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
    con.execute("CREATE TABLE tasks (key TEXT)")
    con.execute("INSERT INTO meta VALUES ('format', 'something-else')")
    con.commit()
    con.close()


def _no_tables(path):
    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version=3")
    con.commit()
    con.close()


MAKERS = {
    "rollback": _rollback_db,
    "wal": _wal_db,
    "lookalike": _lookalike_db,
    "other-format": _other_format,
    "no-tables": _no_tables,
    "not-sqlite": lambda path: path.write_bytes(b"hello, not a database\n" * 100),
    "sqlite-header-only": lambda path: path.write_bytes(b"SQLite format 3\x00" + b"\x00" * 84),
    "empty": lambda path: path.write_bytes(b""),
}


def _snapshot(path):
    stat = os.stat(path)
    return path.read_bytes(), stat.st_mtime_ns


def _prepare(tmp_path, kind):
    path = tmp_path / "other.sqlite"
    MAKERS[kind](path)
    os.utime(path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    config = tmp_path / "c.toml"
    config.write_text(CONFIG)
    return path, config, _snapshot(path), sorted(os.listdir(tmp_path))


@pytest.mark.parametrize("kind", sorted(MAKERS))
@pytest.mark.parametrize("form", ["show", "show --db", "run"])
def test_foreign_file_is_refused_unchanged(kind, form, tmp_path, capsys):
    path, config, before, listing = _prepare(tmp_path, kind)
    argv = {"show": ["sweep", "show", str(path)], "show --db": ["sweep", "show", "--db", str(path)],
            "run": ["sweep", str(config), "--db", str(path), "--quiet"]}[form]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("maxbounds sweep: error: argument --db:") and captured.err.count("\n") == 1
    assert "Traceback" not in captured.err
    assert _snapshot(path) == before
    assert sorted(os.listdir(tmp_path)) == listing  # no -wal, -shm or -journal


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_library_refuses_foreign_file_unchanged(kind, tmp_path):
    from maxbounds._validate import MaxboundsValueError

    path, _, before, listing = _prepare(tmp_path, kind)
    for opener in (lambda: open_db(path), lambda: SweepDB.create_or_resume(path, parse_config(CONFIG))):
        with pytest.raises(MaxboundsValueError) as info:
            opener()
        assert info.value.argument == "db"
        assert _snapshot(path) == before and sorted(os.listdir(tmp_path)) == listing


def test_show_of_a_sweep_database_leaves_it_unchanged(tmp_path, capsys):
    path = tmp_path / "r.sqlite"
    SweepDB.create_or_resume(path, parse_config(CONFIG)).close()
    before = _snapshot(path)
    assert sorted(os.listdir(tmp_path)) == ["r.sqlite"]
    assert main(["sweep", "show", str(path)]) == 0
    assert "1 tasks, 0 done" in capsys.readouterr().out
    assert _snapshot(path) == before and sorted(os.listdir(tmp_path)) == ["r.sqlite"]
    with SweepDB.create_or_resume(path, parse_config(CONFIG)) as db:  # still resumable
        assert db.counts() == {"pending": 1, "done": 0, "failed": 0}


def test_show_reads_commits_still_in_the_log(tmp_path, capsys):
    """A database whose writer is still open (its -wal holds the commits) is read in full."""
    config = parse_config(CONFIG)
    path = tmp_path / "r.sqlite"
    with SweepDB.create_or_resume(path, config) as db:
        db.record_failed(config.tasks[0].key, "ValueError: boom")
        assert os.path.exists(str(path) + "-wal")
        assert main(["sweep", "show", str(path)]) == 0
        assert "1 failed" in capsys.readouterr().out


def test_path_with_uri_characters(tmp_path, capsys):
    folder = tmp_path / "a?b#c%20d"
    folder.mkdir()
    path = folder / "r.sqlite"
    SweepDB.create_or_resume(path, parse_config(CONFIG)).close()
    assert main(["sweep", "show", str(path)]) == 0
    assert "1 tasks" in capsys.readouterr().out
