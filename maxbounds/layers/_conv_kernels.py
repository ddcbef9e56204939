r"""Numba kernels of the convolutional kinds (:mod:`maxbounds.layers.conv`): draw, forward with JVP, backward.

Weights flat in C order of ``(C, K, C_in, k, k)``, biases ``(C, K)``; feature
maps flat in C order of ``(C, H, W)``.  ``sel[c*H*W + h*W + w]`` is the winning
piece (maxout, :func:`conv_forward`) or the sign of the pre-activation (leaky
ReLU, rank 1, :func:`leaky_conv_forward`: 1 positive, 0 otherwise).  Both
kinds run one pass (:func:`conv_pass`, :func:`conv_vjp_pass`), which differs
only in the output nonlinearity and its slope.
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
def conv_pass(x, v, Cp, C, H, Wd, k, K, W, B, x_out, v_out, sel, jvp, leaky, slope):
    r"""The pieces :math:`\zeta_{c,k,h,w}` ('same' zero padding), the winner, then the unit's nonlinearity.

    Without ``leaky``: ``x_out = max_k \zeta``, ``sel`` the first winning piece, ``v_out`` its JVP.  With
    ``leaky`` (``K = 1``): ``x_out = \phi_a(\zeta)``, ``sel = 1[\zeta > 0]``, ``v_out = \phi_a'(\zeta)`` times
    the piece's JVP (``a = slope``).
    """
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
                if leaky:
                    positive = best_z > 0.0
                    gain = 1.0 if positive else slope
                    x_out[out] = best_z if positive else slope * best_z
                    sel[out] = 1 if positive else 0
                    if jvp:
                        v_out[out] = 0.0 if gain == 0.0 else gain * best_v
                else:
                    x_out[out] = best_z
                    sel[out] = best_k
                    if jvp:
                        v_out[out] = best_v


@_jit
def conv_forward(x, v, Cp, C, H, Wd, k, K, W, B, x_out, v_out, sel, jvp):
    r"""Maxout: ``x_out[c,h,w] = max_k \zeta_{c,k,h,w}``, ``v_out`` through the same piece."""
    conv_pass(x, v, Cp, C, H, Wd, k, K, W, B, x_out, v_out, sel, jvp, False, 0.0)


@_jit
def leaky_conv_forward(x, v, Cp, C, H, Wd, k, slope, W, B, x_out, v_out, sel, jvp):
    r"""Leaky ReLU: ``x_out[c,h,w] = \phi_a(\zeta_{c,0,h,w})``, ``v_out = \phi_a'(\zeta)`` times its JVP."""
    conv_pass(x, v, Cp, C, H, Wd, k, 1, W, B, x_out, v_out, sel, jvp, True, slope)


@_jit
def conv_vjp_pass(d_out, Cp, C, H, Wd, k, K, W, sel, leaky, slope, d_in):
    """The transpose of the forward's Jacobian applied to ``d_out`` (same windows, recorded winners or signs)."""
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
                if leaky and sel[out] == 0:
                    coef *= slope
                if coef == 0.0:
                    continue
                dx_lo, dx_hi = max(0, pad - w), min(k, Wd + pad - w)
                piece = 0 if leaky else sel[out]
                wbase = (c * K + piece) * Cp * kk
                for ci in range(Cp):
                    for dy in range(dy_lo, dy_hi):
                        row = h + dy - pad
                        for dx in range(dx_lo, dx_hi):
                            d_in[(ci * H + row) * Wd + (w + dx - pad)] += coef * W[wbase + ci * kk + dy * k + dx]


@_jit
def conv_vjp(d_out, Cp, C, H, Wd, k, K, W, sel, d_in):
    """Maxout: ``d_in = d_out J`` through the winning pieces."""
    conv_vjp_pass(d_out, Cp, C, H, Wd, k, K, W, sel, False, 0.0, d_in)


@_jit
def leaky_conv_vjp(d_out, Cp, C, H, Wd, k, slope, W, sel, d_in):
    """Leaky ReLU: ``d_in = d_out J``, each output's coefficient times its slope (1 or ``a``)."""
    conv_vjp_pass(d_out, Cp, C, H, Wd, k, 1, W, sel, True, slope, d_in)
