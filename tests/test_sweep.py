"""Sweeps on Dask: config validation, the SQLite database, runs on a local two-worker cluster that survive a
killed worker, an interrupted client and a killed client, and ``maxbounds sweep show``.

One local cluster of two worker processes is shared by the module (started once, closed at the end).
The statistical content of each task is :func:`maxbounds.validation.single.run`, tested elsewhere; here
the claims are bookkeeping: every task of the grid ends up in the database exactly once, with the result a
direct in-process call gives, whatever interruptions happen on the way.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maxbounds._validate import MaxboundsValueError
from maxbounds.cli.main import main
from maxbounds.report.json import dumps
from maxbounds.sweep import SweepDB, open_db, parse_config, run_sweep, run_task
from maxbounds.sweep import run as run_module
from maxbounds.sweep.config import GRID_KEYS, Task

distributed = pytest.importorskip("distributed")

CONFIG = """
[sweep]
name = "test"
[sweep.grid]
widths = ["3,6x2,2", "2,5x3,1"]
rank = [2, 3]
c = [1.0, "1/M"]
estimator = ["jacobian", "gradient", "length", "activation"]
samples = 300
seed = 7
"""
#: Heavier tasks, so that a client killed after a few results is killed mid-sweep.
HEAVY = CONFIG.replace("samples = 300", "samples = 4000").replace('"activation"', '"ntk"')


def comparable(db_rows):
    """What must agree between runs: everything but timings, attempts and worker names."""
    return [(r["key"], r["params"], r["status"], r["result"], r["error"]) for r in db_rows]


def rows_of(path):
    with open_db(path) as db:
        return db.rows()


# -- config ------------------------------------------------------------------
GOOD = {"widths": '["3,8,2"]'}


def config_text(**grid):
    grid = {**GOOD, **grid}
    lines = [f"{k} = {v}" for k, v in grid.items() if v is not None]
    return "[sweep]\n[sweep.grid]\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize("grid, key", [
    ({"rank": "0"}, "sweep.grid.rank"),
    ({"rank": "[2, 2.5]"}, "sweep.grid.rank"),
    ({"rank": "[2, 2]"}, "sweep.grid.rank"),
    ({"rank": "[]"}, "sweep.grid.rank"),
    ({"c": '"1/Q"'}, "sweep.grid.c"),
    ({"c": "-1.0"}, "sweep.grid.c"),
    ({"c": "nan"}, "sweep.grid.c"),
    ({"c_out": "0"}, "sweep.grid.c_out"),
    ({"bias_var": "-0.1"}, "sweep.grid.bias_var"),
    ({"estimator": '"regions"'}, "sweep.grid.estimator"),
    ({"estimator": '"gradient"', "method": '"chain"'}, "sweep.grid.method"),
    ({"samples": "1"}, "sweep.grid.samples"),
    ({"samples": "true"}, "sweep.grid.samples"),
    ({"samples": "1000000000000"}, "sweep.grid.samples"),
    ({"widths": '["3,10000000,2"]', "samples": "1000000", "method": '"explicit"'}, "sweep.grid.samples"),
    ({"seed": "-1"}, "sweep.grid.seed"),
    ({"widths": '["3,8;2"]'}, "sweep.grid.widths"),
    ({"widths": '["3,1000000000,2"]', "samples": "300"}, "sweep.grid.widths"),  # hung after creating the database
    ({"widths": '["3,1000000000,2"]', "estimator": '"gradient"', "samples": "300"}, "sweep.grid.widths"),
    ({"widths": "[3]"}, "sweep.grid.widths"),
    ({"widths": '["3,0,2"]'}, "sweep.grid.widths"),
    ({"widths": '["3,8,2", "3,8x1,2"]'}, "sweep.grid.widths"),
    ({"width": "8"}, "sweep.grid.width"),
    ({"widths": None, "width": "8", "depth": "3", "n_in": "2"}, "sweep.grid.n_out"),
    ({"widths": None}, "sweep.grid.widths"),
    ({"ranks": "2"}, "sweep.grid.ranks"),
])
def test_config_errors_name_the_key(grid, key):
    with pytest.raises(MaxboundsValueError) as info:
        parse_config(config_text(**grid))
    assert info.value.argument == key


def test_config_errors_outside_the_grid():
    for text, key in [("[sweep]\nname = 'x'\n", "sweep.grid"), ("x = 1\n", "x"), ("[other]\n", "other"),
                      ("[sweep]\ngrids = {}\n", "sweep.grids"), ("[sweep\n", "config"),
                      ("[sweep]\nname = 3\n[sweep.grid]\nwidths = ['3,2']\n", "sweep.name")]:
        with pytest.raises(MaxboundsValueError) as info:
            parse_config(text)
        assert info.value.argument == key, text


def test_unknown_key_lists_the_allowed_ones():
    with pytest.raises(MaxboundsValueError) as info:
        parse_config(config_text(ranks="2"))
    assert all(k in info.value.problem for k in GRID_KEYS)


def test_grid_is_the_cartesian_product_in_order():
    config = parse_config(CONFIG)
    assert len(config.tasks) == 2 * 2 * 2 * 4
    assert len({t.key for t in config.tasks}) == len(config.tasks)
    # the last key varies fastest; the first architecture comes first
    assert [t.estimator for t in config.tasks[:4]] == ["jacobian", "gradient", "length", "activation"]
    assert config.tasks[0].widths == (3, 6, 6, 2) and config.tasks[-1].widths == (2, 5, 5, 5, 1)
    assert {t.method for t in config.tasks if t.estimator in ("gradient", "length")} == {"explicit"}
    assert {t.method for t in config.tasks if t.estimator in ("jacobian", "activation")} == {"chain"}
    shaped = parse_config(config_text(widths=None, n_in="[2, 4]", width="[5, 7]", depth="[1, 3]", n_out="1"))
    expected = {(n, *(w,) * (L - 1), 1) for n in (2, 4) for w in (5, 7) for L in (1, 3)}
    assert [t.widths for t in shaped.tasks] == sorted(expected, key=lambda w: (w[0], w[1:2] != (1,), w))
    assert len(expected) == 6  # depth 1 has no hidden width: one architecture per n_in, not two


def test_task_key_is_sha256_of_the_canonical_params():
    task = parse_config(CONFIG).tasks[5]
    text = json.dumps({"format": 1, **task.params()}, sort_keys=True, separators=(",", ":"))
    assert task.key == hashlib.sha256(text.encode()).hexdigest()
    assert Task.from_params(json.loads(json.dumps(task.params()))) == task


def test_same_tasks_same_digest_whatever_the_layout():
    reformatted = ("# a comment\n[sweep]\nname='test'\n[sweep.grid]\nseed=7\nsamples=300\n"
                   "estimator=['jacobian','gradient','length','activation']\nc=[1, '1/m']\nrank=[2,3]\n"
                   "widths=['3,6,6,2','2,5x3,1']\n")
    assert parse_config(reformatted).digest == parse_config(CONFIG).digest
    assert parse_config(CONFIG.replace("seed = 7", "seed = 8")).digest != parse_config(CONFIG).digest


def _toml_value(values):
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


@settings(max_examples=25, deadline=None)
@given(
    ranks=st.lists(st.integers(1, 6), min_size=1, max_size=3, unique=True),
    scales=st.lists(st.sampled_from([0.5, 1.0, 2.0, "1/M", "1/L", "1/S"]), min_size=1, max_size=3, unique=True),
    estimators=st.lists(st.sampled_from(["jacobian", "ntk", "gradient", "length", "cosine"]), min_size=1,
                        max_size=3, unique=True),
    seeds=st.lists(st.integers(0, 2**40), min_size=1, max_size=3, unique=True),
    depths=st.lists(st.integers(2, 5), min_size=1, max_size=2, unique=True),
    order=st.randoms(use_true_random=False),
)
def test_grid_property(ranks, scales, estimators, seeds, depths, order):
    """Any grid: as many tasks as the product of its lists, distinct keys, and a digest independent of key order."""
    grid = {"rank": ranks, "c": scales, "estimator": estimators, "seed": seeds, "depth": depths,
            "width": [4], "n_in": [2], "n_out": [1]}
    lines = [f"{k} = {_toml_value(v)}" for k, v in grid.items()]
    config = parse_config("[sweep]\n[sweep.grid]\n" + "\n".join(lines))
    assert len(config.tasks) == math.prod(len(v) for v in grid.values())
    assert len({t.key for t in config.tasks}) == len(config.tasks)
    assert {(t.rank, t.c, t.estimator, t.seed, len(t.widths) - 1) for t in config.tasks} == {
        (K, float(c) if not isinstance(c, str) else c, e, seed, L)
        for K in ranks for c in scales for e in estimators for seed in seeds for L in depths}
    order.shuffle(lines)
    assert parse_config("[sweep]\n[sweep.grid]\n" + "\n".join(lines)).digest == config.digest


# -- database ----------------------------------------------------------------
def test_database_round_trip(tmp_path):
    config = parse_config(CONFIG)
    path = tmp_path / "r.sqlite"
    first, second = config.tasks[0], config.tasks[1]
    with SweepDB.create_or_resume(path, config) as db:
        assert db.counts() == {"pending": len(config.tasks), "done": 0, "failed": 0}
        assert db.record_done(first.key, {"x": 1.5, "y": [1, 2]}, 0.1, "w") is True
        assert db.record_done(first.key, {"x": 2.5}, 0.1, "w") is False  # never counted twice
        assert db.record_failed(first.key, "boom") is False  # a result is never overwritten
        assert db.record_failed(second.key, "ValueError: boom") is True
    with SweepDB.create_or_resume(path, config) as db:  # resume: same tasks, same rows
        assert db.counts() == {"pending": len(config.tasks) - 2, "done": 1, "failed": 1}
        assert [t.key for t in db.unfinished()] == [t.key for t in config.tasks[1:]]
        assert db.integrity() == "ok"
    rows = rows_of(path)
    assert [r["key"] for r in rows] == [t.key for t in config.tasks]
    assert rows[0]["result"] == {"x": 1.5, "y": [1, 2]} and rows[0]["attempts"] == 1
    assert rows[1]["status"] == "failed" and rows[1]["error"] == "ValueError: boom"
    assert rows[0]["params"] == first.params()


@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["done", "failed"]), st.integers(0, 5), st.floats(-1e300, 1e300)),
                max_size=25))
def test_database_against_a_model(operations):
    """Any sequence of commits: the first result of a task is kept for good, a failure never replaces it."""
    import tempfile

    config = parse_config(config_text(seed="[0, 1, 2, 3, 4, 5]"))
    keys = [t.key for t in config.tasks]
    model = {key: {"status": "pending", "result": None, "error": None, "attempts": 0} for key in keys}
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "r.sqlite")
        with SweepDB.create_or_resume(path, config) as db:
            for what, index, value in operations:
                key, row = keys[index], model[keys[index]]
                applies = row["status"] != "done"  # a done task is never written again
                if what == "done":
                    written = db.record_done(key, {"value": value})
                    if applies:
                        row.update(status="done", result={"value": value}, error=None, attempts=row["attempts"] + 1)
                else:
                    written = db.record_failed(key, f"error {value!r}")
                    if applies:
                        row.update(status="failed", error=f"error {value!r}", attempts=row["attempts"] + 1)
                assert written == applies
            assert db.integrity() == "ok"
        with SweepDB.create_or_resume(path, config) as db:
            got = {r["key"]: {k: r[k] for k in ("status", "result", "error", "attempts")} for r in db.rows()}
            assert db.counts() == {s: sum(r["status"] == s for r in model.values()) for s in ("pending", "done",
                                                                                               "failed")}
    assert got == model


def test_database_of_another_config_is_refused(tmp_path):
    path = tmp_path / "r.sqlite"
    SweepDB.create_or_resume(path, parse_config(CONFIG)).close()
    with pytest.raises(MaxboundsValueError) as info:
        SweepDB.create_or_resume(path, parse_config(CONFIG.replace("seed = 7", "seed = 8")))
    assert info.value.argument == "db" and "another config" in info.value.problem
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    not_db = tmp_path / "not.sqlite"
    not_db.write_text("hello, not a database\n" * 100)
    for bad in (other, not_db, tmp_path / "missing.sqlite"):
        with pytest.raises(MaxboundsValueError) as info:
            open_db(bad)
        assert info.value.argument == "db"
    assert not_db.read_text() == "hello, not a database\n" * 100


# -- runs on a local cluster of two worker processes -------------------------
@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                       env={"NUMBA_NUM_THREADS": "1"})
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture(scope="module")
def reference(client, tmp_path_factory):
    """An uninterrupted run of CONFIG on the shared cluster."""
    path = tmp_path_factory.mktemp("reference") / "r.sqlite"
    seen = []
    summary = run_sweep(parse_config(CONFIG), path, scheduler=client, progress=seen.append)
    return summary, rows_of(path), seen


def test_sweep_on_two_workers(reference, client):
    summary, rows, seen = reference
    total = len(parse_config(CONFIG).tasks)
    assert (summary.total, summary.done, summary.failed, summary.pending, summary.ran) == (total, total, 0, 0, total)
    assert [r["status"] for r in rows] == ["done"] * total
    # both workers took part
    assert len({r["worker"] for r in rows}) == 2
    # progress: one report before the first task and one after each, remaining counting down
    assert [p.remaining for p in seen] == list(range(total, -1, -1))
    assert [p.done for p in seen] == list(range(total + 1))
    # each row is what a direct, in-process call of the task gives: the Monte Carlo estimates bit for bit (after the
    # JSON round trip); the theory to 1e-14, as its quadratures use BLAS, whose thread count Dask's workers set to 1
    for row in rows[::5]:
        direct = json.loads(dumps(run_task(row["params"])["result"], indent=None))
        assert_same_result(row["result"], direct)


def assert_same_result(got, want, inside_estimate=False, where="result"):
    """``got == want``, floats outside an ``estimate`` object to a relative 1e-14 (a few ulps)."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), where
        for key in want:
            assert_same_result(got[key], want[key], inside_estimate or key == "estimate", f"{where}[{key!r}]")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same_result(g, w, inside_estimate, f"{where}[{i}]")
    elif isinstance(want, float) and not inside_estimate:
        assert got == pytest.approx(want, rel=1e-14, abs=0.0), where
    else:
        assert got == want, where


def test_task_result_does_not_depend_on_the_numba_threads():
    numba = pytest.importorskip("numba")
    params = parse_config(CONFIG).tasks[2].params()  # a length task: explicit networks, parallel samples
    before = numba.get_num_threads()
    try:
        one = run_task(params, threads=1)
        assert numba.get_num_threads() == 1
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = run_task(params)
    finally:
        numba.set_num_threads(before)
    assert one["result"] == many["result"]


def test_rerun_skips_finished_tasks(reference, client, tmp_path):
    summary, rows, _ = reference
    path = tmp_path / "r.sqlite"
    config = parse_config(CONFIG)
    with SweepDB.create_or_resume(path, config) as db:  # copy half of the reference in
        for row in rows[::2]:
            db.record_done(row["key"], row["result"])
    summary = run_sweep(config, path, scheduler=client)
    assert (summary.skipped, summary.ran, summary.done) == (len(rows[::2]), len(rows) - len(rows[::2]), len(rows))
    assert comparable(rows_of(path)) == comparable(rows)
    again = run_sweep(config, path, scheduler=client)
    assert (again.skipped, again.ran) == (len(rows), 0)


@pytest.fixture(scope="module")
def heavy_reference(client, tmp_path_factory):
    """An uninterrupted run of HEAVY on the shared cluster: its rows."""
    path = tmp_path_factory.mktemp("heavy") / "r.sqlite"
    run_sweep(parse_config(HEAVY), path, scheduler=client)
    return rows_of(path)


def test_killed_worker_mid_sweep_gives_the_rows_of_an_uninterrupted_run(heavy_reference, client, tmp_path):
    """SIGKILL a worker that holds tasks of the sweep; the sweep completes with the uninterrupted rows."""
    path = tmp_path / "r.sqlite"
    pids = client.run(os.getpid)
    killed = []

    def kill_after_four(state):
        if state.done == 4 and not killed:
            for _ in range(500):  # a worker with tasks of this sweep on it, lost with it (wait if both are idle)
                busy = {address: keys for address, keys in client.processing().items() if keys}
                if busy:
                    break
                time.sleep(0.01)
            address = sorted(busy)[0]
            killed.append((pids[address], len(busy[address])))
            os.kill(pids[address], signal.SIGKILL)

    summary = run_sweep(parse_config(HEAVY), path, scheduler=client, progress=kill_after_four)
    assert killed and killed[0][1] >= 1
    assert (summary.done, summary.failed, summary.pending) == (len(heavy_reference), 0, 0)
    rows = rows_of(path)
    assert comparable(rows) == comparable(heavy_reference)
    assert all(r["attempts"] == 1 for r in rows)  # each result committed once
    client.wait_for_workers(2, timeout=60)  # the nanny restarted the worker
    assert killed[0][0] not in client.run(os.getpid).values()


def test_interrupted_client_leaves_a_sound_database_and_resumes(reference, client, tmp_path):
    path = tmp_path / "r.sqlite"
    config = parse_config(CONFIG)

    def interrupt_after_five(state):
        if state.done == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(config, path, scheduler=client, progress=interrupt_after_five)
    with open_db(path) as db:
        assert db.integrity() == "ok"
        assert db.counts() == {"pending": len(config.tasks) - 5, "done": 5, "failed": 0}
    summary = run_sweep(config, path, scheduler=client)
    assert (summary.skipped, summary.ran, summary.done) == (5, len(config.tasks) - 5, len(config.tasks))
    assert comparable(rows_of(path)) == comparable(reference[1])


def test_killed_client_leaves_a_sound_database(heavy_reference, client, tmp_path):
    """SIGKILL the ``maxbounds sweep`` process after three results; the database is sound and resumes."""
    config_path = tmp_path / "heavy.toml"
    config_path.write_text(HEAVY)
    path = tmp_path / "r.sqlite"
    total = len(parse_config(HEAVY).tasks)
    process = subprocess.Popen(
        [sys.executable, "-m", "maxbounds.cli.main", "sweep", str(config_path), "--db", str(path),
         "--scheduler", client.cluster.scheduler_address, "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        done = 0
        while done < 3 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
            if path.exists():
                con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
                try:
                    done = con.execute("SELECT COUNT(*) FROM tasks WHERE status='done'").fetchone()[0]
                except sqlite3.OperationalError:  # the tables are not made yet
                    done = 0
                finally:
                    con.close()
        process.kill()
    finally:
        process.kill()
        stderr = process.communicate()[1]
    assert 3 <= done < total, stderr.decode()
    with open_db(path) as db:
        assert db.integrity() == "ok"
        before = db.counts()
    assert before["done"] >= 3 and before["done"] + before["pending"] == total
    killed_rows = {r["key"]: r for r in rows_of(path) if r["status"] == "done"}
    summary = run_sweep(parse_config(HEAVY), path, scheduler=client)
    assert (summary.done, summary.skipped) == (total, before["done"])
    rows = rows_of(path)
    for row in rows:  # the rows written before the kill are kept as they were
        if row["key"] in killed_rows:
            assert row == killed_rows[row["key"]]
    assert comparable(rows) == comparable(heavy_reference)


def _fail_seed_8(params, threads=None):
    if params["seed"] == 8 and params["estimator"] == "gradient":
        raise ValueError(f"no gradient for seed {params['seed']}")
    return run_task(params, threads)


def test_failed_tasks_are_recorded_then_rerun(tmp_path, monkeypatch):
    """A task that raises is recorded as failed with its error; the next run runs it again."""
    text = CONFIG.replace("seed = 7", "seed = [7, 8]").replace('widths = ["3,6x2,2", "2,5x3,1"]',
                                                                 'widths = ["3,6x2,2"]')
    config = parse_config(text)
    path = tmp_path / "r.sqlite"
    with distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as local:
        monkeypatch.setattr(run_module, "run_task", _fail_seed_8)
        summary = run_sweep(config, path, scheduler=local, retries=1)
        bad = [t for t in config.tasks if t.seed == 8 and t.estimator == "gradient"]
        assert summary.failed == len(bad) == 4 and summary.done == len(config.tasks) - 4
        assert sorted(key for key, _ in summary.errors) == sorted(t.key for t in bad)
        rows = rows_of(path)
        failed = [r for r in rows if r["status"] == "failed"]
        assert all(r["error"] == "ValueError: no gradient for seed 8" for r in failed)
        assert all(r["attempts"] == 1 for r in rows)
        monkeypatch.setattr(run_module, "run_task", run_task)
        summary = run_sweep(config, path, scheduler=local)
    assert (summary.ran, summary.done, summary.failed) == (4, len(config.tasks), 0)
    rows = rows_of(path)
    assert all(r["status"] == "done" and r["error"] is None for r in rows)
    assert sorted(r["attempts"] for r in rows) == [1] * (len(rows) - 4) + [2] * 4


def test_show_rows_of_every_estimator():
    """Every estimator's statistics, for a network with and without hidden layers, beside their theory."""
    from maxbounds.sweep.show import HEADLINE, summary_rows

    config = parse_config(config_text(widths='["2,4x2,1", "3,2"]', estimator=_toml_value(
        ["jacobian", "activation", "cosine", "gradient", "ntk", "length"]), samples="50"))
    db_rows = []
    for task in config.tasks:
        try:
            db_rows.append({"params": task.params(), "status": "done", "result": run_task(task.params())["result"]})
        except ZeroDivisionError:  # the gradient bounds of a network with no hidden layer (a known limitation)
            db_rows.append({"params": task.params(), "status": "failed", "result": None})
    headline = summary_rows(db_rows)
    everything = summary_rows(db_rows, everything=True)
    # the first six tasks (widths 2-4-4-1) give one headline row each; "3,2" has no hidden layer to show
    assert [r["statistic"] for r in headline[:6]] == [HEADLINE[r["params"]["estimator"]] for r in db_rows[:6]]
    assert len(everything) > len(headline)
    for row in everything:
        assert row["lower"] is None or row["lower"] <= row["upper"]
        assert row["estimate"] > 0 and row["stderr"] >= 0


# -- the command line ---------------------------------------------------------
def test_cli_sweep_and_show(reference, client, tmp_path, capsys):
    config_path = tmp_path / "c.toml"
    config_path.write_text(CONFIG)
    path = tmp_path / "r.sqlite"
    status = main(["sweep", str(config_path), "--db", str(path), "--scheduler", client.cluster.scheduler_address, "-q"])
    out = capsys.readouterr().out
    total = len(reference[1])
    assert status == 0 and f"{total} done (0 before this run)" in out
    assert comparable(rows_of(path)) == comparable(reference[1])

    assert main(["sweep", "show", str(path), "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["counts"]["done"] == total and len(shown["rows"]) == total
    by_task = {r["task"]: r for r in shown["rows"]}
    for position, row in enumerate(reference[1]):
        entry = row["result"]["mean"] if row["params"]["estimator"] in ("jacobian", "length") else None
        if entry is not None:
            assert by_task[position]["estimate"] == {k: entry["estimate"][k] for k in ("mean", "stderr", "n")}
            assert by_task[position]["upper"] == entry["bounds"]["upper"]
    assert main(["sweep", "show", str(path), "--format", "json", "--all"]) == 0
    everything = json.loads(capsys.readouterr().out)["rows"]
    assert len(everything) > total and all(r["verdict"] in ("inside", "agrees", "OUTSIDE", "DISAGREES")
                                          for r in everything)
    for row in everything:  # the verdict is compare()'s: inside when z <= 4.5
        assert (row["verdict"] in ("inside", "agrees")) == (row["z"] <= 4.5)

    assert main(["sweep", "show", str(path), "--format", "csv"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(table) == total and math.isclose(float(table[0]["estimate"]), shown["rows"][0]["estimate"]["mean"])
    assert main(["sweep", "show", str(path), "--format", "latex"]) == 0
    latex = capsys.readouterr().out
    assert latex.count("\\\\") == total + 1 and "\\begin{tabular}" in latex
    plot = tmp_path / "s.png"
    assert main(["sweep", "show", "--db", str(path), "--plot", str(plot)]) == 0
    text = capsys.readouterr().out
    assert f"{total} tasks, {total} done, 0 failed, 0 pending" in text
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(os.listdir(tmp_path)) == sorted(["c.toml", "r.sqlite", "s.png"] + [
        f for f in os.listdir(tmp_path) if f.startswith("r.sqlite-")])


@pytest.mark.parametrize("argv, option", [
    (["sweep", "CFG"], "--db"),
    (["sweep", "show"], "--db"),
    (["sweep", "show", "MISSING.sqlite"], "--db"),
    (["sweep", "CFG", "--db", "DB", "--plot", "x.png"], "--plot"),
    (["sweep", "CFG", "--db", "DB", "--scheduler", "tcp://127.0.0.1:1", "--workers", "3"], "--workers"),
    (["sweep", "show", "DB0", "--plot", "x.pdf"], "--plot"),
    (["sweep", "show", "DB0", "--workers", "2"], "--workers"),
    (["sweep", "CFG", "--db", "DB", "--scheduler", "nonsense"], "--scheduler"),
    (["sweep", "CFG", "--db", "DB0X"], "--db"),
    (["sweep", "CFG", "DB"], "--db"),
    (["sweep", "CFG", "--db", "CFG"], "--db"),
])
def test_cli_argument_errors(argv, option, tmp_path, capsys):
    config_path = tmp_path / "c.toml"
    config_path.write_text(CONFIG)
    SweepDB.create_or_resume(tmp_path / "db0.sqlite", parse_config(CONFIG)).close()
    SweepDB.create_or_resume(tmp_path / "db0x.sqlite", parse_config(CONFIG.replace("seed = 7", "seed = 1"))).close()
    names = {"DB0X": str(tmp_path / "db0x.sqlite"), "CFG": str(config_path), "DB": str(tmp_path / "db.sqlite"), "DB0": str(tmp_path / "db0.sqlite"),
             "MISSING.sqlite": str(tmp_path / "missing.sqlite")}
    assert main([names.get(a, a) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"maxbounds sweep: error: argument {option}:") and err.count("\n") == 1
    assert not (tmp_path / "db.sqlite").exists()
    assert config_path.read_text() == CONFIG and sorted(os.listdir(tmp_path)) == ["c.toml", "db0.sqlite",
                                                                                 "db0x.sqlite"]


def test_cli_malformed_config_names_the_key(tmp_path):
    config_path = tmp_path / "c.toml"
    config_path.write_text(CONFIG.replace("rank = [2, 3]", "rank = [2, 0]"))
    path = tmp_path / "r.sqlite"
    result = subprocess.run([sys.executable, "-m", "maxbounds.cli.main", "sweep", str(config_path), "--db", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith("maxbounds sweep: error: argument sweep.grid.rank:")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not path.exists()
