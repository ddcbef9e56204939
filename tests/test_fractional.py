"""Fractional moment-preserving initialisation for every dense kind (docs/fractional.md).

Statistical checks are z-tests at 4.5 standard errors (false-failure rate 6.8e-6 each; about 70 of
them here, so below 5e-4 for the file), with fixed seeds, so a run is deterministic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

import maxbounds as mb
from maxbounds.architecture import Architecture
from maxbounds.laws import gains
from maxbounds.laws.init import init_network
from maxbounds.layers import NoLawError, rrelu
from maxbounds.validation.lognorm import check_fractional, simulate_lognorms


def rel(a, b):
    return abs(a - b) / abs(b)


KINDS = {
    "relu": lambda n_in, n: mb.relu(n_in, n),
    "leaky": lambda n_in, n: mb.leaky_relu(n_in, n, slope=0.2),
    "rrelu": lambda n_in, n: rrelu(n_in, n, 0.1, 0.4),
    "linear": lambda n_in, n: mb.linear(n_in, n),
    "maxout": lambda n_in, n: mb.maxout(n_in, n, K=3),
}


# -- s = 2: the classical schemes, per-layer widths ----------------------------------------------------------
@pytest.mark.parametrize("n_in, n", [(10, 10), (7, 13), (30, 4)])
def test_s2_gives_the_classical_scales(n_in, n):
    ratio = n_in / n
    assert rel(mb.relu(n_in, n).fractional_scale(2), 2 * ratio) <= 1e-12           # He
    for a in (0.01, 0.2, 0.7):
        assert rel(mb.leaky_relu(n_in, n, slope=a).fractional_scale(2), 2 / (1 + a * a) * ratio) <= 1e-12
    layer = rrelu(n_in, n, 0.1, 0.4)
    assert rel(layer.fractional_scale(2), 2 / (1 + (0.01 + 0.04 + 0.16) / 3) * ratio) <= 1e-12
    assert rel(layer.fractional_scale(2), layer.init_scale("he") * ratio) <= 1e-12
    assert rel(mb.linear(n_in, n).fractional_scale(2), ratio) <= 1e-12
    for K in (2, 3, 5):
        assert rel(mb.maxout(n_in, n, K=K).fractional_scale(2), ratio / mb.M(K)) <= 1e-12


def test_fractional_scale_is_above_the_s2_scale_and_tends_to_it():
    # Lyapunov: E[Y^(s/2)]^(2/s) <= E[Y], so c_s >= c_2, increasingly so as s falls
    for make in KINDS.values():
        layer = make(10, 10)
        scales = [layer.fractional_scale(s) for s in (0.25, 0.5, 1.0, 1.5, 1.99, 2.0)]
        assert all(a > b for a, b in zip(scales, scales[1:]))
        assert rel(scales[-2], scales[-1]) < 1e-2


# -- the layers' moments against independent computations ------------------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 10, 100])
def test_closed_forms_agree_with_the_laplace_route(n):
    for a in (0.0, 0.05, 0.5, 1.0):
        layer = mb.leaky_relu(n, n, slope=a) if a < 1 else mb.linear(n, n)
        unit = gains.GaussianScaleUnit(("fixed", a))
        for t in (0.05, 0.5, 0.9, 1.5):
            assert abs(layer.gain_log_moment(t) - gains.sum_log_moment(unit, n, t)) <= 1e-11
        closed, laplace = layer.gain_log_stats(), gains.sum_log_stats(unit, n)
        assert closed.p_zero == laplace.p_zero == (2.0**-n if a == 0 else 0.0)
        if a in (0.0, 1.0):  # digamma / trigamma mixtures against the Frullani integrals
            assert abs(closed.mean - laplace.mean) <= 1e-11 and rel(closed.var, laplace.var) <= 1e-10
    maxout = mb.maxout(n, n, K=4)
    for t in (0.1, 0.75):
        assert abs(maxout.gain_log_moment(t) - gains.sum_log_moment(gains.max_square_unit(4), n, t)) <= 1e-11


def test_rrelu_width_one_closed_forms():
    # width 1: Y = G Z^2, independent factors; E a^p and E log a over U[l, u] in closed form
    lo, hi = 0.1, 0.4
    layer = rrelu(1, 1, lo, hi)
    for t in (0.1, 0.5, 0.9, 1.7):
        e_a = (hi ** (2 * t + 1) - lo ** (2 * t + 1)) / ((2 * t + 1) * (hi - lo))
        exact = 0.5 * (1 + e_a) * 2**t * special.gamma(t + 0.5) / math.sqrt(math.pi)
        assert abs(layer.gain_log_moment(t) - math.log(exact)) <= 1e-11
    antiderivative = lambda a: a * math.log(a) - a  # noqa: E731
    e_log_a = (antiderivative(hi) - antiderivative(lo)) / (hi - lo)
    second = lambda a: a * (math.log(a) ** 2 - 2 * math.log(a) + 2)  # noqa: E731
    e_log2_a = (second(hi) - second(lo)) / (hi - lo)
    mean_g, mean_g2 = e_log_a, 2 * e_log2_a  # log G = 0 or 2 log a, each with probability 1/2
    stats = layer.gain_log_stats()
    assert abs(stats.mean - (mean_g + special.digamma(0.5) + math.log(2))) <= 1e-11
    assert abs(stats.var - (mean_g2 - mean_g**2 + special.polygamma(1, 0.5))) <= 1e-10
    # integer moments: E[Y] = n (1 + E a^2)/2 and E[Y^2] = n E X^2 + n (n - 1) (E X)^2
    wide = rrelu(10, 10, lo, hi)
    ex, ex2 = wide.unit_moment(1), wide.unit_moment(2)
    assert rel(math.exp(wide.gain_log_moment(2)), 10 * ex2 + 90 * ex**2) <= 1e-12
    assert rel(math.exp(wide.gain_log_moment(1)), 10 * ex) <= 1e-12


def test_gain_law_by_draws():
    # the gain_rvs draws against gain_log_moment and gain_log_stats (|z| <= 4.5)
    rng = np.random.default_rng(11)
    for make in KINDS.values():
        layer = make(4, 6)
        y = layer.gain_rvs(200_000, rng)
        half = y**0.5
        assert abs(half.mean() - math.exp(layer.gain_log_moment(0.5))) <= 4.5 * half.std() / math.sqrt(y.size)
        stats = layer.gain_log_stats()
        logs = np.log(y[y > 0])
        assert abs(logs.mean() - stats.mean) <= 4.5 * math.sqrt(stats.var / logs.size)
        assert abs(1 - (y > 0).mean() - stats.p_zero) <= 4.5 * math.sqrt(max(stats.p_zero, 1e-9) / y.size)


# -- the network initialiser -------------------------------------------------------------------------------------
def test_init_network_fractional_for_every_kind_and_per_layer_widths():
    widths = (5, 8, 3, 6, 2)
    for activation in ("maxout", "relu", "leaky_relu", "rrelu", "linear"):
        net = Architecture(widths, ranks=3).network(activation, slope=0.3)
        result = init_network(net, "fractional", s=1.2)
        assert result.c[-1] == 1.0 and result.layers[-1].rule == "output"
        for layer, row in zip(net.layers[:-1], result.layers[:-1]):
            assert row.rule == "fractional s=1.2"
            assert row.c == pytest.approx(layer.fractional_scale(1.2), rel=1e-15)
            assert row.c == pytest.approx(layer.fan_in * math.exp(-2 / 1.2 * layer.gain_log_moment(0.6)), rel=1e-12)
    # s = 2 at per-layer widths: He times n_{l-1}/n_l
    relu = init_network(Architecture(widths).network("relu"), "fractional", s=2)
    assert relu.c[:-1] == pytest.approx([2 * a / b for a, b in zip(widths[:-2], widths[1:-1])], rel=1e-12)


def test_refusals_name_the_layer_or_the_argument():
    conv = mb.serial(mb.layers.relu_conv(1, 2, (4, 4)), mb.linear(32, 1))
    with pytest.raises(NoLawError) as error:
        init_network(conv, "fractional", s=1.0)
    assert error.value.argument.startswith("layer 1")
    for s in (None, 0, 2.5, float("nan"), True):
        with pytest.raises(mb.MaxboundsValueError) as error:
            init_network(Architecture((3, 4, 1)).network("relu"), "fractional", s=s)
        assert error.value.argument == "s"
    with pytest.raises(mb.MaxboundsValueError) as error:
        rrelu(3, 4, 0.5, 0.2)
    assert error.value.argument == "slopes"


def test_rrelu_has_no_kernels_and_says_so():
    net = mb.serial(rrelu(3, 4), mb.linear(4, 1))
    with pytest.raises(NoLawError) as error:
        mb.network_samples(net, np.ones(3), np.ones(3), 10, 0)
    assert error.value.argument == "layer 1 (rrelu (a~U[0.125,0.333333]))"
    assert "maxbounds.reference" in str(error.value)
    with pytest.raises(NoLawError):
        mb.draw_parameters(net, 0)


# -- E||x_l||^s preserved, by simulation (widths 2, 10, 100; depth 50) ----------------------------------------------
def _fractional_run(kind, n, s, networks, seed):
    arch = Architecture((n,) * 51 + (1,), ranks=3)
    activation = {"leaky": "leaky_relu"}.get(kind, kind)
    net = arch.network(activation, slope=0.2, **({"slopes": (0.1, 0.4)} if kind == "rrelu" else {}))
    net = init_network(net, "fractional", s=s).network
    logs = simulate_lognorms(net, np.ones(n) / math.sqrt(n), networks, seed)
    return check_fractional(net, s, logs[:51])  # the 50 hidden layers


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("n", [2, 10])
def test_fractional_moment_is_preserved_by_simulation(kind, n):
    for s, seed in ((0.5, 1), (1.5, 2)):
        result = _fractional_run(kind, n, s, 4000, seed)
        ratio = result["per_layer_ratio"]
        assert ratio["passed"], ratio
        assert result["direct"] and all(row["passed"] for row in result["direct"]), result["direct"]
        assert result["deepest_direct_layer"] >= 1
    if n == 10 and kind in ("linear", "maxout"):
        assert _fractional_run(kind, n, 0.5, 4000, 3)["deepest_direct_layer"] == 50


@pytest.mark.parametrize("kind", list(KINDS))
def test_fractional_moment_is_preserved_at_width_100(kind):
    result = _fractional_run(kind, 100, 1.0, 300 if kind in ("maxout", "rrelu") else 500, 5)
    assert result["per_layer_ratio"]["passed"], result["per_layer_ratio"]
    assert result["deepest_direct_layer"] == 50 and all(row["passed"] for row in result["direct"])


# -- heavy-tailed weights (maxbounds.laws.heavy_tails; NumPy / SciPy draws) --------------------------------------------
def test_heavy_tailed_absolute_moments():
    from scipy import integrate, stats

    from maxbounds.laws import heavy_tails as ht

    for nu, s in ((0.5, 0.3), (1.5, 0.5), (1.9, 1.2), (5.0, 2.0)):
        direct = 2 * integrate.quad(lambda t: t**s * stats.t.pdf(t, nu), 0, np.inf, limit=200)[0]
        assert rel(ht.student_t_abs_moment(nu, s), direct) <= 1e-8
        assert rel(ht.weighted_sum_abs_moment([2.0], s, "t", nu), 2**s * direct) <= 1e-7 if nu < 2 else True
    # alpha = 2: S ~ N(0, 2)
    assert rel(ht.stable_abs_moment(2.0, 1.0), 2 / math.sqrt(math.pi)) <= 1e-14
    x = np.array([1.0, -2.0, 0.5])
    assert rel(ht.weighted_sum_abs_moment(x, 0.7, "stable", 1.3),
               np.sum(np.abs(x) ** 1.3) ** (0.7 / 1.3) * ht.stable_abs_moment(1.3, 0.7)) <= 1e-14
    # the CMS quadrature of |S|^alpha against the closed form, and one ReLU unit: E[Y^t] = E|S|^(alpha t) / 2
    for alpha in (0.8, 1.0, 1.5, 1.9):
        nodes, weights = ht._cms_nodes(alpha)
        for p in (0.1, 0.3):
            assert rel(weights @ nodes ** (p / alpha), ht.stable_abs_moment(alpha, p)) <= 1e-9
        t = 0.3
        assert abs(ht.stable_gain_log_moment(alpha, t, 1) - math.log(ht.stable_abs_moment(alpha, alpha * t) / 2)) <= 1e-9
    for s in (1.6, 1.2):  # s >= alpha: infinite moment; s / alpha > 0.75: beyond the quadrature
        with pytest.raises(mb.MaxboundsValueError) as error:
            ht.stable_scale(1.5, s, 10)
        assert error.value.argument == "s"


def _ratio_z(logs, s, mean_log, var):
    ratios = []
    for l in range(1, logs.shape[0]):
        alive = np.isfinite(logs[l - 1])
        ratios.append(np.exp(s * (logs[l][alive] - logs[l - 1][alive]) - mean_log))
    r = np.concatenate(ratios)
    return (r.mean() - 1) / math.sqrt(var / r.size)


@pytest.mark.parametrize("n, networks, slope", [(2, 10_000, 0.0), (10, 2000, 0.0), (10, 2000, 0.3)])
def test_stable_scheme_preserves_the_alpha_norm_moment(n, networks, slope):
    # per-layer ratios (||x_l||_alpha / ||x_{l-1}||_alpha)^s over 50 layers: mean 1, exact variance (s < alpha/2)
    from maxbounds.laws import heavy_tails as ht

    alpha, s = 1.5, 0.5
    sigma = ht.stable_scale(alpha, s, n, slope)
    var = math.expm1(ht.stable_gain_log_moment(alpha, 2 * s / alpha, n, slope)
                     - 2 * ht.stable_gain_log_moment(alpha, s / alpha, n, slope))
    logs = ht.simulate_norms("stable", alpha, sigma, (n,) * 51, networks, np.random.default_rng(n), slope=slope)
    assert abs(_ratio_z(logs, s, 0.0, var)) <= 4.5


def test_student_t_chain_scheme_is_exact_at_width_one():
    from maxbounds.laws import heavy_tails as ht

    nu, s = 1.5, 0.5
    for slope in (0.0, 0.4):
        sigma = ht.student_t_chain_scale(nu, s, slope)
        g = (1 + slope ** (2 * s)) / 2 * ht.student_t_abs_moment(nu, 2 * s) / ((1 + slope**s) / 2 * ht.student_t_abs_moment(nu, s)) ** 2
        logs = ht.simulate_norms("t", nu, sigma, (1,) * 51, 4000, np.random.default_rng(7), slope=slope, norm=2)
        assert abs(_ratio_z(logs, s, 0.0, g - 1)) <= 4.5
    assert ht.student_t_gclt_scale(nu, s, 10) == pytest.approx(ht.stable_scale(nu, s, 10) / ht.student_t_stable_match(nu))


# -- the command line ------------------------------------------------------------------------------------------------
def test_init_fractional_from_the_command_line(capsys):
    import json

    from maxbounds.cli.main import main

    assert main(["init", "--scheme", "fractional", "--activation", "relu", "--s", "2", "--fan-in", "10",
                 "--width", "5", "--format", "json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["c"] == pytest.approx(4.0, rel=1e-12) and row["weight_std"] == pytest.approx(math.sqrt(0.4), rel=1e-12)
    assert main(["init", "--scheme", "fractional", "--activation", "rrelu", "--slopes", "0.1,0.4", "--s", "1.5",
                 "--widths", "4,6x2,1", "--format", "json"]) == 0
    layers = json.loads(capsys.readouterr().out)["layers"]
    assert [r["rule"] for r in layers] == ["fractional s=1.5"] * 2 + ["output"]
    assert layers[1]["c"] == pytest.approx(rrelu(6, 6, 0.1, 0.4).fractional_scale(1.5), rel=1e-14)
    for activation in ("leaky-relu", "leaky_relu", "linear", "maxout"):
        assert main(["init", "--scheme", "fractional", "--activation", activation, "--s", "1", "--fan-in", "8"]) == 0
        capsys.readouterr()
    for argv, option in ((["init", "--scheme", "fractional", "--activation", "relu", "--s", "0", "--fan-in", "8"], "--s"),
                         (["init", "--scheme", "fractional", "--activation", "relu", "--s", "1"], "--fan-in"),
                         (["init", "--scheme", "fractional", "--activation", "rrelu", "--slopes", "0.5,0.1", "--s", "1",
                           "--fan-in", "3"], "--slopes"),
                         (["init", "--scheme", "fractional", "--activation", "relu", "--slopes", "0,1", "--s", "1",
                           "--widths", "3,4,1"], "--slopes"),
                         (["init", "--scheme", "fractional", "--activation", "leaky-relu", "--slope", "3", "--s", "1",
                           "--fan-in", "3"], "--slope")):
        assert main(argv) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and f"argument {option}:" in err
