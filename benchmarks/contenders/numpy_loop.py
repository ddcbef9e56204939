r"""The per-network NumPy loop of the authors' notebooks: draw the weights, take the argmax, multiply.

For each network (one at a time, in Python) and each layer ``l``:
``W ~ N(0, c_l/n_{l-1})`` of shape ``(n_l, K_l, n_{l-1})`` from
``numpy.random.default_rng`` (PCG64, the generator a user gets),
:math:`\zeta = W x` (all pieces), :math:`k^* = \arg\max_k \zeta_{ik}`,
:math:`x_l = \zeta_{i k^*}` and :math:`u_l = W_{i k^*} u_{l-1}`; the output layer
is linear.  Returns :math:`\lVert J_N(x) u\rVert^2 = \lVert u_L\rVert^2` per
network.  ``x`` and ``u`` go through one matrix product per layer, stacked as
two columns.  Biases are drawn when ``beta_l > 0``.  Single-threaded (BLAS
may use its own threads for the products).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _sds(arch):
    scales = arch.scales()
    weight = [math.sqrt(scales[l - 1] / arch.fan_in(l)) for l in range(1, arch.depth + 1)]
    bias = [math.sqrt(b) for b in arch.bias_var]
    return weight, bias


def dense_network(arch, x, u, rng) -> float:
    r""":math:`\lVert J_N(x)u\rVert^2` of one freshly drawn fully connected maxout network."""
    weight_sd, bias_sd = _sds(arch)
    ranks = tuple(arch.ranks) + (1,)
    xv = np.stack([np.asarray(x, float), np.asarray(u, float)], axis=1)  # (n_prev, 2)
    for l in range(arch.depth):
        n, K, n_prev = arch.widths[l + 1], ranks[l], arch.widths[l]
        W = rng.standard_normal((n * K, n_prev))
        W *= weight_sd[l]
        zw = (W @ xv).reshape(n, K, 2)  # pieces' pre-activations and Jacobian rows applied to u
        if bias_sd[l] > 0:
            zw[:, :, 0] += bias_sd[l] * rng.standard_normal((n, K))
        best = np.argmax(zw[:, :, 0], axis=1)
        xv = zw[np.arange(n), best, :]
    return float(xv[:, 1] @ xv[:, 1])


def dense_samples(arch, x, u, samples: int, seed: int) -> np.ndarray:
    """``samples`` networks, one after another; ``u`` is scaled to unit length."""
    u = np.asarray(u, float) / np.linalg.norm(u)
    rng = np.random.default_rng(seed)
    return np.array([dense_network(arch, x, u, rng) for _ in range(samples)])


def conv_layer(xv, weight):
    r"""Maxout conv layer, 'same' zero padding: ``xv`` (2, C', H, W) holds ``x`` and ``u``; ``weight`` (C, K, C', k, k)."""
    k = weight.shape[-1]
    pad = k // 2
    padded = np.pad(xv, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_window_view(padded, (k, k), axis=(2, 3))  # (2, C', H, W, k, k)
    zw = np.tensordot(weight, windows, axes=([2, 3, 4], [1, 4, 5]))  # (C, K, 2, H, W)
    best = np.argmax(zw[:, :, 0], axis=1)[:, None, None]  # (C, 1, 1, H, W)
    best = np.broadcast_to(best, (zw.shape[0], 1, 2) + zw.shape[3:])
    return np.take_along_axis(zw, best, axis=1)[:, 0].transpose(1, 0, 2, 3)  # (2, C, H, W)


def conv_network(arch, x, u, rng) -> float:
    r""":math:`\lVert J_N(x)u\rVert^2` of one freshly drawn convolutional maxout network (zero biases)."""
    conv = arch.conv
    weight_sd, _ = _sds(arch)
    H, W = conv.image
    xv = np.stack([np.reshape(x, (conv.channels[0], H, W)), np.reshape(u, (conv.channels[0], H, W))])
    for l in range(arch.depth - 1):
        C, K, Cp, k = conv.channels[l + 1], arch.ranks[l], conv.channels[l], conv.kernel_size[l]
        weight = weight_sd[l] * rng.standard_normal((C, K, Cp, k, k))
        xv = conv_layer(xv, weight)
    flat = xv.reshape(2, -1)
    out = (weight_sd[-1] * rng.standard_normal((arch.n_out, flat.shape[1]))) @ flat[1]
    return float(out @ out)


def conv_samples(arch, x, u, samples: int, seed: int) -> np.ndarray:
    """``samples`` convolutional networks, one after another; ``u`` is used as given (as the Numba sampler)."""
    if any(b > 0 for b in arch.bias_var):
        raise ValueError("the NumPy conv contender draws no biases; use bias_var=0")
    rng = np.random.default_rng(seed)
    return np.array([conv_network(arch, x, u, rng) for _ in range(samples)])
