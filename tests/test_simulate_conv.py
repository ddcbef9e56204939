"""The convolutional sampler (maxbounds.simulate.conv): exactness, one closed-form mean, reproducibility.

The one statistical test is a z-score (sample mean minus the exact mean, over
the sample standard error) passing when |z| < 4.5: a false-failure rate of
about 7e-6 under the normal approximation, were the fixed seed drawn at random.
"""

import numba
import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from maxbounds import MaxboundsValueError
from maxbounds.architecture import Architecture
from maxbounds.simulate.conv import conv_forward, conv_jacobian_samples, network_weights

ARCH = Architecture.convolutional((2, 4, 3), (5, 6), 3, kernel_size=(3, 5), ranks=(3, 2), c=1.3,
                                  c_out=0.7, bias_var=(0.2, 0.1, 0.3))
RNG = np.random.default_rng(12345)
X = RNG.normal(size=(2, 5, 6))
U = RNG.normal(size=(2, 5, 6))


def numpy_forward(weights, biases, x):
    """An independent forward pass: padded sliding windows, einsum and argmax over pieces."""
    for weight, bias in zip(weights[:-1], biases[:-1]):
        k = weight.shape[-1]
        padded = np.pad(x, ((0, 0), (k // 2, k // 2), (k // 2, k // 2)))
        windows = sliding_window_view(padded, (k, k), axis=(1, 2))  # (C', H, W, k, k)
        zeta = np.einsum("cpiab,ihwab->cphw", weight, windows) + bias[:, :, None, None]
        x = zeta.max(axis=1)
    return weights[-1] @ x.reshape(-1) + biases[-1]


@pytest.mark.parametrize("sample", [0, 1, 7])
def test_forward_matches_numpy_and_finite_differences(sample):
    weights, biases = network_weights(ARCH, 3, sample)
    assert [w.shape for w in weights] == [(4, 3, 2, 3, 3), (3, 2, 4, 5, 5), (3, 90)]
    assert [b.shape for b in biases] == [(4, 3), (3, 2), (3,)]
    x_L, ju, _, _ = conv_forward(weights, biases, X, U)
    np.testing.assert_allclose(x_L, numpy_forward(weights, biases, X), rtol=1e-12, atol=1e-12)
    h = 1e-6
    fd = (numpy_forward(weights, biases, X + h * U) - numpy_forward(weights, biases, X - h * U)) / (2 * h)
    np.testing.assert_allclose(ju, fd, rtol=1e-6, atol=1e-9 * np.abs(ju).max())


@pytest.mark.parametrize("sample", [0, 5])
def test_sampler_uses_the_replayed_weights(sample):
    res = conv_jacobian_samples(ARCH, X, U, 8, 3, per_layer=True)
    weights, biases = network_weights(ARCH, 3, sample)
    x_L, ju, xs, us = conv_forward(weights, biases, X, U)
    np.testing.assert_allclose(res.jacobian_sq_norm[sample], ju @ ju, rtol=1e-12)
    np.testing.assert_allclose(res.sq_norm_x[:, sample], [np.sum(a * a) for a in xs] + [x_L @ x_L], rtol=1e-12)
    np.testing.assert_allclose(res.sq_norm_u[:, sample], [np.sum(a * a) for a in us] + [ju @ ju], rtol=1e-12)
    flat = conv_jacobian_samples(ARCH, X.ravel(), U.ravel(), 8, 3)
    np.testing.assert_array_equal(flat.jacobian_sq_norm, res.jacobian_sq_norm)


def test_linear_one_layer_mean_closed_form():
    C0, C1, H, W, k, n_out, c, c_out = 2, 3, 4, 5, 3, 2, 1.7, 0.6
    arch = Architecture.convolutional((C0, C1), (H, W), n_out, kernel_size=k, ranks=1, c=c, c_out=c_out)
    u = np.random.default_rng(7).normal(size=(C0, H, W))
    padded = np.pad(u, ((0, 0), (1, 1), (1, 1)))
    patch_sq = (sliding_window_view(padded, (k, k), axis=(1, 2)) ** 2).sum()  # sum over positions of |patch|^2
    exact = (c / (k * k * C0)) * C1 * patch_sq * (c_out / (C1 * H * W)) * n_out
    samples = 20000
    values = conv_jacobian_samples(arch, np.ones((C0, H, W)), u, samples, 11).jacobian_sq_norm
    z = (values.mean() - exact) / (values.std(ddof=1) / np.sqrt(samples))
    assert abs(z) < 4.5


def test_reproducible_and_thread_independent():
    a = conv_jacobian_samples(ARCH, X, U, 40, 9, per_layer=True)
    b = conv_jacobian_samples(ARCH, X, U, 40, 9, per_layer=True)
    np.testing.assert_array_equal(a.sq_norm_x, b.sq_norm_x)
    np.testing.assert_array_equal(a.sq_norm_u, b.sq_norm_u)
    prefix = conv_jacobian_samples(ARCH, X, U, 10, 9)
    np.testing.assert_array_equal(prefix.jacobian_sq_norm, a.jacobian_sq_norm[:10])
    assert not np.array_equal(conv_jacobian_samples(ARCH, X, U, 40, 10).jacobian_sq_norm, a.jacobian_sq_norm)
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs two Numba threads")
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = conv_jacobian_samples(ARCH, X, U, 40, 9).jacobian_sq_norm
        numba.set_num_threads(2)
        two = conv_jacobian_samples(ARCH, X, U, 40, 9).jacobian_sq_norm
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(one, a.jacobian_sq_norm)


@pytest.mark.parametrize("kwargs, argument", [
    ({"arch": Architecture((3, 4, 2))}, "arch"),
    ({"arch": "net"}, "arch"),
    ({"arch": Architecture.convolutional((2, 4, 3), (5, 6), 3, kernel_size=(3, 4))}, "kernel_size"),
    ({"x": np.zeros((2, 6, 5))}, "x"),
    ({"x": np.zeros(59)}, "x"),
    ({"x": np.full((2, 5, 6), np.nan)}, "x"),
    ({"u": np.zeros((2, 5, 6))}, "u"),
    ({"u": np.zeros((1, 5, 6))}, "u"),
    ({"samples": 0}, "samples"),
    ({"samples": 2.5}, "samples"),
    ({"samples": True}, "samples"),
    ({"seed": -1}, "seed"),
    ({"seed": 2**64}, "seed"),
    ({"per_layer": 1}, "per_layer"),
])
def test_bad_arguments(kwargs, argument):
    call = {"arch": ARCH, "x": X, "u": U, "samples": 4, "seed": 0}
    call.update(kwargs)
    per_layer = call.pop("per_layer", False)
    with pytest.raises(MaxboundsValueError) as info:
        conv_jacobian_samples(call["arch"], call["x"], call["u"], call["samples"], call["seed"],
                              per_layer=per_layer)
    assert info.value.argument == argument
    assert "\n" not in str(info.value)
