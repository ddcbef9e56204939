"""Regression tests for the wrong outputs of issue 11 (each fails on the commit before the layer vocabulary)."""

import json

import numpy as np
import pytest

from maxbounds._validate import MaxboundsValueError
from maxbounds.architecture import Architecture
from maxbounds.cli.main import main
from maxbounds.constants import M
from maxbounds.laws import jacobian, regions

PER_LAYER = ["--widths", "3,8,8,2", "--rank", "3,5", "--c", "0.5,2", "--bias-var", "0.1,0.2,0.9"]


def _json(capsys, argv):
    assert main(argv + ["--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


# -- 1. a depth sweep of a per-layer spec flattened it to its first values ------------------------------
def test_depth_sweep_row_at_the_given_depth_is_the_command_without_sweep(capsys):
    # maxbounds bounds jacobian ... --sweep depth=3 printed a lower mean of 0.0062 against 0.0107 without it
    plain = _json(capsys, ["bounds", "jacobian", *PER_LAYER])
    (row,) = _json(capsys, ["bounds", "jacobian", *PER_LAYER, "--sweep", "depth=3"])["rows"]
    assert row["depth"] == 3
    assert row["mean_lower"] == plain["mean"]["lower"] and row["mean_upper"] == plain["mean"]["upper"]
    assert row["second_lower"] == plain["second_moment"]["lower"]
    assert row["second_upper"] == plain["second_moment"]["upper"]
    assert abs(row["mean_lower"] - 0.0107) < 1e-4


def test_depth_sweep_of_a_per_layer_spec_to_another_depth_is_refused_naming_the_option(capsys):
    assert main(["bounds", "jacobian", *PER_LAYER, "--sweep", "depth=2-4"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "--rank" in err


def test_depth_sweep_repeats_constant_per_layer_values_and_keeps_the_output_layer(capsys):
    argv = ["--widths", "3,8,8,2", "--rank", "3", "--c", "1/M", "--bias-var", "0.1,0.1,0.9"]
    rows = _json(capsys, ["bounds", "jacobian", *argv, "--sweep", "depth=3-4"])["rows"]
    deeper = _json(capsys, ["bounds", "jacobian", "--widths", "3,8,8,8,2", "--rank", "3", "--c", "1/M",
                            "--bias-var", "0.1,0.1,0.1,0.9"])
    assert [r["depth"] for r in rows] == [3, 4]
    assert rows[1]["mean_lower"] == deeper["mean"]["lower"]
    assert rows[1]["second_upper"] == deeper["second_moment"]["upper"]


def test_scale_sweep_row_is_the_command_with_that_scale(capsys):
    argv = ["--widths", "3,8,8,2", "--rank", "3,5", "--bias-var", "0.1,0.2,0.9"]
    rows = _json(capsys, ["bounds", "jacobian", *argv, "--sweep", "c=0.5,1/M"])["rows"]
    for row, c in zip(rows, ("0.5", "1/M")):
        plain = _json(capsys, ["bounds", "jacobian", *argv, "--c", c])
        assert row["mean_lower"] == plain["mean"]["lower"] and row["second_upper"] == plain["second_moment"]["upper"]


# -- 2. ReLUJacobianLaw took a convolutional architecture and used the wrong fan-in ---------------------
def test_relu_law_refuses_a_convolutional_architecture_naming_the_layer():
    from maxbounds.layers import NoLawError

    conv = Architecture.convolutional((1, 2), (3, 3), 2)
    with pytest.raises(NoLawError) as error:
        jacobian.ReLUJacobianLaw(conv)
    assert error.value.argument.startswith("layer 1 (maxout conv 3x3")
    assert "\n" not in str(error.value)


# -- 3. with_ kept a named scale evaluated at the old rank ----------------------------------------------
def test_with_re_evaluates_a_named_scale_at_the_new_rank():
    assert Architecture((2, 16, 1), ranks=3, c="1/M").with_(ranks=5).c == (1 / M(5),)


# -- 4. the default points of the simulated C_grad were drawn from seed 0 whatever the seed ------------
@pytest.mark.parametrize("seed", [3, 8])
def test_simulated_c_grad_uses_the_seed_for_its_default_points(seed):
    # n0 = 5: the default points are 125 uniform points in the box, drawn from the run's seed (documented);
    # two hidden layers, so that the gradients of the second layer's features depend on the point
    arch = Architecture((5, 4, 4, 1), ranks=2, c=1.0, bias_var=1.0)
    box, networks = (-1.0, 1.0), 8
    points = np.random.default_rng(seed).uniform(*box, size=(125, 5))
    bound = regions.region_bounds(arch, c_grad="simulated", box=box, networks=networks, seed=seed)
    estimate = regions.c_grad_estimate(arch, points, networks, seed)
    assert bound.c_grad == pytest.approx(estimate.value, rel=1e-12)


def test_default_points_are_reproducible_per_seed_and_differ_between_seeds():
    a, b, c = (regions.default_points(5, (-2.0, 2.0), seed=s) for s in (1, 1, 2))
    assert a.shape == (125, 5) and np.all((a >= -2) & (a <= 2))
    assert np.array_equal(a, b) and not np.any(a == c)
    with pytest.raises(MaxboundsValueError) as error:
        regions.default_points(5, seed=-1)
    assert error.value.argument == "seed"
