"""Exact region counting: known counts, independent recounts (LP, grid, dense sampling, point location)."""

import math

import numpy as np
import pytest

from maxbounds._validate import MaxboundsValueError
from maxbounds.architecture import Architecture
from maxbounds.regions import (
    Network,
    count_plane_regions,
    grid_count,
    line_region_samples,
    line_regions,
    lp_count_plane_regions,
    plane_partition,
    plane_region_samples,
)
from maxbounds.regions.examples import sawtooth, tangent_unit
from maxbounds.regions.lp import _interior_radius


@pytest.mark.parametrize("K", [1, 2, 3, 5, 8])
def test_one_unit_has_exactly_K_pieces_for_tangent_features(K):
    lines = line_regions(tangent_unit(K), [-1.0], [float(K)])
    assert lines.pieces == K
    assert np.array_equal(lines.patterns[:, 0], np.arange(K))


@pytest.mark.parametrize("K", [2, 3, 6])
def test_one_random_unit_has_at_most_K_pieces_on_a_line_and_K_regions_in_a_plane(K):
    arch = Architecture((2, 1, 1), ranks=K, bias_var=1.0)
    for seed in range(20):
        net = Network.random(arch, seed)
        assert line_regions(net, [-50.0, -40.0], [60.0, 30.0]).pieces <= K
        assert count_plane_regions(net, (-50, 50)) <= K


@pytest.mark.parametrize("depth", range(1, 11))
def test_sawtooth_of_depth_d_has_2_to_the_d_pieces(depth):
    net = sawtooth(depth)
    lines = line_regions(net, [0.0], [1.0])
    assert lines.pieces == 2 ** depth
    # T^d is exact on dyadic points: 0 at even multiples of 2^-d, 1 at odd ones
    x = np.arange(2 ** depth + 1) / 2 ** depth
    assert np.allclose(net.forward(x[:, None])[:, 0], np.arange(2 ** depth + 1) % 2)


def test_line_pieces_match_dense_sampling():
    arch = Architecture.parse("3,10,10,10,2", rank="3", bias_var="0.5")
    for seed in range(4):
        net = Network.random(arch, seed)
        a, b = np.array([-2.0, 0.5, 1.0]), np.array([2.5, -1.0, 0.3])
        lines = line_regions(net, a, b)
        t = np.linspace(0.0, 1.0, 200_001)
        pats = net.patterns(a + t[:, None] * (b - a))
        changes = int(np.any(pats[1:] != pats[:-1], axis=1).sum())
        assert np.min(np.diff(lines.t)) > t[1], "a piece shorter than the sampling step; pick another seed"
        assert changes == lines.pieces - 1
        # the pattern stored for each piece is the pattern inside it
        inside = np.searchsorted(lines.t, t[1:-1]) - 1
        assert np.array_equal(pats[1:-1], lines.patterns[inside])


def test_line_output_and_decision_zeros_are_exact():
    arch = Architecture.parse("2,8,8,2", rank="4", bias_var="1")
    a, b = np.array([-5.0, -5.0]), np.array([5.0, 4.0])
    # the first of the random networks whose boundary crosses the segment (6 of the first 10 at writing)
    net, lines = next((net, lines) for net in (Network.random(arch, 0, s) for s in range(50))
                      for lines in [line_regions(net, a, b)] if lines.boundary.size > 0)
    mid = 0.5 * (lines.t[:-1] + lines.t[1:])
    affine = lines.intercept + mid[:, None] * lines.slope
    assert np.allclose(affine, net.forward(a + mid[:, None] * (b - a)), rtol=1e-10, atol=1e-10)
    assert lines.boundary.size > 0
    out = net.forward(a + lines.boundary[:, None] * (b - a))
    assert np.allclose(out[:, 0] - out[:, 1], 0.0, atol=1e-10)
    t = np.linspace(0, 1, 100_001)
    out = net.forward(a + t[:, None] * (b - a))
    sign_changes = int(np.sum(np.diff(np.sign(out[:, 0] - out[:, 1])) != 0))
    assert sign_changes == lines.boundary.size


def _located_patterns(partition, points):
    """Pattern of the polygon containing each point (convex polygons, counter-clockwise or not)."""
    found = np.full((points.shape[0], partition.patterns.shape[1]), -1)
    for polygon, pattern in zip(partition.polygons, partition.patterns):
        edges = np.roll(polygon, -1, axis=0) - polygon
        rel = points[:, None, :] - polygon[None, :, :]
        cross = edges[None, :, 0] * rel[:, :, 1] - edges[None, :, 1] * rel[:, :, 0]
        inside = np.all(cross >= -1e-12, axis=1) | np.all(cross <= 1e-12, axis=1)
        found[inside] = pattern
    return found


@pytest.mark.parametrize("widths,K,relu", [("2,6,6,2", 2, False), ("2,5,5,5,1", 3, False), ("2,8,8,2", 2, True),
                                           ("2,4,4,2", 5, False)])
def test_polygons_tile_the_box_and_carry_the_pattern_of_their_points(widths, K, relu):
    arch = Architecture.parse(widths, rank=str(K), bias_var="1")
    rng = np.random.default_rng(0)
    for seed in range(3):
        net = Network.random(arch, seed, relu=relu)
        part = plane_partition(net, (-3, 3))
        area = sum(0.5 * abs(np.dot(p[:, 0], np.roll(p[:, 1], -1)) - np.dot(p[:, 1], np.roll(p[:, 0], -1)))
                   for p in part.polygons)
        assert math.isclose(area, 36.0, rel_tol=1e-9)
        assert len({tuple(p) for p in part.patterns}) == part.regions
        points = rng.uniform(-3, 3, size=(4000, 2))
        assert np.array_equal(_located_patterns(part, points), net.patterns(points))


@pytest.mark.parametrize("widths,K,relu", [("2,5,5,2", 3, False), ("2,6,6,1", 2, False), ("2,6,6,2", 2, True),
                                           ("2,3,3,3,2", 4, False)])
def test_exact_count_equals_one_linear_program_per_candidate_region(widths, K, relu):
    arch = Architecture.parse(widths, rank=str(K), bias_var="1")
    for seed in range(3):
        net = Network.random(arch, seed, relu=relu)
        assert count_plane_regions(net, (-4, 4)) == lp_count_plane_regions(net, (-4, 4))


def _inradius(polygon):
    """Radius of the largest disk inside a convex polygon (by the Chebyshev LP)."""
    edges = np.roll(polygon, -1, axis=0) - polygon
    area2 = np.sum(polygon[:, 0] * np.roll(polygon[:, 1], -1) - np.roll(polygon[:, 0], -1) * polygon[:, 1])
    normal = np.column_stack([-edges[:, 1], edges[:, 0]]) * np.sign(area2)  # inward
    return _interior_radius(normal, -np.sum(normal * polygon, axis=1))


def test_grid_count_is_below_the_exact_count_and_equal_on_a_fine_enough_grid():
    arch = Architecture.parse("2,4,4,2", rank="2", bias_var="1")
    net = Network.random(arch, 5)
    part = plane_partition(net, (-2, 2))
    coarse = grid_count(net, (-2, 2), resolution=30)
    assert coarse.regions <= part.regions
    # every grid pattern is an exact region's pattern
    exact = {tuple(p) for p in part.patterns}
    s = np.linspace(-2, 2, 30)
    points = np.stack(np.meshgrid(s, s), axis=-1).reshape(-1, 2)
    assert {tuple(p) for p in net.patterns(points)} <= exact
    # a disk of radius r holds a grid point once the spacing h satisfies h / sqrt(2) < r
    r_min = min(_inradius(p) for p in part.polygons)
    resolution = int(math.ceil(4.0 / (r_min * math.sqrt(2)))) + 2
    assert resolution <= 4000, "the smallest region is too thin for this test; pick another seed"
    assert grid_count(net, (-2, 2), resolution=resolution).regions == part.regions


def test_plane_through_three_points_equals_the_composed_two_input_network():
    arch = Architecture.parse("4,6,6,2", rank="3", bias_var="1")
    net = Network.random(arch, 2)
    p0, p1, p2 = np.array([0.1, -0.3, 0.5, 1.0]), np.array([1.0, 0.0, 0.2, 0.0]), np.array([0.0, 2.0, 0.0, -1.0])
    part = plane_partition(net, (-2, 2), plane=(p0, p1, p2))
    sl = part.slice
    assert np.allclose([sl.e1 @ sl.e1, sl.e2 @ sl.e2, sl.e1 @ sl.e2], [1, 1, 0])
    W1, b1 = net.layers[0]
    basis = np.column_stack([sl.e1, sl.e2])
    composed = Network([(W1 @ basis, b1 + W1 @ p0)] + list(net.layers[1:]))
    assert count_plane_regions(composed, (-2, 2)) == part.regions
    assert plane_partition(composed, (-2, 2)).boundary_pieces == part.boundary_pieces


def test_boundary_pieces_lie_on_the_decision_boundary_in_their_regions():
    arch = Architecture.parse("2,10,10,2", rank="3", bias_var="1")
    # the first of the random networks whose boundary crosses the box (most do: 6 of the first 10 at writing)
    net, part = next((net, part) for net in (Network.random(arch, 1, s) for s in range(50))
                     for part in [plane_partition(net, (-8, 8))] if part.boundary_pieces > 0)
    ends = part.segments.reshape(-1, 2)
    out = net.forward(ends)
    assert np.allclose(out[:, 0] - out[:, 1], 0.0, atol=1e-9)
    # independent count: polygons whose vertex values of N_1 - N_2 change sign
    crossing = 0
    for polygon in part.polygons:
        inner = polygon + 1e-9 * (polygon.mean(axis=0) - polygon)
        d = np.diff(net.forward(inner)[:, ::-1], axis=1)
        crossing += int(d.min() < 0 < d.max())
    assert crossing == part.boundary_pieces
    lengths = np.linalg.norm(part.segments[:, 1] - part.segments[:, 0], axis=1)
    assert math.isclose(lengths.sum(), part.boundary_length, rel_tol=1e-12)


def test_parallel_random_counts_equal_one_network_at_a_time():
    arch = Architecture.parse("2,7,7,2", rank="3", bias_var="0.5")
    counts = plane_region_samples(arch, (-3, 3), networks=6, seed=11, first_sample=4)
    for s in range(6):
        part = plane_partition(Network.random(arch, 11, 4 + s), (-3, 3))
        assert counts.regions[s] == part.regions
        assert counts.boundary_pieces[s] == part.boundary_pieces
    mean, se = counts.mean_regions()
    assert math.isclose(mean, counts.regions.mean()) and se > 0
    relu = plane_region_samples(arch, (-3, 3), networks=2, seed=11, relu=True)
    assert relu.regions[1] == count_plane_regions(Network.random(arch, 11, 1, relu=True), (-3, 3))


def test_line_region_samples_are_the_pieces_of_each_network():
    arch = Architecture.parse("2,6,6,1", rank="3", bias_var="1")
    counts = line_region_samples(arch, [-3, 0], [3, 1], networks=5, seed=3)
    for s in range(5):
        assert counts.pieces[s] == line_regions(Network.random(arch, 3, s), [-3, 0], [3, 1]).pieces
    assert counts.mean_density()[0] == pytest.approx(np.mean((counts.pieces - 1) / counts.length))


def test_saved_weights_round_trip(tmp_path):
    net = Network.random(Architecture.parse("2,5,3", rank="2", bias_var="1"), 1)
    net.save(tmp_path / "net.npz")
    again = Network.load(tmp_path / "net.npz")
    assert again.widths == net.widths and count_plane_regions(again, (-2, 2)) == count_plane_regions(net, (-2, 2))


@pytest.mark.parametrize("call,argument", [
    (lambda net: count_plane_regions(net, (1, -1)), "box"),
    (lambda net: count_plane_regions(net, (0, float("inf"))), "box"),
    (lambda net: count_plane_regions("net", (0, 1)), "net"),
    (lambda net: grid_count(net, (0, 1), resolution=1), "resolution"),
    (lambda net: plane_partition(Network.random(Architecture.parse("3,4,2"), 0), (0, 1)), "plane"),
    (lambda net: plane_partition(net, (0, 1), plane=([0, 0], [1, 1], [2, 2])), "plane"),
    (lambda net: Network([(np.ones((2, 2, 2)), np.ones((2, 2)))]), "layers"),
    (lambda net: Network([(np.ones((2, 2, 2)), np.ones((2, 3)))]), "layers"),
    (lambda net: Network([(np.full((2, 1, 2), np.nan), np.ones((2, 1)))]), "layers"),
    (lambda net: line_regions(net, [0, 0], [0, 0]), "b"),
])
def test_bad_input_names_the_argument(call, argument):
    net = Network.random(Architecture.parse("2,4,2", rank="2"), 0)
    with pytest.raises(MaxboundsValueError) as info:
        call(net)
    assert info.value.argument == argument
