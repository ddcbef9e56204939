"""The law of log||x_l|| with zero biases (docs/fractional.md): exact moments, P(x_l = 0), the inverted
characteristic function, and simulation at depths 1 to 1000.

z-tests at 4.5 standard errors (false-failure rate 6.8e-6 each), Kolmogorov distances against the
asymptotic critical value at the same rate; fixed seeds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

import maxbounds as mb
from maxbounds.architecture import Architecture
from maxbounds.laws.init import init_network
from maxbounds.laws.lognorm import LogNormLaw, kolmogorov_distance, lognorm_samples
from maxbounds.layers import NoLawError, rrelu
from maxbounds.validation.lognorm import validate_lognorm


def relu_stack(widths, c="he"):
    return mb.serial(*[mb.relu(a, b, c=c) for a, b in zip(widths[:-1], widths[1:])])


# -- exact moments and the atom at zero ---------------------------------------------------------------------------
def test_moments_and_zero_probability_per_layer_widths():
    widths = (3, 2, 5, 1, 4)
    law = LogNormLaw(relu_stack(widths, c=1.7), x0_norm=2.0)
    keep = np.cumprod([1 - 2.0**-n for n in widths[1:]])
    assert [law.p_zero(l) for l in range(1, 5)] == pytest.approx(1 - keep, rel=1e-14)
    mean, var = 2 * math.log(2.0), 0.0
    for l, (n_in, n) in enumerate(zip(widths[:-1], widths[1:]), start=1):
        g = mb.relu(n_in, n).gain_log_stats()
        mean += math.log(1.7 / n_in) + g.mean
        var += g.var
        assert law.mean(l) == pytest.approx(mean / 2, rel=1e-13) and law.var(l) == pytest.approx(var / 4, rel=1e-13)
    # E||x_l||^s is preserved exactly by the s-scheme, whatever the widths
    net = init_network(Architecture(widths + (2,)).network("relu"), "fractional", s=0.7).network
    frac = LogNormLaw(net)
    assert all(abs(frac.norm_log_moment(0.7, l)) <= 1e-12 for l in range(1, 5))


def test_exact_cdf_against_independent_laws():
    # depth 1: log||x_1||^2 = log(c/n) + log chi^2_B given B >= 1, a mixture of chi-squared CDFs
    for n in (1, 2, 10, 100):
        law = LogNormLaw(relu_stack((n, n)))
        z = law.mean(1) + law.std(1) * np.linspace(-6, 3, 13)
        b = np.arange(1, n + 1)
        p = stats.binom.pmf(b, n, 0.5) / (1 - 2.0**-n)
        direct = stats.chi2.cdf(np.exp(2 * z)[:, None] * n / 2, b[None, :]) @ p
        assert np.max(np.abs(law.cdf(z, 1) - direct)) <= 1e-10
    # depth 2, linear layers: P(Y_1 Y_2 <= y) = E[F_{chi2_m}(y / Y_1)], by quadrature over Y_1
    net = mb.serial(mb.linear(4, 3), mb.linear(3, 5))
    law = LogNormLaw(net)
    for q in (0.01, 0.3, 0.5, 0.9, 0.999):
        t = law.ppf(q, 2)
        y = math.exp(2 * t) * 12  # ||x_2||^2 = (1/4)(1/3) Y_1 Y_2
        value = integrate.quad(lambda a: stats.chi2.pdf(a, 3) * stats.chi2.cdf(y / a, 5), 0, np.inf,
                               epsabs=1e-13, epsrel=1e-12, limit=200)[0]
        assert value == pytest.approx(q, abs=1e-9)
    with pytest.raises(NoLawError):
        LogNormLaw(mb.serial(mb.leaky_relu(3, 3, slope=0.1))).cdf(0.0)
    assert LogNormLaw(mb.serial(mb.maxout(3, 3))).cdf(0.0, method="gaussian") > 0


def test_refusals():
    with pytest.raises(mb.MaxboundsValueError) as error:
        LogNormLaw(mb.serial(mb.relu(3, 3, bias_var=0.5)))
    assert error.value.argument == "bias_var"
    law = LogNormLaw(relu_stack((3, 3, 3)))
    for bad in (0, 3, 1.5):
        with pytest.raises(mb.MaxboundsValueError):
            law.mean(bad)
    with pytest.raises(mb.MaxboundsValueError):
        law.ppf(1.0)
    with pytest.raises(mb.MaxboundsValueError):
        law.small_output_probability(0.0)


# -- simulation: depths 1 to 1000 ------------------------------------------------------------------------------------
def test_relu_law_agrees_with_simulation_to_depth_1000():
    net = relu_stack((10,) * 1001)
    result = validate_lognorm(net, samples=3000, seed=4)
    assert [row["layer"] for row in result["rows"]] == [1, 10, 100, 1000]
    assert result["passed"], result["rows"]
    last = result["rows"][-1]
    assert last["p_zero"]["exact"] == pytest.approx(1 - (1 - 2.0**-10) ** 1000, rel=1e-12)
    assert abs(last["mean"]["z"]) <= 4.5 and abs(last["variance"]["z"]) <= 4.5
    assert all("ks_exact" in row and row["ks_exact"] <= row["ks_critical"] for row in result["rows"])


@pytest.mark.parametrize("make", [lambda n: mb.leaky_relu(n, n, slope=0.2), lambda n: mb.maxout(n, n, K=3),
                                  lambda n: mb.linear(n, n)])
def test_other_kinds_agree_with_simulation_to_depth_1000(make):
    net = init_network(mb.serial(*[make(10) for _ in range(1000)]), "fractional", s=1.0).network
    result = validate_lognorm(net, samples=1500, seed=6, layers=(1, 100, 1000))
    assert result["passed"], result["rows"]


def test_rrelu_against_the_numpy_reference():
    net = init_network(mb.serial(*[rrelu(6, 6, 0.1, 0.5) for _ in range(60)]), "fractional", s=1.0).network
    result = validate_lognorm(net, samples=3000, seed=8, layers=(1, 10, 60), s=1.0)
    assert result["method"] == "reference" and result["passed"], result


def test_law_draws_match_networks_in_law():
    # the product-law sampler against explicit networks: two-sample KS at depth 30, width 3
    net = relu_stack((3,) * 31)
    law = LogNormLaw(net)
    a = law.rvs(20_000, 1)
    b = lognorm_samples(net, np.ones(3) / math.sqrt(3), 20_000, 2)[30]
    assert abs(np.isinf(a).mean() - np.isinf(b).mean()) <= 4.5 * math.sqrt(2 * law.p_zero() * (1 - law.p_zero()) / 20_000)
    assert stats.ks_2samp(a[np.isfinite(a)], b[np.isfinite(b)]).pvalue > 1e-5


# -- the small-output claim -------------------------------------------------------------------------------------------
def test_small_outputs_under_the_s_scheme():
    # log||x_L|| under the s-scheme is log||x_L|| under s = 2 shifted up by (L/2) log(c_s / c_2) > 0
    n, L = 10, 50
    arch = Architecture((n,) * (L + 1) + (1,))
    laws = {s: LogNormLaw(mb.serial(*init_network(arch.network("relu"), "fractional", s=s).network.layers[:L]))
            for s in (0.5, 1.0, 2.0)}
    shift = L / 2 * math.log(laws[0.5].network[0].scale / 2.0)
    assert laws[0.5].mean() - laws[2.0].mean() == pytest.approx(shift, rel=1e-12)
    p = {s: law.small_output_probability(1e-2) for s, law in laws.items()}
    assert p[0.5] < p[1.0] < p[2.0]
    assert p[0.5] > laws[0.5].p_zero()  # the atom at zero is the same under every scale
    # the law against simulation (binomial z-test)
    for s, law in laws.items():
        logs = lognorm_samples(law.network, np.ones(n) / math.sqrt(n), 4000, 9)[L]
        hit = float(np.mean(logs <= math.log(1e-2)))
        assert abs(hit - p[s]) <= 4.5 * math.sqrt(p[s] * (1 - p[s]) / 4000)
    # small s: the drift of E[log||x_l|| | x_l != 0] per layer is -log(1 - p0)/s - s Var(log Y)/8 + O(s^2):
    # it vanishes as s -> 0 without an atom (leaky ReLU), and grows like p0/s with one (ReLU)
    for activation in ("leaky_relu", "relu"):
        g = (mb.leaky_relu(n, n, slope=0.2) if activation == "leaky_relu" else mb.relu(n, n)).gain_log_stats()
        for s in (0.05, 0.01):
            first = init_network(arch.network(activation, slope=0.2), "fractional", s=s).network[0]
            drift = LogNormLaw(mb.serial(first)).drift()[0]
            assert drift == pytest.approx(-math.log1p(-g.p_zero) / s - s * g.var / 8, rel=0.05 * s / 0.05, abs=1e-4 * s)


def test_kolmogorov_distance():
    x = np.array([0.1, 0.4, 0.7])
    assert kolmogorov_distance(x, lambda t: t) == pytest.approx(max(1 / 3 - 0.1, 0.4 - 1 / 3, 2 / 3 - 0.4, 0.7 - 2 / 3,
                                                                    1 - 0.7, 0.1))


# -- the command line ---------------------------------------------------------------------------------------------------
def test_bounds_and_validate_lognorm_from_the_command_line(capsys):
    import json

    from maxbounds.cli.main import main

    assert main(["bounds", "lognorm", "--widths", "10,10x100,1", "--activation", "relu", "--s", "1",
                 "--eps", "0.01", "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [r["layer"] for r in result["layers"]] == [1, 10, 100, 101]
    net = init_network(Architecture((10,) * 101 + (1,)).network("relu"), "fractional", s=1.0).network
    law = LogNormLaw(net)
    row = result["layers"][2]
    assert row["mean"] == pytest.approx(law.mean(100), rel=1e-12) and row["p_zero"] == pytest.approx(law.p_zero(100))
    assert row["quantile_method"] == "exact" and row["quantiles"]["0.5"] == pytest.approx(law.ppf(0.5, 100), rel=1e-9)
    assert row["p_small"]["0.01"] == pytest.approx(law.small_output_probability(0.01, 100), rel=1e-9)
    assert main(["bounds", "lognorm", "--widths", "5,8x20,1", "--activation", "maxout", "--rank", "3"]) == 0
    assert "gaussian" in capsys.readouterr().out
    assert main(["validate", "lognorm", "--widths", "6,6x30,1", "--activation", "leaky-relu", "--slope", "0.3",
                 "--s", "1", "--samples", "1500", "--quiet"]) == 0
    assert "validate lognorm: passed" in capsys.readouterr().out
    for argv, option in ((["bounds", "lognorm", "--widths", "3,4,1", "--bias-var", "0.5"], "--bias-var"),
                         (["bounds", "lognorm", "--widths", "3,4,1", "--quantiles", "1.5"], "--quantiles"),
                         (["bounds", "lognorm", "--widths", "3,4,1", "--layers", "7"], "--layers"),
                         (["bounds", "lognorm", "--widths", "3,4,1", "--s", "2.5"], "--s"),
                         (["bounds", "jacobian", "--widths", "3,4,1", "--activation", "relu"], "--activation"),
                         (["validate", "lognorm", "--activation", "relu"], "--widths"),
                         (["validate", "lognorm", "--widths", "3,4,1", "--method", "chain"], "--method"),
                         (["validate", "jacobian", "--widths", "3,4,1", "--s", "1"], "--s")):
        assert main(argv) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and f"argument {option}:" in err
