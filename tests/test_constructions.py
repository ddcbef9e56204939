"""The sphere and many-regions initialisations of maxout layers (docs/constructions.md).

``python tests/test_constructions.py [NETWORKS]`` prints the region counts quoted in docs/constructions.md.
"""

import math
import sys

import numpy as np
import pytest

from maxbounds import MaxboundsValueError
from maxbounds.architecture import Architecture
from maxbounds.layers import LeakyReLUDense, Linear, MaxoutConv2d, MaxoutDense, MaxPool2d, NoLawError, serial
from maxbounds.layers.constructions import CONSTRUCTIONS, many_regions_parameters, sphere_parameters
from maxbounds.regions import Network, count_plane_regions, line_regions

#: z beyond which a one-sided comparison fails / |z| beyond which a two-sided z-test fails:
#: false-failure rates 3.4e-6 and 6.8e-6 (normal approximation).
Z = 4.5


def test_sphere_pieces_lie_on_the_shifted_unit_sphere():
    for n, m, K in ((1, 3, 2), (5, 7, 3), (40, 4, 5)):
        layer = MaxoutDense(n, m, K=K)
        W, b = sphere_parameters(layer, np.random.default_rng(n))
        assert W.shape == (m, K, n) and b.shape == (m, K)
        shift = 1 / math.sqrt(K * n)
        assert np.max(np.abs((W**2).sum(axis=-1) + (b + shift) ** 2 - 1)) < 1e-12
        assert np.all(b >= -shift)
    conv = MaxoutConv2d(in_channels=2, channels=3, image=(4, 4), kernel_size=3, K=4)
    W, b = sphere_parameters(conv, np.random.default_rng(0))
    assert W.shape == (3, 4, 2, 3, 3) and b.shape == (3, 4)
    assert np.max(np.abs((W**2).sum(axis=(2, 3, 4)) + (b + 1 / math.sqrt(4 * 18)) ** 2 - 1)) < 1e-12


def test_sphere_bias_has_the_law_of_a_uniform_direction():
    """(b + 1/sqrt(Kn))^2 = b'^2 is a squared coordinate of a uniform point of the sphere in R^{n+1}:
    Beta(1/2, n/2), mean 1/(n+1).  Two-sided z-test, |z| < 4.5 (false-failure rate 6.8e-6)."""
    n, K = 6, 3
    _, b = sphere_parameters(MaxoutDense(n, 20_000, K=K), np.random.default_rng(5))
    sq = ((b + 1 / math.sqrt(K * n)) ** 2).ravel()
    z = (sq.mean() - 1 / (n + 1)) / (sq.std(ddof=1) / math.sqrt(sq.size))
    assert abs(z) < Z, z


def test_same_seed_same_parameters_and_the_documented_draw_order():
    layer = MaxoutDense(4, 5, K=3, c=0.7)
    for construct in CONSTRUCTIONS.values():
        first, again = construct(layer, np.random.default_rng(3)), construct(layer, np.random.default_rng(3))
        other = construct(layer, np.random.default_rng(4))
        assert np.array_equal(first[0], again[0]) and np.array_equal(first[1], again[1])
        assert not np.array_equal(first[0], other[0])
    # many-regions: the (m, n) directions first, then the (m, K) angle noises
    rng = np.random.default_rng(3)
    v = rng.standard_normal((5, 4)) * layer.weight_sd
    theta = math.pi * np.arange(1, 4) / 3 + 0.01 * rng.standard_normal((5, 3))
    W, b = many_regions_parameters(layer, np.random.default_rng(3))
    assert np.allclose(W, v[:, None, :] * np.cos(theta)[..., None], rtol=0, atol=1e-15)
    assert np.array_equal(b, np.sin(theta))


def test_other_kinds_are_refused_naming_the_layer():
    net = serial(MaxoutDense(3, 4, K=2), LeakyReLUDense(4, 4), Linear(4, 4),
                 MaxPool2d(channels=1, image=(2, 2), pool=2))
    for name, construct in CONSTRUCTIONS.items():
        construct(net[0], np.random.default_rng(0))
        for layer in net[1:]:
            with pytest.raises(NoLawError) as error:
                construct(layer, np.random.default_rng(0))
            assert error.value.argument == f"layer {layer.index} ({layer.label})" and name in str(error.value)
        with pytest.raises(MaxboundsValueError) as error:
            construct(net[0], 0)
        assert error.value.argument == "rng"


def test_many_regions_units_have_all_K_pieces_along_their_direction():
    """Along x = t v_i/|v_i| unit i is max_k (t|v_i| cos th_k + sin th_k): K pieces, breakpoints
    t = cot((th_k + th_{k+1})/2)/|v_i|.  Counted by line_regions on the whole one-hidden-layer network
    (unit i's pattern changes K - 1 times and takes all K values) and compared, on the network of unit i
    alone, with the breakpoints computed from the angles."""
    n, m = 5, 6
    for K in (2, 3, 5, 8):
        layer = MaxoutDense(n, m, K=K)
        W, b = many_regions_parameters(layer, np.random.default_rng(K))
        rng = np.random.default_rng(K)
        v = rng.standard_normal((m, n)) * layer.weight_sd                  # the directions (documented order)
        cos = np.einsum("ikj,ij->ik", W, v) / (v**2).sum(axis=1, keepdims=True)
        theta = np.mod(np.arctan2(b, cos), 2 * math.pi)                    # in (0, 2 pi): theta_K near pi
        assert np.allclose(theta, math.pi * np.arange(1, K + 1) / K, rtol=0, atol=0.07)
        net = Network([(W, b), (np.ones((1, 1, m)), np.zeros((1, 1)))])
        for i in range(m):
            norm = math.sqrt(v[i] @ v[i])
            u = v[i] / norm
            mid = 0.5 * (theta[i, :-1] + theta[i, 1:])
            breaks = np.sort(1 / np.tan(mid) / norm)                        # positions along u
            T = 2 * np.max(np.abs(breaks)) + 1
            pattern = line_regions(net, -T * u, T * u).patterns[:, i]
            assert np.count_nonzero(np.diff(pattern)) == K - 1 and set(pattern) == set(range(K))
            alone = Network([(W[i:i + 1], b[i:i + 1]), (np.ones((1, 1, 1)), np.zeros((1, 1)))])
            found = line_regions(alone, -T * u, T * u)
            assert found.pieces == K
            assert np.allclose(-T + 2 * T * found.t[1:-1], breaks, rtol=0, atol=1e-9 * T)


def constructed_network(arch, name, seed):
    """A network of ``arch`` whose hidden layers are initialised by the construction ``name`` from
    ``default_rng(seed)`` and whose linear output layer draws its weights N(0, weight_sd^2), zero biases
    (the output does not change the activation regions)."""
    rng = np.random.default_rng(seed)
    layers = []
    for layer in arch.network():
        if layer.kind == "linear":
            shape = layer.weight_shape()
            layers.append((rng.standard_normal(shape) * layer.weight_sd, np.zeros(shape[:2])))
        else:
            layers.append(CONSTRUCTIONS[name](layer, rng))
    return Network(layers)


def region_counts(widths, K, networks, box=(-1.0, 1.0)):
    """Mean exact region counts in ``box``^2 and their standard errors: maxout-He (c = 1/M, biases N(0, beta),
    beta = 0 and 1, drawn by the one draw, ``Network.random``, seed 7) and the two constructions
    (seeds 0..networks-1)."""
    counts = {}
    for beta in (0.0, 1.0):
        arch = Architecture(widths, ranks=K, c="1/M", bias_var=beta)
        counts[f"maxout-He 1/M, beta={beta:g}"] = [count_plane_regions(Network.random(arch, 7, i), box)
                                                   for i in range(networks)]
    arch = Architecture(widths, ranks=K, c="1/M")
    for name in CONSTRUCTIONS:
        counts[name] = [count_plane_regions(constructed_network(arch, name, s), box) for s in range(networks)]
    return {name: (float(np.mean(c)), float(np.std(c, ddof=1) / math.sqrt(networks))) for name, c in counts.items()}


def test_many_regions_and_sphere_give_more_regions_than_maxout_he_at_rank_5():
    """2-10-10-1, K = 5, the box [-1, 1]^2, 60 networks each: many-regions and sphere have more exact regions
    on average than maxout-He 1/M (zero biases, and biases N(0, 1)), by more than 4.5 standard errors of the
    difference (independent samples; one-sided false-failure rate below 3.4e-6 where the means are equal).
    Measured at 200 networks (docs/constructions.md): 175 and 370 against 71 and 82.  At K = 2 many-regions
    has fewer regions than maxout-He (its one breakpoint per unit is v.x = -1, at the distance 1/|v| ~ 1,
    mostly outside the box): not tested.
    """
    counts = region_counts((2, 10, 10, 1), 5, 60)
    for construction in CONSTRUCTIONS:
        for baseline in ("maxout-He 1/M, beta=0", "maxout-He 1/M, beta=1"):
            (a, sa), (b, sb) = counts[construction], counts[baseline]
            assert (a - b) / math.hypot(sa, sb) > Z, (construction, baseline, counts)


if __name__ == "__main__":  # the table of docs/constructions.md
    networks = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    print(f"{networks} networks per cell; mean exact regions ± standard error")
    print("| widths | K | box | maxout-He, beta=0 | maxout-He, beta=1 | sphere | many-regions |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for widths in ((2, 10, 10, 1), (2, 8, 8, 8, 1)):
        for K in (2, 3, 5):
            for box in ((-1.0, 1.0), (-3.0, 3.0)):
                c = region_counts(widths, K, networks, box)
                cells = " | ".join(f"{m:.1f} ± {s:.1f}" for m, s in (c["maxout-He 1/M, beta=0"],
                                   c["maxout-He 1/M, beta=1"], c["sphere"], c["many-regions"]))
                print(f"| {'-'.join(map(str, widths))} | {K} | [{box[0]:g}, {box[1]:g}]² | {cells} |", flush=True)
