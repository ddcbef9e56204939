"""Tests of maxbounds.simulate.gradients: the explicit-network gradient and NTK sampler.

Statistical checks use fixed seeds and a 4.5-standard-error tolerance: for a
sample mean that is close to normal, a one-sided excursion beyond 4.5 has
probability about 3.4e-6, so the file's ~40 such comparisons would fail by
chance with probability below 2e-4 per fresh seed (and never for these fixed
seeds, which are deterministic whatever the thread count).
"""

from __future__ import annotations


import numba
import numpy as np
import pytest

from maxbounds._validate import MaxboundsValueError
from maxbounds.architecture import Architecture
from maxbounds.laws.exact import activation_length_mean_var
from maxbounds.laws.gradients import gradient_bounds, ntk_bounds
from maxbounds.layers.draw import draw_parameters
from maxbounds.simulate import explicit_samples
from maxbounds.simulate.gradients import GradientSamples, gradient_samples

Z = 4.5
X3 = np.array([1.0, -0.5, 2.0])


# ---------------------------------------------------------------------------
# brute force: the drawn network in NumPy, differentiated numerically
# ---------------------------------------------------------------------------
def _draw_network(arch, seed, s):
    """Weights (n, K, n_prev) and biases (n, K) of network ``s`` (the one draw, as NumPy arrays)."""
    return [[W, b] for W, b in draw_parameters(arch.network(), seed, s)]


def _network(params, x):
    acts = [x]
    for W, b in params:
        z = np.einsum("ikj,j->ik", W, acts[-1]) + b
        acts.append(z.max(axis=1))  # the output layer has K = 1: linear
    return acts


def _fd_squares(params, x, h=1e-6):
    """Per layer: sums of squared central differences of N (summed over outputs) over weights and biases."""
    weight_sums, bias_sums, zero_max = [], [], 0.0
    for layer, (W, b) in enumerate(params):
        sel = np.einsum("ikj,j->ik", W, _network(params, x)[layer]) + b
        winner = sel.argmax(axis=1)
        sums = []
        for arr in (W, b):
            total = 0.0
            for index in np.ndindex(arr.shape):
                old = arr[index]
                arr[index] = old + h
                up = _network(params, x)[-1]
                arr[index] = old - h
                down = _network(params, x)[-1]
                arr[index] = old
                sq = float(np.sum(((up - down) / (2 * h)) ** 2))
                if index[1] == winner[index[0]]:
                    total += sq
                else:
                    zero_max = max(zero_max, sq)
            sums.append(total)
        weight_sums.append(sums[0])
        bias_sums.append(sums[1])
    return np.array(weight_sums), np.array(bias_sums), zero_max


@pytest.mark.parametrize("bias_var", [0.0, 0.4])
def test_matches_finite_differences(bias_var):
    arch = Architecture((3, 4, 4, 2), ranks=3, c=1.3, c_out=0.7, bias_var=bias_var)
    x = np.array([0.8, -1.1, 0.4])
    seed = 12345
    res = gradient_samples(arch, x, 3, seed)
    widths = np.array(arch.widths, dtype=float)
    for s in range(3):
        params = _draw_network(arch, seed, s)
        acts = _network(params, x)
        np.testing.assert_allclose(res.sq_norm_x[s], [a @ a for a in acts], rtol=1e-12)
        w_sum, b_sum, zero_max = _fd_squares(params, x)
        assert zero_max < 1e-12  # pieces that are not selected get no gradient
        np.testing.assert_allclose(res.weight_layer_sum[s], w_sum, rtol=1e-6)
        np.testing.assert_allclose(res.weight_nonzero[s], w_sum / (widths[1:] * widths[:-1]), rtol=1e-6)
        np.testing.assert_allclose(res.bias_nonzero[s], b_sum / widths[1:], rtol=1e-6)
        np.testing.assert_allclose(res.ntk[s], w_sum.sum() + b_sum.sum(), rtol=1e-6)
        np.testing.assert_allclose(res.ntk_layers[s], w_sum + b_sum, rtol=1e-6)
    assert np.all(res.delta_sq[:, -1] == 2.0)


def test_forward_pass_is_the_explicit_sampler_network():
    arch = Architecture((3, 8, 8, 8, 2), ranks=3, c=0.8, bias_var=0.3)
    res = gradient_samples(arch, X3, 50, 7)
    ref = explicit_samples(arch, X3, X3, 50, 7, per_layer=True)
    np.testing.assert_allclose(res.sq_norm_x, ref.sq_norm_x.T, rtol=1e-12)


# ---------------------------------------------------------------------------
# statistics against the analytic bounds
# ---------------------------------------------------------------------------
def _outside(mean, se, lo, hi):
    """How many standard errors ``mean`` lies outside ``[lo, hi]`` (0 inside)."""
    return max((lo - mean) / se, (mean - hi) / se, 0.0)


def _check_bounds(arch, x, networks, seed):
    res = gradient_samples(arch, x, networks, seed)
    worst = 0.0
    for entry in gradient_bounds(arch, x):
        col = entry["layer"] - 1
        for key in ("weight_nonzero", "weight_per_k", "weight_layer_sum", "bias_nonzero", "bias_per_k"):
            mean, se = GradientSamples.mean_se(getattr(res, key)[:, col])
            if se == 0.0:  # the output layer's bias gradient is the constant 1
                assert mean == pytest.approx(entry[key]["lower"], rel=1e-12)
                continue
            z = _outside(mean, se, entry[key]["lower"], entry[key]["upper"])
            assert z <= Z, (key, entry["layer"], mean, se, entry[key])
            worst = max(worst, z)
    ntk = ntk_bounds(arch, x)
    for entry in ntk["layers"]:
        mean, se = GradientSamples.mean_se(res.ntk_layers[:, entry["layer"] - 1])
        z = _outside(mean, se, entry["lower"], entry["upper"])
        assert z <= Z, ("ntk layer", entry, mean, se)
        worst = max(worst, z)
    mean, se = GradientSamples.mean_se(res.ntk)
    z = _outside(mean, se, ntk["lower"], ntk["upper"])
    assert z <= Z, ("ntk", ntk["lower"], ntk["upper"], mean, se)
    return res, max(worst, z)


def test_means_within_bounds_maxout():
    arch = Architecture((3, 8, 8, 8, 2), ranks=3, c=0.8, bias_var=0.3)
    _check_bounds(arch, X3, 40_000, 2024)


def test_means_exact_for_linear_network():
    # K = 1: S(1) = L(1) = 1, lower == upper; the sample mean must hit the value
    arch = Architecture((3, 6, 5, 2), ranks=1, c=1.1, c_out=0.9, bias_var=0.2)
    for entry in gradient_bounds(arch, X3):
        assert entry["weight_nonzero"]["lower"] == pytest.approx(entry["weight_nonzero"]["upper"], rel=1e-12)
    _check_bounds(arch, X3, 40_000, 99)


def test_output_layer_weight_gradient_exact():
    arch = Architecture((3, 8, 8, 8, 2), ranks=3, c=0.8, bias_var=0.3)
    res = gradient_samples(arch, X3, 40_000, 31)
    mean_x, _ = activation_length_mean_var(arch, X3)
    mean, se = GradientSamples.mean_se(res.weight_nonzero[:, -1])
    exact = mean_x[-2] / arch.widths[-2]
    assert abs(mean - exact) / se <= Z


# ---------------------------------------------------------------------------
# reproducibility and arguments
# ---------------------------------------------------------------------------
def test_reproducible_and_thread_independent():
    arch = Architecture((3, 8, 8, 8, 2), ranks=3, c=0.8, bias_var=0.3)
    a = gradient_samples(arch, X3, 200, 5)
    b = gradient_samples(arch, X3, 200, 5)
    np.testing.assert_array_equal(a.delta_sq, b.delta_sq)
    np.testing.assert_array_equal(a.sq_norm_x, b.sq_norm_x)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = gradient_samples(arch, X3, 200, 5)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = gradient_samples(arch, X3, 200, 5)
    finally:
        numba.set_num_threads(threads)
    np.testing.assert_array_equal(one.delta_sq, two.delta_sq)
    np.testing.assert_array_equal(one.delta_sq, a.delta_sq)
    # prefix property: the first networks of a larger call are those of a smaller one
    np.testing.assert_array_equal(gradient_samples(arch, X3, 50, 5).delta_sq, a.delta_sq[:50])
    assert not np.array_equal(gradient_samples(arch, X3, 200, 6).delta_sq, a.delta_sq)


def test_shapes():
    arch = Architecture((3, 8, 8, 8, 2), ranks=3)
    res = gradient_samples(arch, X3, 10, 0)
    for key in ("weight_nonzero", "weight_per_k", "weight_layer_sum", "bias_nonzero", "bias_per_k", "ntk_layers",
                "delta_sq"):
        assert getattr(res, key).shape == (10, 4)
    assert res.ntk.shape == (10,)
    assert res.sq_norm_x.shape == (10, 5)
    assert res.networks == 10


@pytest.mark.parametrize("kwargs, argument", [
    ({"arch": "3,8,2"}, "arch"),
    ({"x": [1.0, 2.0]}, "x"),
    ({"x": [1.0, np.nan, 2.0]}, "x"),
    ({"networks": 0}, "networks"),
    ({"networks": 2.5}, "networks"),
    ({"networks": True}, "networks"),
    ({"seed": -1}, "seed"),
    ({"seed": 2**64}, "seed"),
])
def test_bad_arguments(kwargs, argument):
    args = {"arch": Architecture((3, 8, 2)), "x": X3, "networks": 10, "seed": 1}
    args.update(kwargs)
    with pytest.raises(MaxboundsValueError) as info:
        gradient_samples(**args)
    assert info.value.argument == argument
    assert "\n" not in str(info.value)


def test_rejects_convolutional():
    arch = Architecture.convolutional((1, 2), (3, 3), 2)
    with pytest.raises(MaxboundsValueError) as info:
        gradient_samples(arch, np.ones(arch.n_in), 10, 1)
    assert info.value.argument == "conv"
