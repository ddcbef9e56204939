"""maxbounds.torch: modules, build, init_, to_network and back, gradient statistics.

Skipped where PyTorch is absent (CI installs it).  Statistical checks are
z-tests at |z| < 4 (two-sided false-failure rate 6.3e-5 each) with fixed seeds.
"""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import maxbounds as mb  # noqa: E402
from maxbounds import reference  # noqa: E402
from maxbounds._validate import MaxboundsValueError  # noqa: E402
from maxbounds.constants import L, M, S  # noqa: E402
from maxbounds.layers.draw import draw_parameters  # noqa: E402

nn = torch.nn
mt = pytest.importorskip("maxbounds.torch")

Z = 4.0


def _mixed_net():
    return mb.serial(mb.maxout(3, 5, K=3, bias_var=0.1), mb.relu(5, 4, bias_var=0.2),
                     mb.leaky_relu(4, 6, slope=0.3), mb.maxout(6, 4, K=2), mb.linear(4, 2, bias_var=0.05))


def _x(n, count=5, seed=1):
    return np.random.default_rng(seed).standard_normal((count, n))


def test_build_is_the_maxbounds_draw_and_forward():
    net = _mixed_net()
    model = mt.build(net, seed=11, index=3, dtype=torch.float64)
    x = _x(3)
    expected = reference.forward(net, draw_parameters(net, 11, 3), x).output
    got = model(torch.as_tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_torch_jacobian_vector_product_equals_the_reference():
    net = _mixed_net()
    params = draw_parameters(net, 5)
    model = mt.build(net, params=params, dtype=torch.float64)
    x, u = _x(3, 1)[0], _x(3, 1, seed=2)[0]
    _, ju = torch.func.jvp(model, (torch.as_tensor(x),), (torch.as_tensor(u),))
    np.testing.assert_allclose(ju.detach().numpy(), reference.jvp(net, params, x, u), rtol=1e-12, atol=1e-13)


def test_convolutional_build_and_to_layers_round_trip():
    net = mb.serial(mb.MaxoutConv2d(in_channels=2, channels=3, image=(6, 6), kernel_size=3, K=2, bias_var=0.1),
                    mb.MaxPool2d(channels=3, image=(6, 6), pool=2),
                    mb.maxout(27, 5, K=2), mb.linear(5, 3))
    params = draw_parameters(net, 9)
    model = mt.build(net, params=params, dtype=torch.float64)
    x = _x(net.n_in, 4)
    got = model(torch.as_tensor(x.reshape(4, 2, 6, 6))).detach().numpy()
    np.testing.assert_allclose(got, reference.forward(net, params, x).output, rtol=0, atol=1e-12)
    back, back_params = mt.to_layers(model, (2, 6, 6))
    assert [layer.label for layer in back] == [layer.label for layer in net]
    for p, q in zip(params, back_params):
        if p is not None:
            np.testing.assert_array_equal(p[0], q[0])
            np.testing.assert_array_equal(p[1], q[1])


def test_to_network_and_back_identical_outputs():
    torch.manual_seed(0)
    model = nn.Sequential(mt.Maxout(2, 6, 3), nn.Linear(6, 5), nn.LeakyReLU(0.2), nn.Linear(5, 4), nn.ReLU(),
                          nn.Linear(4, 2)).double()
    for p in model.parameters():  # a "trained" model: arbitrary parameters, non-zero biases
        with torch.no_grad():
            p.normal_()
    network = mt.to_network(model)
    x = _x(2, 50)
    expected = model(torch.as_tensor(x)).detach().numpy()
    np.testing.assert_allclose(network.forward(x), expected, rtol=1e-12, atol=1e-12)
    again = mt.from_network(network, dtype=torch.float64)
    np.testing.assert_allclose(again(torch.as_tensor(x)).detach().numpy(), expected, rtol=1e-12, atol=1e-12)
    assert network.ranks == (3, 2, 2)
    regions = mb.count_plane_regions(network, box=(-2, 2))
    assert regions >= 1


def test_to_network_regions_equal_the_count_of_patterns_on_a_fine_grid():
    """The exact count of the converted model is at least the number of patterns seen on a grid."""
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1)).double()
    network = mt.to_network(model)
    exact = mb.count_plane_regions(network, box=(-3, 3))
    grid = mb.grid_count(network, box=(-3, 3), resolution=400)
    assert grid.regions <= exact <= 1 + 4 + 6  # at most 11 regions for 4 lines in the plane


def test_init_draws_the_maxbounds_network_of_the_seed():
    model = nn.Sequential(mt.Maxout(4, 7, 3), mt.Maxout(7, 6, 3), nn.Linear(6, 2)).double()
    info = mt.init_(model, "maxout", seed=21)
    net = info.network
    assert info.seed == 21
    x = _x(4)
    expected = reference.forward(net, draw_parameters(net, 21), x).output
    np.testing.assert_allclose(model(torch.as_tensor(x)).detach().numpy(), expected, rtol=0, atol=1e-12)
    assert info.c == pytest.approx((1 / M(3), 1 / M(3), 1.0), rel=1e-14)


@pytest.mark.parametrize("scheme, expected", [("maxout", lambda K: 1 / M(K)), ("1/M", lambda K: 1 / M(K)),
                                              ("upper", lambda K: 1 / L(K)), ("1/L", lambda K: 1 / L(K)),
                                              ("lower", lambda K: 1 / S(K)), ("1/S", lambda K: 1 / S(K)),
                                              (0.3, lambda K: 0.3)])
def test_init_scales_of_the_maxout_schemes(scheme, expected):
    model = nn.Sequential(mt.Maxout(10, 8, 4), mt.Maxout(8, 8, 4), nn.Linear(8, 3))
    info = mt.init_(model, scheme, seed=0)
    assert info.c[:2] == pytest.approx((expected(4),) * 2, rel=1e-12)
    assert info.c[2] == 1.0
    assert info.weight_std[0] == pytest.approx(math.sqrt(expected(4) / 10), rel=1e-12)


def test_init_he_on_relu_and_leaky_layers_and_c_linear():
    model = nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 6), nn.LeakyReLU(0.5), nn.Linear(6, 2))
    info = mt.init_(model, "he", seed=0, c_linear=0.5)
    assert info.c == pytest.approx((2.0, 2.0 / 1.25, 0.5), rel=1e-14)
    with pytest.raises(MaxboundsValueError, match="layer 1"):
        mt.init_(model, "maxout", seed=0)


@pytest.mark.parametrize("scheme", ["maxout", "he", 0.8])
def test_init_sets_every_standard_deviation(scheme):
    """Empirical weight std of each layer against the computed one: the std of N normals has s.e. sigma/sqrt(2N)."""
    if scheme == "he":
        model = nn.Sequential(nn.Linear(200, 150), nn.ReLU(), nn.Linear(150, 120), nn.LeakyReLU(0.3),
                              nn.Linear(120, 10))
    else:
        model = nn.Sequential(mt.Maxout(200, 150, 3), mt.Maxout(150, 120, 5), nn.Linear(120, 10))
    info = mt.init_(model, scheme, seed=4)
    for link, row in zip(mt.chain(model), info.layers):
        w = link.module.weight.detach().double().numpy().ravel()
        se = row.weight_std / math.sqrt(2 * w.size)
        assert abs(w.std() - row.weight_std) < Z * se, (row, w.std())
        assert abs(w.mean()) < Z * row.weight_std / math.sqrt(w.size)
        assert np.all(link.module.bias.detach().numpy() == 0)


def test_init_reproducible_from_torch_manual_seed():
    model = nn.Sequential(mt.Maxout(3, 4, 2), nn.Linear(4, 1))
    torch.manual_seed(5)
    first = mt.init_(model)
    a = [p.detach().clone() for p in model.parameters()]
    torch.manual_seed(5)
    second = mt.init_(model)
    assert first.seed == second.seed
    for p, q in zip(a, model.parameters()):
        assert torch.equal(p, q)
    torch.manual_seed(5)
    again = mt.Maxout(3, 4, 2)
    torch.manual_seed(5)
    assert torch.equal(again.weight, mt.Maxout(3, 4, 2).weight)


def test_modules_default_initialisation_is_one_over_m():
    layer = mt.Maxout(400, 300, 5)
    w = layer.weight.detach().double().numpy().ravel()
    sd = math.sqrt(1 / M(5) / 400)
    assert abs(w.std() - sd) < Z * sd / math.sqrt(2 * w.size)
    assert torch.count_nonzero(layer.bias) == 0
    conv = mt.MaxoutConv2d(4, 6, 3, 2)
    w = conv.weight.detach().double().numpy().ravel()
    sd = math.sqrt(1 / M(2) / 36)
    assert abs(w.std() - sd) < Z * sd / math.sqrt(2 * w.size)


def test_maxout_module_is_the_maximum_of_its_pieces():
    torch.manual_seed(0)
    layer = mt.Maxout(3, 4, 3).double()
    x = torch.randn(7, 3, dtype=torch.float64)
    pieces = torch.einsum("ikj,bj->bik", layer.weight, x) + layer.bias
    assert torch.allclose(layer(x), pieces.max(dim=-1).values, rtol=0, atol=1e-14)
    conv = mt.MaxoutConv2d(2, 3, 3, 2).double()
    img = torch.randn(2, 2, 5, 5, dtype=torch.float64)
    per_piece = [torch.nn.functional.conv2d(img, conv.weight[:, k], conv.bias[:, k], padding=1) for k in range(2)]
    assert torch.allclose(conv(img), torch.maximum(*per_piece), rtol=0, atol=1e-14)


def test_model_law_matches_the_gram_chain():
    """E||J u||^2 and E||x_L||^2 of torch models initialised by init_ against the Gram chain (exact law)."""
    arch = mb.Architecture((3, 6, 5, 2), ranks=(3, 3), c="1/M", bias_var=(0.1, 0.1, 0.0))
    x = np.array([0.3, -1.2, 0.7])
    u = np.array([1.0, 0.5, -0.2])
    u = u / np.linalg.norm(u)
    model = nn.Sequential(mt.Maxout(3, 6, 3), mt.Maxout(6, 5, 3), nn.Linear(5, 2)).double()
    xt, ut = torch.as_tensor(x), torch.as_tensor(u)
    count = 3000
    ju_sq, out_sq = np.empty(count), np.empty(count)
    for s in range(count):
        mt.init_(model, "maxout", seed=s, bias_var=0.1)
        with torch.no_grad():
            model[2].bias.zero_()  # the output layer of the architecture has no bias
        out, ju = torch.func.jvp(model, (xt,), (ut,))
        ju, out = ju.detach(), out.detach()
        ju_sq[s], out_sq[s] = float(ju @ ju), float(out @ out)
    chain = mb.chain_samples(arch, x, u, 200_000, seed=1)
    ref = np.asarray(chain.jacobian_sq_norm)
    z = (ju_sq.mean() - ref.mean()) / math.hypot(ju_sq.std(ddof=1) / math.sqrt(count), ref.std(ddof=1) / math.sqrt(ref.size))
    assert abs(z) < Z, z
    sq = np.asarray(chain.sq_norm_x)[-1]
    z = (out_sq.mean() - sq.mean()) / math.hypot(out_sq.std(ddof=1) / math.sqrt(count), sq.std(ddof=1) / math.sqrt(sq.size))
    assert abs(z) < Z, z


def test_gradient_statistics_equal_the_reference_gradients():
    net = mb.serial(mb.maxout(3, 5, K=3), mb.maxout(5, 4, K=2), mb.linear(4, 2))
    params = draw_parameters(net, 2)
    model = mt.build(net, params=params, dtype=torch.float64)
    x = _x(3, 6)
    rows = mt.gradient_statistics(model, x)
    for l, row in enumerate(rows):
        dW, db = reference.parameter_gradients(net, params, x)[l]  # (outputs, batch, width, K, n_in)
        w = 3 * (dW**2).sum(axis=0)
        if net[l].kind == "maxout":
            w = w.sum(axis=-2)
        per_input = w.reshape(w.shape[0], -1)
        assert row["weight"]["mean"] == pytest.approx(per_input.mean(), rel=1e-10)
        assert row["weight"]["median"] == pytest.approx(np.median(per_input), rel=1e-10)
        se = per_input.mean(axis=1).std(ddof=1) / math.sqrt(6)
        assert row["weight"]["stderr"] == pytest.approx(se, rel=1e-10)
    one = mt.gradient_statistics(model, x, output=1)
    assert one[-1]["weight"]["mean"] < rows[-1]["weight"]["mean"]


@pytest.mark.parametrize("make, argument, words", [
    (lambda: nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)), "model", "Tanh"),
    (lambda: nn.Sequential(nn.Conv2d(1, 2, 3, stride=2), nn.ReLU()), "model", "stride 1"),
    (lambda: nn.Sequential(mt.Maxout(3, 4, 2), nn.ReLU(), nn.Linear(4, 1)), "model", "activation"),
    (lambda: nn.Sequential(nn.Linear(3, 4), nn.Linear(5, 1)), "model", "takes 5 inputs"),
    (lambda: "not a model", "model", "nn.Module"),
])
def test_unsupported_models_are_refused_in_one_line(make, argument, words):
    with pytest.raises(MaxboundsValueError) as error:
        mt.init_(make(), "he", seed=0)
    assert error.value.argument == argument and words in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("kwargs, argument", [({"scheme": "xavier"}, "scheme"), ({"scheme": -1.0}, "scheme"),
                                              ({"scheme": 0}, "scheme"), ({"c_linear": 0}, "c_linear"),
                                              ({"bias_var": -1}, "bias_var"), ({"seed": -3}, "seed")])
def test_bad_arguments_name_themselves(kwargs, argument):
    model = nn.Sequential(mt.Maxout(3, 4, 2), nn.Linear(4, 1))
    with pytest.raises(MaxboundsValueError) as error:
        mt.init_(model, **{"seed": 0, **kwargs})
    assert error.value.argument == argument


def test_bad_module_sizes():
    with pytest.raises(MaxboundsValueError, match="rank"):
        mt.Maxout(3, 4, 0)
    with pytest.raises(MaxboundsValueError, match="kernel_size"):
        mt.MaxoutConv2d(3, 4, 2)


def test_forward_not_a_chain_is_detected():
    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(3, 3)
            self.b = nn.Linear(3, 1)

        def forward(self, x):
            return self.b(x + self.a(x))

    with pytest.raises(MaxboundsValueError, match="not the chain"):
        mt.to_network(Residual())


def test_pool_scheme_gives_the_layer_before_each_pool_the_pooled_scale():
    model = nn.Sequential(mt.MaxoutConv2d(1, 4, 3, 5), mt.MaxoutConv2d(4, 4, 3, 5), nn.MaxPool2d(2),
                          mt.MaxoutConv2d(4, 6, 3, 3), nn.MaxPool2d(2), nn.Flatten(), mt.Maxout(24, 8, 5),
                          nn.Linear(8, 10))
    info = mt.init_(model, "pool", seed=1)
    expected = (1 / M(5), 1 / M(5 * 4), None, 1 / M(3 * 4), None, 1 / M(5), 1.0)
    for got, want in zip(info.c, expected):
        assert (got is None and want is None) or got == pytest.approx(want, rel=1e-12)
    plain = mt.init_(model, "maxout", seed=1)
    assert plain.c[1] == pytest.approx(1 / M(5), rel=1e-12)
    out = model(torch.randn(2, 1, 8, 8))
    assert out.shape == (2, 10)


def test_relu_convolutions_take_he_at_their_fan_in():
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 5, padding="same"),
                          nn.LeakyReLU(0.1), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 4 * 4, 10))
    info = mt.init_(model, "he", seed=2)
    assert info.c[0] == pytest.approx(2.0) and info.c[1] == pytest.approx(2 / 1.01) and info.c[2] is None
    assert info.weight_std[0] == pytest.approx(math.sqrt(2 / 27)) and info.weight_std[1] == pytest.approx(
        math.sqrt(2 / 1.01 / 400))
    w = model[2].weight.detach().double().numpy().ravel()
    assert abs(w.std() - info.weight_std[1]) < Z * info.weight_std[1] / math.sqrt(2 * w.size)
    net, params = mt.to_layers(model, (3, 8, 8))
    assert [layer.kind for layer in net] == ["leaky_relu_conv", "leaky_relu_conv", "maxpool", "linear"]
    x = _x(net.n_in, 2)
    got = model.double()(torch.as_tensor(x.reshape(2, 3, 8, 8))).detach().numpy()
    np.testing.assert_allclose(got, reference.forward(net, params, x).output, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("scheme", ["sphere", "many-regions"])
def test_region_raising_constructions_are_the_layers_constructions(scheme):
    """init_ with the 2021 constructions sets exactly what maxbounds.layers.constructions builds (same seed)."""
    from maxbounds.layers.constructions import CONSTRUCTIONS

    model = nn.Sequential(mt.Maxout(2, 6, 3), mt.Maxout(6, 5, 3), nn.Linear(5, 1)).double()
    info = mt.init_(model, scheme, seed=8)
    rng = np.random.default_rng(8)
    for link, layer in zip(mt.chain(model)[:2], info.network.layers[:2]):
        W, b = CONSTRUCTIONS[scheme](layer, rng)
        np.testing.assert_array_equal(link.module.weight.detach().numpy(), W)
        np.testing.assert_array_equal(link.module.bias.detach().numpy(), b)
    if scheme == "sphere":
        W, b = model[0].weight.detach().numpy(), model[0].bias.detach().numpy()
        shift = 1 / math.sqrt(3 * 2)
        np.testing.assert_allclose((W**2).sum(axis=-1) + (b + shift) ** 2, 1.0, rtol=1e-12)
    with pytest.raises(MaxboundsValueError, match="layer 1"):
        mt.init_(nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)), scheme, seed=0)
