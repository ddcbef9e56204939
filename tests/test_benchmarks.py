"""Correctness of the benchmark contenders (no timing assertions).

Each contender must sample the law of maxbounds' explicit sampler: on tiny
networks the sample means of ||J u||^2 agree within 4.5 combined standard
errors (two-sided normal false-failure rate 6.8e-6 per comparison; seeds
fixed).  The random-number counts are checked against a direct count of the
draws, and the runner's JSON has the documented schema.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from benchmarks import cases, compare
from benchmarks.contenders import numpy_loop, projected, rng_limit
from maxbounds.architecture import Architecture
from maxbounds.simulate import conv_jacobian_samples, explicit_samples
from maxbounds.simulate.conv import network_weights

Z = 4.5
DENSE = Architecture.parse("4,6x2,2", rank="3", c="1/M", bias_var="0.2")
CONV = Architecture.convolutional(channels=(2, 3, 2), image=(5, 4), n_out=2, ranks=3, c="1/M")


def _agree(a, b):
    se = math.hypot(a.std(ddof=1) / math.sqrt(a.size), b.std(ddof=1) / math.sqrt(b.size))
    assert abs(a.mean() - b.mean()) <= Z * se, (a.mean(), b.mean(), se)


def _dense_inputs():
    return np.array([0.3, -1.0, 0.5, 2.0]), np.array([1.0, 1.0, 0.0, -2.0])


def test_numpy_loop_has_the_law_of_the_explicit_sampler():
    x, u = _dense_inputs()
    ours = explicit_samples(DENSE, x, u, 4000, 11).jacobian_sq_norm
    _agree(numpy_loop.dense_samples(DENSE, x, u, 4000, 12), ours)


def test_numpy_loop_detects_a_wrong_scale():
    """The agreement test has power: doubling c_1 (a 2x larger mean) is rejected."""
    x, u = _dense_inputs()
    ours = explicit_samples(DENSE, x, u, 4000, 11).jacobian_sq_norm
    theirs = numpy_loop.dense_samples(DENSE.with_(c=2 * DENSE.scales()[0]), x, u, 4000, 12)
    with pytest.raises(AssertionError):
        _agree(theirs, ours)


def test_projected_prototype_has_the_law_of_the_explicit_sampler():
    x, u = _dense_inputs()
    arch = DENSE.with_(bias_var=0.0)
    _agree(projected.dense_samples(arch, x, u, 20000, 31), explicit_samples(arch, x, u, 20000, 32).jacobian_sq_norm)


def test_numpy_conv_layer_equals_the_numba_layer_on_the_same_weights():
    """Same weights (replayed from the sampler's stream), same ||J u||^2 to rounding."""
    x, u = cases.conv_inputs(CONV)
    weights, biases = network_weights(CONV, 5, 3)
    xv = np.stack([x, u])
    for weight in weights[:-1]:
        xv = numpy_loop.conv_layer(xv, weight)
    expected = float(np.sum((weights[-1] @ xv[1].reshape(-1)) ** 2))
    got = conv_jacobian_samples(CONV, x, u, 4, 5).jacobian_sq_norm[3]
    assert got == pytest.approx(expected, rel=1e-12)


def test_numpy_conv_loop_has_the_law_of_the_conv_sampler():
    x, u = cases.conv_inputs(CONV)
    _agree(numpy_loop.conv_samples(CONV, x, u, 3000, 2), conv_jacobian_samples(CONV, x, u, 3000, 3).jacobian_sq_norm)


def test_torch_batched_has_the_law_of_the_explicit_sampler():
    torch = pytest.importorskip("torch")
    from benchmarks.contenders import torch_batched

    x, u = _dense_inputs()
    ours = explicit_samples(DENSE, x, u, 4000, 21).jacobian_sq_norm
    # a small max_bytes forces several batches
    _agree(torch_batched.dense_samples(DENSE, x, u, 4000, 22, max_bytes=20_000), ours)
    _agree(torch_batched.dense_samples(DENSE, x, u, 4000, 23, dtype=torch.float32), ours)


def test_torch_conv_has_the_law_of_the_conv_sampler():
    pytest.importorskip("torch")
    from benchmarks.contenders import torch_batched

    x, u = cases.conv_inputs(CONV)
    ours = conv_jacobian_samples(CONV, x, u, 3000, 3).jacobian_sq_norm
    _agree(torch_batched.conv_samples(CONV, x, u, 3000, 4, max_bytes=50_000), ours)


def test_random_number_counts():
    """Counted independently: weights per layer (and biases) of the explicit sampler, units of the chain."""
    arch = Architecture.parse("3,5,7,2", rank="2,4", bias_var="0,0.1,0")
    assert rng_limit.explicit_count(arch) == 5 * 2 * 3 + 7 * 4 * (5 + 1) + 2 * 7
    assert rng_limit.chain_count(arch) == 5 + 7
    # conv: weights C K C' k^2 per layer, then the dense output layer
    assert rng_limit.explicit_count(CONV) == 3 * 3 * 2 * 9 + 2 * 3 * 3 * 9 + 2 * 2 * 5 * 4


def test_limit_kernels_draw_what_they_say():
    """Sums of N(0,1) draws have variance ``count``; sums of U(0,1) have mean ``count/2``."""
    count, n = 50, 4000
    for sums in (rng_limit.numba_xoshiro(count, n), rng_limit.numba_builtin(count, n)):
        assert abs(sums.mean()) <= Z * math.sqrt(count / n)
        # the sample variance of n normal sums: standard error count*sqrt(2/(n-1))
        assert abs(sums.var(ddof=1) - count) <= Z * count * math.sqrt(2 / (n - 1))
    sums = rng_limit.numba_xoshiro(count, n, kind="uniform")
    assert abs(sums.mean() - count / 2) <= Z * math.sqrt(count / 12 / n)
    assert math.isfinite(rng_limit.numpy_sfc64(count, 10, threads=2))


def test_runner_json_schema(tmp_path, capsys):
    out = tmp_path / "result.json"
    assert compare.main(["--case", "tiny", "--case", "tiny-constants", "--quick", "--format", "json",
                         "--repeats", "1", "--out", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert json.loads(out.read_text()) == printed
    assert set(printed) == {"machine", "threads", "cases", "targets"}
    names = {row["name"] for row in printed["cases"]}
    assert names == {"tiny", "tiny-constants"}
    for row in printed["cases"]:
        assert {"name", "contender", "seconds", "ratio"} <= set(row)
        assert row["seconds"] > 0 and row["ratio"] > 0
        assert row["agrees"] in (None, True)
    references = [row for row in printed["cases"] if row["ratio"] == 1.0]
    assert {row["name"] for row in references} == names
    for target in printed["targets"]:
        assert {"name", "value", "required", "at_least", "met"} == set(target)


def test_suite_case_times_the_command_and_the_suite_and_sets_its_target():
    result = compare.run(["tiny-suite"], quick=True, repeats=1)
    whole, alone = result["cases"]
    assert "whole command" in whole["contender"] and "suite alone" in alone["contender"]
    assert 0 < alone["seconds"] < whole["seconds"]  # the process start and imports come on top of the suite
    assert "0 failed" in whole["note"]
    (target,) = result["targets"]
    assert target["required"] == 15.0 and not target["at_least"] and target["value"] == alone["seconds"]


def test_runner_rejects_bad_options(capsys):
    with pytest.raises(SystemExit) as info:
        compare.main(["--case", "no-such-case"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        compare.main(["--threads", "0"])
    assert info.value.code == 2
    assert "--threads" in capsys.readouterr().err


def test_scaling_fit_recovers_a_power_law():
    from benchmarks import scaling

    x = np.array([2.0, 5.0, 11.0, 40.0])
    b, log_a = scaling.fit_exponent(x, 0.3 * x**1.7)
    assert b == pytest.approx(1.7, rel=1e-12)
    assert log_a == pytest.approx(math.log(0.3), rel=1e-12)


def test_scaling_measure_and_plot(tmp_path):
    from benchmarks import scaling

    result = scaling.measure({"K": [2, 3]}, repeats=1)
    assert result["K"]["values"] == [2, 3]
    for method in ("explicit", "chain"):
        assert len(result["K"][method]["seconds"]) == 2
        assert all(t > 0 for t in result["K"][method]["seconds"])
        assert math.isfinite(result["K"][method]["exponent"])
    path = tmp_path / "scaling.png"
    scaling.plot(result, str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["scaling.png"]  # no temporary file left behind
