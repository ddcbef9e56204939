"""``maxbounds validate``: the default suite passes and reports honestly."""

import json

from maxbounds.cli.main import main
from maxbounds.validation import run_suite
from maxbounds.validation.checks import Check


def test_default_suite_passes_and_reports_every_check(capsys):
    status = main(["validate", "--format", "json", "--quiet"])
    payload = json.loads(capsys.readouterr().out)
    assert status == 0
    checks = payload["checks"]
    counts = payload["counts"]
    assert payload["passed"] is True and counts["failures"] == 0 and counts["passes"] == counts["checks"] == len(checks) > 150
    kinds = {check["method"].split(",")[0] for check in checks}
    assert {"identity", "closed form", "sympy closed form (orthant probabilities)", "simulated factors"} <= kinds
    assert any(m.startswith("Monte Carlo") for m in kinds)
    assert {"Numba chain", "Numba explicit", "NumPy reference", "two-sample z", "two-sample KS"} <= kinds
    assert set(payload["suites"]) == {"constants", "network", "formulas", "regions"}
    assert all(check["discrepancy"] <= check["tolerance"] for check in checks)
    # power: every validation check detects a 10% error, the statistical ones 2% at the median,
    # and the counts in the payload are those of the checks
    valid = [c for c in checks if c["role"] == "validation"]
    assert all(c["detectable"] is not None and c["detectable"] <= 0.10 for c in valid)
    assert all(c["detectable"] is None or c["detectable"] > 0.10 for c in checks if c["role"] == "consistency")
    statistical = sorted(c["detectable"] for c in valid if c["kind"] != "relative")
    assert len(statistical) > 60 and statistical[len(statistical) // 2] <= 0.02
    assert counts["validation"] == len(valid) and counts["consistency"] == len(checks) - len(valid)
    # the bound checks of the default network are far from sharp: they must be listed as consistency
    assert all(c["role"] == "consistency" for c in checks if c["name"].startswith("E[regions in"))


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


def _tiny_suites():
    def make(suite, i):
        return lambda: Check(suite, f"{suite} {i}", 1, 1.0, float(i), float(i), "m", "relative", 0.0, 1e-12)

    return {name: (lambda name=name: iter([make(name, i) for i in range(4)])) for name in ("a", "network", "b")}


def test_two_processes_give_the_checks_of_one_in_order(monkeypatch):
    from maxbounds.validation import checks as registry

    monkeypatch.setattr(registry, "_suites", _tiny_suites)
    ticks = []
    one = run_suite(jobs=1)
    two = run_suite(jobs=2, progress=lambda total: lambda: ticks.append(total))
    assert [c.name for c in two] == [c.name for c in one] == [f"{s} {i}" for s in ("a", "network", "b") for i in range(4)]
    assert len(ticks) == 12


def test_a_check_raising_in_the_second_process_is_reported(monkeypatch):
    import pytest

    from maxbounds.validation import checks as registry

    def boom():
        raise ZeroDivisionError("planted")

    suites = _tiny_suites()
    suites["b"] = lambda: iter([boom])
    monkeypatch.setattr(registry, "_suites", lambda: suites)
    # whichever process runs it, the error reaches the caller (from the second one with its traceback)
    with pytest.raises((RuntimeError, ZeroDivisionError), match="planted"):
        run_suite(jobs=2)
    suites["a"] = lambda: iter([boom])
    suites["b"] = _tiny_suites()["b"]
    with pytest.raises((RuntimeError, ZeroDivisionError), match="planted"):
        run_suite(jobs=2)


def test_power_of_the_check_kinds():
    import math

    import numpy as np

    from maxbounds.validation.checks import bounds_detectable, ks_detectable, z_detectable

    assert z_detectable(0.01, 2.0, 4.5) == 4.5 * 0.01 / 2.0
    assert math.isinf(z_detectable(0.01, 0.0, 4.5))
    # an estimate of 1 with bounds [0.5, 10]: it must move by half before the lower bound is crossed
    assert math.isclose(bounds_detectable(1.0, 0.01, 0.5, 10.0, 4.5), 0.5 + 0.045)
    # KS power against a scale error: the distance sup|F(x) - F(x/(1+d))| of a normal's |Z| at d is about
    # d * sup x phi(x) * 2 = d * 0.484, so a critical value of 0.00484 is reached near d = 1%
    sample = np.abs(np.random.default_rng(1).standard_normal(400_000))
    assert 0.009 < ks_detectable(sample, 0.00484) < 0.011
    check = Check("s", "n", 1, 1.0, 1.0, 1.0, "m", "z", 0.0, 4.5, detectable=0.2)
    assert check.role == "consistency" and check.as_dict()["detectable"] == 0.2
    assert Check("s", "n", 1, 1.0, 1.0, 1.0, "m", "relative", 0.0, 1e-12).role == "validation"
    assert Check("s", "n", 1, 1.0, 1.0, 1.0, "m", "z", 0.0, 4.5).as_dict()["detectable"] is None


def _formula_checks():
    from maxbounds.validation import formulas

    return {check.name: check for check in (task() for task in formulas.checks())}


def test_the_formulas_suite_passes_and_sees_a_dropped_term(monkeypatch):
    """The NTK bound without its bias term (+1), and a Jacobian moment 3% off, fail their formula checks."""
    import numpy as np

    from maxbounds.laws import gradients, jacobian

    clean = _formula_checks()
    assert all(c.passed for c in clean.values()) and len(clean) == 24
    assert max(c.power for c in clean.values()) < 0.05
    original_log_moment = jacobian.JacobianBound.log_moment
    monkeypatch.setattr(jacobian.JacobianBound, "log_moment",
                        lambda self, t: original_log_moment(self, t) + (np.log(1.03) if t == 1 else 0.0))
    real_logaddexp = np.logaddexp

    class _LogAddExp:  # np.logaddexp(log_x, 0.0) -> log_x: the NTK's "+ 1" dropped
        reduce = staticmethod(real_logaddexp.reduce)

        def __call__(self, a, b):
            return a if b == 0.0 else real_logaddexp(a, b)

    class _NoBias:
        logaddexp = _LogAddExp()

        def __getattr__(self, name):
            return getattr(np, name)

    monkeypatch.setattr(gradients, "np", _NoBias())
    faulty = _formula_checks()
    failed = {name for name, c in faulty.items() if not c.passed}
    assert {"E[B_lo^1] (Jacobian bound)", "E[B_up^1] (Jacobian bound)", "NTK bound (lower)", "NTK bound (upper)"} <= failed
    assert "E[B_lo^2] (Jacobian bound)" not in failed


def test_the_forked_process_does_not_inherit_a_dead_thread_pool(monkeypatch):
    """A thread pool made before the fork has no threads in the child: the child must start its own."""
    import numpy as np

    from maxbounds.architecture import Architecture
    from maxbounds.simulate import chain_samples
    from maxbounds.validation import checks as registry

    arch = Architecture((3, 8, 2), ranks=3)
    x, u = np.full(3, 1 / np.sqrt(3)), np.eye(3)[0]
    chain_samples(arch, x, u, 1000, 0)  # the pool of this process exists now (where threads > 1)

    def simulate():
        value = float(chain_samples(arch, x, u, 1000, 1).jacobian_sq_norm.mean())
        return Check("t", "chain in the child", 3, 1.0, value, value, "m", "relative", 0.0, 1e-12)

    suites = {"a": lambda: iter([simulate]), "network": lambda: iter([simulate])}
    monkeypatch.setattr(registry, "_suites", lambda: suites)
    assert [c.name for c in run_suite(jobs=2)] == ["chain in the child"] * 2
