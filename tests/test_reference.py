"""The NumPy reference (maxbounds.reference): closed forms, finite differences, and per-network agreement
with the Numba simulators on the very networks they drew (draw_parameters).

Statistical checks use fixed seeds and 4.5 standard errors (two-sided false-failure rate 6.8e-6 each).
"""

import math

import numpy as np
import pytest

from maxbounds import reference as ref
from maxbounds._validate import MaxboundsValueError
from maxbounds.architecture import Architecture
from maxbounds.layers import LeakyReLUDense, Linear, MaxoutConv2d, MaxoutDense, MaxPool2d, serial
from maxbounds.layers.draw import draw_parameters
from maxbounds.layers.serial import I_SOFF

Z = 4.5
AGREE = 1e-10

DENSE = serial(MaxoutDense(3, 6, c=1.2, bias_var=0.2, K=3), LeakyReLUDense(6, 5, c=2.0, bias_var=0.1, slope=0.3),
               MaxoutDense(5, 4, c="1/M", K=2), Linear(4, 2, c=1.0, bias_var=0.05))
CONV = serial(MaxoutConv2d(in_channels=2, channels=3, image=(4, 5), kernel_size=3, K=2, c=1.0, bias_var=0.1),
              MaxPool2d(channels=3, image=(4, 5), pool=2),
              MaxoutConv2d(in_channels=3, channels=2, image=(2, 2), kernel_size=3, K=3, c=1.5),
              Linear(8, 3, bias_var=0.2))


def _point(net, seed):
    rng = np.random.default_rng(seed)
    return ref.draw(net, rng), rng.standard_normal(net.n_in), rng.standard_normal(net.n_in)


def _numeric_jacobian(net, params, x, h=1e-6):
    cols = []
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = h
        cols.append((ref.forward(net, params, x + e).output - ref.forward(net, params, x - e).output) / (2 * h))
    return np.stack(cols, axis=-1)


def _close(a, b, rtol):
    a, b = np.asarray(a, float), np.asarray(b, float)
    scale = max(float(np.max(np.abs(b))), 1e-300)
    assert float(np.max(np.abs(a - b))) <= rtol * scale, (a, b)


# ---------------------------------------------------------------------------
# closed forms and finite differences
# ---------------------------------------------------------------------------
def test_linear_network_jacobian_is_the_product_of_weights():
    net = serial(Linear(4, 5, c=1.3, bias_var=0.4), Linear(5, 3), Linear(3, 2, bias_var=1.0))
    params, x, _ = _point(net, 1)
    product = params[2][0][:, 0, :] @ params[1][0][:, 0, :] @ params[0][0][:, 0, :]
    _close(ref.jacobian(net, params, x), product, 1e-14)
    out = ref.forward(net, params, x).output
    affine = x
    for W, b in params:
        affine = W[:, 0, :] @ affine + b[:, 0]
    _close(out, affine, 1e-14)


@pytest.mark.parametrize("net", [DENSE, CONV], ids=["dense", "conv-pool"])
def test_jacobian_jvp_vjp_against_finite_differences(net):
    params, x, u = _point(net, 2)
    J = ref.jacobian(net, params, x)
    assert J.shape == (net.n_out, net.n_in)
    _close(J, _numeric_jacobian(net, params, x), 1e-6)
    _close(ref.jvp(net, params, x, u), J @ u, 1e-12)
    d = np.random.default_rng(3).standard_normal(net.n_out)
    _close(ref.vjp(net, params, x, d), d @ J, 1e-12)
    us = ref.jvp(net, params, x, u, per_layer=True)
    deltas = ref.vjp(net, params, x, d, per_layer=True)
    assert len(us) == len(deltas) == net.depth + 1
    # <delta_l, u_l> = d^T J u at every layer
    for a, b in zip(us, deltas):
        assert math.isclose(float(a @ b), float(d @ J @ u), rel_tol=1e-10)


@pytest.mark.parametrize("net", [DENSE, CONV], ids=["dense", "conv-pool"])
def test_parameter_gradients_against_finite_differences(net):
    params, x, _ = _point(net, 4)
    d = np.random.default_rng(5).standard_normal(net.n_out)
    grads = ref.parameter_gradients(net, params, x, d)
    rng = np.random.default_rng(6)
    h = 1e-6
    for l, (layer, p, g) in enumerate(zip(net, params, grads)):
        if p is None:
            assert g is None
            continue
        for which in (0, 1):
            assert g[which].shape == p[which].shape
            for flat in rng.choice(p[which].size, size=min(6, p[which].size), replace=False):
                index = np.unravel_index(flat, p[which].shape)
                values = []
                for sign in (1, -1):
                    moved = [q if q is None else (q[0].copy(), q[1].copy()) for q in params]
                    moved[l][which][index] += sign * h
                    values.append(d @ ref.forward(net, moved, x).output)
                numeric = (values[0] - values[1]) / (2 * h)
                assert abs(g[which][index] - numeric) <= 1e-6 * max(1.0, abs(numeric))


def test_per_output_gradients_and_ntk_diagonal():
    net = DENSE
    params, x, _ = _point(net, 7)
    per_output = ref.parameter_gradients(net, params, x)
    for o in range(net.n_out):
        single = ref.parameter_gradients(net, params, x, np.eye(net.n_out)[o])
        for a, b in zip(per_output, single):
            _close(a[0][o], b[0], 1e-14)
            _close(a[1][o], b[1], 1e-14)
    ntk = sum(float((g[0] ** 2).sum() + (g[1] ** 2).sum()) for g in per_output)
    assert math.isclose(float(ref.ntk_diagonal(net, params, x)), ntk, rel_tol=1e-13)


def test_batched_networks_equal_one_at_a_time():
    nets = [ref.draw(CONV, s) for s in range(3)]
    x = np.random.default_rng(8).standard_normal(CONV.n_in)
    u = np.random.default_rng(9).standard_normal(CONV.n_in)
    result = ref.evaluate(CONV, ref.stack(nets), x, u)
    J = ref.jacobian(CONV, ref.stack(nets), x)
    ntk = ref.ntk_diagonal(CONV, ref.stack(nets), x)
    for s, params in enumerate(nets):
        _close(result.jacobian_sq_norm[s], np.sum(ref.jvp(CONV, params, x, u) ** 2), 1e-13)
        _close(J[s], ref.jacobian(CONV, params, x), 1e-13)
        _close(ntk[s], ref.ntk_diagonal(CONV, params, x), 1e-13)
        xs = ref.forward(CONV, params, x).activations
        _close(result.sq_norm_x[:, s], [a @ a for a in xs], 1e-13)
    _close(result.ntk, ntk, 1e-13)


def test_first_winner_on_ties():
    pool = serial(MaxPool2d(channels=1, image=(2, 2), pool=2))
    fwd = ref.forward(pool, [None], np.array([1.0, 3.0, 3.0, 0.0]))
    assert fwd.winners[0].tolist() == [1] and fwd.output.tolist() == [3.0]
    net = serial(MaxoutDense(2, 1, K=3))
    W = np.ones((1, 3, 2))
    fwd = ref.forward(net, [(W, np.zeros((1, 3)))], np.array([0.5, 0.5]))
    assert fwd.winners[0].tolist() == [0]


def test_draw_shapes_and_generator_rule():
    params = ref.draw(CONV, 11)
    assert params[0][0].shape == (3, 2, 2, 3, 3) and params[0][1].shape == (3, 2)
    assert params[1] is None
    assert params[2][0].shape == (2, 3, 3, 3, 3) and not np.any(params[2][1])
    assert params[3][0].shape == (3, 1, 8)
    again = ref.draw(CONV, np.random.default_rng(11))
    assert all(p is None or np.array_equal(p[0], q[0]) for p, q in zip(params, again))
    batch = ref.draw(DENSE, 1, networks=4)
    assert batch[0][0].shape == (4, 6, 3, 3)


def test_draw_follows_the_layer_law():
    layer = MaxoutDense(50, 40, c=1.7, bias_var=0.3, K=4)
    W, b = ref.draw(serial(layer), 12)[0]
    # sample variances of 8000 weights and 160 biases: stderr sd^2 sqrt(2/(n-1))
    for values, sd in ((W, layer.weight_sd), (b, layer.bias_sd)):
        n = values.size
        z = abs(values.var(ddof=1) / sd**2 - 1) / math.sqrt(2 / (n - 1))
        assert z <= Z


def test_leaky_relu_law_of_the_jacobian_mean():
    """E||J u||^2 = ||u||^2 prod_l exp(jacobian_log_mean) (exact for leaky ReLU and linear layers)."""
    net = serial(LeakyReLUDense(3, 6, c=1.5, bias_var=0.2, slope=0.2), LeakyReLUDense(6, 5, slope=0.5, c="he"),
                 Linear(5, 2, c=1.0, bias_var=0.1))
    x, u = np.array([0.4, -1.0, 0.7]), np.array([1.0, 0.5, -0.5])
    s = ref.samples(net, x, u, 20_000, 13)
    exact = float(u @ u) * math.prod(math.exp(layer.jacobian_log_mean("upper")) for layer in net)
    values = s.jacobian_sq_norm
    z = abs(values.mean() - exact) / (values.std(ddof=1) / math.sqrt(values.size))
    assert z <= Z, (values.mean(), exact, z)


def test_bad_input_names_the_argument():
    params, x, u = _point(DENSE, 14)
    with pytest.raises(MaxboundsValueError, match="rng"):
        ref.draw(DENSE, "seed")
    with pytest.raises(MaxboundsValueError, match="x"):
        ref.forward(DENSE, params, x[:2])
    with pytest.raises(MaxboundsValueError, match="params"):
        ref.forward(DENSE, params[:2], x)
    with pytest.raises(MaxboundsValueError, match="params"):
        ref.forward(DENSE, [params[1]] + params[1:], x)
    with pytest.raises(MaxboundsValueError, match="x"):
        ref.forward(DENSE, params, np.array([np.nan, 0.0, 0.0]))
    with pytest.raises(MaxboundsValueError, match="networks"):
        ref.samples(DENSE, x, u, 0)


# ---------------------------------------------------------------------------
# per-network agreement with the Numba simulators (the same networks)
# ---------------------------------------------------------------------------
ARCH = Architecture((3, 7, 6, 2), ranks=(3, 2), c=(0.9, 1.4), c_out=1.1, bias_var=(0.2, 0.0, 0.3))
X, U = np.array([0.5, -0.2, 0.9]), np.array([0.6, 0.0, 0.8])
SEED, NETWORKS = 2024, 6


def _rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def _numba_networks(net, seed, count, first=0):
    return ref.stack([draw_parameters(net, seed, s) for s in range(first, first + count)])


@pytest.mark.parametrize("activation", ["maxout", "relu"])
def test_agrees_with_explicit_samples(activation):
    from maxbounds.simulate import explicit_samples

    net = ARCH.network(activation)
    numba = explicit_samples(ARCH, X, U, NETWORKS, SEED, activation=activation, per_layer=True, first_sample=3)
    mine = ref.evaluate(net, _numba_networks(net, SEED, NETWORKS, first=3), X, U)
    assert _rel(mine.jacobian_sq_norm, numba.jacobian_sq_norm) <= AGREE
    assert _rel(mine.sq_norm_x, numba.sq_norm_x) <= AGREE
    assert _rel(mine.sq_norm_u, numba.sq_norm_u) <= AGREE
    assert float(np.max(np.abs(mine.cos - numba.cos))) <= AGREE


def test_agrees_with_gradient_samples():
    from maxbounds.simulate import gradient_samples

    net = ARCH.network()
    numba = gradient_samples(ARCH, X, NETWORKS, SEED)
    mine = ref.evaluate(net, _numba_networks(net, SEED, NETWORKS), X, U)
    assert _rel(mine.weight_grad_sq.T, numba.weight_layer_sum) <= AGREE
    assert _rel(mine.bias_grad_sq.T, numba.delta_sq) <= AGREE
    assert _rel(mine.ntk, numba.ntk) <= AGREE
    assert _rel(mine.sq_norm_x.T, numba.sq_norm_x) <= AGREE


def test_agrees_with_conv_jacobian_samples():
    from maxbounds.simulate import conv_jacobian_samples

    arch = Architecture.convolutional((2, 3, 2), (5, 4), 2, kernel_size=(3, 1), ranks=(2, 3), c=(1.2, 0.8),
                                      bias_var=(0.2, 0.0, 0.1))
    net = arch.network()
    rng = np.random.default_rng(15)
    x, u = rng.standard_normal(net.n_in), rng.standard_normal(net.n_in)
    try:
        numba = conv_jacobian_samples(arch, x, u, NETWORKS, SEED, per_layer=True)
    except AttributeError as error:  # the conv simulator is being moved onto the layer kernels
        pytest.xfail(f"conv_jacobian_samples does not run on this tree yet: {error}")
    mine = ref.evaluate(net, _numba_networks(net, SEED, NETWORKS), x, u)
    assert _rel(mine.jacobian_sq_norm, numba.jacobian_sq_norm) <= AGREE
    assert _rel(mine.sq_norm_x, numba.sq_norm_x) <= AGREE
    assert _rel(mine.sq_norm_u, numba.sq_norm_u) <= AGREE


def test_reference_and_numba_agree_in_law():
    """The reference with its own NumPy draw and the Numba explicit sampler: the same mean of ||J u||^2."""
    from maxbounds.simulate import explicit_samples

    a = ref.samples(ARCH.network(), X, U, 20_000, 16).jacobian_sq_norm
    b = explicit_samples(ARCH, X, U, 20_000, 17).jacobian_sq_norm
    z = abs(a.mean() - b.mean()) / math.hypot(a.std(ddof=1) / math.sqrt(a.size), b.std(ddof=1) / math.sqrt(b.size))
    assert z <= Z


@pytest.mark.parametrize("net", [DENSE, CONV], ids=["dense", "conv-pool"])
def test_agrees_with_the_numba_layer_kernels(net):
    """Forward (with JVP, winners) and backward of every layer kind, on network 5 of a seed."""
    from maxbounds.layers import _kernels
    from maxbounds.layers.draw import draw_flat

    plan = net.plan()
    flat = draw_flat(net, SEED, 5)
    params = draw_parameters(net, SEED, 5)
    rng = np.random.default_rng(18)
    x, u, d = rng.standard_normal(net.n_in), rng.standard_normal(net.n_in), rng.standard_normal(net.n_out)
    fwd = ref.forward(net, params, x)
    us = ref.jvp(net, params, x, u, per_layer=True)
    deltas = ref.vjp(net, params, x, d, per_layer=True)
    sel = np.zeros(plan.n_select, dtype=np.int64)
    xv, vv = x.copy(), u.copy()
    for l, layer in enumerate(net):
        x_out, v_out = np.empty(layer.width), np.empty(layer.width)
        _kernels.layer_forward(plan.ispec, plan.fspec, flat, l, xv, vv, x_out, v_out, sel, True)
        assert _rel(x_out, fwd.activations[l + 1]) <= AGREE and _rel(v_out, us[l + 1]) <= AGREE
        offset = plan.ispec[l, I_SOFF]
        assert np.array_equal(sel[offset:offset + layer.width], fwd.winners[l])
        xv, vv = x_out, v_out
    for l in range(net.depth - 1, -1, -1):
        d_in = np.empty(net[l].n_in)
        _kernels.layer_vjp(plan.ispec, plan.fspec, flat, l, sel, np.ascontiguousarray(deltas[l + 1]), d_in)
        assert float(np.max(np.abs(d_in - deltas[l]))) <= AGREE * max(1.0, float(np.max(np.abs(deltas[l]))))
