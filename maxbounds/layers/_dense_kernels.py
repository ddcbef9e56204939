r"""Numba kernels of the dense kinds (maxout, leaky ReLU, linear): draw, forward with JVP, backward.

Layout (see :mod:`maxbounds.layers.dense`): weights flat ``[i, k, j]`` (scaled,
:math:`W = \sigma_w g`), biases flat ``[i, k]``.  The forward pass records
in ``sel[i]`` the winning piece (maxout, linear: 0) or the sign of the
pre-activation (leaky ReLU: 1 positive, 0 otherwise), which the backward pass
and the region counters read.
"""

from __future__ import annotations

import numba
import numpy as np

from .._streams import normal_step, runtime_bool

from .._numba_cache import refresh_stale_cache

refresh_stale_cache()  # before any kernel is compiled or loaded: a cache of other sources is removed

_jit = numba.njit(cache=True, nogil=True, fastmath=False)


@_jit
def leaky_unit(z, slope):
    r"""A leaky ReLU unit of slope ``a`` at the pre-activation ``z``: ``(\phi_a(z), 1[z > 0], \phi_a'(z))``."""
    positive = z > 0.0
    return (z if positive else slope * z), (1 if positive else 0), (1.0 if positive else slope)


@_jit
def draw_dense(rng, n_in, width, K, weight_sd, bias_sd, W, B):
    """Fill ``W`` (``width*K*n_in``) and ``B`` (``width*K``): per unit and piece the weights, then the bias.

    The draw alone: :func:`draw_forward_dense` with ``forward=False`` (the one loop that draws dense weights).
    """
    none = np.empty(0)
    no_sel = np.empty(0, dtype=np.int64)
    no, yes = runtime_bool(False), runtime_bool(True)
    draw_forward_dense(rng, none, none, n_in, width, K, weight_sd, bias_sd, no, 0.0, W, B, yes, none, none,
                       no_sel, no, no)


@_jit
def draw_forward_dense(rng, x, v, n_in, width, K, weight_sd, bias_sd, leaky, slope, W, B, keep, x_out, v_out, sel,
                       jvp, forward):
    """The dense kinds' draw, and optionally their forward pass fused with it: each weight is used as drawn.

    Draw order: for each unit ``i`` and piece ``k`` the weights ``j = 0..n_in-1``, then the bias when
    ``bias_sd > 0``.  With ``forward`` the pass equals :func:`maxout_forward` (or :func:`leaky_forward`) on
    the stored parameters bit for bit (the same order of every sum; the Jacobian-vector product of each
    piece is summed alongside and the winner's kept).  With ``keep`` the parameters are stored in ``W``,
    ``B``; otherwise ``W``, ``B`` are not touched (the fast path of the samplers that need no backward pass).
    """
    s0, s1, s2, s3 = rng[0], rng[1], rng[2], rng[3]  # the stream's state, in registers (normal_step)
    for i in range(width):
        best_z, best_t, best_k = 0.0, 0.0, 0
        for k in range(K):
            base = (i * K + k) * n_in
            z, t = 0.0, 0.0
            for j in range(n_in):
                g, s0, s1, s2, s3 = normal_step(s0, s1, s2, s3)
                g *= weight_sd
                if keep:
                    W[base + j] = g
                if forward:
                    z += g * x[j]
                    if jvp:
                        t += g * v[j]
            b = 0.0
            if bias_sd > 0.0:
                b, s0, s1, s2, s3 = normal_step(s0, s1, s2, s3)
                b *= bias_sd
            if keep:
                B[i * K + k] = b
            z += b
            if k == 0 or z > best_z:
                best_z, best_t, best_k = z, t, k
        if not forward:
            continue
        if leaky:
            x_out[i], sel[i], gain = leaky_unit(best_z, slope)
            if jvp:
                v_out[i] = 0.0 if gain == 0.0 else gain * best_t
        else:
            x_out[i] = best_z
            sel[i] = best_k
            if jvp:
                v_out[i] = best_t
    rng[0], rng[1], rng[2], rng[3] = s0, s1, s2, s3


@_jit
def maxout_forward(x, v, n_in, width, K, W, B, x_out, v_out, sel, jvp):
    r"""``x_out[i] = max_k (W_{ik}\cdot x + b_{ik})`` (first piece on ties), ``v_out[i] = W_{ik^*}\cdot v``."""
    for i in range(width):
        best_z, best_k = 0.0, 0
        for k in range(K):
            base = (i * K + k) * n_in
            z = 0.0
            for j in range(n_in):
                z += W[base + j] * x[j]
            z += B[i * K + k]
            if k == 0 or z > best_z:
                best_z, best_k = z, k
        x_out[i] = best_z
        sel[i] = best_k
        if jvp:
            base = (i * K + best_k) * n_in
            w = 0.0
            for j in range(n_in):
                w += W[base + j] * v[j]
            v_out[i] = w


@_jit
def leaky_forward(x, v, n_in, width, slope, W, B, x_out, v_out, sel, jvp):
    r"""``x_out[i] = phi_a(W_i\cdot x + b_i)``, ``v_out[i] = phi_a'(.)\,W_i\cdot v``; ``sel[i] = 1[z > 0]``."""
    for i in range(width):
        base = i * n_in
        z = 0.0
        for j in range(n_in):
            z += W[base + j] * x[j]
        z += B[i]
        x_out[i], sel[i], gain = leaky_unit(z, slope)
        if jvp:
            if gain == 0.0:
                v_out[i] = 0.0
            else:
                w = 0.0
                for j in range(n_in):
                    w += W[base + j] * v[j]
                v_out[i] = gain * w


@_jit
def dense_vjp(d_out, n_in, width, K, W, sel, leaky, slope, d_in):
    r"""``d_in[j] = \sum_i d_out[i]\,g_i\,W_{i,k^*_i,j}`` with ``g_i`` the unit's slope (1 for maxout, linear)."""
    for j in range(n_in):
        d_in[j] = 0.0
    for i in range(width):
        coef = d_out[i]
        if leaky and sel[i] == 0:
            coef *= slope
        if coef != 0.0:
            k = 0 if leaky else sel[i]
            row = W[(i * K + k) * n_in:(i * K + k + 1) * n_in]  # a row view: j >= 0 lets the loop vectorise
            for j in range(n_in):
                d_in[j] += coef * row[j]
