"""Exact curve length along circles (maxbounds.simulate.circle).

Deterministic checks (fixed seeds, floating-point comparisons) have no
false-failure rate.  The statistical check against ``length_bounds`` allows
4.5 standard errors on each side: if the true mean lay exactly on a bound, a
normal sample mean would cross the 4.5-standard-error line with probability
about 3.4e-6 per comparison (two comparisons: below 7e-6 in all); the
observed margins are far larger, so a failure means a bug.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate
from scipy.special import ellipe

from maxbounds._validate import MaxboundsValueError
from maxbounds.architecture import Architecture
from maxbounds.laws.gradients import length_bounds
from maxbounds.simulate.circle import arc_lengths, circle_breakpoints, circle_length_samples
from maxbounds.simulate.length import draw_network, segment_length_samples

Z = 4.5


def forward(layers, X):
    """``N`` at the rows of ``X`` by a plain forward pass."""
    x = np.asarray(X, dtype=float)
    for W, bias in layers[:-1]:
        z = np.einsum("ikj,pj->pik", W, x) + bias
        x = z.max(axis=2)
    W, bias = layers[-1]
    return x @ W[:, 0, :].T + bias[:, 0]


def circle_points(centre, radius, e, f, theta):
    return centre[None, :] + radius * (np.cos(theta)[:, None] * e[None, :] + np.sin(theta)[:, None] * f[None, :])


SMALL = [
    (Architecture((2, 5, 5, 1), ranks=3, c=1.2, bias_var=0.5), [0.3, -0.2], 1.5, [1.0, 0.0], [0.0, 1.0], 3),
    (Architecture((3, 4, 4, 4, 2), ranks=4, c=0.9, bias_var=0.2), [0.3, -0.7, 1.0], 0.8,
     [1.0, 1.0, 0.0], [0.0, 1.0, -1.0], 11),
    (Architecture((4, 6, 6, 3), ranks=(2, 5), c=(1.0, 0.7), bias_var=1.0), [0.0, 0.0, 1.0, -1.0], 3.0,
     [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0], 7),
]


@pytest.mark.parametrize("arch, centre, radius, e, f, seed", SMALL)
def test_exact_length_against_dense_polygon(arch, centre, radius, e, f, seed):
    result = circle_length_samples(arch, centre, radius, e, f, networks=3, seed=seed)
    e_used, f_used, c = result.e, result.f, result.centre
    assert abs(e_used @ f_used) < 1e-15 and np.linalg.norm(e_used) == pytest.approx(1.0)
    for index in range(3):
        layers = draw_network(arch, seed, index)
        theta, A, B, C = circle_breakpoints(arch, centre, radius, e, f, seed, index)
        assert theta[0] == 0.0 and theta[-1] == pytest.approx(2 * math.pi) and np.all(np.diff(theta) > 0)
        exact = result.length[index]
        assert exact == pytest.approx(np.sum(arc_lengths(theta, B, C)), rel=1e-13)
        # the arc maps agree with a plain forward pass at midpoints and both ends of each arc
        for ts in (0.5 * (theta[1:] + theta[:-1]), theta[:-1], theta[1:]):
            y = forward(layers, circle_points(c, radius, e_used, f_used, ts))
            model = A + B * np.cos(ts)[:, None] + C * np.sin(ts)[:, None]
            np.testing.assert_allclose(model, y, rtol=1e-9, atol=1e-11)
        # inscribed polygon through 1e5 angles plus every breakpoint
        grid = np.union1d(np.linspace(0.0, 2 * math.pi, 100_001), theta)
        y = forward(layers, circle_points(c, radius, e_used, f_used, grid))
        poly = float(np.sum(np.linalg.norm(np.diff(y, axis=0), axis=1)))
        assert poly <= exact * (1 + 1e-12)
        assert poly == pytest.approx(exact, rel=1e-6)


def test_pieces_count_closed_circle():
    arch, centre, radius, e, f, seed = SMALL[1]
    result = circle_length_samples(arch, centre, radius, e, f, networks=5, seed=seed)
    for index in range(5):
        theta, A, B, C = circle_breakpoints(arch, centre, radius, e, f, seed, index)
        P = theta.size - 1
        joined = P > 1 and np.array_equal(A[0], A[-1]) and np.array_equal(B[0], B[-1]) and np.array_equal(C[0], C[-1])
        assert result.pieces[index] == (P - 1 if joined else P)


def test_linear_network_is_an_ellipse():
    arch = Architecture((3, 4, 5, 2), ranks=1, c=1.3, bias_var=0.4)
    centre, radius = np.array([0.2, -0.4, 0.9]), 1.7
    e, f = np.array([1.0, 2.0, 0.0]), np.array([0.0, 1.0, 1.0])
    result = circle_length_samples(arch, centre, radius, e, f, networks=4, seed=99)
    assert np.all(result.pieces == 1)
    for index in range(4):
        M = np.eye(3)
        for W, _ in draw_network(arch, 99, index):
            M = W[:, 0, :] @ M
        u, v = M @ result.e, M @ result.f
        def speed(t, u=u, v=v):
            return radius * np.linalg.norm(-math.sin(t) * u + math.cos(t) * v)

        quad, _ = integrate.quad(speed, 0.0, 2 * math.pi, epsabs=0, epsrel=1e-13, limit=200)
        s = np.linalg.svd(radius * np.column_stack([u, v]), compute_uv=False)
        ellipse = 4 * s[0] * ellipe(1 - (s[1] / s[0]) ** 2)
        assert result.length[index] == pytest.approx(quad, rel=1e-11)
        assert result.length[index] == pytest.approx(ellipse, rel=1e-11)


def test_scalar_output_speed_vanishes():
    """With one output the speed |B sin - C cos| has zeros: the closed form stays exact."""
    theta = np.array([0.0, 0.4, 2.0, 2 * math.pi])
    B, C = np.array([[1.5], [0.3], [-2.0]]), np.array([[-0.5], [0.7], [0.1]])
    got = arc_lengths(theta, B, C)
    for p in range(3):
        quad, _ = integrate.quad(lambda t, b=B[p, 0], c=C[p, 0]: abs(-b * math.sin(t) + c * math.cos(t)),
                                 theta[p], theta[p + 1], epsabs=0, epsrel=1e-12, limit=200)
        assert got[p] == pytest.approx(quad, rel=1e-10)


def test_mean_distortion_inside_length_bounds():
    arch = Architecture((3, 8, 8, 8, 2), ranks=3, c=0.8, bias_var=0.3)
    res = circle_length_samples(arch, [0.5, -1.0, 0.3], 1.2, [1.0, 0.0, 0.0], [0.0, 1.0, 1.0],
                                networks=10_000, seed=2024)
    mean, se = res.mean_distortion()
    bounds = length_bounds(arch)["mean"]
    print(f"mean {mean:.4f} +- {se:.4f}, bounds {bounds}, "
          f"z_lo {(mean - bounds['lower']) / se:.1f}, z_hi {(bounds['upper'] - mean) / se:.1f}")
    assert bounds["lower"] - Z * se <= mean <= bounds["upper"] + Z * se


def test_reproducible_and_same_networks_as_segments():
    arch, centre, radius, e, f, seed = SMALL[1]
    a = circle_length_samples(arch, centre, radius, e, f, networks=6, seed=seed)
    b = circle_length_samples(arch, centre, radius, e, f, networks=6, seed=seed)
    c = circle_length_samples(arch, centre, radius, e, f, networks=3, seed=seed)
    d = circle_length_samples(arch, centre, radius, e, f, networks=3, seed=seed + 1)
    np.testing.assert_array_equal(a.length, b.length)
    np.testing.assert_array_equal(a.pieces, b.pieces)
    np.testing.assert_array_equal(a.length[:3], c.length)
    assert not np.array_equal(a.length[:3], d.length)
    # a tiny circle sees one linear map: length ~ 2 pi r |J (cos e + sin f)| averaged; compare with the
    # segment sampler on the same network through its Jacobian along a diameter
    seg = segment_length_samples(arch, np.asarray(centre) - 1e-7 * a.e, np.asarray(centre) + 1e-7 * a.e, 1, seed)
    tiny = circle_length_samples(arch, centre, 1e-7, a.e, a.f, 1, seed)
    layers = draw_network(arch, seed, 0)
    J = np.eye(3)
    x = np.asarray(centre, dtype=float)
    for W, bias in layers[:-1]:
        z = W @ x + bias
        k = z.argmax(axis=1)
        J = W[np.arange(W.shape[0]), k] @ J
        x = z[np.arange(W.shape[0]), k]
    J = layers[-1][0][:, 0, :] @ J
    assert seg.distortion[0] == pytest.approx(np.linalg.norm(J @ a.e), rel=1e-9)
    s = np.linalg.svd(J @ np.column_stack([a.e, a.f]), compute_uv=False)
    assert tiny.distortion[0] == pytest.approx(4 * s[0] * ellipe(1 - (s[1] / s[0]) ** 2) / (2 * math.pi), rel=1e-6)


@pytest.mark.parametrize("kwargs, argument", [
    ({"centre": [0.0, 0.0]}, "centre"),
    ({"centre": [0.0, np.nan, 0.0]}, "centre"),
    ({"radius": 0.0}, "radius"),
    ({"radius": -1.0}, "radius"),
    ({"radius": [1.0, 2.0]}, "radius"),
    ({"radius": float("inf")}, "radius"),
    ({"e": [0.0, 0.0, 0.0]}, "e"),
    ({"e": [1.0, 0.0]}, "e"),
    ({"f": [0.0, 0.0, 0.0]}, "f"),
    ({"f": [2.0, 0.0, 0.0]}, "f"),
    ({"networks": 0}, "networks"),
    ({"networks": 2.5}, "networks"),
    ({"seed": -1}, "seed"),
    ({"arch": "3,8,2"}, "arch"),
])
def test_bad_arguments(kwargs, argument):
    args = {"arch": Architecture((3, 4, 2), ranks=2), "centre": [0.0, 0.0, 0.0], "radius": 1.0,
            "e": [1.0, 0.0, 0.0], "f": [0.0, 1.0, 0.0], "networks": 2, "seed": 1}
    args.update(kwargs)
    with pytest.raises(MaxboundsValueError) as info:
        circle_length_samples(**args)
    assert info.value.argument == argument
    assert "\n" not in str(info.value)


def test_input_width_one_rejected():
    with pytest.raises(MaxboundsValueError, match="n_0 >= 2"):
        circle_length_samples(Architecture((1, 4, 2)), [0.0], 1.0, [1.0], [1.0], 1, 0)
