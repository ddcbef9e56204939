"""The layers' Numba kernels (maxbounds.layers._kernels) against plain NumPy written here.

Each kind's forward pass, Jacobian-vector product (JVP) and vector-Jacobian
product (VJP) is compared with an independent NumPy computation on the
parameters the one draw produced (to 1e-12 relative), ties are checked on
hand-made parameters, and the transposition identity
``<d, J v> = <d J, v>`` holds to 1e-12.  The draw order is replayed from the
random stream.  Statistical checks (fixed seeds) are z-scores with a
4.5-standard-error tolerance: a two-sided false-failure rate of about 6.8e-6
per check under the normal approximation, about 5e-5 for the file's 7 checks
were the seeds drawn at random.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from maxbounds import _streams
from maxbounds.architecture import Architecture
from maxbounds.layers import LeakyReLUDense, Linear, MaxoutConv2d, MaxoutDense, MaxPool2d, serial
from maxbounds.layers import _kernels
from maxbounds.layers.draw import draw_flat, draw_parameters
from maxbounds.simulate import explicit_samples
from maxbounds.simulate.explicit import network_samples

Z = 4.5
RTOL = 1e-12


# ---------------------------------------------------------------------------
# plain NumPy layers: (x_out, J as a matrix); the winners are the first maximum
# ---------------------------------------------------------------------------
def np_dense(layer, W, b, x):
    if layer.kind == "leaky_relu":
        z = W[:, 0, :] @ x + b[:, 0]
        gain = np.where(z > 0, 1.0, layer.slope)
        return np.where(z > 0, z, layer.slope * z), gain[:, None] * W[:, 0, :]
    z = np.einsum("ikj,j->ik", W, x) + b
    k = np.argmax(z, axis=1)
    rows = np.arange(W.shape[0])
    return z[rows, k], W[rows, k, :]


def np_conv(layer, W, b, x):
    C, K, Cp, k, _ = W.shape
    H, Wd = layer.image
    img = x.reshape(Cp, H, Wd)
    pad = k // 2
    windows = sliding_window_view(np.pad(img, ((0, 0), (pad, pad), (pad, pad))), (k, k), axis=(1, 2))
    zeta = np.einsum("cpiab,ihwab->cphw", W, windows) + b[:, :, None, None]
    win = np.argmax(zeta, axis=1)                                       # (C, H, W)
    out = np.take_along_axis(zeta, win[:, None], axis=1)[:, 0]
    J = np.zeros((C * H * Wd, Cp * H * Wd))
    for c in range(C):
        for h in range(H):
            for w in range(Wd):
                for ci in range(Cp):
                    for dy in range(k):
                        for dx in range(k):
                            r, q = h + dy - pad, w + dx - pad
                            if 0 <= r < H and 0 <= q < Wd:
                                J[(c * H + h) * Wd + w, (ci * H + r) * Wd + q] = W[c, win[c, h, w], ci, dy, dx]
    return out.reshape(-1), J


def np_pool(layer, x):
    C, (H, Wd), p = layer.channels, layer.image, layer.pool
    Ho, Wo = H // p, Wd // p
    blocks = x.reshape(C, H, Wd)[:, :Ho * p, :Wo * p].reshape(C, Ho, p, Wo, p).transpose(0, 1, 3, 2, 4)
    blocks = blocks.reshape(C, Ho, Wo, p * p)
    arg = np.argmax(blocks, axis=-1)                                    # first in row-major window order
    J = np.zeros((C * Ho * Wo, C * H * Wd))
    for c in range(C):
        for ho in range(Ho):
            for wo in range(Wo):
                dy, dx = divmod(arg[c, ho, wo], p)
                J[(c * Ho + ho) * Wo + wo, (c * H + ho * p + dy) * Wd + wo * p + dx] = 1.0
    return np.take_along_axis(blocks, arg[..., None], axis=-1)[..., 0].reshape(-1), J


def np_layer(layer, params, x):
    if layer.kind == "maxpool":
        return np_pool(layer, x)
    W, b = params
    return np_conv(layer, W, b, x) if layer.kind == "maxout_conv" else np_dense(layer, W, b, x)


# ---------------------------------------------------------------------------
# the Numba kernels on a one-layer plan
# ---------------------------------------------------------------------------
def numba_layer(layer, flat, x, v, d):
    """``(x_out, J v, d J, sel)`` from ``layer_forward`` and ``layer_vjp`` of the one-layer network."""
    plan = serial(layer).plan()
    x_out, v_out = np.empty(layer.width), np.empty(layer.width)
    sel = np.empty(plan.n_select, dtype=np.int64)
    _kernels.layer_forward(plan.ispec, plan.fspec, flat, 0, x, v, x_out, v_out, sel, True)
    d_in = np.empty(layer.n_in)
    _kernels.layer_vjp(plan.ispec, plan.fspec, flat, 0, sel, d, d_in)
    return x_out, v_out, d_in, sel


LAYERS = {
    "maxout": MaxoutDense(7, 5, c=1.3, bias_var=0.2, K=3),
    "relu": LeakyReLUDense(7, 6, c=2.0, bias_var=0.3, slope=0.0),
    "leaky 0.3": LeakyReLUDense(7, 6, c=1.5, bias_var=0.3, slope=0.3),
    "linear": Linear(7, 4, c=0.8, bias_var=0.1),
    "maxout conv": MaxoutConv2d(in_channels=2, channels=3, image=(5, 4), kernel_size=3, K=2, c=1.2, bias_var=0.1),
    "max-pool": MaxPool2d(channels=2, image=(5, 4), pool=2),
}


@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("seed", [3, 11])
def test_forward_jvp_vjp_against_numpy(name, seed):
    layer = LAYERS[name]
    rng = np.random.default_rng(seed)
    x, v, d = rng.normal(size=layer.n_in), rng.normal(size=layer.n_in), rng.normal(size=layer.width)
    flat = draw_flat(serial(layer), seed) if layer.has_parameters else np.empty(0)
    params = draw_parameters(serial(layer), seed)[0]
    x_out, v_out, d_in, _ = numba_layer(layer, flat, x, v, d)
    ref_x, J = np_layer(layer, params, x)
    np.testing.assert_allclose(x_out, ref_x, rtol=RTOL, atol=RTOL * np.abs(ref_x).max())
    np.testing.assert_allclose(v_out, J @ v, rtol=RTOL, atol=RTOL * np.abs(J @ v).max())
    np.testing.assert_allclose(d_in, d @ J, rtol=RTOL, atol=RTOL * np.abs(d @ J).max())
    # transposition: <d, J v> = <d J, v>
    assert d @ v_out == pytest.approx(d_in @ v, rel=1e-12, abs=1e-12 * np.abs(d).sum() * np.abs(v_out).max())


def test_ties_go_to_the_first_piece_and_the_first_window_entry():
    layer = MaxoutDense(3, 2, c=1.0, K=3)
    W = np.array([[[1.0, 2.0, 0.0], [1.0, 2.0, 0.0], [0.0, 0.0, 1.0]],     # pieces 0 and 1 equal
                  [[0.0, 0.0, 0.0], [1.0, -1.0, 0.0], [1.0, -1.0, 0.0]]])  # pieces 1 and 2 equal, 0 at z = 0
    flat = np.concatenate([W.ravel(), np.zeros(6)])
    x = np.array([1.0, 1.0, 0.0])                                           # unit 0: 3, 3, 0; unit 1: 0, 0, 0
    _, _, _, sel = numba_layer(layer, flat, x, np.ones(3), np.ones(2))
    assert list(sel) == [0, 0]
    x = np.array([2.0, 1.0, 0.0])                                           # unit 1: 0, 1, 1
    _, _, _, sel = numba_layer(layer, flat, x, np.ones(3), np.ones(2))
    assert sel[1] == 1
    leaky = LeakyReLUDense(2, 1, c=1.0, slope=0.3)                          # z = 0 exactly: the slope side
    x_out, v_out, d_in, sel = numba_layer(leaky, np.array([1.0, -1.0, 0.0]), np.array([1.0, 1.0]),
                                          np.array([1.0, 0.0]), np.ones(1))
    assert sel[0] == 0 and x_out[0] == 0.0 and v_out[0] == pytest.approx(0.3) and d_in[0] == pytest.approx(0.3)
    pool = MaxPool2d(channels=1, image=(2, 2), pool=2)
    x_out, v_out, _, sel = numba_layer(pool, np.empty(0), np.array([1.0, 5.0, 5.0, 5.0]),
                                       np.array([1.0, 2.0, 3.0, 4.0]), np.ones(1))
    assert sel[0] == 1 and x_out[0] == 5.0 and v_out[0] == 2.0


# ---------------------------------------------------------------------------
# the draw: order and law
# ---------------------------------------------------------------------------
def _stream(seed, index=0):
    rng = np.empty(4, dtype=np.uint64)
    _streams.seed_stream(rng, np.uint64(seed), np.uint64(index))
    return rng


@pytest.mark.parametrize("bias_var", [0.0, 0.5])
def test_dense_draw_order_weights_then_bias_per_unit_and_piece(bias_var):
    layer = MaxoutDense(4, 3, c=1.7, bias_var=bias_var, K=2)
    W, b = draw_parameters(serial(layer), 21, 5)[0]
    rng = _stream(21, 5)
    for i in range(3):
        for k in range(2):
            for j in range(4):
                assert W[i, k, j] == pytest.approx(layer.weight_sd * _streams.normal(rng), rel=1e-15)
            expected = layer.bias_sd * _streams.normal(rng) if bias_var > 0 else 0.0
            assert b[i, k] == pytest.approx(expected, rel=1e-15)


def test_conv_draw_order_all_weights_then_biases():
    layer = MaxoutConv2d(in_channels=2, channels=3, image=(4, 4), kernel_size=3, K=2, c=1.1, bias_var=0.4)
    W, b = draw_parameters(serial(layer), 8, 2)[0]
    rng = _stream(8, 2)
    weights = np.array([layer.weight_sd * _streams.normal(rng) for _ in range(W.size)])
    biases = np.array([layer.bias_sd * _streams.normal(rng) for _ in range(b.size)])
    np.testing.assert_allclose(W.ravel(), weights, rtol=1e-15)
    np.testing.assert_allclose(b.ravel(), biases, rtol=1e-15)


@pytest.mark.parametrize("layer", [MaxoutDense(300, 100, c=1.7, bias_var=0.4, K=3),
                                   MaxoutConv2d(in_channels=20, channels=40, image=(3, 3), kernel_size=5, K=4,
                                                c=0.9, bias_var=2.0)])
def test_law_of_one_drawn_layer(layer):
    """Sample variances against c/fan_in and beta: var(s^2) = 2 sigma^4/(N - 1) for normal data."""
    W, b = draw_parameters(serial(layer), 4242)[0]
    for values, var in ((W.ravel(), layer.scale / layer.fan_in), (b.ravel(), layer.bias_var)):
        n = values.size
        z = (values @ values / n - var) / (var * math.sqrt(2.0 / n))   # mean known (0): chi^2_n / n
        assert abs(z) < Z, (layer.label, n, z)
        assert abs(values.mean()) / math.sqrt(var / n) < Z


# ---------------------------------------------------------------------------
# explicit networks against the exact leaky-ReLU Jacobian law
# ---------------------------------------------------------------------------
def _exact_mean(net):
    return math.prod(math.exp(layer.jacobian_log_mean("upper")) for layer in net)


def _z(values, exact):
    return (values.mean() - exact) / (values.std(ddof=1) / math.sqrt(values.size))


def test_relu_explicit_samples_have_the_exact_jacobian_mean():
    arch = Architecture((5, 16, 12, 3), ranks=3, c=1.6, c_out=0.7, bias_var=(0.2, 0.1, 0.3))
    x, u = np.linspace(-1.0, 2.0, 5), np.array([1.0, 0.0, -1.0, 2.0, 0.5])
    values = explicit_samples(arch, x, u, 20000, 17, activation="relu").jacobian_sq_norm
    assert abs(_z(values, _exact_mean(arch.network("relu")))) < Z


def test_leaky_network_samples_have_the_exact_jacobian_mean():
    net = serial(LeakyReLUDense(5, 16, c=1.4, bias_var=0.2, slope=0.3),
                 LeakyReLUDense(16, 12, c="he", bias_var=0.5, slope=0.3),
                 Linear(12, 3, c=0.9, bias_var=0.1))
    x, u = np.linspace(-1.0, 2.0, 5), np.array([1.0, 0.0, -1.0, 2.0, 0.5])
    res = network_samples(net, x, u, 20000, 23)
    assert abs(_z(res.jacobian_sq_norm, _exact_mean(net))) < Z


def test_network_samples_of_a_conv_pool_network_is_the_numpy_network():
    net = serial(MaxoutConv2d(in_channels=2, channels=3, image=(4, 6), kernel_size=3, K=2, c=1.2, bias_var=0.1),
                 MaxPool2d(channels=3, image=(4, 6), pool=2),
                 Linear(18, 2, c=1.0, bias_var=0.2))
    rng = np.random.default_rng(5)
    x, u = rng.normal(size=net.n_in), rng.normal(size=net.n_in)
    res = network_samples(net, x, u, 4, 31, per_layer=True)
    u = u / np.linalg.norm(u)
    for s in range(4):
        h, v = x, u
        for layer, params in zip(net, draw_parameters(net, 31, s)):
            h, J = np_layer(layer, params, h)
            v = J @ v
        assert res.jacobian_sq_norm[s] == pytest.approx(v @ v, rel=1e-12)
        assert res.sq_norm_x[-1, s] == pytest.approx(h @ h, rel=1e-12)


def test_draw_many_equals_draw_parameters_network_by_network():
    from maxbounds.architecture import Architecture
    from maxbounds.layers.draw import draw_many, draw_parameters

    for net in (Architecture.convolutional((2, 3), (4, 4), 2, ranks=2, bias_var=0.1).network(),
                Architecture.parse("3,5,4,2", "3,2", "1", "1", "0.2").network("relu")):
        stacked = draw_many(net, 5, 3, 4)
        for s in range(4):
            one = draw_parameters(net, 5, 3 + s)
            for layer_all, layer_one in zip(stacked, one):
                np.testing.assert_array_equal(layer_all[0][s], layer_one[0])
                np.testing.assert_array_equal(layer_all[1][s], layer_one[1])
