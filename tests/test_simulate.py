"""The Numba simulators (maxbounds.simulate): laws, reproducibility, the inverse normal CDF and the ziggurat.

Statistical tests use fixed seeds, so each run gives the same verdict.  Their
thresholds are chosen so that, were the seeds drawn at random, a correct
implementation would fail rarely:

* a two-sample Kolmogorov-Smirnov test passes when p > 1e-4 (false-failure
  rate 1e-4 per test);
* a z-score (sample mean minus exact mean, over the standard error from the
  exact variance) passes when |z| < 4.5 (about 7e-6 per test under the
  normal approximation).

This file makes 10 KS tests and 10 z-tests: family-wise false-failure rate
below 1.1e-3 (Bonferroni: 10 * 1e-4 + 10 * 7e-6).
"""

import math

import numba
import numpy as np
import pytest
from scipy import integrate, special, stats

from maxbounds import MaxboundsValueError
from maxbounds.architecture import Architecture
from maxbounds.laws.exact import activation_length_mean_var, gram_chain_samples
from maxbounds.laws.jacobian import ReLUJacobianLaw
from maxbounds.simulate import _kernels, chain_samples, explicit_samples

KS_P = 1e-4
Z_MAX = 4.5

ARCH = Architecture((3, 8, 8, 8, 2), ranks=3, c=0.8, bias_var=0.3)
X = np.array([1.0, -0.5, 2.0])
U = np.array([0.3, 1.0, -1.0])


@numba.njit
def _ndtri_array(p):
    out = np.empty_like(p)
    for i in range(p.size):
        out[i] = _kernels.ndtri(p[i])
    return out


@numba.njit  # not cached: a cached caller would keep stale copies of the maxbounds kernels it inlines
def _normals(count, seed):
    rng = np.empty(4, dtype=np.uint64)
    _kernels.seed_stream(rng, np.uint64(seed), np.uint64(0))
    out = np.empty(count)
    for i in range(count):
        out[i] = _kernels.normal(rng)
    return out


def test_ziggurat_layers_have_equal_areas_and_close_at_the_top():
    from maxbounds.simulate import _ziggurat as z

    v = z.R * math.exp(-z.R**2 / 2) + math.sqrt(math.pi / 2) * special.erfc(z.R / math.sqrt(2))
    # the tail's area by quadrature, independently of erfc
    tail = integrate.quad(lambda x: math.exp(-x * x / 2), z.R, np.inf)[0]
    assert v == pytest.approx(z.R * math.exp(-z.R**2 / 2) + tail, rel=1e-12)
    areas = [z.X[k] * (math.exp(-z.X[k + 1] ** 2 / 2) - math.exp(-z.X[k] ** 2 / 2)) for k in range(1, z.LAYERS)]
    assert np.allclose(areas, v, rtol=1e-11)
    assert z.X[0] * math.exp(-z.R**2 / 2) == pytest.approx(v, rel=1e-14)
    assert z.X[-1] == 0.0 and np.all(np.diff(z.X[1:]) < 0)


def test_ziggurat_normals_have_the_normal_law():
    x = _normals(4_000_000, 7)
    # KS at level 1e-4 (false failure 1e-4)
    assert stats.kstest(x, "norm").pvalue > 1e-4
    # the tails, sampled apart beyond r = 3.654, and far out: binomial counts within 4.5 standard deviations
    for c in (1.0, 2.5, 3.654152885361009, 4.5):
        p = 2 * stats.norm.sf(c)
        count = np.sum(np.abs(x) > c)
        assert abs(count - p * x.size) <= 4.5 * math.sqrt(x.size * p * (1 - p)), c
    # symmetric: the sign is its own bit
    assert abs(np.mean(x > 0) - 0.5) <= 4.5 * 0.5 / math.sqrt(x.size)


def test_ndtri_matches_scipy():
    p = np.concatenate([
        np.logspace(-300, -1, 30001),
        np.linspace(1e-3, 1 - 1e-3, 30001),
        1 - np.logspace(-16, -1, 3001),
        [np.nextafter(0.5, 0), 0.5, np.nextafter(0.5, 1), 0.075, 0.925, 2.0**-54],
    ])
    ours, ref = _ndtri_array(p), special.ndtri(p)
    rel = np.abs(ours - ref) / np.maximum(np.abs(ref), np.finfo(float).tiny)
    assert rel.max() < 2e-15
    assert _ndtri_array(np.array([0.0, 1.0]))[0] == -np.inf
    assert np.isnan(_ndtri_array(np.array([1.5]))[0])


def test_uniform_is_open_and_uniform():
    @numba.njit
    def draw(n):
        state = np.empty(4, dtype=np.uint64)
        _kernels.seed_stream(state, np.uint64(7), np.uint64(0))
        out = np.empty(n)
        for i in range(n):
            out[i] = _kernels.uniform(state)
        return out

    z = draw(200_000)
    assert 0.0 < z.min() and z.max() < 1.0
    assert stats.kstest(z, "uniform").pvalue > KS_P


@numba.njit
def _chi_square_draws(k, n, seed):
    state = np.empty(4, dtype=np.uint64)
    _kernels.seed_stream(state, np.uint64(seed), np.uint64(0))
    out = np.empty(n)
    for i in range(n):
        out[i] = _kernels.chi_square(state, k)
    return out


@pytest.mark.parametrize("k", [1, 2, 7])
def test_chi_square_law(k):
    # k = 1 exercises the Gamma(a < 1) branch
    assert stats.kstest(_chi_square_draws(k, 50_000, k), "chi2", args=(k,)).pvalue > KS_P
    assert _chi_square_draws(0, 3, 0).tolist() == [0.0, 0.0, 0.0]


def _ks(a, b):
    p = stats.ks_2samp(a, b).pvalue
    assert p > KS_P, p
    return p


@pytest.mark.parametrize("K", [3, 12])  # the largest of K normals (K <= 8) and one uniform by inversion (K > 8)
def test_chain_matches_numpy_reference(K):
    arch = ARCH.with_(ranks=K)
    ours = chain_samples(arch, X, U, 20_000, seed=11, per_layer=True)
    ref = gram_chain_samples(arch, X, U, 20_000, np.random.default_rng(12))
    _ks(ours.jacobian_sq_norm, ref.jacobian_sq_norm)
    _ks(ours.sq_norm_x[2], ref.sq_norm_x[2])
    _ks(ours.abs_cos_gamma[3], ref.abs_cos_gamma[3])


def test_chain_matches_explicit():
    chain = chain_samples(ARCH, X, U, 20_000, seed=21, per_layer=True)
    explicit = explicit_samples(ARCH, X, U, 20_000, seed=22, per_layer=True)
    _ks(chain.jacobian_sq_norm, explicit.jacobian_sq_norm)
    _ks(chain.abs_cos_gamma[3], explicit.abs_cos_gamma[3])


@pytest.mark.parametrize("sampler", [chain_samples, explicit_samples])
def test_activation_length_mean(sampler):
    n = 20_000
    res = sampler(ARCH, X, U, n, seed=31, per_layer=True)
    mean, var = activation_length_mean_var(ARCH, X)
    for layer in range(1, ARCH.depth + 1):
        z = (res.sq_norm_x[layer].mean() - mean[layer]) / math.sqrt(var[layer] / n)
        assert abs(z) < Z_MAX, (layer, z)


def test_linear_network_law():
    # K = 1 everywhere: J = W_L ... W_1 and ||J u||^2 = prod_l (c_l/n_{l-1}) chi^2_{n_l} in law
    arch = Architecture((4, 6, 5, 3), ranks=1, c=(1.3, 0.7), c_out=2.0, bias_var=0.2)
    n = 20_000
    x, u = np.ones(4), np.array([1.0, 0.0, 0.0, 0.0])
    rng = np.random.default_rng(41)
    law = np.ones(n)
    for l in range(arch.depth):
        law *= arch.scales()[l] / arch.widths[l] * rng.chisquare(arch.widths[l + 1], n)
    _ks(chain_samples(arch, x, u, n, seed=42).jacobian_sq_norm, law)
    exact_mean = np.prod([arch.scales()[l] * arch.widths[l + 1] / arch.widths[l] for l in range(arch.depth)])
    vals = explicit_samples(arch, x, u, n, seed=43).jacobian_sq_norm
    # Var = mean^2 (prod (1 + 2/n_l) - 1)
    sd = exact_mean * math.sqrt(np.prod([1 + 2 / w for w in arch.widths[1:]]) - 1)
    z = (vals.mean() - exact_mean) / (sd / math.sqrt(n))
    assert abs(z) < Z_MAX, z


def test_relu_explicit_mean():
    arch = Architecture((5, 10, 10, 10, 3), ranks=4, c=2.0, c_out=1.5)
    n = 20_000
    vals = explicit_samples(arch, np.linspace(-1, 1, 5), np.ones(5), n, seed=51, activation="relu").jacobian_sq_norm
    law = ReLUJacobianLaw(arch)
    z = (vals.mean() - law.mean()) / math.sqrt(law.var() / n)
    assert abs(z) < Z_MAX, z


@pytest.mark.parametrize("sampler", [chain_samples, explicit_samples])
def test_reproducible(sampler):
    a = sampler(ARCH, X, U, 500, seed=2**64 - 1, per_layer=True)
    b = sampler(ARCH, X, U, 500, seed=2**64 - 1, per_layer=True)
    c = sampler(ARCH, X, U, 500, seed=2**64 - 2, per_layer=True)
    assert np.array_equal(a.log_sq_norm_u, b.log_sq_norm_u)
    assert np.array_equal(a.cos, b.cos)
    assert not np.any(a.log_jacobian_sq_norm == c.log_jacobian_sq_norm)
    # a prefix of a longer run, and the last layer whether or not per_layer
    d = sampler(ARCH, X, U, 200, seed=2**64 - 1)
    assert np.array_equal(d.log_jacobian_sq_norm, a.log_jacobian_sq_norm[:200])


@pytest.mark.parametrize("sampler", [chain_samples, explicit_samples])
def test_same_results_whatever_the_thread_count(sampler):
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = sampler(ARCH, X, U, 1000, seed=5).log_jacobian_sq_norm
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = sampler(ARCH, X, U, 1000, seed=5).log_jacobian_sq_norm
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(one, two)


def test_zero_input_no_bias():
    arch = Architecture((3, 4, 2), ranks=2, c=1.0)
    res = chain_samples(arch, np.zeros(3), U, 10, seed=1, per_layer=True)
    assert np.all(res.log_sq_norm_x[1:] == -np.inf)
    assert np.all(res.rho[1:] == 0.0)
    assert np.all(np.isfinite(res.log_jacobian_sq_norm))


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"arch": "3,8,2"}, "arch"),
        ({"x": np.ones(4)}, "x"),
        ({"x": [1.0, np.nan, 0.0]}, "x"),
        ({"u": np.zeros(3)}, "u"),
        ({"samples": 0}, "samples"),
        ({"samples": True}, "samples"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**64}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"per_layer": "yes"}, "per_layer"),
    ],
)
def test_bad_arguments(kwargs, argument):
    args = {"arch": ARCH, "x": X, "u": U, "samples": 10, "seed": 0} | kwargs
    for sampler in (chain_samples, explicit_samples):
        with pytest.raises(MaxboundsValueError) as err:
            sampler(args["arch"], args["x"], args["u"], args["samples"], args["seed"],
                    per_layer=args.get("per_layer", False))
        assert err.value.argument == argument


def test_bad_activation_and_conv():
    with pytest.raises(MaxboundsValueError, match="activation"):
        explicit_samples(ARCH, X, U, 10, 0, activation="tanh")
    conv = Architecture.convolutional((1, 2), (3, 3), n_out=2, kernel_size=3)
    with pytest.raises(MaxboundsValueError, match="conv"):
        chain_samples(conv, np.ones(9), np.ones(9), 10, 0)
