"""``maxbounds validate``: the default suite passes and reports honestly."""

import json

from maxbounds.cli.main import main
from maxbounds.validation import run_suite
from maxbounds.validation.checks import Check


def test_default_suite_passes_and_reports_every_check(capsys):
    status = main(["validate", "--format", "json", "--quiet"])
    payload = json.loads(capsys.readouterr().out)
    assert status == 0
    assert payload["failed"] == 0 and payload["passed"] == len(payload["checks"]) > 50
    kinds = {check["method"].split(",")[0] for check in payload["checks"]}
    assert {"identity", "closed form", "sympy closed form (orthant probabilities)"} <= kinds
    assert any(m.startswith("Monte Carlo") for m in kinds)
    assert {"chain sampler", "explicit sampler", "two-sample KS"} <= kinds
    assert set(payload["suites"]) == {"constants", "network", "regions"}
    assert all(check["discrepancy"] <= check["tolerance"] for check in payload["checks"])


def test_a_failing_check_makes_the_command_fail(capsys, monkeypatch):
    bad = Check("constants", "deliberately wrong", 2, 1.0, 1.0, 2.0, "test", "relative", 0.5, 1e-12)
    monkeypatch.setattr("maxbounds.cli.validate_cmd.run_suite", lambda names, progress=None: [bad])
    status = main(["validate", "--quiet"])
    out = capsys.readouterr().out
    assert status == 1 and "FAIL" in out and "1 failed" in out


def test_run_suite_calls_progress_once_per_check():
    calls = []

    def progress(total):
        calls.append(total)
        return lambda: calls.append("tick")

    from maxbounds.validation import checks as registry

    original = registry._suites
    try:
        registry._suites = lambda: {"tiny": lambda: iter([lambda: Check("tiny", "x", 1, 1.0, 1.0, 1.0, "m", "relative", 0.0, 1e-12)] * 3)}
        results = run_suite(["tiny"], progress=progress)
    finally:
        registry._suites = original
    assert len(results) == 3 and calls == [3, "tick", "tick", "tick"]
