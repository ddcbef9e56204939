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
