"""Issue 16, defect 1: deep networks (depth 10^4), ``--c 1e-320`` and a zero input from the command line.

Values outside the double range are printed in log form (a decimal
mantissa-exponent string in tables; ``null`` plus a finite ``log10_<key>`` in
JSON), never a traceback; ``validate`` refuses such a check in one line.
"""

import json
import math
import re

import numpy as np
import pytest

from maxbounds.architecture import Architecture
from maxbounds.cli.bounds_cmd import log10_text
from maxbounds.cli.main import main
from maxbounds.laws import exact, gradients, jacobian

DEEP = ["--widths", "10,10x10000,10", "--rank", "3"]
#: Deep enough that every quantity leaves the double range (activation lengths grow by M(3) per layer:
#: 10^(0.105 L) > 1e308 needs L > 2950), at a fraction of the time of depth 10^4.
DEEPISH = ["--widths", "10,10x4000,10", "--rank", "3"]
TINY_C = ["--widths", "3,5,1", "--c", "1e-320"]
LN10 = math.log(10)


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def deep_arch(depth=10000):
    return Architecture.parse(f"10,10x{depth},10", "3", "1", "1", "0")


def x_of(arch):
    return np.full(arch.n_in, 1 / math.sqrt(arch.n_in))


def assert_log_form(entry, key, log_value):
    """``entry[key]`` is null and ``entry["log10_" + key]`` the finite base-10 log ``log_value / ln 10``."""
    assert entry[key] is None
    assert math.isfinite(entry["log10_" + key])
    assert entry["log10_" + key] == pytest.approx(log_value / LN10, rel=1e-12, abs=1e-9)


def assert_value(entry, key, log_value):
    """Either the plain value (within the double range) or its log form, agreeing with ``log_value``."""
    if entry[key] is None:
        assert_log_form(entry, key, log_value)
    elif log_value == -math.inf:
        assert entry[key] == 0.0
    else:
        assert entry[key] == pytest.approx(math.exp(log_value), rel=1e-12)


QUANTITIES = ("jacobian", "activation", "gradient", "ntk", "length")


@pytest.mark.parametrize("quantity", QUANTITIES)
@pytest.mark.parametrize("arch_args", [DEEPISH, TINY_C], ids=["depth4000", "c1e-320"])
def test_table_prints_log_form_without_traceback(capsys, quantity, arch_args):
    status, out, err = run(capsys, "bounds", quantity, *arch_args)
    assert status == 0 and err == ""
    assert "Traceback" not in out and "log_ variant" not in out
    exponents = [int(e) for line in out.splitlines()[1:] for e in re.findall(r"\de(-?\d+)\b", line)]
    if arch_args is DEEPISH or quantity != "ntk":  # with c = 1e-320 every NTK term stays near n_L (||x||^2 + 1)
        assert any(abs(e) > 308 for e in exponents)  # a value outside the double range, in log form


def test_jacobian_json_has_log10_keys_agreeing_with_the_api(capsys):
    status, out, _ = run(capsys, "bounds", "jacobian", *DEEP, "--format", "json")
    assert status == 0
    result = json.loads(out)
    logs = jacobian.jacobian_moment_bounds(deep_arch(), log=True)
    for key in ("mean", "second_moment"):
        for side in ("lower", "upper"):
            assert_log_form(result[key], side, logs[key][side])
    assert result["variance"]["lower"] == 0.0  # the exact lower bound 0, not a log
    assert_log_form(result["variance"], "upper", logs["variance"]["upper"])
    # the table prints the same number as a mantissa-exponent string
    status, table, _ = run(capsys, "bounds", "jacobian", *DEEP)
    assert log10_text(result["mean"]["log10_lower"]) in table
    assert log10_text(result["mean"]["log10_lower"]).endswith("e-7149")


def test_activation_json(capsys):
    status, out, _ = run(capsys, "bounds", "activation", *DEEPISH, "--format", "json")
    assert status == 0
    layers = json.loads(out)["layers"]
    arch = deep_arch(4000)
    log_mean, log_var = exact.activation_length_mean_var(arch, x_of(arch), log=True)
    assert len(layers) == arch.depth + 1
    for row in layers[:: 500] + layers[-1:]:
        assert_value(row, "mean", log_mean[row["layer"]])
        assert_value(row, "variance", log_var[row["layer"]])
    assert any(row["mean"] is None for row in layers)


def test_gradient_json(capsys):
    status, out, _ = run(capsys, "bounds", "gradient", *DEEPISH, "--format", "json")
    assert status == 0
    layers = json.loads(out)["layers"]
    arch = deep_arch(4000)
    api = gradients.gradient_bounds(arch, x_of(arch), log=True)
    for row, ref in list(zip(layers, api))[:: 997]:
        for key in ("weight_nonzero", "weight_per_k", "weight_layer_sum", "bias_nonzero", "bias_per_k"):
            for side in ("lower", "upper"):
                assert_value(row[key], side, ref[key][side])
    assert layers[0]["weight_nonzero"]["lower"] is None


def test_ntk_json(capsys):
    status, out, _ = run(capsys, "bounds", "ntk", *DEEPISH, "--format", "json")
    assert status == 0
    result = json.loads(out)
    arch = deep_arch(4000)
    api = gradients.ntk_bounds(arch, x_of(arch), log=True)
    for side in ("lower", "upper"):
        assert_log_form(result, side, api[side])
    for row, ref in list(zip(result["layers"], api["layers"]))[:: 1111]:
        for side in ("lower", "upper"):
            assert_value(row, side, ref[side])


def test_length_json(capsys):
    status, out, _ = run(capsys, "bounds", "length", *DEEPISH, "--format", "json")
    assert status == 0
    result = json.loads(out)
    api = gradients.length_bounds(deep_arch(4000), log=True)
    for side in ("lower", "upper"):
        assert_log_form(result["mean"], side, api["mean"][side])
    assert_log_form(result["second_moment"], "upper", api["second_moment"]["upper"])


def test_tiny_c_json(capsys):
    status, out, _ = run(capsys, "bounds", "jacobian", *TINY_C, "--relu", "--format", "json")
    assert status == 0
    result = json.loads(out)
    arch = Architecture.parse("3,5,1", "2", "1e-320", "1", "0")
    logs = jacobian.jacobian_moment_bounds(arch, log=True)
    assert_log_form(result["mean"], "lower", logs["mean"]["lower"])
    assert_log_form(result["mean"], "upper", logs["mean"]["upper"])
    assert_log_form(result["relu_reference"], "mean", jacobian.ReLUJacobianLaw(arch).log_mean())


def test_zero_input_gives_exact_zeros(capsys):
    status, out, err = run(capsys, "bounds", "gradient", "--widths", "3,5,1", "--input", "0,0,0", "--format", "json")
    assert status == 0 and err == ""
    assert "Infinity" not in out and "NaN" not in out
    layers = json.loads(out)["layers"]
    for row in layers:
        for key in ("weight_nonzero", "weight_per_k", "weight_layer_sum"):
            assert row[key] == {"lower": 0.0, "upper": 0.0}
        assert row["bias_nonzero"]["lower"] > 0  # the bias gradient does not depend on the input
    status, table, err = run(capsys, "bounds", "gradient", "--widths", "3,5,1", "--input", "0,0,0")
    assert status == 0 and err == ""
    weight_rows = [line.split() for line in table.splitlines() if "weight_" in line]
    assert weight_rows and all(cells[-2:] == ["0", "0"] for cells in weight_rows)


def test_in_range_values_are_unchanged(capsys):
    # shallow networks keep plain numbers and no log10_ keys
    status, out, _ = run(capsys, "bounds", "jacobian", "--widths", "3,8,8,2", "--rank", "3", "--format", "json")
    assert status == 0
    assert "log10_" not in out
    result = json.loads(out)
    arch = Architecture.parse("3,8,8,2", "3", "1", "1", "0")
    plain = jacobian.jacobian_moment_bounds(arch)
    assert result["mean"] == plain["mean"] and result["second_moment"] == plain["second_moment"]


def test_sweep_over_depth_prints_log_form(capsys):
    status, out, _ = run(capsys, "bounds", "jacobian", "--widths", "3,5,1", "--sweep", "depth=2,3000",
                         "--format", "json")
    assert status == 0
    rows = json.loads(out)["rows"]
    assert rows[-1]["mean_lower"] is None and math.isfinite(rows[-1]["log10_mean_lower"])
    status, table, _ = run(capsys, "bounds", "jacobian", "--widths", "3,5,1", "--sweep", "depth=2,3000")
    assert status == 0 and log10_text(rows[-1]["log10_mean_lower"]) in table


@pytest.mark.parametrize("quantity", QUANTITIES)
@pytest.mark.parametrize("arch_args", [DEEPISH, TINY_C], ids=["depth4000", "c1e-320"])
def test_validate_refuses_in_one_line(capsys, quantity, arch_args):
    status, out, err = run(capsys, "validate", quantity, *arch_args, "--quiet", "--samples", "100")
    if arch_args is TINY_C and quantity == "ntk":  # its theory stays within the double range: the check runs
        assert status in (0, 1) and "Traceback" not in err
        return
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("maxbounds validate: error:")
    assert "double-precision range" in err and "Traceback" not in err


def test_validate_sweep_refuses_in_one_line(capsys):
    status, out, err = run(capsys, "validate", "jacobian", "--widths", "3,5,1", "--sweep", "depth=2,3000",
                           "--quiet", "--samples", "100")
    assert status == 2 and err.count("\n") == 1


def test_main_turns_an_escaping_out_of_range_error_into_one_line(capsys, monkeypatch):
    from maxbounds.cli import bounds_cmd
    from maxbounds.constants import OutOfRangeError

    def boom(*args, **kwargs):
        raise OutOfRangeError("the mean is about 1e-7149, outside the double-precision range; use the log_ variant")

    monkeypatch.setattr(bounds_cmd, "compute", boom)
    status, out, err = run(capsys, "bounds", "jacobian", "--widths", "3,5,1")
    assert status == 2
    assert err == "maxbounds bounds: error: the mean is about 1e-7149, outside the double-precision range\n"


def test_main_keeps_other_arithmetic_errors(capsys, monkeypatch):
    from maxbounds.cli import bounds_cmd

    def bug(*args, **kwargs):
        raise ZeroDivisionError("a genuine bug")

    monkeypatch.setattr(bounds_cmd, "compute", bug)
    with pytest.raises(ZeroDivisionError):
        main(["bounds", "jacobian", "--widths", "3,5,1"])


def test_log10_text():
    assert log10_text(math.log10(1.3) - 7149) == "1.3e-7149"
    assert log10_text(400.0) == "1e400"
    assert log10_text(math.log10(9.9999999) + 500) == "1e501"
