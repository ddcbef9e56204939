"""The two training figures: gradients during training (2023 appendix) and regions during training (2021).

Tiny levels only (a few seconds each): they run, plot and give CSV rows; the epoch-0 gradient statistics are
those of a direct ``gradient_statistics`` call on the same network; the region counts are exact integers with
sanity bounds; the multi-class boundary count agrees with the library's for two outputs; the conversion to a
``regions.Network`` reproduces the model on the slice to 1e-10; the same seed gives the same numbers.
"""

import json

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")

import torch

from maxbounds.report.json import dumps
from maxbounds.reproduce import gradients_training as gt
from maxbounds.reproduce import regions_training as rt


@pytest.fixture(scope="module")
def grad_data():
    return gt.compute(size="tiny", seed=3)


@pytest.fixture(scope="module")
def region_data():
    return rt.compute(size="tiny", seed=5)


@pytest.fixture(scope="module")
def digits():
    from maxbounds.torch.training import load_dataset

    return gt.float64_data(load_dataset("digits"))


# -- gradients during training ------------------------------------------------------------------------------
def test_gradients_tiny_runs_plots_and_rows(grad_data, tmp_path):
    path = tmp_path / "g.png"
    gt.plot(grad_data, path)
    assert path.stat().st_size > 1000
    rows = gt.csv_rows(grad_data)
    layers = grad_data["layers"]
    assert len(rows) == len(grad_data["curves"]) * len(layers)
    assert {r["epoch"] for r in rows} == set(grad_data["settings"]["epochs"])
    json.loads(dumps(grad_data))  # JSON-serialisable
    assert grad_data["settings"]["diverged seeds"] == []
    lower, upper = (np.array(grad_data["bounds"][k]) for k in ("lower", "upper"))
    assert np.all(lower > 0) and np.all(lower <= upper * (1 + 1e-12))
    # the layers above the last maxout layer have exact laws: equal bounds
    assert np.allclose(lower[-2:], upper[-2:], rtol=1e-12)
    for curve in grad_data["curves"]:
        assert np.all(np.array(curve["mean"]) > 0)
        assert np.all(np.array(curve["q25"]) <= np.array(curve["median"]))
        assert np.all(np.array(curve["median"]) <= np.array(curve["q75"]))


def test_gradients_epoch0_is_a_direct_gradient_statistics_call(grad_data, digits):
    from maxbounds.torch import gradient_statistics

    s = grad_data["settings"]
    inputs = digits.x_train[: s["inputs"]]
    for seed, record in zip(s["seeds"], grad_data["per_seed"]):
        model = gt.make_model(s["n_0"], s["classes"], s["width"], s["maxout layers"])
        gt.init_model(model, seed)
        rows = gradient_statistics(model, inputs)
        for key in ("mean", "median", "q25", "q75"):
            np.testing.assert_allclose(record["epochs"]["0"][key], [r["weight"][key] for r in rows], rtol=1e-12)
    means = np.array([rec["epochs"]["0"]["mean"] for rec in grad_data["per_seed"]])
    np.testing.assert_allclose(grad_data["curves"][0]["mean"], means.mean(axis=0), rtol=1e-12)


def test_gradients_bounds_are_the_averaged_per_input_bounds(grad_data, digits):
    from maxbounds.laws.gradients import gradient_bounds

    s = grad_data["settings"]
    arch = gt.architecture(s["n_0"], s["classes"], s["width"], s["maxout layers"])
    x = digits.x_train[: s["inputs"]].numpy()
    lower = np.mean([[r["weight_nonzero"]["lower"] for r in gradient_bounds(arch, xi)] for xi in x], axis=0)
    np.testing.assert_allclose(grad_data["bounds"]["lower"], s["n_0"] * lower, rtol=1e-12)


def test_gradients_reproducible(grad_data):
    again = gt.compute(size="tiny", seed=3)
    assert again["per_seed"] == grad_data["per_seed"]
    assert again["curves"] == grad_data["curves"]


# -- regions during training --------------------------------------------------------------------------------
def test_regions_tiny_runs_plots_and_rows(region_data, tmp_path):
    path = tmp_path / "r.png"
    rt.plot(region_data, path)
    assert path.stat().st_size > 1000
    rows = rt.csv_rows(region_data)
    s = region_data["settings"]
    assert len(rows) == len(s["inits"]) * len(s["epochs"]) * len(s["seeds"])
    assert {r["init"] for r in rows} == set(rt.INITS)
    json.loads(dumps(region_data))
    assert len(region_data["pictures"]) == 2 * len(rt.INITS)


def test_region_counts_are_exact_integers_within_sanity_bounds(region_data):
    classes = region_data["settings"]["widths"][-1]
    assert region_data["settings"]["diverged"] == []
    for row in region_data["counts"]:
        assert row["diverged"] is False
        for key in ("regions", "pieces", "crossed"):
            assert isinstance(row[key], int)
        assert row["regions"] >= 1
        # the boundary crosses at most every region, and every crossed region holds at least one piece
        assert row["crossed"] <= row["regions"] and row["crossed"] <= row["pieces"]
        # inside one region the C classes' cells form a planar subdivision of at most C convex cells: the
        # pairs sharing an edge are the edges of its planar dual graph, at most max(3C - 6, C - 1) of them
        assert row["pieces"] <= row["regions"] * max(3 * classes - 6, classes - 1)
        assert (row["pieces"] == 0) == (row["length"] == 0)
        assert row["conversion_error"] <= 1e-10
        # points of different predicted classes are separated by the boundary
        if len(set(row["predicted"])) > 1:
            assert row["pieces"] >= 1


def test_to_network_reproduces_the_model_on_the_slice(region_data, digits):
    from maxbounds.torch import init_, to_network

    s = region_data["settings"]
    points = np.array(s["plane"]["points"])
    np.testing.assert_array_equal(points, digits.x_train[s["plane"]["train_indices"]].numpy())
    assert len(set(s["plane"]["classes"])) == 3
    box = tuple(tuple(b) for b in s["plane"]["box"])
    x = rt.slice_points(points, box)
    for init in rt.INITS:
        model = rt.make_model(s["widths"][0], s["widths"][-1], s["widths"][1:-1], s["K"])
        init_(model, init, seed=s["seeds"][0])
        net = to_network(model)
        with torch.no_grad():
            expected = model(torch.as_tensor(x)).numpy()
        assert np.abs(net.forward(x) - expected).max() <= 1e-10 * max(1.0, np.abs(expected).max())
        assert rt.conversion_error(model, net, x) <= 1e-10
        # the check is sharp: an output bias moved by 1e-7 is caught
        from maxbounds.regions import Network

        W, b = (a.copy() for a in net.layers[-1])
        b[0] += 1e-7
        moved = Network(list(net.layers[:-1]) + [(W, b)])
        assert rt.conversion_error(model, moved, x) > 1e-10


def test_multiclass_pieces_equal_the_library_for_two_outputs():
    from maxbounds.architecture import Architecture
    from maxbounds.regions import Network, plane_partition

    rng = np.random.default_rng(0)
    points = rng.standard_normal((3, 5))
    box = rt.slice_box(points)
    for index in range(4):
        net = Network.random(Architecture((5, 8, 8, 2), ranks=3, bias_var=0.1), seed=11, index=index)
        partition = plane_partition(net, box, points)
        ours = rt.decision_pieces(net, partition)
        assert ours["pieces"] == partition.boundary_pieces == ours["crossed"]
        assert ours["length"] == pytest.approx(partition.boundary_length, rel=1e-9)


def test_multiclass_segments_lie_on_top_ties():
    from maxbounds.architecture import Architecture
    from maxbounds.regions import Network, plane_partition

    rng = np.random.default_rng(1)
    points = rng.standard_normal((3, 4))
    box = rt.slice_box(points)
    net = Network.random(Architecture((4, 6, 6, 5), ranks=2, bias_var=0.2), seed=2)
    partition = plane_partition(net, box, points)
    result = rt.decision_pieces(net, partition)
    assert result["pieces"] >= 1
    mid = partition.slice.to_input(result["segments"].mean(axis=1))
    out = np.sort(net.forward(mid), axis=1)
    scale = np.abs(out).max()
    assert np.all(out[:, -1] - out[:, -2] <= 1e-9 * scale)  # the two largest outputs tie
    # the affine maps composed from the patterns are the network's outputs inside each region
    G = rt.region_outputs(net, partition)
    centroids = np.array([np.mean(p, axis=0) for p in partition.polygons])
    affine = np.einsum("rcj,rj->rc", G, np.concatenate([centroids, np.ones((len(centroids), 1))], axis=1))
    np.testing.assert_allclose(affine, net.forward(partition.slice.to_input(centroids)), rtol=1e-9, atol=1e-9)


def test_regions_reproducible(region_data):
    again = rt.compute(size="tiny", seed=5)
    assert again["counts"] == region_data["counts"]
    assert again["curves"] == region_data["curves"]


def test_diverged_networks_are_left_out_and_named(monkeypatch):
    from maxbounds._validate import MaxboundsValueError

    monkeypatch.setattr(gt, "LR", 1e4)  # every network blows up
    with pytest.raises(MaxboundsValueError, match="diverged"):
        gt.compute(size="tiny", seed=3)
    monkeypatch.setattr(rt, "LR", 1e4)
    with pytest.raises(MaxboundsValueError, match="diverged"):
        rt.compute(size="tiny", seed=5)
