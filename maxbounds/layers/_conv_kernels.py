r"""Numba kernels of :class:`maxbounds.layers.MaxoutConv2d`: draw, forward with JVP, backward.

Weights flat in C order of ``(C, K, C_in, k, k)``, biases ``(C, K)``; feature
maps flat in C order of ``(C, H, W)``; ``sel[c*H*W + h*W + w]`` is the winning piece.
"""

from __future__ import annotations

import numba

from .._streams import normal

_jit = numba.njit(cache=True, nogil=True, fastmath=False)


@_jit
def draw_conv(rng, n_weights, n_biases, weight_sd, bias_sd, W, B):
    """All weights in C order, then the biases when ``bias_sd > 0`` (zeros otherwise)."""
    for i in range(n_weights):
        W[i] = weight_sd * normal(rng)
    if bias_sd > 0.0:
        for i in range(n_biases):
            B[i] = bias_sd * normal(rng)
    else:
        for i in range(n_biases):
            B[i] = 0.0


@_jit
def conv_forward(x, v, Cp, C, H, Wd, k, K, W, B, x_out, v_out, sel, jvp):
    r"""``x_out[c,h,w] = max_k \zeta_{c,k,h,w}`` ('same' zero padding), ``v_out`` through the same piece."""
    pad = k // 2
    kk = k * k
    for c in range(C):
        for h in range(H):
            dy_lo, dy_hi = max(0, pad - h), min(k, H + pad - h)
            for w in range(Wd):
                dx_lo, dx_hi = max(0, pad - w), min(k, Wd + pad - w)
                best_z, best_v, best_k = 0.0, 0.0, 0
                for piece in range(K):
                    z, t = 0.0, 0.0
                    wbase = (c * K + piece) * Cp * kk
                    for ci in range(Cp):
                        for dy in range(dy_lo, dy_hi):
                            row = h + dy - pad
                            for dx in range(dx_lo, dx_hi):
                                g = W[wbase + ci * kk + dy * k + dx]
                                idx = (ci * H + row) * Wd + (w + dx - pad)
                                z += g * x[idx]
                                if jvp:
                                    t += g * v[idx]
                    z += B[c * K + piece]
                    if piece == 0 or z > best_z:
                        best_z, best_v, best_k = z, t, piece
                out = (c * H + h) * Wd + w
                x_out[out] = best_z
                sel[out] = best_k
                if jvp:
                    v_out[out] = best_v


@_jit
def conv_vjp(d_out, Cp, C, H, Wd, k, K, W, sel, d_in):
    """The transpose of the forward's Jacobian applied to ``d_out`` (same windows, winning pieces)."""
    pad = k // 2
    kk = k * k
    for i in range(Cp * H * Wd):
        d_in[i] = 0.0
    for c in range(C):
        for h in range(H):
            dy_lo, dy_hi = max(0, pad - h), min(k, H + pad - h)
            for w in range(Wd):
                out = (c * H + h) * Wd + w
                coef = d_out[out]
                if coef == 0.0:
                    continue
                dx_lo, dx_hi = max(0, pad - w), min(k, Wd + pad - w)
                wbase = (c * K + sel[out]) * Cp * kk
                for ci in range(Cp):
                    for dy in range(dy_lo, dy_hi):
                        row = h + dy - pad
                        for dx in range(dx_lo, dx_hi):
                            d_in[(ci * H + row) * Wd + (w + dx - pad)] += coef * W[wbase + ci * kk + dy * k + dx]
