"""Depth-exponential ReLU networks (seed 004): the construction, its exact piece counts, the x^2 reference, the
He contrast (no PyTorch needed), then the PyTorch side (build / to_network, the derived module, seeded training
bit for bit, the reproduce figure at its tiny level)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maxbounds._validate import MaxboundsValueError
from maxbounds.layers import depth_exponential as de
from maxbounds.layers.draw import draw_parameters
from maxbounds.regions import examples, line_regions


def _admissible(depth, apex, log_factor, slope, offset):
    curvature = 2.0 ** (-np.arange(1, depth + 1) - depth) * np.exp(log_factor)
    return de.TentParameters(np.asarray(apex), curvature, slope, offset)


@st.composite
def admissible(draw, max_depth=10):
    d = draw(st.integers(1, max_depth))
    apex = draw(st.lists(st.floats(0.15, 0.85), min_size=d, max_size=d))
    log_factor = np.array(draw(st.lists(st.floats(-2.0, 2.0), min_size=d, max_size=d)))
    slope = draw(st.floats(-3.0, 3.0))
    offset = draw(st.floats(-3.0, 3.0))
    return _admissible(d, apex, log_factor, slope, offset)


@settings(max_examples=80, deadline=None)
@given(admissible())
def test_every_admissible_parameter_has_exactly_2_to_the_d_pieces(p):
    d = p.depth
    net = p.network()
    count = de.count_pieces(net)
    assert count.activation == 2 ** d and count.linear == 2 ** d and count.convex
    run = line_regions(net, np.array([0.0]), np.array([1.0]))
    # the breakpoints are the preimages of the apexes, as derived
    assert np.allclose(run.t[1:-1], p.breakpoints(), atol=1e-12, rtol=0)
    # the network computes F = b + c_0 x + sum_s c_s y_s
    x = np.linspace(0.0, 1.0, 1001)
    assert np.allclose(net.forward(x[:, None])[:, 0], p(x), atol=1e-10 * (1 + np.abs(p(x)).max()))
    # convexity: the slopes increase, and each level-r jump is positive (D_r > 0)
    assert np.all(np.diff(run.slope[:, 0]) > 0)


def test_seeded_admissible_parameters_up_to_depth_12():
    rng = np.random.default_rng(4)
    for d in range(1, 13):
        for _ in range(6):
            p = _admissible(d, rng.uniform(0.25, 0.75, d), rng.uniform(-1, 1, d), rng.normal(), rng.normal())
            count = de.count_pieces(p)
            assert (count.activation, count.linear, count.convex) == (2 ** d, 2 ** d, True)


def test_architecture_is_a_plain_relu_chain_with_draw_shapes():
    for d in (1, 2, 5):
        net = de.depth_exponential_layers(d)
        assert [layer.kind for layer in net] == ["leaky_relu"] * d + ["linear"]
        assert all(layer.slope == 0 for layer in net.layers[:-1])
        assert net.widths == (1,) + (3,) * d + (1,)
        drawn = draw_parameters(net, 0)
        raw = de.sawtooth_square(d).raw()
        assert [(W.shape, b.shape) for W, b in raw] == [(W.shape, b.shape) for W, b in drawn]


def test_skip_weights_and_curvatures_invert_each_other():
    rng = np.random.default_rng(0)
    for d in (1, 3, 8):
        apex, D = rng.uniform(0.1, 0.9, d), rng.uniform(0.1, 2.0, d)
        c = de.skip_from_curvature(apex, D)
        assert np.allclose(de.curvature_from_skip(apex, c), D, rtol=1e-12)
        assert np.all(c < 0)  # convex: every skip weight is negative
    saw = de.sawtooth_square(6)
    assert np.allclose(saw.skip, -(4.0 ** -np.arange(1, 7)), rtol=1e-14, atol=0)


def test_sawtooth_square_reaches_its_known_error():
    for d in range(1, 13):
        p = de.sawtooth_square(d)
        net = p.network()
        exact = de.square_sup_error(net)
        assert abs(exact - 2.0 ** (-2 * d - 2)) < 1e-12
        assert de.count_pieces(net).linear == 2 ** d
        # f_d = x - sum_s g^s(x) / 4^s with g^s from the library's independent sawtooth network
        x = np.linspace(0.0, 1.0, 4097)
        f = x - sum(examples.sawtooth(s).forward(x[:, None])[:, 0] / 4.0 ** s for s in range(1, d + 1))
        assert np.max(np.abs(net.forward(x[:, None])[:, 0] - f)) < 1e-12
        # it interpolates x^2 at k / 2^d
        knots = np.arange(2 ** d + 1) / 2 ** d
        assert np.max(np.abs(net.forward(knots[:, None])[:, 0] - knots ** 2)) < 1e-12


def test_he_contrast_counts_and_bound():
    for d in (2, 6):
        counts = de.random_piece_counts(d, 200, 3, bias_var=0.1)
        assert np.all(counts["linear"] <= counts["activation"]) and np.all(counts["activation"] >= 1)
        mean, se = counts["activation"].mean(), counts["activation"].std(ddof=1) / np.sqrt(200)
        assert mean - 3 * se <= de.relu_pieces_bound(d, bias_var=0.1)
        assert mean < 2 ** d  # far fewer than the construction's count
    # zero biases: a positively homogeneous function of x >= 0, one piece on [0, 1]
    assert set(de.random_piece_counts(5, 50, 0, bias_var=0.0)["activation"]) == {1}
    # the draw is maxbounds' draw: network i of seed s
    counts = de.random_piece_counts(4, 3, 7, bias_var=0.5)
    params = draw_parameters(de.depth_exponential_layers(4, bias_var=0.5), 7, 2)
    assert de.count_pieces(params).activation == counts["activation"][2]


@pytest.mark.parametrize("call, argument", [
    (lambda: de.sawtooth_square(0), "depth"),
    (lambda: de.depth_exponential_layers(0), "depth"),
    (lambda: de.TentParameters([0.5, 1.0], [1.0, 1.0]), "apex"),
    (lambda: de.TentParameters([0.5], [0.0]), "curvature"),
    (lambda: de.TentParameters([], []), "apex"),
    (lambda: de.TentParameters.from_skip([0.5, 0.5], [0.1, 0.2]), "curvature"),
    (lambda: de.target_function("sin"), "target"),
    (lambda: de.target_function(lambda x: np.sin(2 * np.pi * x)), "target"),
    (lambda: de.target_function(lambda x: np.sqrt(x)), "target"),
    (lambda: de.relu_pieces_bound(3, bias_var=0.0), "bias_var"),
])
def test_bad_input_is_a_one_line_error(call, argument):
    with pytest.raises(MaxboundsValueError) as info:
        call()
    assert info.value.argument == argument
    assert "\n" not in str(info.value)


def test_non_convex_target_says_why():
    with pytest.raises(MaxboundsValueError, match="convex functions only"):
        de.target_function(lambda x: -x * x)
    _, f, _ = de.target_function(lambda x: x ** 4)  # a convex function is accepted
    assert np.isclose(f(0.5), 0.0625)
    for key, (function, _) in de.TARGETS.items():
        de.check_convex(function, key)


# -- PyTorch ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tde():
    pytest.importorskip("torch")
    from maxbounds.torch import depth_exponential

    return depth_exponential


def test_build_and_to_network_count_the_pieces(tde):
    import torch

    import maxbounds.torch as mt

    rng = np.random.default_rng(1)
    for d in (1, 4, 9):
        p = _admissible(d, rng.uniform(0.3, 0.7, d), rng.uniform(-1, 1, d), 0.7, -0.2)
        model = mt.build(de.depth_exponential_layers(d), params=p.raw(), dtype=torch.float64)
        assert [type(m).__name__ for m in model] == ["Linear", "ReLU"] * d + ["Linear"]
        x = np.linspace(0, 1, 513)
        with torch.no_grad():
            out = model(torch.tensor(x[:, None]))[:, 0].numpy()
        assert np.max(np.abs(out - p(x))) < 1e-12
        count = de.count_pieces(mt.to_network(model))
        assert (count.activation, count.linear) == (2 ** d, 2 ** d)


def test_derived_module_is_the_construction(tde):
    import torch

    rng = np.random.default_rng(2)
    members = [_admissible(6, rng.uniform(0.2, 0.8, 6), rng.uniform(-1, 1, 6), rng.normal(), rng.normal())
               for _ in range(3)]
    model = tde.DerivedModel(members)
    x = np.linspace(0, 1, 257)
    xs = torch.tensor(np.tile(x, (3, 1, 1)))
    with torch.no_grad():
        out = model(xs)[:, 0].numpy()
    raw = tde.RawStack([tde.raw_model(p) for p in members])
    with torch.no_grad():
        out_raw = raw(xs)[:, 0].numpy()
    for g, p in enumerate(members):
        assert np.max(np.abs(out[g] - p(x))) < 1e-12
        assert np.max(np.abs(out_raw[g] - p(x))) < 1e-12
        back = model.member(g)
        assert np.allclose(back.apex, p.apex, rtol=1e-13) and np.allclose(back.skip, p.skip, rtol=1e-12)
    # gradients reach every derived parameter
    torch.sum(model(xs) ** 2).backward()
    assert all(torch.all(torch.isfinite(q.grad)) and torch.any(q.grad != 0) for q in model.parameters())


def test_seeded_training_is_reproducible_bit_for_bit(tde):
    settings_ = tde.FitSettings(steps1=15, steps2=15, n_train=128, n_eval=1025, counts=1)
    for method in tde.METHODS:
        first = tde.fit_group(["x^2", "abs1.5"], 3, [5, 6], method=method, settings=settings_)
        second = tde.fit_group(["x^2", "abs1.5"], 3, [5, 6], method=method, settings=settings_)
        for a, b in zip(first, second):
            a.pop("seconds"), b.pop("seconds")
            assert a == b
        if method == "derived":
            for run in first:  # phase 1 keeps the construction: 2^d pieces, convex
                phase1 = next(p for p in run["pieces"] if p["phase"] == "phase 1")
                assert phase1["linear"] == 8 and phase1["convex"]
    one = tde.fit("x^2", 3, method="derived", seed=5, settings=settings_)
    assert one["target"] == "x^2" and one["seed"] == 5 and 0 < one["max_error"] < 0.1


def test_training_bad_input(tde):
    with pytest.raises(MaxboundsValueError, match="method"):
        tde.fit("x^2", 3, method="xavier")
    with pytest.raises(MaxboundsValueError) as info:
        tde.fit("x^2", 0)
    assert info.value.argument == "depth"
    with pytest.raises(MaxboundsValueError, match="unknown target"):
        tde.fit("cubic", 3)
    with pytest.raises(MaxboundsValueError, match="not convex"):
        tde.fit(lambda x: np.cos(3 * x), 3)
    with pytest.raises(MaxboundsValueError) as info:
        tde.FitSettings(lr1=0.0)
    assert info.value.argument == "lr1"


def test_reproduce_tiny(tde, tmp_path):
    import json

    from maxbounds.report.json import dumps
    from maxbounds.reproduce import depth_exponential as fig

    data = fig.compute(size="tiny", seed=0)
    json.loads(dumps(data))
    depths = data["settings"]["depths"]
    assert len(data["runs"]) == len(depths) * 2 * len(de.TARGETS) * len(data["settings"]["seeds"])
    for r in data["reference"]:
        assert abs(r["sup_error"] - 2.0 ** (-2 * r["depth"] - 2)) < 1e-12
    for row in data["summary"]:
        if row["method"] in ("derived-init", "derived-phase1"):
            assert row["linear_min"] == row["linear_max"] == 2 ** row["depth"]
    rows = fig.csv_rows(data)
    assert {r["table"] for r in rows} == {"fits", "sawtooth reference", "He contrast"}
    texts = fig.tables(data)
    assert "sawtooth reference" in texts["md"] and r"\begin{tabular}" in texts["tex"]
    fig.plot(data, tmp_path / "d.png")
    assert (tmp_path / "d.png").stat().st_size > 1000
