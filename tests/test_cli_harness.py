"""Every bad input of the command line: one line on stderr, exit 2, nothing on stdout, nothing on disk.

The fast cases of the CLI harness (the slow ones, legal but large inputs, are in
``benchmarks/cli_harness.py``).  Each case is a command line that must be refused;
the message must name the option it is about.  Options that would be silently
ignored (they apply to another mode of the command) are refused the same way.
"""

import pytest

from maxbounds.cli.main import main

W = ["--widths", "3,4,2"]

#: (argv, the option the message must name)
REFUSED = [
    (["bounds", "jacobian", "--widths", "3,0,2"], "--widths"),
    (["bounds", "jacobian", "--widths", "3,-4,2"], "--widths"),
    (["bounds", "jacobian", "--widths", "3,a,2"], "--widths"),
    (["bounds", "jacobian", *W, "--rank", "0"], "--rank"),
    (["bounds", "jacobian", *W, "--rank", "2,3"], "--rank"),
    (["bounds", "jacobian", *W, "--c", "0"], "--c"),
    (["bounds", "jacobian", *W, "--c", "-1"], "--c"),
    (["bounds", "jacobian", *W, "--c", "nan"], "--c"),
    (["bounds", "jacobian", *W, "--bias-var", "-1"], "--bias-var"),
    (["bounds", "gradient", *W, "--input", "1,1"], "--input"),
    (["bounds", "ntk", *W, "--moment", "3"], "--moment"),
    (["bounds", "length", *W, "--moment", "0.5"], "--moment"),
    (["constants", "--rank", "0"], "--rank"),
    (["constants", "--rank", "x"], "--rank"),
    (["constants", "--rank", "2-1000000000"], "--rank"),
    (["constants", "--rank", "3", "--dps", "100000"], "--dps"),
    (["init", "--rank", "0"], "--rank"),
    (["init", "--s", "1"], "--s"),
    (["init", "--rank", "3", "--s", "0.5"], "--s"),
    (["init", "--fan-in", "10", "--kernel-size", "3", "--in-channels", "16"], "--fan-in"),
    (["init", "--scheme", "fractional", "--s", "3", "--fan-in", "4"], "--s"),
    (["regions", "count", "--widths", "2,5,1", "--networks", "0"], "--networks"),
    (["regions", "count", "--widths", "2,5,1", "--box", "3,1"], "--box"),
    (["regions", "count", "--widths", "2,5,1", "--line", "0,0;1,1"], "--line"),
    (["regions", "count", "--weights", "/nonexistent/w.npz"], "--weights"),
    (["validate", "--widths", "3,4,2"], "--widths"),
    (["validate", "--rank", "3"], "--rank"),
    (["validate", "--samples", "10"], "--samples"),
    (["validate", "--curve", "circle"], "--curve"),
    (["validate", "jacobian", *W, "--samples", "0"], "--samples"),
    (["validate", "jacobian", *W, "--input", "1,2"], "--input"),
    (["validate", "jacobian", *W, "--direction", "0,0,0"], "--direction"),
    (["validate", "jacobian", *W, "--curve", "circle"], "--curve"),
    (["validate", "ntk", *W, "--moment", "3"], "--moment"),
    (["validate", "gradient", *W, "--method", "chain"], "--method"),
    (["validate", "jacobian", *W, "--plot", "/nonexistent/x.png"], "--plot"),
    (["reproduce", "nosuchfigure"], "FIGURE"),
    (["reproduce", "--list", "jacobian"], "--list"),
    (["sweep", "show", "/nonexistent/results.sqlite"], "--db"),
]


def _status(argv) -> int:
    """The exit status of ``maxbounds ARGV`` run in this process (argparse's refusals exit by SystemExit)."""
    try:
        return main(argv)
    except SystemExit as exit_:
        return exit_.code


@pytest.mark.parametrize("argv,option", REFUSED, ids=[" ".join(a) for a, _ in REFUSED])
def test_refused_in_one_line(argv, option, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status = _status(argv + (["--quiet"] if argv[0] == "validate" else []))
    out, err = capsys.readouterr()
    assert status == 2, (status, err)
    assert out == "" and len(err.strip().splitlines()) == 1, err
    assert err.startswith("maxbounds") and "error:" in err and option in err, err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_the_options_of_one_mode_still_work_in_it(capsys, tmp_path, monkeypatch):
    """The refusals above do not refuse the same options where they apply."""
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "length", *W, "--curve", "circle", "--samples", "200", "--quiet"]) == 0
    assert main(["validate", "jacobian", *W, "--moment", "3", "--samples", "200", "--quiet"]) == 0
    assert main(["bounds", "jacobian", *W, "--moment", "3"]) == 0
    assert main(["init", "--scheme", "fractional", "--s", "1", "--fan-in", "4", "--rank", "3"]) == 0
    assert main(["init", "--kernel-size", "3", "--in-channels", "16"]) == 0
    assert main(["regions", "count", "--widths", "2,5,1", "--method", "line", "--line", "0,0;1,1", "--quiet"]) == 0
    assert main(["reproduce", "--list"]) == 0
    capsys.readouterr()


@pytest.mark.parametrize("argv", [
    ["validate", "jacobian", *W, "--samples", "100", "--quiet"],
    ["regions", "count", "--widths", "2,5,1", "--quiet"],
    ["landscape", "rank", "--width", "3", "--points", "4", "--dim", "2", "--samples", "20", "--quiet"],
])
def test_a_plot_onto_a_folder_is_refused_before_the_work(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "figure.png").mkdir()
    status = _status(argv + ["--plot", "figure.png"])
    out, err = capsys.readouterr()
    assert status == 2 and out == "" and "--plot" in err and "folder" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figure.png"]
    assert list((tmp_path / "figure.png").iterdir()) == []


def test_ctrl_c_during_a_sweep_is_one_line(tmp_path):
    """SIGINT to the whole process group (what Ctrl-C sends) once the workers run: one line, exit 130."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    config = Path(__file__).resolve().parents[1] / "docs" / "examples" / "sweep.toml"
    process = subprocess.Popen(
        [sys.executable, "-m", "maxbounds", "sweep", str(config), "--db", "r.sqlite", "--workers", "2", "--quiet"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    import sqlite3

    def finished() -> int:  # tasks done so far: the workers are computing once there is one
        try:
            with sqlite3.connect(f"file:{tmp_path / 'r.sqlite'}?mode=ro", uri=True, timeout=1) as db:
                return db.execute("SELECT COUNT(*) FROM tasks WHERE status = 'done'").fetchone()[0]
        except sqlite3.Error:
            return 0

    deadline = time.monotonic() + 120
    while finished() == 0 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=120)
    text = err.decode()
    if process.returncode == 0:
        pytest.skip("the sweep finished before the interrupt")
    assert process.returncode == 130, text
    assert len(text.strip().splitlines()) == 1 and "interrupted" in text and "Traceback" not in text, text


#: Legal but too large: refused in one line after at most a second or two of measured work.
TOO_LARGE = [
    (["validate", "jacobian", "--widths", "3,100000,2", "--samples", "1000000000"], "--samples"),
    (["validate", "jacobian", "--widths", "3,4,2", "--samples", "1000000000"], "--samples"),
    (["regions", "count", "--widths", "2,5,1", "--networks", "1000000000"], "--networks"),
    (["regions", "count", "--widths", "2,5,1", "--networks", "1000000000", "--method", "grid"], "--networks"),
    (["sweep", "docs/examples/sweep.toml", "--db", "r.sqlite", "--workers", "1000"], "--workers"),
]


@pytest.mark.parametrize("argv,option", TOO_LARGE, ids=[" ".join(a) for a, _ in TOO_LARGE])
def test_too_large_is_refused_in_one_line(argv, option, capsys, tmp_path, monkeypatch):
    import pathlib
    import time

    root = pathlib.Path(__file__).resolve().parents[1]
    argv = [str(root / a) if a.endswith(".toml") else a for a in argv]
    monkeypatch.chdir(tmp_path)
    start = time.monotonic()
    status = _status(argv + ["--quiet"])
    out, err = capsys.readouterr()
    assert status == 2 and out == "" and len(err.strip().splitlines()) == 1 and option in err, err
    assert list(tmp_path.iterdir()) == [] and time.monotonic() - start < 60


def test_the_time_budget_projects_from_small_first_chunks(monkeypatch):
    from maxbounds import _budget

    assert _budget.chunk_sizes(100, 10) == [1, 2, 4, 8] + [10] * 8 + [5]
    assert sum(_budget.chunk_sizes(10**9, 50)) == 10**9
    monkeypatch.setenv("MAXBOUNDS_MAX_HOURS", "0.5")
    assert _budget.budget_seconds() == 1800
    monkeypatch.setenv("MAXBOUNDS_MAX_HOURS", "-1")
    with pytest.raises(ValueError, match="MAXBOUNDS_MAX_HOURS"):
        _budget.budget_seconds()
    budget = _budget.TimeBudget(1000, "samples", "a run", limit=10.0)
    budget.advance(1)  # the first network (and the compilation) starts the clock
    budget.start -= 2.0  # two seconds spent on the next network: 2000 s projected
    with pytest.raises(ValueError, match="samples: a run would take about 33 minutes"):
        budget.advance(1)
    # a first piece slowed by compiling the kernels (a cold cache) is not projected onto the rest
    cold = _budget.TimeBudget(2000, "samples", "a run", limit=10.0)
    cold.start -= 45.0
    cold.advance(1)
    for _ in range(1999):
        cold.advance(1)
