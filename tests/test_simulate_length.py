"""Exact curve length along segments (maxbounds.simulate.length).

Deterministic checks (fixed seeds, exact or floating-point comparisons) have
no false-failure rate.  The statistical check against ``length_bounds``
allows 4.5 standard errors on each side, a one-sided normal tail of about
3.4e-6 per comparison; with the observed margins (printed z-scores, well
beyond 4.5) a failure means a bug, not bad luck.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from maxbounds._validate import MaxboundsValueError
from maxbounds.architecture import Architecture
from maxbounds.laws.gradients import length_bounds
from maxbounds.simulate import explicit_samples
from maxbounds.simulate.length import draw_network, segment_breakpoints, segment_length_samples

Z = 4.5


# -- a plain NumPy forward pass, independent of the envelope algorithm --------
def forward(layers, X):
    """``N`` at the rows of ``X`` and the activation pattern (argmax per unit, all layers)."""
    x = np.asarray(X, dtype=float)
    pattern = []
    for W, bias in layers[:-1]:
        z = np.einsum("ikj,pj->pik", W, x) + bias
        k = z.argmax(axis=2)
        pattern.append(k)
        x = np.take_along_axis(z, k[..., None], axis=2)[..., 0]
    W, bias = layers[-1]
    return x @ W[:, 0, :].T + bias[:, 0], np.concatenate(pattern, axis=1) if pattern else np.zeros((len(x), 0))


def jacobian(layers, x):
    """``J_N(x)`` by a plain forward pass (the selected rows multiplied)."""
    J = np.eye(x.size)
    for W, bias in layers[:-1]:
        z = W @ x + bias
        k = z.argmax(axis=1)
        rows = W[np.arange(W.shape[0]), k]
        J = rows @ J
        x = z[np.arange(W.shape[0]), k]
    return layers[-1][0][:, 0, :] @ J


def polyline(layers, a, b, t):
    pts = a[None, :] + np.asarray(t)[:, None] * (b - a)[None, :]
    y, _ = forward(layers, pts)
    return float(np.sum(np.linalg.norm(np.diff(y, axis=0), axis=1)))


SMALL = [
    (Architecture((2, 5, 5, 1), ranks=3, c=1.2, bias_var=0.5), [-1.0, 0.5], [2.0, -1.5], 3),
    (Architecture((3, 4, 4, 4, 2), ranks=4, c=0.9, bias_var=0.2), [0.3, -0.7, 1.0], [-1.2, 0.4, -0.9], 11),
    (Architecture((1, 6, 6, 3), ranks=(2, 5), c=(1.0, 0.7), bias_var=1.0), [-4.0], [4.0], 7),
]


@pytest.mark.parametrize("arch, a, b, seed", SMALL)
def test_exact_length_against_dense_sampling(arch, a, b, seed):
    a, b = np.asarray(a), np.asarray(b)
    result = segment_length_samples(arch, a, b, networks=3, seed=seed)
    for index in range(3):
        layers = draw_network(arch, seed, index)
        t, intercept, slope = segment_breakpoints(arch, a, b, seed, index)
        exact = result.length[index]
        assert t[0] == 0.0 and t[-1] == 1.0 and np.all(np.diff(t) > 0)
        assert result.pieces[index] == t.size - 1
        assert exact == pytest.approx(np.sum(np.linalg.norm(slope, axis=1) * np.diff(t)), rel=1e-12)
        # the piece maps agree with a plain forward pass at the midpoints and at both ends of every piece
        mids = 0.5 * (t[1:] + t[:-1])
        for ts, rows in ((mids, slice(None)), (t[:-1], slice(None)), (t[1:], slice(None))):
            y, _ = forward(layers, a[None, :] + ts[:, None] * (b - a)[None, :])
            np.testing.assert_allclose(intercept[rows] + ts[:, None] * slope[rows], y, rtol=1e-10, atol=1e-12)
        # no spurious cuts: neighbouring pieces have different activation patterns
        _, pattern = forward(layers, a[None, :] + mids[:, None] * (b - a)[None, :])
        assert np.all(np.any(pattern[1:] != pattern[:-1], axis=1))
        # inscribed polylines: never longer; through the breakpoints, equal
        coarse = polyline(layers, a, b, np.linspace(0.0, 1.0, 10**4))
        assert coarse <= exact * (1 + 1e-12)
        fine = polyline(layers, a, b, np.union1d(np.linspace(0.0, 1.0, 10**5), t))
        assert fine == pytest.approx(exact, rel=1e-9)
        # the Jacobian at each piece's midpoint
        by_jacobian = sum(np.linalg.norm(jacobian(layers, a + m * (b - a)) @ (b - a)) * dt
                          for m, dt in zip(mids, np.diff(t)))
        assert by_jacobian == pytest.approx(exact, rel=1e-10)
        assert result.distortion[index] == pytest.approx(exact / np.linalg.norm(b - a), rel=1e-15)


@pytest.mark.parametrize("K", [2, 3, 5])
def test_single_unit_has_at_most_K_pieces(K):
    arch = Architecture((1, 1, 1), ranks=K, c=1.0, bias_var=1.0)
    result = segment_length_samples(arch, [-3.0], [3.0], networks=2000, seed=K)
    assert result.pieces.min() >= 1
    assert result.pieces.max() <= K
    # every number of pieces from 1 to K occurs (observed counts for K = 5 out of 2000: 17, 902, 890, 187, 4)
    assert set(result.pieces) == set(range(1, K + 1))


def test_linear_network_is_one_piece():
    arch = Architecture((4, 6, 5, 3), ranks=1, c=(1.3, 0.6), bias_var=0.4)
    a, b = np.array([1.0, -2.0, 0.5, 0.0]), np.array([-0.5, 1.0, 2.0, -3.0])
    result = segment_length_samples(arch, a, b, networks=20, seed=2)
    assert np.all(result.pieces == 1)
    for index in range(20):
        product = np.eye(4)
        for W, _ in draw_network(arch, 2, index):
            product = W[:, 0, :] @ product
        assert result.length[index] == pytest.approx(np.linalg.norm(product @ (b - a)), rel=1e-12)


def test_same_networks_as_explicit_samples():
    """On a tiny segment the distortion is |J_N(a) u|, and network s is sample s of explicit_samples."""
    arch = Architecture((3, 8, 8, 8, 2), ranks=3, c=0.8, bias_var=0.3)
    a = np.array([0.5, -1.0, 0.3])
    u = np.array([0.6, 0.0, -0.8])
    b = a + 1e-6 * u
    result = segment_length_samples(arch, a, b, networks=200, seed=17)
    direction = (b - a) / np.linalg.norm(b - a)  # the direction actually represented in floating point
    ref = np.sqrt(explicit_samples(arch, a, direction, 200, 17).sq_norm_u[0])
    one = result.pieces == 1
    assert one.sum() >= 190
    np.testing.assert_allclose(result.distortion[one], ref[one], rtol=1e-12)


def test_mean_distortion_within_length_bounds():
    arch = Architecture((3, 8, 8, 8, 2), ranks=3, c=0.8, bias_var=0.3)
    a, b = np.array([0.5, -1.0, 0.3]), np.array([-0.2, 0.7, 1.1])
    d = segment_length_samples(arch, a, b, networks=20000, seed=2023).distortion
    bounds = length_bounds(arch)
    lo, hi = bounds["mean"]["lower"], bounds["mean"]["upper"]
    mean, se = d.mean(), d.std(ddof=1) / math.sqrt(d.size)
    z_lo, z_hi = (mean - lo) / se, (hi - mean) / se
    print(f"mean distortion {mean:.5f} +- {se:.5f}; bounds [{lo:.5f}, {hi:.5f}]; z {z_lo:.1f}, {z_hi:.1f}")
    assert z_lo > -Z and z_hi > -Z
    sq = d**2
    m2, se2 = sq.mean(), sq.std(ddof=1) / math.sqrt(d.size)
    z2 = (bounds["second_moment"]["upper"] - m2) / se2
    print(f"E[d^2] {m2:.5f} +- {se2:.5f}; upper {bounds['second_moment']['upper']:.5f}; z {z2:.1f}")
    assert z2 > -Z


def test_reproducible_from_seed():
    arch = Architecture((3, 8, 8, 2), ranks=3, c=1.0, bias_var=0.1)
    a, b = [0.0, 1.0, 2.0], [1.0, -1.0, 0.5]
    first = segment_length_samples(arch, a, b, 50, seed=9)
    again = segment_length_samples(arch, a, b, 50, seed=9)
    prefix = segment_length_samples(arch, a, b, 5, seed=9)
    other = segment_length_samples(arch, a, b, 50, seed=10)
    np.testing.assert_array_equal(first.length, again.length)
    np.testing.assert_array_equal(first.pieces, again.pieces)
    np.testing.assert_array_equal(first.length[:5], prefix.length)
    assert not np.any(first.length == other.length)


@pytest.mark.parametrize("kwargs, argument", [
    ({"a": [0.0, 0.0], "b": [1.0, 1.0, 1.0]}, "a"),
    ({"b": [1.0, float("nan"), 1.0]}, "b"),
    ({"b": [0.0, 0.0, 0.0]}, "b"),
    ({"networks": 0}, "networks"),
    ({"networks": 2.5}, "networks"),
    ({"seed": -1}, "seed"),
    ({"seed": True}, "seed"),
    ({"arch": "3,8,2"}, "arch"),
])
def test_bad_arguments(kwargs, argument):
    args = {"arch": Architecture((3, 8, 2)), "a": [0.0, 0.0, 0.0], "b": [1.0, 1.0, 1.0], "networks": 3, "seed": 0}
    args.update(kwargs)
    with pytest.raises(MaxboundsValueError) as info:
        segment_length_samples(**args)
    assert info.value.argument == argument
    assert "\n" not in str(info.value)


def test_convolutional_rejected():
    arch = Architecture.convolutional(channels=(1, 2), image=(3, 3), n_out=2)
    with pytest.raises(MaxboundsValueError) as info:
        segment_length_samples(arch, np.zeros(9), np.ones(9), 2, 0)
    assert info.value.argument == "conv"
