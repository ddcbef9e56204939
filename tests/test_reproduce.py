"""``maxbounds reproduce``: every figure's data in a tiny setting, checked against independent theory, and the CLI.

Statistical checks compare an estimate with a reference at ``|z| <= 4.5``
(``Z_TOLERANCE``): one comparison fails by chance with probability about
6.8e-6 under the normal approximation, so a test making ``m`` comparisons
fails falsely with probability at most ``m * 6.8e-6`` (union bound); ``m`` is
given beside each check.  Seeds are fixed, so each run is reproducible.
"""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest

from maxbounds._validate import MaxboundsValueError
from maxbounds.architecture import Architecture
from maxbounds.cli.main import main
from maxbounds.constants import M
from maxbounds.estimators import Z_TOLERANCE
from maxbounds.laws.exact import activation_length_mean_var
from maxbounds.report import output
from maxbounds.reproduce import (
    FIGURES,
    activation_length,
    cosines,
    gradients,
    jacobian_grid,
    max_moment,
    reproduce,
)
from maxbounds.simulate import gradient_samples


def _z(estimate, reference, stderr):
    return (np.asarray(estimate, float) - np.asarray(reference, float)) / np.asarray(stderr, float)


# ---------------------------------------------------------------------------
# figure 1: gradients
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fc_data():
    return gradients.compute(seed=0, size="tiny")


def test_gradients_shape_and_quartiles(fc_data):
    depths = fc_data["depths"]
    assert [c["label"] for c in fc_data["curves"]] == [label for label, _ in gradients.c_values()]
    for curve in fc_data["curves"]:
        for key in ("mean", "stderr", "q25", "median", "q75", "lower", "upper"):
            assert len(curve[key]) == len(depths)
        assert np.all(np.array(curve["q25"]) <= np.array(curve["median"]))
        assert np.all(np.array(curve["median"]) <= np.array(curve["q75"]))
        assert np.all(np.array(curve["lower"]) <= np.array(curve["upper"]))


def test_gradient_means_respect_the_bounds(fc_data):
    # 7 c values x 2 depths x 2 sides = 28 one-sided comparisons: false failure < 2e-4
    for curve in fc_data["curves"]:
        below = _z(curve["lower"], curve["mean"], curve["stderr"])
        above = _z(curve["mean"], curve["upper"], curve["stderr"])
        assert np.all(below <= Z_TOLERANCE), (curve["label"], below)
        assert np.all(above <= Z_TOLERANCE), (curve["label"], above)


def test_figure_entries_are_those_of_the_numba_gradient_sampler():
    """The figure's entries (NumPy reference on the Numba networks) sum to gradient_samples' layer sums."""
    arch = Architecture((2, 2, 2, 2, 1), ranks=5, c=1.0, c_out=1.0, bias_var=0.0)
    x = np.array([0.6, -0.8])
    g = gradient_samples(arch, x, 50, seed=11)
    counts = np.array(arch.widths[1:]) * np.array(arch.widths[:-1]) * (np.array(arch.ranks + (1,)))
    e = gradients.weight_entries(arch, x, 11, 20, 30)
    assert e.shape == (30, counts.sum())
    np.testing.assert_allclose(e.sum(axis=1), g.weight_layer_sum[20:].sum(axis=1), rtol=1e-10)


def test_gradients_conv_tiny():
    data = gradients.compute_conv(seed=0, size="tiny")
    assert data["settings"]["image"][0] == 3
    assert "note" in data["settings"]
    for curve in data["curves"]:
        assert len(curve["mean"]) == len(data["depths"])
        assert np.all(np.isfinite(curve["mean"])) and np.all(np.array(curve["stderr"]) > 0)
        assert np.all(np.array(curve["q25"]) <= np.array(curve["q75"]))
    # larger c gives larger gradients at depth 3 (7 curves, by orders of magnitude)
    assert np.all(np.diff([curve["mean"][-1] for curve in data["curves"]]) > 0)


# ---------------------------------------------------------------------------
# figure 2: the Jacobian over the input grid
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def grid_data():
    return jacobian_grid.compute(seed=0, size="tiny")


def test_grid_shapes(grid_data):
    steps = grid_data["settings"]["grid"][2]
    for key in ("maxout", "maxout_chain", "relu"):
        assert len(grid_data[key]["mean"]) == steps * steps
    assert grid_data["settings"]["widths"] == [2, 2, 2, 2, 2]


def test_relu_grid_is_constant_at_its_theory(grid_data):
    # ||J u||^2 of this width-2 ReLU network is extremely heavy-tailed (sample kurtosis ~5e4, skewness ~180),
    # so the 4000 networks of the tiny run do not give a calibrated z; the theory is checked at three points
    # with 200 000 networks, where the mean is close to normal (seeds 0-7 gave 24 z-values within +-2.6)
    from maxbounds.simulate import explicit_samples_many

    arch = jacobian_grid.architecture()
    X = np.array([[0.0, 0.0], [1000.0, -1000.0], [-400.0, 700.0]])
    samples = np.asarray(explicit_samples_many(arch, X, np.array([0.6, 0.8]), 200_000, 11, activation="relu"))
    z = _z(samples.mean(axis=0), grid_data["relu_theory"], samples.std(axis=0, ddof=1) / np.sqrt(samples.shape[0]))
    assert np.all(np.abs(z) <= Z_TOLERANCE), z
    assert np.all(np.isfinite(grid_data["relu"]["mean"]))
    assert abs(grid_data["relu"]["contrast"]["z"]) <= Z_TOLERANCE


def test_relu_theory_value():
    # unit-variance weights at width 2 (c = 2) halve and double: every factor is 1
    assert jacobian_grid.relu_mean(jacobian_grid.architecture()) == pytest.approx(1.0, rel=1e-15)


def test_maxout_grid_varies_with_x(grid_data):
    # paired difference of two fixed points over 4000 networks; observed |z| is about 20
    assert abs(grid_data["maxout"]["contrast"]["z"]) > Z_TOLERANCE


def test_maxout_grid_explicit_agrees_with_the_chain(grid_data):
    # independent streams, 9 comparisons: false failure < 7e-5
    m, c = grid_data["maxout"], grid_data["maxout_chain"]
    z = (np.array(m["mean"]) - np.array(c["mean"])) / np.hypot(m["stderr"], c["stderr"])
    assert np.all(np.abs(z) <= Z_TOLERANCE), z


# ---------------------------------------------------------------------------
# figure 3: cosines
# ---------------------------------------------------------------------------
def test_cosines_tiny():
    data = cosines.compute("layer", seed=0, size="tiny")
    assert [p["width"] for p in data["panels"]] == [100, 100, 100]
    for panel in data["panels"]:
        assert [c["K"] for c in panel["curves"]] == list(cosines.RANKS)
        for curve in panel["curves"]:
            mean = np.array(curve["mean"])
            assert mean.shape == (len(data["layers"]),)
            assert np.all((mean >= 0) & (mean <= 1))
            # layer 1's correlation is fixed by the input: the chain and the formula agree exactly
            assert curve["stderr"][0] == pytest.approx(0.0, abs=1e-12)
            assert mean[0] == pytest.approx(curve["wide_limit"][0], rel=1e-9)


def test_wide_limit_matches_the_unsimplified_recursion():
    """The closed recursion against the three deterministic equations it was derived from."""
    for c, K in ((1 / float(M(4)), 4), (0.3, 5), (10.0, 3)):
        Mk = float(M(K))
        X, V, D = 7.0, 1.0, 0.4  # ||x_0||^2, ||u_0||^2, <x_0, u_0>
        rho = D / math.sqrt((X + 1) * V)
        expected = [abs(rho)]
        for _ in range(20):
            X, V, D = c * Mk * (X + 1), c * V * (1 + rho**2 * (Mk - 1)), c * Mk * rho * math.sqrt((X + 1) * V)
            rho = D / math.sqrt((X + 1) * V)
            expected.append(abs(rho))
        got = cosines.wide_limit(0.4 / math.sqrt(8.0), 7.0, c, K, 21)
        np.testing.assert_allclose(got, expected, rtol=1e-12)


# ---------------------------------------------------------------------------
# figure 4: activation length
# ---------------------------------------------------------------------------
def test_activation_length_against_the_exact_mean():
    data = activation_length.compute(seed=0, size="tiny")
    exact = np.array(data["exact_mean"])
    layers = len(data["layers"])
    assert exact.shape == (layers,)
    arch = activation_length.architecture(layers - 1)
    x = np.array(data["settings"]["input"])
    mean, _ = activation_length_mean_var(arch, x)  # the recursion, independent of the closed form
    np.testing.assert_allclose(exact, mean[:layers] / np.array(arch.widths[:layers]), rtol=1e-10)
    # layers 1..8, explicit and chain: 16 comparisons, false failure < 1.1e-4
    for key in ("explicit", "chain"):
        assert data[key]["mean"][0] == pytest.approx(exact[0], rel=1e-12)
        z = _z(data[key]["mean"][1:], exact[1:], data[key]["stderr"][1:])
        assert np.all(np.abs(z) <= Z_TOLERANCE), (key, z)


# ---------------------------------------------------------------------------
# figure 5: M(K)
# ---------------------------------------------------------------------------
def test_max_moment_against_monte_carlo_and_closed_forms():
    data = max_moment.compute(seed=0, size="tiny")
    ranks = data["K"]
    # 7 ranks: false failure < 5e-5
    z = _z(data["monte_carlo"]["mean"], data["M"], data["monte_carlo"]["stderr"])
    assert np.all(np.abs(z) <= Z_TOLERANCE), z
    closed = {2: 1.0, 3: 1 + math.sqrt(3) / (2 * math.pi), 4: 1 + math.sqrt(3) / math.pi}
    for K, value in closed.items():
        assert data["M"][ranks.index(K)] == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(np.array(data["one_over_M"]) * np.array(data["M"]), 1.0, rtol=1e-14)
    assert np.all(np.diff(data["M"]) > 0)


def test_max_moment_sampler_is_the_largest_of_k_normals():
    """Inversion draws against brute-force maxima (independent streams, 1 comparison)."""
    rng = np.random.default_rng(5)
    a = max_moment.sample_max_sq(7, 100_000, rng)
    b = rng.standard_normal((100_000, 7)).max(axis=1) ** 2
    se = math.hypot(a.std(ddof=1), b.std(ddof=1)) / math.sqrt(100_000)
    assert abs(a.mean() - b.mean()) / se <= Z_TOLERANCE


# ---------------------------------------------------------------------------
# files and the command line
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(FIGURES))
def test_reproduce_writes_png_json_csv(name, tmp_path, compile_latex):
    if FIGURES[name].torch:
        pytest.importorskip("torch")
    result = reproduce(name, tmp_path, seed=1, size="tiny")
    tables = ("md", "tex") if "md" in result else ()  # figures with a table also write it as Markdown and LaTeX
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{name}.{ext}"
                                                                 for ext in ("csv", "json", "png") + tables)
    with open(result["png"], "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    with open(result["json"]) as handle:
        record = json.load(handle)
    assert record["figure"] == name and record["seed"] == 1 and "settings" in record
    output.check(record)  # the one output schema (docs/json.md), for every figure's data
    assert record["schema"] == "maxbounds-output" and record["command"] == "reproduce"
    with open(result["csv"]) as handle:
        lines = handle.read().splitlines()
    assert len(lines) >= 2 and "," in lines[0]
    if "tex" in result and shutil.which("pdflatex"):  # the LaTeX table compiles in a minimal booktabs article
        compile_latex(f"\\input{{{result['tex']}}}", tmp_path)


def test_reproduce_leaves_nothing_when_writing_fails(tmp_path, monkeypatch):
    def broken(data, path):
        raise OSError(28, "No space left on device")

    figure = FIGURES["max-moment"]
    monkeypatch.setitem(FIGURES, "max-moment", figure.__class__(**{**figure.__dict__, "plot": broken}))
    with pytest.raises(MaxboundsValueError) as error:
        reproduce("max-moment", tmp_path, size="tiny")
    assert error.value.argument == "out_dir"
    assert list(tmp_path.iterdir()) == []


def test_reproduce_rejects_bad_arguments(tmp_path):
    with pytest.raises(MaxboundsValueError) as error:
        reproduce("figure-9", tmp_path)
    assert error.value.argument == "figure" and "max-moment" in error.value.problem
    (tmp_path / "a-file").write_text("")
    with pytest.raises(MaxboundsValueError) as error:  # a missing folder is created, a file is refused
        reproduce("max-moment", tmp_path / "a-file")
    assert error.value.argument == "out_dir"
    with pytest.raises(MaxboundsValueError) as error:
        reproduce("max-moment", tmp_path, seed=-1)
    assert error.value.argument == "seed"


def test_cli_list(capsys):
    assert main(["reproduce", "--list"]) == 0
    out = capsys.readouterr().out
    for name in FIGURES:
        assert name in out


def test_cli_writes_png_and_json(tmp_path, capsys):
    assert main(["reproduce", "max-moment", "--out", str(tmp_path), "--seed", "2", "-q"]) == 0
    assert (tmp_path / "max-moment.png").stat().st_size > 0
    record = json.loads((tmp_path / "max-moment.json").read_text())
    assert record["settings"]["size"] == "quick" and record["K"] == list(range(2, 101))
    assert "max-moment" in capsys.readouterr().out


@pytest.mark.parametrize("argv, option", [
    (["reproduce", "figure-9"], "FIGURE"),
    (["reproduce"], "FIGURE"),
    (["reproduce", "max-moment", "--out", "{file}"], "--out"),
    (["reproduce", "max-moment", "--seed", "-3"], "--seed"),
])
def test_cli_errors_are_one_line(argv, option, tmp_path, capsys):
    target = tmp_path / "a-file"
    target.write_text("")
    argv = [a.replace("{file}", str(target)) for a in argv]
    try:
        status = main(argv)
    except SystemExit as exit_:  # argparse's own errors (the seed type)
        status = exit_.code
    assert status == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and option in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


@pytest.mark.parametrize("name", list(FIGURES))
def test_progress_counts_reach_their_total(name, tmp_path):
    seen = {"total": None, "done": 0}

    def start(total):
        assert seen["total"] is None and total > 0
        seen["total"] = total

        def advance(count=1):
            seen["done"] += count

        return advance

    if FIGURES[name].torch:
        pytest.importorskip("torch")
    FIGURES[name].compute(quick=True, seed=0, progress=start, size="tiny")
    assert seen["done"] == seen["total"]
