"""The per-kind law factors (docs/layer_laws.md) and the laws that compose them, against independent computations."""

import math

import mpmath
import numpy as np
import pytest

from maxbounds._validate import MaxboundsValueError
from maxbounds.architecture import Architecture
from maxbounds.constants import L, M, S, chi2_max_moment, chi2_min_moment
from maxbounds.laws import exact, gradients, init, jacobian, sweep
from maxbounds.layers import LeakyReLUDense, Linear, MaxoutConv2d, MaxoutDense, NoLawError, serial

Z_MAX = 4.5  # two-sided false-failure rate 6.8e-6 per z-test


def rel(a, b):
    return abs(a - b) / abs(b)


# -- the factors of one layer ----------------------------------------------------------------------------
@pytest.mark.parametrize("K", [1, 2, 5])
@pytest.mark.parametrize("side, mean, second", [("lower", S, chi2_min_moment), ("upper", L, chi2_max_moment)])
def test_maxout_factor_moments(K, side, mean, second):
    # G = (c/n) sum_{i<=w} X_i: E[G] = (c/n) w C(K), E[G^2] = (c/n)^2 (w C_2 + w (w-1) C^2)
    layer = MaxoutDense(6, 9, c=0.7, K=K)
    c_n = 0.7 / 6
    assert rel(math.exp(layer.jacobian_log_mean(side)), c_n * 9 * mean(K)) <= 1e-12
    assert rel(math.exp(layer.jacobian_log_moment(side, 1.0)), c_n * 9 * mean(K)) <= 1e-11
    m2 = c_n**2 * (9 * second(K, 2) + 9 * 8 * mean(K) ** 2)
    assert rel(math.exp(layer.jacobian_log_moment(side, 2.0)), m2) <= 1e-10
    assert rel(layer.gradient_gain(side), 0.7 * mean(K)) <= 1e-12
    assert layer.jacobian_is_exact() == (K == 1)


def _leaky_moment_direct(w, a, t):
    """E[(chi2_B + a^2 chi2'_{w-B})^t], t = 1 or 2, from the conditional mean and variance, by mpmath."""
    mpmath.mp.dps = 30
    a2 = mpmath.mpf(a) ** 2
    total = mpmath.mpf(0)
    for b in range(w + 1):
        p = mpmath.binomial(w, b) / mpmath.mpf(2) ** w
        mean = b + a2 * (w - b)
        var = 2 * b + 2 * a2**2 * (w - b)
        total += p * (mean if t == 1 else var + mean**2)
    return float(total)


@pytest.mark.parametrize("a", [0.0, 0.1, 0.5, 1.0])
@pytest.mark.parametrize("t", [1, 2])
def test_leaky_relu_factor_against_the_binomial_mixture(a, t):
    w, n, c = 7, 4, 1.3
    layer = LeakyReLUDense(n, w, c=c, slope=a)
    want = (c / n) ** t * _leaky_moment_direct(w, a, t)
    for side in ("lower", "upper"):
        assert rel(math.exp(layer.jacobian_log_moment(side, float(t))), want) <= 1e-10
    assert rel(math.exp(layer.jacobian_log_mean("lower")), c / n * w * (1 + a * a) / 2) <= 1e-12
    assert rel(layer.gradient_gain("upper"), c * (1 + a * a) / 2) <= 1e-12
    assert layer.activation_gain() == (1 + a * a) / 2 and layer.jacobian_is_exact()


@pytest.mark.parametrize("a", [0.0, 0.3])
def test_leaky_relu_samples_match_the_half_moment(a):
    # z-test of E[G^(1/2)] (a real order: the hypergeometric sum) from 200000 draws, fixed seed
    layer = LeakyReLUDense(5, 6, c=2.0, slope=a)
    g = layer.jacobian_rvs("lower", 200_000, np.random.default_rng(7))
    y = np.sqrt(g)
    z = (y.mean() - math.exp(layer.jacobian_log_moment("lower", 0.5))) / (y.std(ddof=1) / math.sqrt(y.size))
    assert abs(z) < Z_MAX, z


def test_linear_factor_is_a_scaled_chi_square():
    layer = Linear(5, 3, c=0.9)
    assert rel(math.exp(layer.jacobian_log_moment("lower", 2.0)), (0.9 / 5) ** 2 * 3 * 5) <= 1e-12
    assert layer.gradient_gain("lower") == pytest.approx(0.9, rel=1e-15)
    assert layer.chain_rank() == 1 and layer.activation_gain() == 1.0 and layer.init_scale("output") == 1.0


# -- composed laws -----------------------------------------------------------------------------------------
ARCHS = [
    Architecture((3, 8, 8, 2), ranks=(3, 5), c=(0.5, 2.0), bias_var=(0.1, 0.2, 0.9)),
    Architecture((5, 7, 11, 13, 3), ranks=(2, 4, 1), c="1/M", c_out=1.3),
    Architecture((2, *[6] * 40, 1), ranks=7, c="1/L", c_out=0.7),
]


@pytest.mark.parametrize("arch", ARCHS)
def test_bound_means_are_the_closed_form(arch):
    # E[B] = (c_L n_L / n_0) prod_l c_l C(K_l), an independent product in mpmath
    for side, C in (("lower", S), ("upper", L)):
        closed = mpmath.mpf(arch.c_out) * arch.n_out / arch.n_in
        for K, c in zip(arch.ranks, arch.c):
            closed *= mpmath.mpf(c) * mpmath.mpf(C(K))
        bound = jacobian.JacobianBound(arch, side)
        assert rel(bound.mean(), float(closed)) <= 1e-12
        assert rel(bound.log_moment(1.0), bound.log_mean()) <= 1e-12


@pytest.mark.parametrize("arch", ARCHS[:2])
def test_bound_second_moment_is_the_product_of_layer_moments(arch):
    # E[B^2] = (c_L/n_{L-1})^2 n_L (n_L + 2) prod_l (c_l/n_{l-1})^2 (n_l C_2 + n_l (n_l - 1) C^2)
    for side, C, C2 in (("lower", S, chi2_min_moment), ("upper", L, chi2_max_moment)):
        value = (arch.c_out / arch.widths[-2]) ** 2 * arch.n_out * (arch.n_out + 2)
        for l in range(1, arch.depth):
            n, K = arch.widths[l], arch.ranks[l - 1]
            value *= (arch.c[l - 1] / arch.widths[l - 1]) ** 2 * (n * C2(K, 2) + n * (n - 1) * C(K) ** 2)
        assert rel(jacobian.JacobianBound(arch, side).moment(2), value) <= 1e-10


def test_a_serial_and_its_architecture_give_one_law():
    arch = ARCHS[0]
    for side in ("lower", "upper"):
        a, b = jacobian.JacobianBound(arch, side), jacobian.JacobianBound(arch.network(), side)
        assert a.log_moment(0.5) == b.log_moment(0.5) and a.log_mean() == b.log_mean()


def test_rvs_takes_any_shape_and_is_reproducible():
    bound = jacobian.JacobianBound(ARCHS[0], "upper")
    x = bound.rvs(size=(2, 3), random_state=np.random.default_rng(1))
    assert x.shape == (2, 3) and np.all(x > 0)
    assert np.array_equal(x, bound.rvs(size=(2, 3), random_state=np.random.default_rng(1)))
    assert bound.rvs(size=4).shape == (4,)
    with pytest.raises(MaxboundsValueError) as error:
        bound.rvs(size=-1)
    assert error.value.argument == "size"


def test_leaky_relu_law_mean_and_samples():
    arch = Architecture((4, 10, 10, 3), c=1.5)
    a = 0.2
    law = jacobian.ReLUJacobianLaw(arch, slope=a)
    assert rel(law.mean(), 3 / 4 * (1.5 * (1 + a * a) / 2) ** 2) <= 1e-12
    x = law.rvs(size=200_000, random_state=np.random.default_rng(4))
    z = (x.mean() - law.mean()) / math.sqrt(law.var() / x.size)
    assert abs(z) < Z_MAX, z


def test_layers_without_the_law_name_themselves():
    conv = Architecture.convolutional((1, 2), (3, 3), 2)
    for call in (lambda: jacobian.JacobianBound(conv, "lower"), lambda: gradients.log_delta_sq_bounds(conv),
                 lambda: exact.activation_length_mean_var(conv, np.ones(9))):
        with pytest.raises(NoLawError) as error:
            call()
        assert error.value.argument == "layer 1 (maxout conv 3x3 (K=2))"
    with pytest.raises(NoLawError) as error:
        jacobian.ReLUJacobianLaw(Architecture((3, 4, 1), ranks=3).network())
    assert error.value.argument == "layer 1 (maxout (K=3))"
    relu = Architecture((3, 4, 4, 1)).network("relu")
    with pytest.raises(NoLawError) as error:
        exact.activation_length_moments(relu, np.ones(3))
    assert error.value.argument == "layer 1 (relu)"


def test_gradient_bounds_of_a_leaky_relu_network():
    # E||delta_l||^2 = n_L c_L prod_{m>l} c_m (1 + a^2)/2, exact (the lower and upper factors agree)
    a, c = 0.3, 1.7
    net = Architecture((3, 5, 6, 2), c=c, c_out=0.8).network("leaky_relu", slope=a)
    lo, hi = gradients.log_delta_sq_bounds(net)
    g = c * (1 + a * a) / 2
    for got, want in zip(np.exp(lo), (2 * 0.8 * g, 2 * 0.8, 2)):
        assert rel(got, want) <= 1e-12
    assert np.array_equal(lo, hi)


# -- initialisation per network ----------------------------------------------------------------------------
def test_init_network_per_kind():
    arch = Architecture((3, 8, 8, 2), ranks=(3, 5))
    result = init.init_network(arch, "maxout")
    assert result.c == pytest.approx((1 / M(3), 1 / M(5), 1.0), rel=1e-15)
    assert result.weight_std == pytest.approx(tuple(math.sqrt(c / n) for c, n in zip(result.c, (3, 8, 8))))
    assert [layer.c for layer in result.network] == list(result.c)
    assert init.init_network(arch.network("leaky_relu", slope=0.5), "he").c == pytest.approx((1.6, 1.6, 1.0))
    conv = init.init_network(Architecture.convolutional((2, 3), (4, 4), 2, ranks=4), "upper")
    assert conv.layers[0].fan_in == 18 and conv.c[0] == pytest.approx(1 / L(4), rel=1e-15)
    frac = init.init_network(arch, "fractional", s=2)
    assert frac.c[1] == pytest.approx(8 / (8 * M(5)), rel=1e-12) and frac.c[2] == 1.0
    with pytest.raises(NoLawError) as error:
        init.init_network(arch, "he")
    assert error.value.argument == "layer 1 (maxout (K=3))"


def test_init_scale_is_the_layer_initialiser():
    for K in (2, 5):
        for scheme in ("maxout", "upper", "lower"):
            assert init.init_scale(K, scheme) == MaxoutDense(3, 4, K=K).init_scale(scheme)
    assert MaxoutConv2d(in_channels=1, channels=1, image=(3, 3), K=3).init_scale("maxout") == init.init_scale(3)


# -- the depth-sweep rule -------------------------------------------------------------------------------------
def test_depth_sweep_rule():
    constant = Architecture((3, 8, 8, 2), ranks=3, c="1/M", bias_var=(0.1, 0.1, 0.9))
    two, three, five = sweep.depth_sweep(constant, [2, 3, 5])
    assert three is constant
    assert five.widths == (3, 8, 8, 8, 8, 2) and five.bias_var == (0.1,) * 4 + (0.9,)
    assert five.c_spec == ("1/M",) * 4 and two.ranks == (3,)
    per_layer = {
        "widths": Architecture((3, 8, 9, 2)),
        "rank": Architecture((3, 8, 8, 2), ranks=(3, 5)),
        "c": Architecture((3, 8, 8, 2), c=(0.5, 2.0)),
        "bias_var": Architecture((3, 8, 8, 2), bias_var=(0.1, 0.2, 0.9)),
    }
    for argument, arch in per_layer.items():
        assert sweep.depth_sweep(arch, [3]) == [arch]
        with pytest.raises(MaxboundsValueError) as error:
            sweep.depth_sweep(arch, [3, 4])
        assert error.value.argument == argument and "\n" not in str(error.value)
    with pytest.raises(MaxboundsValueError) as error:
        sweep.depth_sweep(constant, [1])
    assert error.value.argument == "sweep"


def test_symbolic_bounds_compose_the_layers_and_refuse_a_convolution():
    from maxbounds.laws import symbolic

    arch = ARCHS[0]
    expr = symbolic.jacobian_mean_bounds(arch.network())
    assert rel(float(expr["mean_upper"]), jacobian.JacobianBound(arch, "upper").mean()) <= 1e-12
    with pytest.raises(NoLawError) as error:
        symbolic.jacobian_mean_bounds(Architecture.convolutional((1, 2), (3, 3), 2))
    assert error.value.argument == "layer 1 (maxout conv 3x3 (K=2))"
    with pytest.raises(NoLawError) as error:
        symbolic.jacobian_mean_bounds(serial(LeakyReLUDense(3, 4), Linear(4, 1)))
    assert error.value.argument == "layer 1 (relu)"
