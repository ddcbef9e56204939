"""The exact laws of MATH.md section 3: the Gram chain against explicit networks (the NumPy reference), exact moments.

Statistical tests use fixed seeds, so each run gives the same verdict.  Their
thresholds are chosen so that, were the seeds drawn at random, a correct
implementation would fail rarely:

* a two-sample Kolmogorov-Smirnov test passes when p > 1e-4 (false-failure
  rate 1e-4 per test);
* a z-score (estimate minus exact value, over its standard error, the
  standard error computed from exact moments) passes when |z| < 4.5
  (false-failure rate about 7e-6 per test under the normal approximation).

This file makes about 25 KS tests and 26 z-tests, so the family-wise
false-failure rate is below 0.3% (Bonferroni: 25e-4 + 26 * 7e-6).
"""

import math

import numpy as np
import pytest
from scipy import special, stats

from maxbounds import MaxboundsValueError
from maxbounds import reference
from maxbounds.architecture import Architecture
from maxbounds.constants import M as M_of
from maxbounds.constants import OutOfRangeError, gaussian_max_moment
from maxbounds.laws.exact import (
    activation_length_mean_closed_form,
    activation_length_mean_var,
    activation_length_moments,
    expected_jacobian_gain,
    gram_chain_samples,
    gram_step,
    layer_correlation,
    sum_sq_max_moments,
    wide_limit_correlation_map,
)

KS_P = 1e-4
Z_MAX = 4.5

BASE = Architecture((3, 8, 8, 8, 2), ranks=3, c=0.8, bias_var=0.3)
X = np.array([1.0, -2.0, 0.5])
U = np.array([0.3, 1.0, -1.0])
# per-layer widths, ranks (one rank-1 hidden layer), scales and biases
MIXED = Architecture((4, 6, 3, 5, 2), ranks=(2, 5, 1), c=(0.5, 1.3, 0.9), c_out=0.7,
                     bias_var=(0.0, 0.2, 0.1, 0.4))
X4 = np.array([0.5, -1.0, 2.0, 0.0])
U4 = np.array([1.0, 1.0, 0.0, -1.0])


class _Networks:
    """The chain's quantities from explicit networks: :func:`maxbounds.reference.samples` (its own NumPy draw).

    ``u`` is normalised as the chain normalises it; ``rho_l`` follows from the state at ``l - 1``.
    """

    def __init__(self, arch, x, u, samples, rng):
        u = np.asarray(u, float) / np.linalg.norm(u)
        r = reference.samples(arch.network(), x, u, samples, rng)
        self.samples = samples
        self.sq_norm_x, self.sq_norm_u, self.cos = r.sq_norm_x, r.sq_norm_u, r.cos
        self.jacobian_sq_norm = r.jacobian_sq_norm
        self.dot = r.cos * np.sqrt(r.sq_norm_x * r.sq_norm_u)
        self.rho = np.full_like(self.dot, np.nan)
        for layer in range(1, arch.depth + 1):
            self.rho[layer] = layer_correlation(arch, layer, self.sq_norm_x[layer - 1], self.sq_norm_u[layer - 1],
                                                self.dot[layer - 1])
        self.abs_cos_gamma = np.abs(self.rho)


@pytest.fixture(scope="module")
def base_samples():
    chain = gram_chain_samples(BASE, X, U, 20000, np.random.default_rng(11))
    explicit = _Networks(BASE, X, U, 20000, np.random.default_rng(12))
    return chain, explicit


def _z(estimate, exact, se):
    return (estimate - exact) / se


def _chi2_moment(n, t):
    """E[(chi^2_n)^t] = 2^t Gamma(n/2 + t) / Gamma(n/2)."""
    return 2.0**t * math.exp(special.gammaln(n / 2 + t) - special.gammaln(n / 2))


# ---------------------------------------------------------------------------
# chain against explicit networks
# ---------------------------------------------------------------------------
def test_chain_and_explicit_networks_agree_in_law(base_samples):
    chain, explicit = base_samples
    L = BASE.depth
    pvalues = {}
    for layer in range(1, L + 1):
        pvalues[f"|x_{layer}|^2"] = stats.ks_2samp(chain.sq_norm_x[layer], explicit.sq_norm_x[layer]).pvalue
        pvalues[f"|u_{layer}|^2"] = stats.ks_2samp(chain.sq_norm_u[layer], explicit.sq_norm_u[layer]).pvalue
        pvalues[f"<x_{layer},u_{layer}>"] = stats.ks_2samp(chain.dot[layer], explicit.dot[layer]).pvalue
    for layer in range(2, L + 1):
        a, b = chain.abs_cos_gamma[layer], explicit.abs_cos_gamma[layer]
        pvalues[f"|rho_{layer}|"] = stats.ks_2samp(a, b).pvalue
    failed = {k: p for k, p in pvalues.items() if p <= KS_P}
    assert not failed, failed
    # rho_1 is a function of the input alone
    rho1 = layer_correlation(BASE, 1, X @ X, 1.0, X @ U / np.linalg.norm(U))
    assert np.allclose(chain.rho[1], rho1, rtol=1e-13) and np.allclose(explicit.rho[1], rho1, rtol=1e-13)


@pytest.mark.parametrize("arch, x, u", [
    (MIXED, X4, U4),
    (BASE.with_(bias_var=0.0), X, U),
    # zero input, zero bias: all pieces tie; both samplers use a fixed selection (rho = 0)
    (BASE.with_(bias_var=0.0), np.zeros(3), U),
])
def test_chain_and_explicit_agree_for_other_networks(arch, x, u):
    chain = gram_chain_samples(arch, x, u, 5000, np.random.default_rng(21))
    explicit = _Networks(arch, x, u, 5000, np.random.default_rng(22))
    L = arch.depth
    p_jac = stats.ks_2samp(chain.jacobian_sq_norm, explicit.jacobian_sq_norm).pvalue
    p_x = stats.ks_2samp(chain.sq_norm_x[L - 1], explicit.sq_norm_x[L - 1]).pvalue
    assert p_jac > KS_P and p_x > KS_P, (p_jac, p_x)


# ---------------------------------------------------------------------------
# exact activation-length moments
# ---------------------------------------------------------------------------
def test_activation_length_mean_and_variance_match_simulation(base_samples):
    mean, var = activation_length_mean_var(BASE, X)
    moments = activation_length_moments(BASE, X, order=4)
    assert mean[0] == X @ X and var[0] == 0
    zs = {}
    for name, s in zip(("chain", "explicit"), base_samples):
        N = s.samples
        for layer in range(1, BASE.depth + 1):
            m1, m2, m3, m4 = moments[layer, 1:]
            central4 = m4 - 4 * m1 * m3 + 6 * m1**2 * m2 - 3 * m1**4
            values = s.sq_norm_x[layer]
            zs[f"{name} mean {layer}"] = _z(values.mean(), mean[layer], math.sqrt(var[layer] / N))
            se_var = math.sqrt((central4 - var[layer] ** 2) / N)
            zs[f"{name} var {layer}"] = _z(values.var(ddof=1), var[layer], se_var)
    failed = {k: z for k, z in zs.items() if abs(z) >= Z_MAX}
    assert not failed, failed


def test_third_moment_of_activation_length_matches_chain(base_samples):
    chain, _ = base_samples
    moments = activation_length_moments(BASE, X, order=6)
    for layer in (2, 4):
        values = chain.sq_norm_x[layer] ** 3
        se = math.sqrt((moments[layer, 6] - moments[layer, 3] ** 2) / values.size)
        assert abs(_z(values.mean(), moments[layer, 3], se)) < Z_MAX


def test_mean_variance_and_moments_are_consistent():
    for arch, x in [(BASE, X), (MIXED, X4)]:
        mean, var = activation_length_mean_var(arch, x)
        moments = activation_length_moments(arch, x, order=2)
        assert np.allclose(moments[:, 0], 1.0, rtol=0)
        assert np.allclose(moments[:, 1], mean, rtol=1e-12)
        assert np.allclose(moments[1:, 2] - moments[1:, 1] ** 2, var[1:], rtol=1e-9)
        # the mean recursion of MATH.md, written out
        expect = [x @ x]
        for layer in range(1, arch.depth + 1):
            K = arch.ranks[layer - 1] if layer < arch.depth else 1
            c = arch.scales()[layer - 1]
            expect.append(arch.widths[layer] * M_of(K) * (c * expect[-1] / arch.widths[layer - 1]
                                                          + arch.bias_var[layer - 1]))
        assert np.allclose(mean, expect, rtol=1e-12)


def test_linear_network_activation_moments_are_chi_squared_products():
    # K = 1, no bias: ||x_l||^2 = ||x||^2 prod (c_m/n_{m-1}) chi^2_{n_m}, independent factors
    arch = Architecture((3, 5, 2, 4, 3), ranks=1, c=(0.7, 1.2, 2.0), c_out=0.5)
    moments = activation_length_moments(arch, X, order=5)
    for layer in range(arch.depth + 1):
        for t in range(6):
            exact = (X @ X) ** t
            for m in range(1, layer + 1):
                exact *= (arch.scales()[m - 1] / arch.widths[m - 1]) ** t * _chi2_moment(arch.widths[m], t)
            assert moments[layer, t] == pytest.approx(exact, rel=1e-12)


def test_closed_form_mean_with_paper_biases():
    for widths, K, c in [((3, 10, 10, 10, 10, 10, 1), 5, 0.55555), ((4, 7, 3, 9, 5, 2), 3, 1.3)]:
        betas = [c / n for n in widths[:-1]]
        arch = Architecture(widths, ranks=K, c=c, bias_var=betas)
        x = np.linspace(-1, 2, widths[0])
        closed = activation_length_mean_closed_form(arch, x)
        mean, _ = activation_length_mean_var(arch, x)
        assert np.allclose(closed, mean[:-1] / np.asarray(widths[:-1]), rtol=1e-12)
    with pytest.raises(MaxboundsValueError, match="^arch: .*bias_var"):
        activation_length_mean_closed_form(BASE, X)


def test_sum_of_squared_maxima_moments():
    def miller(n, K, T):
        # J.C.P. Miller's recurrence for the coefficients of f(z)^n, f(z) = E exp(z Xi^2)
        a = [float(gaussian_max_moment(K, 2 * j)) / math.factorial(j) for j in range(T + 1)]
        b = [1.0]
        for k in range(1, T + 1):
            b.append(sum((j * (n + 1) - k) * a[j] * b[k - j] for j in range(1, k + 1)) / k)
        return np.array([math.factorial(k) * b[k] for k in range(T + 1)])

    for n in (1, 2, 3, 7, 100, 12345):
        for K in (1, 2, 5):
            assert np.allclose(sum_sq_max_moments(n, K, 6), miller(n, K, 6), rtol=1e-10)
    assert np.allclose(sum_sq_max_moments(1, 4, 8), gaussian_max_moment(4, 2 * np.arange(9)), rtol=1e-13)
    assert np.allclose(sum_sq_max_moments(9, 1, 8), [_chi2_moment(9, t) for t in range(9)], rtol=1e-12)
    # huge n and high order stay finite in log-space
    logs = sum_sq_max_moments(10**9, 7, 16, log=True)
    assert np.all(np.isfinite(logs)) and logs[1] == pytest.approx(math.log(1e9 * M_of(7)), rel=1e-13)


def test_depth_ten_thousand_never_overflows_silently():
    arch = Architecture((5,) + (5,) * 9999 + (1,), ranks=3, c=2.0, bias_var=0.1)
    x = np.ones(5)
    log_mean, log_var = activation_length_mean_var(arch, x, log=True)
    assert np.all(np.isfinite(log_mean)) and log_mean[-2] > 1000
    # the refusals and the moments' agreement on depth 1000 (already e^900, far outside the double range):
    # the exact recursion costs about a millisecond per layer, and each call repeats it
    mid = Architecture((5,) * 1001 + (1,), ranks=3, c=2.0, bias_var=0.1)
    mid_mean, _ = activation_length_mean_var(mid, x, log=True)
    assert mid_mean[-2] > 709 and np.allclose(mid_mean[:-1], log_mean[: mid.depth], rtol=1e-12)  # hidden layers
    log_moments = activation_length_moments(mid, x, order=2, log=True)
    assert np.allclose(log_moments[:, 1], mid_mean, rtol=1e-10)
    with pytest.raises(OutOfRangeError, match="log=True"):
        activation_length_mean_var(mid, x)
    with pytest.raises(OutOfRangeError):
        activation_length_moments(mid, x)
    # vanishing activations are refused too, not flushed to zero
    small = mid.with_(c=0.01, bias_var=0.0)
    with pytest.raises(OutOfRangeError, match="below"):
        activation_length_mean_var(small, x)
    # the chain keeps logs: finite at depth 10^4, and exp refuses to overflow
    s = gram_chain_samples(arch, x, x, 50, np.random.default_rng(0), layers=[arch.depth])
    assert s.layers == (arch.depth,) and np.all(np.isfinite(s.log_sq_norm_x))
    assert np.all(np.isfinite(s.log_jacobian_sq_norm))
    with pytest.raises(OutOfRangeError):
        s.sq_norm_x
    # without bias, log||x_{L-1}||^2 - log||x||^2 - (L-1) log(c/n) is a sum of L-1 i.i.d.
    # log A, A = sum of 5 squared maxima of 3 normals: compare with an independent estimate of E log A
    hidden = arch.depth - 1
    s = gram_chain_samples(arch.with_(bias_var=0.0), x, x, 50, np.random.default_rng(1), layers=[hidden])
    total = s.log_sq_norm_x[0] - math.log(x @ x) - hidden * math.log(2.0 / 5)
    maxima = np.max(np.random.default_rng(2).standard_normal((200000, 5, 3)), axis=2)
    log_a = np.log(np.sum(maxima**2, axis=1))
    mu, sigma = log_a.mean(), log_a.std()
    se = math.sqrt(hidden * sigma**2 / total.size + (hidden * sigma) ** 2 / log_a.size)
    assert abs(_z(total.mean(), hidden * mu, se)) < Z_MAX


# ---------------------------------------------------------------------------
# Jacobian laws
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("bias", [0.0, 0.5])
def test_linear_network_jacobian_is_a_product_of_chi_squares(bias):
    arch = Architecture((3, 6, 4, 5, 2), ranks=1, c=(0.9, 1.5, 0.6), c_out=1.2, bias_var=bias)
    chain = gram_chain_samples(arch, X, U, 20000, np.random.default_rng(31))
    jac = chain.jacobian_sq_norm
    factors = [(arch.scales()[m - 1] / arch.widths[m - 1], arch.widths[m]) for m in range(1, arch.depth + 1)]
    m1 = math.prod(a * _chi2_moment(n, 1) for a, n in factors)
    m2 = math.prod(a**2 * _chi2_moment(n, 2) for a, n in factors)
    m4 = math.prod(a**4 * _chi2_moment(n, 4) for a, n in factors)
    assert abs(_z(jac.mean(), m1, math.sqrt((m2 - m1**2) / jac.size))) < Z_MAX
    assert abs(_z(np.mean(jac**2), m2, math.sqrt((m4 - m2**2) / jac.size))) < Z_MAX
    # and in law, against an independent draw of the product
    rng = np.random.default_rng(32)
    direct = math.prod(a * rng.chisquare(n, 20000) for a, n in factors)
    assert stats.ks_2samp(jac, direct).pvalue > KS_P
    explicit = _Networks(arch, X, U, 3000, np.random.default_rng(33))
    assert stats.ks_2samp(explicit.jacobian_sq_norm, direct).pvalue > KS_P


def test_one_layer_gain_matches_simulation():
    arch = Architecture((3, 40, 2), ranks=4, c=1.1, bias_var=0.2)
    rho = layer_correlation(arch, 1, X @ X, 1.0, X @ U / np.linalg.norm(U))
    gain = expected_jacobian_gain(arch, 1, rho)
    M = M_of(4)
    assert gain == pytest.approx(1.1 * 40 / 3 * (1 + rho**2 * (M - 1)), rel=1e-14)
    for s in (gram_chain_samples(arch, X, U, 20000, 41), _Networks(arch, X, U, 5000, 42)):
        values = s.sq_norm_u[1]
        assert abs(_z(values.mean(), gain, values.std(ddof=1) / math.sqrt(values.size))) < Z_MAX
    # the output layer is linear: gain c_L n_L / n_{L-1} whatever rho
    assert np.allclose(expected_jacobian_gain(arch, 2, [0.0, 0.5, 1.0]), 2 / 40)


def test_wide_limit_correlation_map():
    K = 5
    M = M_of(K)
    f = lambda r: wide_limit_correlation_map(r, K)  # noqa: E731
    assert f(0.0) == 0 and f(1.0) == pytest.approx(1.0, rel=1e-15)
    assert f(-1.0) == pytest.approx(-1.0, rel=1e-15)
    h = 1e-6
    assert (f(h) - f(-h)) / (2 * h) == pytest.approx(math.sqrt(M), rel=1e-8)
    assert (f(1.0) - f(1.0 - h)) / h == pytest.approx(1 / M, rel=1e-5)
    assert np.allclose(wide_limit_correlation_map(np.linspace(-1, 1, 7), 1), np.linspace(-1, 1, 7))
    # one very wide layer without bias: cos(x_1, u_1) concentrates at the map's value
    arch = Architecture((3, 100000, 1), ranks=K, c=1.0)
    x, u = np.array([1.0, 0.0, 0.0]), np.array([0.6, 0.8, 0.0])
    s = gram_chain_samples(arch, x, u, 20, np.random.default_rng(51))
    # the standard deviation of cos at this width is about 1.4e-3; bias is O(1/n)
    assert abs(s.cos[1].mean() - f(0.6)) < 4.5 * 1.4e-3 / math.sqrt(20) + 1e-4


# ---------------------------------------------------------------------------
# deterministic identities
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("sampler", [gram_chain_samples, _Networks])
def test_direction_of_the_input_without_bias_follows_the_activations(sampler):
    # zero bias makes each layer positively homogeneous, so J(x) x = x_L exactly
    arch = BASE.with_(bias_var=0.0)
    s = sampler(arch, X, X, 200, np.random.default_rng(61))
    assert np.allclose(s.sq_norm_u, s.sq_norm_x / (X @ X), rtol=1e-10)
    assert np.allclose(s.cos, 1.0, atol=1e-12)
    assert np.allclose(s.rho[1:], 1.0, atol=1e-12)
    if sampler is gram_chain_samples:
        assert np.all(s.sin_sq < 1e-20)


def test_homogeneity_and_normalisation_of_u():
    arch = BASE.with_(bias_var=0.0)
    a = gram_chain_samples(arch, X, U, 300, np.random.default_rng(7))
    b = gram_chain_samples(arch, 3.0 * X, 5.0 * U, 300, np.random.default_rng(7))
    assert np.allclose(b.log_sq_norm_x, a.log_sq_norm_x + 2 * math.log(3.0), rtol=0, atol=1e-12)
    assert np.allclose(b.log_sq_norm_u, a.log_sq_norm_u, rtol=0, atol=1e-12)
    assert np.allclose(b.cos, a.cos, atol=1e-12)


def test_reproducible_and_recording_does_not_change_the_stream():
    a = gram_chain_samples(MIXED, X4, U4, 500, np.random.default_rng(3))
    b = gram_chain_samples(MIXED, X4, U4, 500, np.random.default_rng(3))
    c = gram_chain_samples(MIXED, X4, U4, 500, np.random.default_rng(3), layers=[4, 2])
    d = gram_chain_samples(MIXED, X4, U4, 500, np.random.default_rng(4))
    assert np.array_equal(a.log_sq_norm_u, b.log_sq_norm_u) and np.array_equal(a.cos, b.cos)
    assert c.layers == (2, 4) and np.array_equal(c.log_sq_norm_x, a.log_sq_norm_x[[2, 4]])
    assert not np.array_equal(a.log_sq_norm_u[-1], d.log_sq_norm_u[-1])
    e = _Networks(MIXED, X4, U4, 50, 9)
    f = _Networks(MIXED, X4, U4, 50, np.random.default_rng(9))
    assert np.array_equal(e.sq_norm_u, f.sq_norm_u)


def test_state_invariants(base_samples):
    chain, explicit = base_samples
    assert np.allclose(chain.cos**2 + chain.sin_sq, 1.0, atol=1e-13)
    assert np.all((chain.sin_sq >= 0) & (chain.sin_sq <= 1))
    assert np.allclose(chain.rho[1:] ** 2 + chain.one_minus_rho_sq[1:], 1.0, atol=1e-13)
    for s in base_samples:
        assert np.all(np.abs(s.cos) <= 1)
        assert np.all(np.isnan(s.rho[0]))
        assert np.array_equal(s.jacobian_sq_norm, s.sq_norm_u[-1])
        dot = s.dot
        assert np.all(dot**2 <= s.sq_norm_x * s.sq_norm_u * (1 + 1e-12))
        # with bias beta > 0, |rho| < 1 strictly
        assert np.all(s.abs_cos_gamma[1:] < 1)


def test_gram_step_is_pure_and_matches_the_per_unit_formulas():
    rng = np.random.default_rng(5)
    n, K, c, beta = 6, 3, 0.9, 0.25
    xs, vs = rng.standard_normal(4), rng.standard_normal(4)
    xi = np.max(rng.standard_normal((n, K)), axis=1)
    h = rng.standard_normal(n)
    # per-unit formulas
    q = c / 4 * xs @ xs + beta
    s2 = c / 4 * vs @ vs
    rho = c / 4 * (xs @ vs) / math.sqrt(q * s2)
    x_new = math.sqrt(q) * xi
    v_new = math.sqrt(s2) * (rho * xi + math.sqrt(1 - rho**2) * h)
    # the same draws, reduced to (A, g, chi)
    A = xi @ xi
    g = (xi / math.sqrt(A)) @ h
    chi = h @ h - g**2
    state = (np.log([xs @ xs]), np.log([vs @ vs]), np.array([xs @ vs / math.sqrt((xs @ xs) * (vs @ vs))]))
    sin_sq = 1 - state[2] ** 2
    args = (*state, sin_sq, math.log(c / 4), math.log(beta), np.array([A]), np.array([g]), np.array([chi]))
    out1, out2 = gram_step(*args), gram_step(*args)
    for a, b in zip(out1, out2):
        assert np.array_equal(a, b)
    lx, lv, cos, sn, r, r2 = out1
    assert np.exp(lx[0]) == pytest.approx(x_new @ x_new, rel=1e-12)
    assert np.exp(lv[0]) == pytest.approx(v_new @ v_new, rel=1e-12)
    assert cos[0] == pytest.approx(x_new @ v_new / math.sqrt((x_new @ x_new) * (v_new @ v_new)), rel=1e-12)
    assert r[0] == pytest.approx(rho, rel=1e-12) and r2[0] == pytest.approx(1 - rho**2, rel=1e-12)


# ---------------------------------------------------------------------------
# argument checking
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("call, argument", [
    (lambda: gram_chain_samples(BASE, [1.0, 2.0], U, 10), "x"),
    (lambda: gram_chain_samples(BASE, X, np.zeros(3), 10), "u"),
    (lambda: gram_chain_samples(BASE, X, [1.0, np.nan, 0.0], 10), "u"),
    (lambda: gram_chain_samples(BASE, X, U, 0), "samples"),
    (lambda: gram_chain_samples(BASE, X, U, 2.5), "samples"),
    (lambda: gram_chain_samples(BASE, X, U, True), "samples"),
    (lambda: gram_chain_samples(BASE, X, U, 10, rng="seed"), "rng"),
    (lambda: gram_chain_samples(BASE, X, U, 10, layers=[5]), "layers"),
    (lambda: gram_chain_samples(BASE, X, U, 10, layers=[]), "layers"),
    (lambda: reference.samples((3, 8, 2), X, U, 10), "net"),
    (lambda: activation_length_moments(BASE, X, order=17), "order"),
    (lambda: activation_length_mean_var(BASE, [[1.0, 2.0, 3.0]]), "x"),
    (lambda: expected_jacobian_gain(BASE, 1, 1.5), "rho"),
    (lambda: expected_jacobian_gain(BASE, 0, 0.5), "layer"),
    (lambda: wide_limit_correlation_map(0.5, 0), "K"),
    (lambda: layer_correlation(BASE, 1, 1.0, 1.0, 2.0), "dot"),
    (lambda: sum_sq_max_moments(0, 3), "n"),
])
def test_bad_arguments_name_the_argument(call, argument):
    with pytest.raises(MaxboundsValueError) as info:
        call()
    assert info.value.argument == argument
    assert "\n" not in str(info.value)


def test_unrecorded_layer_is_a_clear_error():
    s = gram_chain_samples(BASE, X, U, 5, 0, layers=[1])
    with pytest.raises(MaxboundsValueError, match="^layer: layer 4 was not recorded"):
        s.jacobian_sq_norm
