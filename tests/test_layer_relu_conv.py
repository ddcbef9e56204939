"""The leaky ReLU convolution (maxbounds.layers.LeakyReLUConv2d, code 5; ReLU is slope 0).

* The Numba kernels (``layer_forward``, ``layer_vjp``: forward, JVP, VJP, signs) against the independent
  NumPy reference (maxbounds.reference) on the very network the one draw produced (``draw_parameters``),
  to 1e-12 relative, for slopes 0 and 0.2, several images, kernel sizes and channel counts, with and
  without biases, in a Serial with a MaxPool2d and a Linear output.
* ``mb.network_samples`` (the fused draw and forward) against ``reference.evaluate`` on the same networks,
  and against ``reference.samples`` (its own NumPy draw) in law.
* The reference's parameter gradients against finite differences.
* The parameter law: the draw is that of a rank-1 maxout convolution, bit for bit; the weights' and
  biases' sample variances against ``weight_sd**2`` and ``bias_var``.
* The conditional mean of ``||J u||^2`` of one layer (docs/layer_laws.md), which depends on where ``u``
  lies in the image: the reason the kind has no product-form law.
* Bad input names the argument; the laws and the maxout initialisers raise NoLawError naming the layer.

Statistical checks (fixed seeds) are z-scores with a 4.5-standard-error tolerance: a two-sided
false-failure rate of about 6.8e-6 per check under the normal approximation, about 6e-5 for this file's
9 checks were the seeds drawn at random.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import maxbounds as mb
from maxbounds import reference as ref
from maxbounds._validate import MaxboundsValueError
from maxbounds.layers import (
    LeakyReLUConv2d,
    Linear,
    MaxoutConv2d,
    MaxPool2d,
    NoLawError,
    _kernels,
    relu_conv,
    serial,
)
from maxbounds.layers.draw import draw_flat, draw_many, draw_parameters
from maxbounds.layers.serial import I_SOFF
from maxbounds.simulate.explicit import network_samples

Z = 4.5
RTOL = 1e-12
SLOPES = (0.0, 0.2)

# (in_channels, channels, image, kernel_size, bias_var)
GEOMETRIES = {
    "2->3 4x6 k3 bias": (2, 3, (4, 6), 3, 0.1),
    "1->2 5x5 k5 no bias": (1, 2, (5, 5), 5, 0.0),
    "3->4 4x4 k1 bias": (3, 4, (4, 4), 1, 0.3),
    "2->2 6x4 k3 no bias": (2, 2, (6, 4), 3, 0.0),
}


def _network(slope, geometry, c="he"):
    """ReLU/leaky conv, 2x2 max-pool, leaky conv (3x3), Linear output of 3."""
    cin, ch, image, k, beta = geometry
    pooled = (image[0] // 2, image[1] // 2)
    return serial(LeakyReLUConv2d(cin, ch, image, k, slope=slope, c=c, bias_var=beta),
                  MaxPool2d(channels=ch, image=image, pool=2),
                  LeakyReLUConv2d(ch, 2, pooled, 3, slope=slope, c=1.3, bias_var=beta),
                  Linear(2 * pooled[0] * pooled[1], 3, c=1.0, bias_var=0.2))


def _rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b))) / max(float(np.max(np.abs(b))), 1e-300)


# ---------------------------------------------------------------------------
# the kernels against the NumPy reference, on the drawn network
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("slope", SLOPES)
@pytest.mark.parametrize("name", list(GEOMETRIES))
def test_kernels_agree_with_the_reference_on_the_drawn_network(slope, name):
    net = _network(slope, GEOMETRIES[name])
    seed, index = 91, 4
    plan = net.plan()
    flat = draw_flat(net, seed, index)
    params = draw_parameters(net, seed, index)
    rng = np.random.default_rng(17)
    x, u, d = rng.standard_normal(net.n_in), rng.standard_normal(net.n_in), rng.standard_normal(net.n_out)
    fwd = ref.forward(net, params, x)
    us = ref.jvp(net, params, x, u, per_layer=True)
    deltas = ref.vjp(net, params, x, d, per_layer=True)
    sel = np.full(plan.n_select, -1, dtype=np.int64)
    xv, vv = x.copy(), u.copy()
    for l, layer in enumerate(net):
        x_out, v_out = np.empty(layer.width), np.empty(layer.width)
        _kernels.layer_forward(plan.ispec, plan.fspec, flat, l, xv, vv, x_out, v_out, sel, True)
        assert _rel(x_out, fwd.activations[l + 1]) <= RTOL, (layer.label, "forward")
        assert _rel(v_out, us[l + 1]) <= RTOL, (layer.label, "jvp")
        offset = plan.ispec[l, I_SOFF]
        assert np.array_equal(sel[offset:offset + layer.width], fwd.winners[l]), layer.label
        if l == 0:  # sel records 1[z > 0]; on a normal input both signs occur
            assert set(np.unique(sel[offset:offset + layer.width])) == {0, 1}
        xv, vv = x_out, v_out
    for l in range(net.depth - 1, -1, -1):
        d_in = np.empty(net[l].n_in)
        _kernels.layer_vjp(plan.ispec, plan.fspec, flat, l, sel, np.ascontiguousarray(deltas[l + 1]), d_in)
        assert _rel(d_in, deltas[l]) <= RTOL, (net[l].label, "vjp")
    # the transposition identity <d, J u> = <d J, u> on the whole network
    assert d @ us[-1] == pytest.approx(deltas[0] @ u, rel=1e-12, abs=1e-12 * np.abs(d).sum() * np.abs(us[-1]).max())


@pytest.mark.parametrize("slope", SLOPES)
def test_one_layer_jacobian_is_the_slope_times_the_patch_weights(slope):
    """J of one layer written out entry by entry from the definition (zero padding, slopes 1 or a)."""
    layer = LeakyReLUConv2d(2, 3, (4, 5), 3, slope=slope, c=1.7, bias_var=0.2)
    W, b = draw_parameters(serial(layer), 5)[0]
    x = np.random.default_rng(3).standard_normal(layer.n_in)
    img = x.reshape(2, 4, 5)
    J = np.zeros((layer.width, layer.n_in))
    out = np.zeros(layer.width)
    for c in range(3):
        for h in range(4):
            for w in range(5):
                z, row = b[c, 0], np.zeros(layer.n_in)
                for ci in range(2):
                    for dy in range(3):
                        for dx in range(3):
                            r, q = h + dy - 1, w + dx - 1
                            if 0 <= r < 4 and 0 <= q < 5:
                                z += W[c, 0, ci, dy, dx] * img[ci, r, q]
                                row[(ci * 4 + r) * 5 + q] = W[c, 0, ci, dy, dx]
                unit = (c * 4 + h) * 5 + w
                out[unit] = z if z > 0 else slope * z
                J[unit] = row if z > 0 else slope * row
    plan = serial(layer).plan()
    flat = draw_flat(serial(layer), 5)
    eye = np.eye(layer.n_in)
    for j in range(layer.n_in):
        x_out, v_out, sel = np.empty(layer.width), np.empty(layer.width), np.empty(layer.width, dtype=np.int64)
        _kernels.layer_forward(plan.ispec, plan.fspec, flat, 0, x, eye[j], x_out, v_out, sel, True)
        assert _rel(x_out, out) <= RTOL
        assert _rel(v_out, J[:, j]) <= RTOL
    np.testing.assert_allclose(ref.jacobian(serial(layer), [(W, b)], x), J, rtol=0, atol=RTOL * np.abs(J).max())


# ---------------------------------------------------------------------------
# the explicit sampler against the reference
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("slope", SLOPES)
@pytest.mark.parametrize("name", ["2->3 4x6 k3 bias", "1->2 5x5 k5 no bias"])
def test_network_samples_equal_the_reference_on_the_same_networks(slope, name):
    net = _network(slope, GEOMETRIES[name])
    rng = np.random.default_rng(23)
    x, u = rng.standard_normal(net.n_in), rng.standard_normal(net.n_in)
    networks, seed, first = 5, 77, 2
    res = mb.network_samples(net, x, u, networks, seed, per_layer=True, first_sample=first)
    mine = ref.evaluate(net, draw_many(net, seed, first, networks), x, u / np.linalg.norm(u))
    assert _rel(res.jacobian_sq_norm, mine.jacobian_sq_norm) <= 1e-12
    assert _rel(res.sq_norm_x, mine.sq_norm_x) <= 1e-12
    assert _rel(res.sq_norm_u, mine.sq_norm_u) <= 1e-12
    assert mb.network_samples is network_samples


@pytest.mark.parametrize("slope", SLOPES)
def test_network_samples_and_reference_samples_agree_in_law(slope):
    """Numba's stream and NumPy's own draw: the same mean of ||J u||^2 (a two-sample z-test)."""
    net = _network(slope, GEOMETRIES["2->3 4x6 k3 bias"])
    rng = np.random.default_rng(29)
    x, u = rng.standard_normal(net.n_in), rng.standard_normal(net.n_in)
    u = u / np.linalg.norm(u)
    a = network_samples(net, x, u, 6000, 31).jacobian_sq_norm
    b = ref.samples(net, x, u, 6000, rng=np.random.default_rng(37)).jacobian_sq_norm
    z = (a.mean() - b.mean()) / math.hypot(a.std(ddof=1) / math.sqrt(a.size), b.std(ddof=1) / math.sqrt(b.size))
    assert abs(z) < Z, z


@pytest.mark.parametrize("slope", SLOPES)
def test_reference_parameter_gradients_against_finite_differences(slope):
    net = _network(slope, GEOMETRIES["2->3 4x6 k3 bias"])
    params = ref.draw(net, 41)
    rng = np.random.default_rng(43)
    x, d = rng.standard_normal(net.n_in), rng.standard_normal(net.n_out)
    grads = ref.parameter_gradients(net, params, x, d)
    h = 1e-6
    for l, (layer, p, g) in enumerate(zip(net, params, grads)):
        if p is None:
            assert g is None
            continue
        for which in (0, 1):
            assert g[which].shape == p[which].shape
            for flat in rng.choice(p[which].size, size=min(8, p[which].size), replace=False):
                index = np.unravel_index(flat, p[which].shape)
                values = []
                for sign in (1, -1):
                    moved = [q if q is None else (q[0].copy(), q[1].copy()) for q in params]
                    moved[l][which][index] += sign * h
                    values.append(d @ ref.forward(net, moved, x).output)
                numeric = (values[0] - values[1]) / (2 * h)
                assert abs(g[which][index] - numeric) <= 1e-6 * max(1.0, abs(numeric)), (layer.label, which)


# ---------------------------------------------------------------------------
# the parameter law
# ---------------------------------------------------------------------------
def test_draw_is_that_of_a_rank_one_maxout_convolution():
    for beta in (0.0, 0.4):
        leaky = LeakyReLUConv2d(2, 3, (4, 4), 3, slope=0.2, c=1.1, bias_var=beta)
        maxout = MaxoutConv2d(in_channels=2, channels=3, image=(4, 4), kernel_size=3, K=1, c=1.1, bias_var=beta)
        assert leaky.weight_shape() == maxout.weight_shape() == (3, 1, 2, 3, 3)
        assert leaky.fan_in == 18 and leaky.weight_sd == math.sqrt(1.1 / 18)
        np.testing.assert_array_equal(draw_flat(serial(leaky), 8, 2), draw_flat(serial(maxout), 8, 2))
        # and the same numbers for a whole network after another layer (the stream continues)
        a = draw_flat(serial(leaky, MaxPool2d(channels=3, image=(4, 4)), Linear(12, 2, bias_var=0.1)), 9)
        b = draw_flat(serial(maxout, MaxPool2d(channels=3, image=(4, 4)), Linear(12, 2, bias_var=0.1)), 9)
        np.testing.assert_array_equal(a, b)
    _, b = draw_parameters(serial(LeakyReLUConv2d(2, 3, (4, 4), 3)), 8)[0]
    assert not b.any()  # no bias variance: zero biases, no number read


@pytest.mark.parametrize("layer", [LeakyReLUConv2d(20, 200, (3, 3), 3, slope=0.1, c="he", bias_var=2.0),
                                   relu_conv(30, 150, (4, 4), 3, bias_var=0.5)])
def test_weights_have_standard_deviation_weight_sd(layer):
    """Sample variances against weight_sd^2 and beta (mean known, 0): s^2 has sd var*sqrt(2/n) for normal data."""
    assert layer.weight_sd == pytest.approx(math.sqrt(2.0 / (1 + layer.slope**2) / layer.fan_in), rel=1e-15)
    W, b = draw_parameters(serial(layer), 4242)[0]
    for values, var in ((W.ravel(), layer.weight_sd**2), (b.ravel(), layer.bias_var)):
        n = values.size
        z = (values @ values / n - var) / (var * math.sqrt(2.0 / n))
        assert abs(z) < Z, (layer.label, n, z)
        assert abs(values.mean()) / math.sqrt(var / n) < Z


def test_one_layer_conditional_mean_depends_on_where_u_lies():
    r"""E||J u||^2 = C (1+a^2)/2 (c/fan_in) sum_j u_j^2 m_j, m_j the windows covering input j (docs/layer_laws.md).

    The sign of z is a fair coin given (W.P_u)^2 (the symmetry (W, b) -> -(W, b)), so the mean is exact for
    any input with no zero patch; a border and an interior direction of the same length have different means.
    """
    slope, C, Cin, (H, Wd), k, c = 0.3, 4, 2, (5, 6), 3, 1.4
    net = serial(LeakyReLUConv2d(Cin, C, (H, Wd), k, slope=slope, c=c, bias_var=0.3))
    x = np.random.default_rng(47).standard_normal(net.n_in)
    pad = k // 2
    rows = np.array([min(r + pad, H - 1) - max(r - pad, 0) + 1 for r in range(H)])
    cols = np.array([min(q + pad, Wd - 1) - max(q - pad, 0) + 1 for q in range(Wd)])
    m = np.broadcast_to(np.outer(rows, cols), (Cin, H, Wd)).ravel()
    layer = net[0]
    means = []
    for where in ((0, 0, 0), (1, 2, 3)):  # a corner pixel and an interior pixel
        u = np.zeros((Cin, H, Wd))
        u[where] = 1.0
        u = u.ravel()
        exact = C * (1 + slope**2) / 2 * layer.scale / layer.fan_in * float(u**2 @ m)
        values = network_samples(net, x, u, 20000, 53).jacobian_sq_norm
        z = (values.mean() - exact) / (values.std(ddof=1) / math.sqrt(values.size))
        assert abs(z) < Z, (where, values.mean(), exact, z)
        means.append(exact)
    assert means[0] == pytest.approx(means[1] * 4 / 9)  # m = 4 at the corner, 9 inside


# ---------------------------------------------------------------------------
# names, scales, laws, bad input
# ---------------------------------------------------------------------------
def test_names_scales_and_initialisers():
    relu = relu_conv(2, 3, (4, 4))
    leaky = LeakyReLUConv2d(2, 3, (4, 4), 5, slope=0.1)
    assert relu.kind == leaky.kind == "leaky_relu_conv" and LeakyReLUConv2d.code == 5 and relu.rank == 1
    assert mb.KINDS["leaky_relu_conv"] is LeakyReLUConv2d and mb.LeakyReLUConv2d is LeakyReLUConv2d
    assert relu.label == "relu conv 3x3" and leaky.label == "leaky relu conv 5x5 (a=0.1)"
    assert relu.c == "he" and relu.scale == 2.0 and leaky.scale == pytest.approx(2 / 1.01, rel=1e-15)
    assert leaky.kernel_slope == 0.1 and relu.kernel_slope == 0.0
    assert leaky.geometry() == (2, 3, 4, 4, 5) and (leaky.n_in, leaky.width) == (32, 48)
    assert leaky.weight_count == 3 * 2 * 25 and leaky.bias_count == 3
    assert leaky.init_scale("he") == leaky.init_scale("relu") == pytest.approx(2 / 1.01, rel=1e-15)
    assert leaky.with_init("he").c == pytest.approx(2 / 1.01, rel=1e-15)
    # the named scale follows the slope
    assert leaky.replace(slope=0.5).scale == pytest.approx(1.6, rel=1e-15)
    assert net_plan_slope(leaky) == 0.1
    for scheme in ("maxout", "upper", "lower"):
        with pytest.raises(NoLawError, match=r"leaky relu conv 5x5 \(a=0\.1\).*maxout scheme"):
            leaky.init_scale(scheme)
    with pytest.raises(NoLawError, match="relu conv 3x3"):
        relu.init_scale("lecun")
    # the maxout convolution keeps its own initialisers and refuses He
    with pytest.raises(NoLawError, match="ReLU scheme"):
        MaxoutConv2d(in_channels=2, channels=3, image=(4, 4)).init_scale("he")


def net_plan_slope(layer):
    return float(serial(layer).plan().fspec[0, 2])


def test_every_law_raises_no_law_error_naming_the_layer():
    layer = serial(Linear(4, 32), LeakyReLUConv2d(2, 4, (4, 4), 3, slope=0.2))[1]
    maxout = MaxoutConv2d(in_channels=2, channels=4, image=(4, 4), K=2)
    calls = (lambda l: l.jacobian_log_moment("upper", 1.0), lambda l: l.jacobian_log_mean("lower"),
             lambda l: l.jacobian_rvs("upper", 3, np.random.default_rng(0)), lambda l: l.activation_gain(),
             lambda l: l.chain_rank(), lambda l: l.gradient_gain("upper"))
    for call in calls:
        with pytest.raises(NoLawError, match=r"layer 2 \(leaky relu conv 3x3 \(a=0\.2\)\)") as error:
            call(layer)
        assert "share their weights" in str(error.value)
        with pytest.raises(NoLawError) as other:
            call(maxout)
        assert str(other.value).split(": ", 2)[-1] == str(error.value).split(": ", 2)[-1]  # the same reason


@pytest.mark.parametrize("changes, argument", [
    ({"kernel_size": 2}, "kernel_size"), ({"kernel_size": 4}, "kernel_size"), ({"kernel_size": 0}, "kernel_size"),
    ({"slope": -0.1}, "slope"), ({"slope": 1.5}, "slope"), ({"slope": float("nan")}, "slope"),
    ({"slope": True}, "slope"), ({"slope": "0.1"}, "slope"),
    ({"c": 0}, "c"), ({"c": -1.0}, "c"), ({"c": float("inf")}, "c"), ({"c": "1/M"}, "c"),
    ({"bias_var": -0.1}, "bias_var"), ({"in_channels": 0}, "in_channels"), ({"channels": 1.5}, "channels"),
    ({"image": (4, 0)}, "image"), ({"image": (4, 4, 4)}, "image"),
])
def test_bad_input_names_the_argument(changes, argument):
    arguments = {"in_channels": 2, "channels": 3, "image": (4, 4), "kernel_size": 3, **changes}
    with pytest.raises(MaxboundsValueError) as error:
        LeakyReLUConv2d(**arguments)
    assert error.value.argument == argument and str(error.value).startswith(argument + ":")
    with pytest.raises(MaxboundsValueError) as error:
        LeakyReLUConv2d(2, 3, (4, 4), 3).replace(**changes)
    assert error.value.argument == argument


def test_serial_checks_the_chain():
    with pytest.raises(MaxboundsValueError, match="layers"):
        serial(LeakyReLUConv2d(2, 3, (4, 4)), Linear(47, 2))
