"""The max-pooling-aware weight scale c = 1/M(K p^2) (docs/pooling_init.md).

Networks are drawn by the one draw (``draw_many`` is ``draw_parameters`` stacked, checked below) and
evaluated by the NumPy reference.  ``python tests/test_pooling_init.py [NETWORKS]`` prints the measured
ratios quoted in docs/pooling_init.md.
"""

import json
import math
import sys

import numpy as np
import pytest

from maxbounds import MaxboundsValueError, reference
from maxbounds.cli.main import main
from maxbounds.constants import M
from maxbounds.laws import init
from maxbounds.layers import Linear, MaxoutConv2d, MaxoutDense, MaxPool2d, serial
from maxbounds.layers.draw import draw_many, draw_parameters
from maxbounds.layers.maxpool import pooled_pieces
from maxbounds.report.output import payload

#: |z| beyond which a z-test fails: two-sided false-failure rate 2(1 - Phi(4.5)) = 6.8e-6 (normal approximation).
Z = 4.5


# -- the scale -------------------------------------------------------------------------------------------------
def test_pooled_scale_is_one_over_M_of_K_p_squared_and_reproduces_the_paper():
    # the 2023 paper's code: 0.26573 for the maxout convolution (K = 5) before each 2x2 max-pool
    assert round(init.init_scale(5, pool=2), 5) == 0.26573
    assert round(init.init_scale(5), 5) == 0.55555
    assert pooled_pieces(5, 2) == 20 and pooled_pieces(3, 3) == 27
    for K, p in ((1, 1), (2, 2), (5, 2), (3, 3)):
        want = 1.0 / M(K * p * p)
        assert init.init_scale(K, "maxout", pool=p) == want
        assert MaxoutDense(4, 4, K=K).pool_init_scale(p) == want
        assert MaxoutConv2d(in_channels=2, channels=3, image=(4, 4), K=K).pool_init_scale(p) == want
    assert init.init_scale(4, pool=1) == init.init_scale(4)
    for bad in (0, 2.5, "2"):
        with pytest.raises(MaxboundsValueError) as error:
            init.init_scale(3, pool=bad)
        assert error.value.argument == "pool"
    with pytest.raises(MaxboundsValueError) as error:
        init.init_scale(3, "upper", pool=2)
    assert error.value.argument == "pool"


def _conv_pool_net(K=5, first_K=3):
    return serial(MaxoutConv2d(in_channels=2, channels=4, image=(4, 4), kernel_size=3, K=first_K),
                  MaxoutConv2d(in_channels=4, channels=4, image=(4, 4), kernel_size=3, K=K),
                  MaxPool2d(channels=4, image=(4, 4), pool=2), Linear(16, 2))


def test_init_network_pool_aware_gives_the_layers_before_a_pool_the_pooled_scale():
    net = _conv_pool_net()
    plain = init.init_network(net, "maxout")
    assert plain.c == (1 / M(3), 1 / M(5), None, 1.0) and plain.pooled == ()
    aware = init.init_network(net, "maxout", pool_aware=True)
    assert aware.c[0] == plain.c[0] and aware.c[1] == 1 / M(20) and aware.c[2] is None and aware.c[3] == 1.0
    assert aware.pooled == (2,) and aware.pool_aware
    assert [row.rule for row in aware.layers] == ["1/M(K)", "1/M(K p^2), p=2", "none", "output"]
    assert aware.rows()[1]["rule"] == "1/M(K p^2), p=2"
    assert aware.weight_std[1] == pytest.approx(math.sqrt(1 / M(20) / 36), rel=1e-15)
    assert [layer.scale for layer in aware.network if layer.has_parameters] == [c for c in aware.c if c is not None]
    # a dense maxout layer feeding a max-pool (its width is the pool's C*H*W) gets the same rule
    dense = init.init_network(serial(MaxoutDense(3, 16, K=2), MaxPool2d(channels=1, image=(4, 4), pool=2),
                                     Linear(4, 1)), "maxout", pool_aware=True)
    assert dense.c[0] == 1 / M(8) and dense.pooled == (1,)
    # refusals: another scheme, a non-boolean flag
    for scheme in ("upper", "lower", "fractional", "he"):
        with pytest.raises(MaxboundsValueError) as error:
            init.init_network(net, scheme, s=1.0, pool_aware=True)
        assert error.value.argument == "pool_aware" and "pool_aware" in str(error.value)
    with pytest.raises(MaxboundsValueError) as error:
        init.init_network(net, "maxout", pool_aware="yes")
    assert error.value.argument == "pool_aware"


# -- the command line ------------------------------------------------------------------------------------------
def test_init_pool_from_the_command_line(capsys):
    assert main(["init", "--rank", "5", "--pool", "2", "--format", "json"]) == 0
    row = payload(json.loads(capsys.readouterr().out))
    assert row == {"scheme": "maxout", "K": 5, "pool": 2, "pieces": 20, "c": 1 / M(20)}
    assert main(["init", "--rank", "5", "--pool", "2", "--kernel-size", "3", "--in-channels", "16",
                 "--format", "json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["fan_in"] == 144 and row["weight_std"] == pytest.approx(math.sqrt(1 / M(20) / 144), rel=1e-15)
    assert main(["init", "--rank", "5", "--pool", "2", "--fan-in", "100"]) == 0
    table = capsys.readouterr().out
    assert "0.265734137226" in table and "pool" in table
    # the formats without --pool are unchanged
    assert main(["init", "--rank", "5", "--format", "json"]) == 0
    assert payload(json.loads(capsys.readouterr().out)) == {"scheme": "maxout", "K": 5, "c": 1 / M(5)}
    for argv in (["init", "--rank", "5", "--pool", "2", "--widths", "3,8,2"],
                 ["init", "--rank", "5", "--pool", "2", "--scheme", "upper"],
                 ["init", "--pool", "2", "--widths", "3,8,2", "--activation", "relu"],
                 ["init", "--rank", "5", "--pool", "0"]):
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = exit_.code
        out, err = capsys.readouterr()
        assert code == 2 and out == "" and err.count("\n") == 1 and "--pool" in err, (argv, err)


# -- simulation ------------------------------------------------------------------------------------------------
def _patch_norms(x, layer):
    """``||P(h, w)||^2`` of a 'same'-padded ``k x k`` convolution, shape ``(..., H, W)`` (box sums of x^2)."""
    H, W = layer.image
    k, pad = layer.kernel_size, layer.kernel_size // 2
    sq = (x.reshape(x.shape[:-1] + (layer.in_channels, H, W)) ** 2).sum(axis=-3)
    padded = np.pad(sq, [(0, 0)] * (sq.ndim - 2) + [(pad, pad), (pad, pad)])
    return sum(padded[..., dy:dy + H, dx:dx + W] for dy in range(k) for dx in range(k))


def _draw(net, seed, first, count):
    """Networks ``first..first+count-1`` of ``seed``: the one draw (``draw_parameters`` stacked)."""
    return draw_many(net, seed, first, count)


def test_the_stacked_draw_is_draw_parameters():
    net = init.init_network(_conv_pool_net(), "maxout", pool_aware=True).network
    stacked, single = _draw(net, 3, 5, 2), draw_parameters(net, 3, 6)
    for s, p in zip(stacked, single):
        assert (s is None and p is None) or (np.array_equal(s[0][1], p[0]) and np.array_equal(s[1][1], p[1]))


def pooled_ratio(layers, networks, seed, inputs="gaussian", chunk=250):
    """Mean square of the pooled outputs over its prediction, with the delta-method standard error.

    ``layers`` ends in a maxout convolution and a max-pool, initialised with ``pool_aware=True``.
    Per network (a new input each: ``gaussian`` i.i.d. N(0, 1), or ``blurred``, a 3x3 moving average
    of it), ``num`` is the mean of ``y_o^2`` over the pooled features and ``den`` the mean of the
    predictions ``(c/fan_in) M(K p^2) * mean over the window of ||P(h, w)||^2`` (the formula with the
    window's mean patch norm).  Returns ``(num.mean() / den.mean(), its standard error, E[y^2] / E[x^2])``,
    the last the mean square of the pooled output over that of the convolution's input.
    """
    net = init.init_network(serial(*layers), "maxout", pool_aware=True).network
    conv, pool = net[len(net) - 2], net[len(net) - 1]
    K, p = conv.K, pool.pool
    Ho, Wo = pool.out_image
    rng = np.random.default_rng(seed)
    num, den, ins = [], [], []
    for first in range(0, networks, chunk):
        n = min(chunk, networks - first)
        x = rng.standard_normal((n, net.n_in))
        if inputs == "blurred":
            C0, (H0, W0) = net[0].in_channels, net[0].image
            img = np.pad(x.reshape(n, C0, H0, W0), [(0, 0), (0, 0), (1, 1), (1, 1)], mode="edge")
            x = (sum(img[..., dy:dy + H0, dx:dx + W0] for dy in range(3) for dx in range(3)) / 3.0).reshape(n, -1)
        fwd = reference.forward(net, _draw(net, seed, first, n), x)
        y, x_in = fwd.output, fwd.activations[len(net) - 2]
        norms = _patch_norms(x_in, conv)[:, :Ho * p, :Wo * p].reshape(n, Ho, p, Wo, p).mean(axis=(2, 4))
        num.append((y**2).mean(axis=1))
        den.append(conv.scale / conv.fan_in * M(K * p * p) * norms.reshape(n, -1).mean(axis=1))
        ins.append((x_in**2).mean(axis=1))
    num, den, ins = map(np.concatenate, (num, den, ins))
    ratio = num.mean() / den.mean()
    stderr = np.std(num - ratio * den, ddof=1) / math.sqrt(num.size) / den.mean()
    return float(ratio), float(stderr), float(num.mean() / ins.mean())


def test_exact_under_the_assumption_one_by_one_kernels_on_orthonormal_channel_vectors():
    """k = 1 and, in each 2x2 window, channel vectors r * (orthonormal columns): every pooled output is
    sqrt(c/fan_in) r times the largest of K p^2 = 20 i.i.d. standard normals, so its mean square is
    (c/fan_in) r^2 M(20) = r^2 / C_in with c = 1/M(20).  Networks are i.i.d. (one per sample; the features
    of one network share weights, so the per-network mean is the sample unit); two-sided z-test at
    |z| < 4.5 (false-failure rate 6.8e-6).  A 1.4% error (M(19) for M(20)) is 4 standard errors here.
    """
    K, p, C_in, C, image, r, networks = 5, 2, 6, 16, (4, 4), 1.7, 2000
    net = init.init_network(serial(MaxoutConv2d(in_channels=C_in, channels=C, image=image, kernel_size=1, K=K),
                                   MaxPool2d(channels=C, image=image, pool=p)), "maxout", pool_aware=True).network
    assert net[0].scale == 1 / M(20)
    rng = np.random.default_rng(11)
    x = np.empty((C_in,) + image)
    for a in range(0, image[0], p):
        for b in range(0, image[1], p):
            Q = np.linalg.qr(rng.standard_normal((C_in, p * p)))[0]          # orthonormal columns
            x[:, a:a + p, b:b + p] = r * Q.reshape(C_in, p, p)
    assert np.allclose(_patch_norms(x.ravel(), net[0]), r * r)
    y = reference.forward(net, _draw(net, 4, 0, networks), x.ravel()).output     # (networks, C * 4)
    per_network = (y**2).mean(axis=1)
    target = net[0].scale / net[0].fan_in * r * r * M(K * p * p)
    assert target == pytest.approx(r * r / C_in, rel=1e-15)                      # mean square kept per feature
    z = (per_network.mean() - target) / (per_network.std(ddof=1) / math.sqrt(networks))
    assert abs(z) < Z, z
    assert per_network.std(ddof=1) / math.sqrt(networks) < 0.0035 * target     # the power claimed above


def test_exact_for_a_dense_maxout_layer_feeding_a_pool_with_gaussian_biases():
    """Dense units have their own weights: given x the K p^2 pieces of a window are i.i.d.
    N(0, (c/n)||x||^2 + beta) whatever x is, so E[y^2] = ((c/n)||x||^2 + beta) M(K p^2) exactly; z-test
    |z| < 4.5 over i.i.d. networks (false-failure rate 6.8e-6)."""
    K, p, networks, beta = 3, 2, 3000, 0.2
    net = init.init_network(serial(MaxoutDense(5, 16, K=K, bias_var=beta), MaxPool2d(channels=1, image=(4, 4), pool=p)),
                            "maxout", pool_aware=True).network
    x = np.array([0.3, -1.2, 2.0, 0.0, 0.7])
    y = reference.forward(net, _draw(net, 9, 0, networks), x).output
    per_network = (y**2).mean(axis=1)
    target = (net[0].scale / 5 * x @ x + beta) * M(K * p * p)
    z = (per_network.mean() - target) / (per_network.std(ddof=1) / math.sqrt(networks))
    assert abs(z) < Z, z


def test_gaussian_inputs_with_three_by_three_kernels_are_within_a_few_percent():
    """k = 3 on i.i.d. N(0, 1) inputs (8x8, 16 channels, K = 5, 2x2 pool).  The patches of one window
    pair *different* pixels (<P(h,w), P(h,w+1)> sums x_j x_j' over horizontally adjacent pixels), so they
    are nearly orthogonal (correlations of order 1/sqrt(fan_in)); their norms vary, mostly in the windows
    at the zero-padded border, which makes the maximum larger than with the window's mean norm (the excess
    shrinks with the image: 1.022, 1.012, 1.006 at 8x8, 16x16, 32x32).  Measured: 1.020
    (docs/pooling_init.md).  Tested: 1 < ratio < 1.05, each side with a 4.5-standard-error margin
    (one-sided false-failure rate below 3.4e-6 each where the true ratio is 1.020).
    """
    layers = [MaxoutConv2d(in_channels=16, channels=8, image=(8, 8), kernel_size=3, K=5),
              MaxPool2d(channels=8, image=(8, 8), pool=2)]
    ratio, stderr, _ = pooled_ratio(layers, 2000, seed=1)
    assert ratio - Z * stderr > 1.0 and ratio + Z * stderr < 1.05, (ratio, stderr)


def test_correlated_inputs_make_the_pooled_maximum_smaller():
    """Where the patches of a window are positively correlated the largest of the K p^2 pieces is smaller
    than for independent ones: the second of two convolutions (its input, a maxout output, has a positive
    mean: <P, P'> ~ fan_in E[x]^2) and a blurred image.  Measured 0.83 and 0.90 (docs/pooling_init.md);
    tested: below 1 by 4.5 standard errors (one-sided false-failure rate below 3.4e-6 if the true ratio is 1).
    """
    second = [MaxoutConv2d(in_channels=16, channels=16, image=(8, 8), kernel_size=3, K=5),
              MaxoutConv2d(in_channels=16, channels=8, image=(8, 8), kernel_size=3, K=5),
              MaxPool2d(channels=8, image=(8, 8), pool=2)]
    blurred = second[1:]
    for layers, inputs in ((second, "gaussian"), (blurred, "blurred")):
        ratio, stderr, _ = pooled_ratio(layers, 1000, seed=2, inputs=inputs)
        assert ratio + Z * stderr < 1.0, (inputs, ratio, stderr)


if __name__ == "__main__":  # the measurements quoted in docs/pooling_init.md
    networks = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    img = (8, 8)

    def conv(C_in, C, k=3, K=5, image=img):
        return MaxoutConv2d(in_channels=C_in, channels=C, image=image, kernel_size=k, K=K)

    cases = [
        ("k=3, K=5, p=2, C_in=16, iid N(0,1)", [conv(16, 8), MaxPool2d(channels=8, image=img, pool=2)], "gaussian"),
        ("k=3, K=5, p=2, C_in=64, iid N(0,1)", [conv(64, 8), MaxPool2d(channels=8, image=img, pool=2)], "gaussian"),
        ("k=3, K=2, p=2, C_in=16, iid N(0,1)", [conv(16, 8, K=2), MaxPool2d(channels=8, image=img, pool=2)], "gaussian"),
        ("k=3, K=5, p=3, C_in=16, iid N(0,1), 12x12",
         [conv(16, 8, image=(12, 12)), MaxPool2d(channels=8, image=(12, 12), pool=3)], "gaussian"),
        ("k=1, K=5, p=2, C_in=16, iid N(0,1)", [conv(16, 8, k=1), MaxPool2d(channels=8, image=img, pool=2)], "gaussian"),
        ("k=1, K=5, p=2, C_in=64, iid N(0,1)", [conv(64, 8, k=1), MaxPool2d(channels=8, image=img, pool=2)], "gaussian"),
        ("k=3, K=5, p=2, C_in=16, blurred", [conv(16, 8), MaxPool2d(channels=8, image=img, pool=2)], "blurred"),
        ("k=3, K=5, p=2, second conv", [conv(16, 16), conv(16, 8), MaxPool2d(channels=8, image=img, pool=2)],
         "gaussian"),
    ]
    print(f"{networks} networks, seed 1")
    print("| case | E[y^2] / formula | E[y^2] / E[x^2] |")
    print("| --- | --- | --- |")
    for name, layers, inputs in cases:
        ratio, stderr, kept = pooled_ratio(layers, networks, seed=1, inputs=inputs)
        print(f"| {name} | {ratio:.4f} ± {stderr:.4f} | {kept:.4f} |", flush=True)
