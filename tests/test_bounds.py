"""Stochastic-order bounds, gradient, NTK and curve-length bounds, initialisation."""

import json
import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from maxbounds.architecture import Architecture
from maxbounds.cli.main import main
from maxbounds.constants import L, M, OutOfRangeError, S
from maxbounds.laws import exact, gradients, init, jacobian, symbolic
from maxbounds.laws.sums import chi2_log_moment

REL = 1e-12


def rel(a, b):
    return abs(a - b) / abs(b)


def test_acceptance_mean_bounds_from_the_command_line(capsys):
    # maxbounds bounds jacobian --widths 3,8,8,8,2 --rank 3 --c 0.8 --format json
    assert main(["bounds", "jacobian", "--widths", "3,8,8,8,2", "--rank", "3", "--c", "0.8", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert rel(out["mean"]["lower"], (1 * 2 / 3) * (0.8 * S(3)) ** 3) <= REL
    assert rel(out["mean"]["upper"], (1 * 2 / 3) * (0.8 * L(3)) ** 3) <= REL
    assert {"mean", "second_moment", "variance"} <= set(out)


@pytest.mark.parametrize("t", [0.5, 1.0, 2.0, 3.0])
def test_rank_one_bounds_are_the_linear_network_law(t):
    # K = 1: ||J u||^2 = (c_L/n_{L-1}) chi2_{n_L} prod (c/n_{l-1}) chi2_{n_l}, both bounds equal it
    arch = Architecture((3, 5, 7, 2), ranks=1, c=(0.7, 1.3), c_out=0.9)
    exact_log = (
        t * math.log(0.9 / 7) + chi2_log_moment(2, t)
        + t * math.log(0.7 / 3) + chi2_log_moment(5, t)
        + t * math.log(1.3 / 5) + chi2_log_moment(7, t)
    )
    lower, upper = jacobian.jacobian_bounds(arch)
    assert rel(lower.log_moment(t), exact_log) <= 1e-12
    assert rel(upper.log_moment(t), exact_log) <= 1e-12


architectures = st.builds(
    lambda widths, K, c, cL: Architecture(tuple(widths), ranks=K, c=c, c_out=cL),
    st.lists(st.integers(1, 40), min_size=3, max_size=7),
    st.integers(1, 8),
    st.floats(0.05, 5.0),
    st.floats(0.1, 3.0),
)


@settings(max_examples=40, deadline=None)
@given(architectures)
def test_means_telescope_and_agree_with_the_moment_machinery(arch):
    lower, upper = jacobian.jacobian_bounds(arch)
    # the closed-form mean and the product of layer moments at t = 1 agree
    assert abs(lower.log_moment(1.0) - lower.log_mean()) <= 1e-11 * max(1.0, abs(lower.log_mean()))
    assert abs(upper.log_moment(1.0) - upper.log_mean()) <= 1e-11 * max(1.0, abs(upper.log_mean()))
    assert lower.log_mean() <= upper.log_mean() + 1e-12
    # the mean depends on the widths only through n_L / n_0
    wider = arch.with_(widths=(arch.widths[0], *[w + 3 for w in arch.widths[1:-1]], arch.widths[-1]))
    assert math.isclose(jacobian.JacobianBound(wider, "lower").log_mean(), lower.log_mean(), rel_tol=1e-12, abs_tol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 30), st.integers(1, 30), st.integers(1, 6), st.integers(1, 8),
    st.floats(0.1, 4.0), st.floats(-1.0, 1.0),
)
def test_exact_mean_of_one_hidden_layer_lies_between_the_bounds(n0, n1, nL, K, c, cos):
    # one hidden layer, zero bias: E||J u||^2 = (c_L n_L / n_0) c (1 + rho^2 (M - 1)), rho = cos(x, u)
    arch = Architecture((max(n0, 2), n1, nL), ranks=K, c=c)
    exact_mean = nL / arch.n_in * c * (1 + cos**2 * (M(K) - 1))
    lower, upper = jacobian.jacobian_bounds(arch)
    assert lower.mean() <= exact_mean * (1 + 1e-12) and exact_mean <= upper.mean() * (1 + 1e-12)


def test_exact_one_layer_gain_matches_the_module():
    arch = Architecture((4, 6, 1), ranks=3, c=0.8)
    rho = 0.6
    gain = exact.expected_jacobian_gain(arch, 1, rho)
    assert rel(float(gain), 0.8 * 6 / 4 * (1 + rho**2 * (M(3) - 1))) <= 1e-12


@pytest.mark.parametrize("side", ["lower", "upper"])
def test_bound_samples_match_their_moments(side):
    # z-test of the sample mean and of the sample second moment, |z| <= 4.5
    # (false-failure rate 6.8e-6 per assertion), fixed seed
    arch = Architecture((3, 8, 8, 8, 2), ranks=3, c=0.8, bias_var=0.3)
    bound = jacobian.JacobianBound(arch, side)
    x = bound.rvs(size=200_000, random_state=np.random.default_rng(11))
    for power, exact_value in ((1, bound.mean()), (0.5, bound.moment(0.5))):
        y = x**power
        z = abs(y.mean() - exact_value) / (y.std(ddof=1) / math.sqrt(y.size))
        assert z < 4.5, (side, power, z)


def test_variance_bounds_bracket_both_extremes():
    arch = Architecture((3, 8, 8, 8, 2), ranks=3, c=0.8)
    b = jacobian.jacobian_moment_bounds(arch)
    lower, upper = jacobian.jacobian_bounds(arch)
    assert b["variance"]["upper"] >= max(lower.var(), upper.var())
    assert b["variance"]["lower"] <= min(lower.var(), upper.var())
    assert rel(b["variance"]["upper"], upper.moment(2) - lower.mean() ** 2) <= 1e-12


def test_deep_and_wide_networks_stay_in_log_space():
    arch = Architecture((10**6, *[10**6] * 9999, 1), ranks=5, c="1/M")
    bounds = jacobian.jacobian_moment_bounds(arch, log=True)
    assert np.isfinite(bounds["mean"]["lower"]) and bounds["mean"]["lower"] < -1000
    assert np.isfinite(bounds["second_moment"]["upper"])
    with pytest.raises(OutOfRangeError):
        jacobian.jacobian_moment_bounds(arch)


def test_relu_reference_law():
    arch = Architecture((4, 10, 10, 3), ranks=7, c=2.0)
    law = jacobian.ReLUJacobianLaw(arch)
    assert rel(law.mean(), 3 / 4) <= 1e-12  # He initialisation keeps the mean at n_L/n_0
    assert rel(math.exp(law.log_moment(1.0)), law.mean()) <= 1e-12
    x = law.rvs(size=200_000, random_state=np.random.default_rng(5))
    z = abs(x.mean() - law.mean()) / (x.std(ddof=1) / math.sqrt(x.size))
    assert z < 4.5  # false-failure rate 6.8e-6


def test_gradient_bounds_structure_and_exact_output_layer():
    arch = Architecture((3, 8, 8, 1), ranks=(2, 4), c=0.9, bias_var=0.1)
    x = np.array([0.3, -1.0, 2.0])
    rows = gradients.gradient_bounds(arch, x)
    sq = exact.activation_length_mean_var(arch, x)[0]
    last = rows[-1]["weight_nonzero"]
    assert last["lower"] == last["upper"] and rel(last["upper"], sq[2] / 8) <= 1e-12
    first = rows[0]
    # layer 1: E[delta^2] in (c_L n_L / n_1) c_2 [S(K_2), L(K_2)], times ||x||^2 / n_0
    assert rel(first["weight_nonzero"]["lower"], 1 / 8 * 0.9 * S(4) * (x @ x) / 3) <= 1e-12
    assert rel(first["weight_per_k"]["upper"], first["weight_nonzero"]["upper"] / 2) <= 1e-12
    for row in rows:
        for key in ("weight_nonzero", "weight_layer_sum", "bias_nonzero"):
            assert row[key]["lower"] <= row[key]["upper"]


def test_ntk_is_the_sum_of_its_layers():
    arch = Architecture((3, 8, 8, 2), ranks=3, c=0.8, bias_var=0.2)
    result = gradients.ntk_bounds(arch, np.ones(3))
    assert rel(result["lower"], sum(r["lower"] for r in result["layers"])) <= 1e-12
    assert rel(result["upper"], sum(r["upper"] for r in result["layers"])) <= 1e-12


def test_length_bounds_follow_from_square_roots():
    arch = Architecture((3, 8, 8, 2), ranks=3, c=0.8)
    result = gradients.length_bounds(arch)
    lower, upper = jacobian.jacobian_bounds(arch)
    assert result["mean"]["lower"] <= math.sqrt(lower.mean()) and result["mean"]["upper"] <= math.sqrt(upper.mean())
    assert rel(result["second_moment"]["upper"], upper.mean()) <= 1e-12


def test_init_schemes():
    assert rel(init.init_scale(5, "maxout"), 1 / M(5)) <= 1e-15
    assert rel(init.init_scale(5, "upper"), 1 / L(5)) <= 1e-15
    assert rel(init.init_scale(5, "lower"), 1 / S(5)) <= 1e-15
    assert init.init_scale(5, "he") == 2.0
    assert init.conv_fan_in(3, 16) == 144
    assert rel(init.weight_std(0.5, 50), 0.1) <= 1e-15
    # s = 2 preserves the second moment: c = n_{l-1} / (n_l M)
    assert rel(init.init_scale(4, "fractional", s=2, fan_in=30, width=20), 30 / (20 * M(4))) <= 1e-12


def test_fractional_scale_preserves_the_fractional_moment_by_simulation():
    # with c from the scheme, E[(c/n sum Xi^2)^(s/2)] = 1; z-test, |z| <= 4.5
    from maxbounds.constants import gaussian_max

    K, n, s = 3, 10, 1.0
    c = init.init_scale(K, "fractional", s=s, fan_in=n, width=n)
    xi = gaussian_max(K=K).rvs(size=(100_000, n), random_state=np.random.default_rng(3))
    y = (c / n * (xi**2).sum(axis=1)) ** (s / 2)
    assert abs(y.mean() - 1) / (y.std(ddof=1) / math.sqrt(y.size)) < 4.5


def test_symbolic_agrees_with_numbers():
    arch = Architecture((3, 8, 8, 8, 2), ranks=3, c=0.8)
    expr = symbolic.jacobian_mean_bounds(arch)
    lower, upper = jacobian.jacobian_bounds(arch)
    assert rel(float(expr["mean_lower"]), lower.mean()) <= 1e-12
    assert rel(float(expr["mean_upper"]), upper.mean()) <= 1e-12
    generic = symbolic.jacobian_mean_bounds()
    g = symbolic.generic_symbols()
    value = generic["mean_upper"].subs({g["n_0"]: 3, g["n_L"]: 2, g["c_L"]: 1, g["c"]: 0.8, g["L"]: 4, g["K"]: 3, g["n"]: 8})
    value = value.replace(symbolic.L, lambda K: sp.Float(L(int(K))))
    assert rel(float(value), upper.mean()) <= 1e-12
    # second moments: the symbolic S_2 is chi2_min_moment(K, 2)
    from maxbounds.constants import chi2_min_moment

    second = expr["second_moment_lower"].replace(symbolic.S2, lambda K: sp.Float(chi2_min_moment(int(K), 2)))
    assert rel(float(second), lower.moment(2)) <= 1e-10
    assert "S" in sp.latex(generic["mean_lower"])


@pytest.mark.parametrize(
    "argv, option",
    [
        (["bounds", "jacobian", "--widths", "3,0,2"], "--widths"),
        (["bounds", "jacobian", "--widths", "3,8,2", "--c", "0"], "--c"),
        (["bounds", "jacobian", "--widths", "3,8,2", "--c", "-1"], "--c"),
        (["bounds", "jacobian", "--widths", "3,8,2", "--rank", "0"], "--rank"),
        (["bounds", "gradient", "--widths", "3,8,2", "--input", "1,2"], "--input"),
        (["bounds", "jacobian", "--widths", "3;8;2"], "--widths"),
        (["init", "--scheme", "fractional", "--s", "3", "--fan-in", "10"], "--s"),
        (["init", "--rank", "0"], "--rank"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, option):
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1 and option in err


def test_delta_bounds_by_suffix_sums_match_direct_products():
    arch = Architecture((3, 5, 6, 7, 2), ranks=(2, 3, 4), c=(0.5, 0.9, 1.7), c_out=1.3)
    lo, hi = gradients.log_delta_sq_bounds(arch)
    for layer in range(1, arch.depth):
        direct_lo = 1.3 * 2 * math.prod(arch.c[m - 1] * S(arch.ranks[m - 1]) for m in range(layer + 1, arch.depth))
        direct_hi = 1.3 * 2 * math.prod(arch.c[m - 1] * L(arch.ranks[m - 1]) for m in range(layer + 1, arch.depth))
        assert rel(math.exp(lo[layer - 1]), direct_lo) <= 1e-12 and rel(math.exp(hi[layer - 1]), direct_hi) <= 1e-12
    assert lo[-1] == hi[-1] == math.log(2)


def test_deep_gradient_bounds_are_fast_and_finite():
    arch = Architecture((4, *[50] * 3000, 1), ranks=3, c="1/M")
    rows = gradients.gradient_bounds(arch, np.ones(4), log=True)
    assert len(rows) == 3001 and all(np.isfinite(r["weight_nonzero"]["upper"]) for r in rows)


def test_latex_sweep_over_depth_is_ready_to_input(capsys):
    argv = ["bounds", "jacobian", "--widths", "3,8,2", "--rank", "5", "--c", "1/M", "--sweep", "depth=2-6",
            "--format", "latex"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "\\toprule" in out and "\\bottomrule" in out and out.count("\\\\") == 6
    # row for depth 4 equals the bounds of 3-8-8-8-2
    assert main(["bounds", "jacobian", "--widths", "3,8,2", "--rank", "5", "--c", "1/M", "--sweep", "depth=4",
                 "--format", "json"]) == 0
    row = json.loads(capsys.readouterr().out)["rows"][0]
    lower, upper = jacobian.jacobian_bounds(Architecture((3, 8, 8, 8, 2), ranks=5, c="1/M"))
    assert rel(row["mean_lower"], lower.mean()) <= 1e-12 and rel(row["second_upper"], upper.moment(2)) <= 1e-12


def test_sweep_over_scales(capsys):
    assert main(["bounds", "jacobian", "--widths", "3,8,8,2", "--rank", "3", "--sweep", "c=0.5,1/M",
                 "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [r["c"] for r in rows] == pytest.approx([0.5, 1 / M(3)], rel=1e-15)
    assert [r["c_rule"] for r in rows] == [None, "1/M"]


@pytest.mark.parametrize("quantity", ["jacobian", "activation", "gradient", "ntk", "length"])
@pytest.mark.parametrize("fmt", ["table", "json", "latex"])
def test_every_quantity_in_every_format(capsys, quantity, fmt):
    argv = ["bounds", quantity, "--widths", "3,6,6,2", "--rank", "3", "--c", "0.9", "--bias-var", "0.2",
            "--input", "1,-2,0.5", "--format", fmt]
    assert main(argv) == 0
    out = capsys.readouterr().out
    if fmt == "json":
        assert json.loads(out)["quantity"] == quantity
    elif fmt == "latex":
        assert "\\toprule" in out
    else:
        assert "3-6-6-2" in out


def test_symbolic_output_formats(capsys):
    for fmt in ("table", "latex", "json"):
        assert main(["bounds", "jacobian", "--widths", "3,8,8,2", "--rank", "3", "--c", "0.8", "--symbolic",
                     "--format", fmt]) == 0
        out = capsys.readouterr().out
        assert (r"E[B_{\mathrm{lo}}] &= " in out and "\\begin{align*}" in out) if fmt == "latex" else "mean_lower" in out


def test_relu_reference_from_the_command_line(capsys):
    assert main(["bounds", "jacobian", "--widths", "4,10,10,3", "--c", "2", "--relu", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert rel(out["relu_reference"]["mean"], 3 / 4) <= 1e-12


def test_symbolic_and_relu_only_for_the_jacobian(capsys):
    for flag in ("--symbolic", "--relu"):
        assert main(["bounds", "ntk", "--widths", "3,8,2", flag]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and flag in err


def test_relu_law_against_explicit_relu_networks():
    # explicit random ReLU networks (weights drawn, units switched by the sign of their input):
    # the first two moments of ||J u||^2 match the law, |z| <= 4.5 (false-failure rate 6.8e-6 each)
    rng = np.random.default_rng(2)
    n = 60_000
    law = jacobian.ReLUJacobianLaw(Architecture((4, 10, 10, 3), c=2.0))
    x0, u = np.array([0.3, -1.0, 2.0, 0.5]), np.array([1.0, 0.0, 0.0, 0.0])
    W1 = rng.normal(0, math.sqrt(2 / 4), (n, 10, 4))
    W2 = rng.normal(0, math.sqrt(2 / 10), (n, 10, 10))
    W3 = rng.normal(0, math.sqrt(1 / 10), (n, 3, 10))
    h1 = W1 @ x0
    h2 = np.einsum("nij,nj->ni", W2, np.maximum(h1, 0))
    v = (W1 @ u) * (h1 > 0)
    v = np.einsum("nij,nj->ni", W2, v) * (h2 > 0)
    v = np.einsum("nij,nj->ni", W3, v)
    s = (v**2).sum(axis=1)
    for sample, exact_value in ((s, law.mean()), (s**2, law.moment(2))):
        z = abs(sample.mean() - exact_value) / (sample.std(ddof=1) / math.sqrt(n))
        assert z < 4.5


def test_init_per_architecture_from_the_command_line(capsys):
    # maxbounds init --widths 3,8,8,2 --rank 3,5: c = 1/M(K_l) per hidden layer, 1 for the linear output
    assert main(["init", "--widths", "3,8,8,2", "--rank", "3,5", "--format", "json"]) == 0
    layers = json.loads(capsys.readouterr().out)["layers"]
    assert [r["c"] for r in layers] == pytest.approx([1 / M(3), 1 / M(5), 1.0], rel=1e-15)
    assert [r["fan_in"] for r in layers] == [3, 8, 8]
    assert all(rel(r["weight_std"], math.sqrt(r["c"] / r["fan_in"])) <= 1e-15 for r in layers)
    assert main(["init", "--widths", "3,8,2", "--activation", "leaky_relu", "--slope", "0.5", "--scheme", "he",
                 "--format", "json"]) == 0
    assert [r["c"] for r in json.loads(capsys.readouterr().out)["layers"]] == pytest.approx([1.6, 1.0])
    for argv, option in ((["init", "--widths", "3,8,2", "--scheme", "he"], "layer 1"),
                         (["init", "--rank", "3,5"], "--rank"),
                         (["init", "--widths", "3,8,2", "--fan-in", "4"], "--fan-in")):
        assert main(argv) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and option in err


def test_init_scheme_follows_the_activation_and_errors_name_the_option(capsys):
    from maxbounds.cli.main import main

    assert main(["init", "--widths", "3,8,2", "--activation", "relu", "--format", "json"]) == 0
    layers = json.loads(capsys.readouterr().out)["layers"]
    assert [row["c"] for row in layers] == [2.0, 1.0]          # He for the ReLU layer, 1 for the output
    for argv, option in ((["init", "--widths", "3,8,2", "--activation", "leaky_relu", "--slope", "2"], "--slope"),
                         (["init", "--activation", "relu"], "--activation")):
        assert main(argv) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and f"argument {option}:" in err
