r"""Numba kernels of the convolutional kinds (:mod:`maxbounds.layers.conv`): draw, forward with JVP, backward.

Weights flat in C order of ``(C, K, C_in, k, k)``, biases ``(C, K)``; feature
maps flat in C order of ``(C, H, W)``.  ``sel[c*H*W + h*W + w]`` is the winning
piece (maxout, :func:`conv_forward`) or the sign of the pre-activation (leaky
ReLU, rank 1, :func:`leaky_conv_forward`: 1 positive, 0 otherwise).  Both
kinds run one pass (:func:`conv_pass`, :func:`conv_vjp_pass`), which differs
only in the output nonlinearity and its slope.  The forward pass sums each
piece at every position at once, over contiguous zero-padded copies of the
input maps (loops that vectorise), in the order of a plain per-unit sum.
"""

from __future__ import annotations

import numba
import numpy as np

from .._streams import normal_step
from ._dense_kernels import leaky_unit

from .._numba_cache import refresh_stale_cache

refresh_stale_cache()  # before any kernel is compiled or loaded: a cache of other sources is removed

_jit = numba.njit(cache=True, nogil=True, fastmath=False)


@_jit
def draw_conv(rng, n_weights, n_biases, weight_sd, bias_sd, W, B):
    """All weights in C order, then the biases when ``bias_sd > 0`` (zeros otherwise)."""
    s0, s1, s2, s3 = rng[0], rng[1], rng[2], rng[3]  # the stream's state, in registers (normal_step)
    for i in range(n_weights):
        g, s0, s1, s2, s3 = normal_step(s0, s1, s2, s3)
        W[i] = weight_sd * g
    if bias_sd > 0.0:
        for i in range(n_biases):
            g, s0, s1, s2, s3 = normal_step(s0, s1, s2, s3)
            B[i] = bias_sd * g
    else:
        for i in range(n_biases):
            B[i] = 0.0
    rng[0], rng[1], rng[2], rng[3] = s0, s1, s2, s3


@_jit
def _padded_maps(x, Cp, H, Wd, pad):
    """The ``Cp`` maps of ``x`` framed by ``pad`` zeros on each side, flat in C order of ``(Cp, Hp, Wp)``.

    ``Hp = H + 2 pad``, ``Wp = Wd + 2 pad``: input ``(c', h, w)`` lies at ``(c', h + pad, w + pad)``.
    """
    Hp, Wp = H + 2 * pad, Wd + 2 * pad
    xp = np.zeros(Cp * Hp * Wp)
    for ci in range(Cp):
        for h in range(H):
            src = (ci * H + h) * Wd
            dst = (ci * Hp + h + pad) * Wp + pad
            for w in range(Wd):
                xp[dst + w] = x[src + w]
    return xp


@_jit
def _add_tap(acc, g, src):
    """``acc[q] += g * src[q]`` for every ``q``: one tap of the kernel at every position at once."""
    for q in range(acc.shape[0]):
        acc[q] += g * src[q]


@_jit
def _add_four_taps(acc, g0, g1, g2, g3, s0, s1, s2, s3):
    """Four :func:`_add_tap` in turn, ``(g0, s0)`` first, in one sweep over ``acc`` (each entry read once)."""
    for q in range(acc.shape[0]):
        acc[q] = (((acc[q] + g0 * s0[q]) + g1 * s1[q]) + g2 * s2[q]) + g3 * s3[q]


@_jit
def _tap_offsets(Cp, k, Hp, Wp):
    """Where tap ``(c', dy, dx)`` of position ``(0, 0)`` lies in the padded maps, for the taps in C order.

    ``(c' Hp + dy) Wp + dx`` (:func:`_padded_maps`); position ``(h, w)`` reads ``h Wp + w`` further on.
    """
    kk = k * k
    offsets = np.empty(Cp * kk, dtype=np.int64)
    for i in range(Cp * kk):
        ci, dy, dx = i // kk, (i % kk) // k, i % k
        offsets[i] = (ci * Hp + dy) * Wp + dx
    return offsets


@_jit
def _map_sums(maps, W, wbase, offsets, acc):
    r"""``acc[q] = \sum_i W[wbase + i] maps[offsets[i] + q]``, the taps ``i`` added in turn.

    With the padded maps of :func:`_padded_maps` and the offsets of :func:`_tap_offsets`, ``acc[h Wp + w]``
    is the piece's sum at position ``(h, w)`` without bias (a tap outside the image reads a zero of the
    border); the entries with ``w >= Wd`` between two rows mean nothing.  Four taps go in one sweep over
    ``acc`` (:func:`_add_four_taps`).
    """
    n = acc.shape[0]
    for q in range(n):
        acc[q] = 0.0
    n_taps = offsets.shape[0]
    i = 0
    while i + 4 <= n_taps:
        o0, o1, o2, o3 = offsets[i], offsets[i + 1], offsets[i + 2], offsets[i + 3]
        _add_four_taps(acc, W[wbase + i], W[wbase + i + 1], W[wbase + i + 2], W[wbase + i + 3],
                       maps[o0:o0 + n], maps[o1:o1 + n], maps[o2:o2 + n], maps[o3:o3 + n])
        i += 4
    while i < n_taps:
        _add_tap(acc, W[wbase + i], maps[offsets[i]:offsets[i] + n])
        i += 1


@_jit
def _keep_winner(z, t, b, piece, bz, bt, bk, jvp):
    """Fold piece ``piece`` (sums ``z`` plus bias ``b``, JVP ``t``) into the best so far, ``bz, bt, bk``.

    Piece 0 is taken everywhere, a later one where it is strictly larger, so after the last piece
    ``bk`` is the first winning piece, ``bz`` its value and ``bt`` its JVP (``t``, ``bt`` only with ``jvp``).
    """
    for q in range(bz.shape[0]):
        zq = z[q] + b
        if piece == 0 or zq > bz[q]:
            bz[q] = zq
            bk[q] = piece
            if jvp:
                bt[q] = t[q]


@_jit
def _write_channel(bz, bt, bk, c, H, Wd, Wp, x_out, v_out, sel, jvp, leaky, slope):
    r"""Channel ``c`` of ``x_out``, ``sel``, ``v_out`` from the winners held at ``q = h Wp + w``.

    Maxout: the winner's value, piece and JVP.  Leaky (one piece): ``x_out = \phi_a(\zeta)``,
    ``sel = 1[\zeta > 0]``, ``v_out = \phi_a'(\zeta)`` times the JVP (exactly 0 where the slope is 0).
    """
    for h in range(H):
        for w in range(Wd):
            q, out = h * Wp + w, (c * H + h) * Wd + w
            z = bz[q]
            if leaky:
                x_out[out], sel[out], gain = leaky_unit(z, slope)
                if jvp:
                    v_out[out] = 0.0 if gain == 0.0 else gain * bt[q]
            else:
                x_out[out] = z
                sel[out] = bk[q]
                if jvp:
                    v_out[out] = bt[q]


@_jit
def conv_pass(x, v, Cp, C, H, Wd, k, K, W, B, x_out, v_out, sel, jvp, leaky, slope):
    r"""The pieces :math:`\zeta_{c,k,h,w}` ('same' zero padding), the winner, then the unit's nonlinearity.

    Without ``leaky``: ``x_out = max_k \zeta``, ``sel`` the first winning piece, ``v_out`` its JVP.  With
    ``leaky`` (``K = 1``): ``x_out = \phi_a(\zeta)``, ``sel = 1[\zeta > 0]``, ``v_out = \phi_a'(\zeta)`` times
    the piece's JVP (``a = slope``).  Without ``jvp`` ``v`` is not read and ``v_out`` not written (they
    may be ``x`` and ``x_out``).

    Each piece is summed at all positions at once (:func:`_map_sums` on zero-padded copies of ``x`` and
    ``v``, positions ``Wp`` apart from one row to the next).  Every position adds its taps in the C order
    of ``(c', dy, dx)``, as a sum over the taps inside the image would; the border's taps add exact zeros
    (finite weights times 0), which change no sum (it starts at +0 and so never is -0).
    """
    pad = k // 2
    Hp, Wp = H + 2 * pad, Wd + 2 * pad
    n = (H - 1) * Wp + Wd  # first to last position; its last tap reads the padded maps' last entry
    xp = _padded_maps(x, Cp, H, Wd, pad)
    vp = _padded_maps(v, Cp, H, Wd, pad) if jvp else xp
    offsets = _tap_offsets(Cp, k, Hp, Wp)
    z, t, bz, bt = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    bk = np.empty(n, dtype=np.int64)
    for c in range(C):
        for piece in range(K):
            wbase = (c * K + piece) * Cp * k * k
            _map_sums(xp, W, wbase, offsets, z)
            if jvp:
                _map_sums(vp, W, wbase, offsets, t)
            _keep_winner(z, t, B[c * K + piece], piece, bz, bt, bk, jvp)
        _write_channel(bz, bt, bk, c, H, Wd, Wp, x_out, v_out, sel, jvp, leaky, slope)


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
