"""``maxbounds validate QUANTITY``: one estimator against its theory."""

import json
import os

import pytest

from maxbounds.cli.main import main
from maxbounds.report.json import dumps

ARCH = ["--widths", "3,8,8,8,2", "--rank", "3", "--c", "0.8", "--bias-var", "0.3"]


def run(capsys, argv):
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("method", ["chain", "explicit"])
def test_jacobian_inside_bounds_json(capsys, method):
    # the acceptance architecture of the Monte Carlo issue; verdicts at 4.5 standard errors
    code, out, _ = run(capsys, ["validate", "jacobian", *ARCH, "--samples", "20000", "--seed", "3",
                                "--method", method, "--format", "json"])
    result = json.loads(out)
    assert code == 0 and result["passed"]
    assert {"estimate", "bounds", "exact", "verdict"} <= set(result["mean"])
    assert result["mean"]["verdict"] == "inside" and result["mean"]["exact"] is None


def test_rank_one_is_compared_with_the_exact_law(capsys):
    code, out, _ = run(capsys, ["validate", "jacobian", "--widths", "3,8,8,2", "--rank", "1", "--samples", "50000",
                                "--format", "json"])
    mean = json.loads(out)["mean"]
    assert code == 0 and mean["exact"] is not None and mean["verdict"] == "agrees"  # |z| <= 4.5


def test_activation_and_cosine_and_plot(capsys, tmp_path):
    for quantity in ("activation", "cosine"):
        path = tmp_path / f"{quantity}.png"
        code, out, _ = run(capsys, ["validate", quantity, *ARCH, "--samples", "20000", "--plot", str(path)])
        assert code == 0 and "passed" in out
        assert path.stat().st_size > 1000 and os.listdir(tmp_path).count(path.name) == 1


def test_same_seed_same_numbers(capsys):
    argv = ["validate", "jacobian", *ARCH, "--samples", "5000", "--seed", "9", "--format", "json"]
    first = run(capsys, argv)[1]
    assert run(capsys, argv)[1] == first
    other = run(capsys, argv[:-4] + ["--seed", "10", "--format", "json"])[1]
    assert other != first


@pytest.mark.parametrize(
    "argv, option",
    [
        (["validate", "jacobian"], "--widths"),
        (["validate", "jacobian", "--widths", "3,8,2", "--direction", "0,0,0"], "--direction"),
        (["validate", "jacobian", "--widths", "3,8,2", "--input", "1,2"], "--input"),
        (["validate", "jacobian", "--widths", "3,8,2", "--samples", "0"], "--samples"),
        (["validate", "jacobian", "--widths", "3,8,2", "--seed", "-1"], "--seed"),
        (["validate", "jacobian", "--widths", "3,8,2", "--plot", "/no/such/folder/x.png"], "--plot"),
        (["validate", "jacobian", "--widths", "3,8,2", "--plot", "out.pdf"], "--plot"),
        (["validate", "jacobian", "--widths", "3,8,2", "--c", "0"], "--c"),
    ],
)
def test_bad_input(capsys, argv, option):
    code, out, err = run(capsys, argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and option in err


@pytest.mark.parametrize("quantity", ["gradient", "ntk", "length"])
def test_gradient_and_ntk_inside_bounds(capsys, tmp_path, quantity):
    path = tmp_path / "g.png"
    code, out, _ = run(capsys, ["validate", quantity, *ARCH, "--samples", "20000", "--format", "json",
                                "--plot", str(path)])
    result = json.loads(out)
    assert code == 0 and result["passed"] and result["method"] == "explicit" and path.exists()


def test_gradient_needs_explicit_networks(capsys):
    code, out, err = run(capsys, ["validate", "gradient", *ARCH, "--method", "chain"])
    assert code == 2 and "--method" in err and err.count("\n") == 1


def test_sweep_over_depth_with_plot(capsys, tmp_path):
    path = tmp_path / "sweep.png"
    code, out, _ = run(capsys, ["validate", "jacobian", "--widths", "3,8,2", "--rank", "5", "--c", "1/M",
                                "--sweep", "depth=2-5", "--samples", "5000", "--format", "json", "--plot", str(path)])
    result = json.loads(out)
    assert code == 0 and result["passed"] and [r["depth"] for r in result["rows"]] == [2, 3, 4, 5]
    assert all(r["lower"] <= r["upper"] for r in result["rows"]) and path.stat().st_size > 1000


def test_sweep_over_scales_for_the_ntk(capsys):
    code, out, _ = run(capsys, ["validate", "ntk", "--widths", "3,8,8,2", "--rank", "3", "--sweep", "c=0.5,1/M",
                                "--samples", "5000", "--format", "json"])
    assert code == 0 and len(json.loads(out)["rows"]) == 2


def test_sweep_refuses_layerwise_quantities(capsys):
    code, _, err = run(capsys, ["validate", "activation", "--widths", "3,8,2", "--sweep", "depth=2-4"])
    assert code == 2 and "--sweep" in err


def test_fractional_and_higher_moments_of_the_jacobian(capsys):
    code, out, _ = run(capsys, ["validate", "jacobian", *ARCH, "--samples", "20000", "--moment", "0.5", "3",
                                "--format", "json"])
    result = json.loads(out)
    assert code == 0 and result["moment_0.5"]["verdict"] == "inside" and result["moment_3"]["verdict"] == "inside"
    assert result["moment_0.5"]["bounds"]["lower"] < result["moment_0.5"]["estimate"]["mean"]


def test_length_along_a_circle(capsys):
    code, out, _ = run(capsys, ["validate", "length", *ARCH, "--curve", "circle", "--samples", "1000",
                                "--format", "json"])
    result = json.loads(out)
    assert code == 0 and result["passed"] and result["curve"] == "circle"


def test_circle_needs_two_input_dimensions(capsys):
    code, _, err = run(capsys, ["validate", "length", "--widths", "1,4,1", "--curve", "circle", "--samples", "10"])
    assert code == 2 and err.count("\n") == 1


@pytest.mark.parametrize("quantity", ["jacobian", "activation", "cosine", "gradient", "ntk", "length"])
def test_chunks_for_the_progress_bar_do_not_change_results(quantity, monkeypatch):
    # every sampler draws network s from (seed, s) alone, so a run split into chunks equals one call
    import numpy as np

    from maxbounds.architecture import Architecture
    from maxbounds.validation import single

    arch = Architecture((3, 8, 8, 2), ranks=3, c=0.8, bias_var=0.3)
    x, u = np.ones(3) / np.sqrt(3), np.array([1.0, 0.0, 0.0])
    monkeypatch.setattr(single, "CHUNKS", 1)
    whole = single.run(quantity, arch, x, u, 300, 5, "chain" if quantity in ("jacobian", "cosine") else "explicit")
    monkeypatch.setattr(single, "CHUNKS", 7)
    ticks = []
    split = single.run(quantity, arch, x, u, 300, 5, "chain" if quantity in ("jacobian", "cosine") else "explicit",
                       advance=ticks.append)
    assert dumps(whole, sort_keys=True) == dumps(split, sort_keys=True)
    assert sum(ticks) == single.work(quantity, 300) and len(ticks) > 1


class _Scaled:
    """A samples object whose ||J u||^2 and ||x_l||^2 are off by a factor (a planted sampler fault)."""

    def __init__(self, inner, factor):
        self._inner, self._factor = inner, factor

    def __getattr__(self, name):
        value = getattr(self._inner, name)
        return value * self._factor if name in ("jacobian_sq_norm", "sq_norm_x") else value


def test_the_independent_sampler_catches_a_fault_the_bounds_cannot_see(monkeypatch):
    """A 5% error in the explicit sampler stays inside the bounds but not beside the chain."""
    from maxbounds.architecture import Architecture
    from maxbounds.validation import single, validate

    arch = Architecture((3, 8, 8, 2), ranks=3)
    clean = validate("jacobian", arch, samples=40_000, seed=3)
    assert clean["passed"] and [r["verdict"] for r in clean["independent"]["rows"]] == ["agrees", "agrees"]
    assert clean["independent"]["method"] == "explicit"
    assert all(r["check"].min_detectable < 0.05 for r in clean["independent"]["rows"])
    original = single.explicit_samples
    monkeypatch.setattr(single, "explicit_samples", lambda *a, **k: _Scaled(original(*a, **k), 1.05 ** 2))
    faulty = validate("jacobian", arch, samples=40_000, seed=3)
    assert all(faulty[key]["verdict"] == "inside" for key in ("mean", "second_moment"))
    assert not faulty["passed"] and faulty["independent"]["rows"][0]["verdict"] == "DISAGREES"
    faulty = validate("activation", arch, samples=40_000, seed=3)
    assert not faulty["passed"]
    assert all(r["verdict"] == "DISAGREES" for r in faulty["independent"]["rows"])
