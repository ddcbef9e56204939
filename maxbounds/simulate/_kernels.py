r"""Numba kernels of the Gram chain and the explicit samplers (random streams: :mod:`maxbounds._streams`).

Everything here is a small pure function compiled in ``nopython`` mode with
``cache=True``.  The Python API (:mod:`maxbounds.simulate.chain`,
:mod:`maxbounds.simulate.explicit`) validates arguments and calls the two
drivers :func:`chain_kernel` and :func:`explicit_kernel`.

Random streams
--------------
Sample ``s`` of a call with seed ``seed`` reads its own xoshiro256** stream,
whose 256-bit state is filled by splitmix64 started from
``mix(mix(seed) ^ mix(s + GOLDEN))``.  A sample's numbers therefore depend
only on ``(seed, s)``: neither on the other samples nor on how
:func:`maxbounds._parallel.run_chunks` splits the loop over threads, so results are identical bit for bit whatever
the thread count.  NumPy's and Numba's global generators are never used.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ..layers import _kernels as _layer_kernels
from ..layers.serial import F_BSD, F_WSD, I_NIN, I_WIDTH
from .._streams import (  # noqa: F401  (re-exported: the kernels' vocabulary)
    MAX_BATCH, chi_square, chi_square_step, gaussian_max, gaussian_max_of, gaussian_max_table, max_sum_step, mix64,
    ndtri, next_u64, normal, normal_step, runtime_bool, seed_stream, standard_gamma, uniform, uniform_step,
)

from .._numba_cache import refresh_stale_cache

refresh_stale_cache()  # before any kernel is compiled or loaded: a cache of other sources is removed

_jit = numba.njit(cache=True, nogil=True, fastmath=False)


# ---------------------------------------------------------------------------
# the Gram chain (docs/exact_laws.md), in log space, as in maxbounds.laws.exact.gram_step
# ---------------------------------------------------------------------------
@_jit
def logaddexp(a, b):
    """``log(exp(a) + exp(b))`` with ``-inf`` handled."""
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    top = max(a, b)
    return top + math.log1p(math.exp(-abs(a - b)))


@_jit
def correlation(log_xx, log_vv, cos, sin_sq, log_scale, log_beta):
    r"""``(rho, 1 - rho^2, log q)`` of the next layer from the state ``(log|x|^2, log|v|^2, cos, sin^2)``.

    With :math:`w = (c/n)\lVert x\rVert^2/q`: :math:`\rho = \cos\sqrt w` and
    :math:`1 - \rho^2 = \beta/q + w\sin^2` (no cancellation).  A zero ``q``
    or ``v`` gives :math:`\rho = 0`.
    """
    if log_vv == -math.inf:
        cos, sin_sq = 0.0, 1.0
    if log_beta == -math.inf and abs(log_xx) < math.inf:  # no bias: q = (c/n)|x|^2, w = 1 (the general path's
        return cos, min(sin_sq, 1.0), log_scale + log_xx  # numbers, without its two exponentials)
    log_q = logaddexp(log_scale + log_xx, log_beta)
    if log_q == -math.inf:
        w, w_c = 0.0, 1.0
    else:
        w = min(math.exp(log_scale + log_xx - log_q), 1.0)
        w_c = min(math.exp(log_beta - log_q), 1.0)
    rho = cos * math.sqrt(w)
    r2 = min(w_c + w * sin_sq, 1.0)
    return rho, r2, log_q


@_jit
def layer_sum(n, K, s0, s1, s2, s3):
    r""":math:`A = \sum_{i\le n}\Xi_i^2` for a rank the ziggurat does not serve: ``(A, s0, s1, s2, s3)``.

    For ``K = 1``, where :math:`A \sim \chi^2_n`, one gamma draw; above
    :data:`maxbounds._max_ziggurat.MAX_RANK`, one uniform per unit by inversion (:func:`gaussian_max_of`).
    """
    if K == 1:
        return chi_square_step(n, s0, s1, s2, s3)
    A = 0.0
    for _ in range(n):
        u, s0, s1, s2, s3 = uniform_step(s0, s1, s2, s3)
        xi = gaussian_max_of(u, K)
        A += xi * xi
    return A, s0, s1, s2, s3


@_jit
def maxima_moments_kernel(seed, K, table, bits, count, buf):
    """``(sum x, sum x^2, sum x^3, sum x^4)`` of ``count`` maxima drawn as :func:`maxima_kernel` draws them,
    ``len(buf)`` at a time (so that a large ``count`` needs no array of its size)."""
    rng = np.empty(4, dtype=np.uint64)
    seed_stream(rng, seed, np.uint64(0))
    m1, m2, m3, m4 = 0.0, 0.0, 0.0, 0.0
    done = 0
    while done < count:
        m = min(buf.shape[0], count - done)
        gaussian_max_table(rng, m, K, table, bits, buf)
        for i in range(m):
            x = buf[i]
            x2 = x * x
            m1 += x
            m2 += x2
            m3 += x2 * x
            m4 += x2 * x2
        done += m
    return m1, m2, m3, m4


@_jit
def maxima_kernel(seed, K, table, bits, out):
    """Fill ``out`` with maxima of ``K`` normals drawn as the chain draws them (its ziggurat), stream ``(seed, 0)``."""
    rng = np.empty(4, dtype=np.uint64)
    seed_stream(rng, seed, np.uint64(0))
    gaussian_max_table(rng, out.shape[0], K, table, bits, out)


@_jit
def gram_step(log_xx, log_vv, cos, sin_sq, log_scale, log_beta, A, g, chi):
    """One layer of the Gram chain given its draws; the scalar twin of ``maxbounds.laws.exact.gram_step``."""
    rho, r2, log_q = correlation(log_xx, log_vv, cos, sin_sq, log_scale, log_beta)
    r = math.sqrt(r2)
    t = rho * math.sqrt(A) + r * g
    Q = t * t + r2 * chi
    new_log_xx = log_q + math.log(A) if A > 0.0 else -math.inf
    new_log_vv = log_scale + log_vv + math.log(Q) if Q > 0.0 else -math.inf
    if new_log_xx == -math.inf or new_log_vv == -math.inf or Q == 0.0:
        new_cos, new_sin_sq = 0.0, 1.0
    else:
        new_cos = min(max(t / math.sqrt(Q), -1.0), 1.0)
        new_sin_sq = min(r2 * chi / Q, 1.0)
    return new_log_xx, new_log_vv, new_cos, new_sin_sq, rho, r2


@_jit
def chain_kernel(start, stop, state0, widths, ranks, log_scale, log_beta, tables, table_of, seed, first,
                 record_all, out):
    """Fill ``out[0..5]`` (log|x|^2, log|u|^2, cos, sin^2, rho, 1-rho^2; rows = layers) for ``samples`` samples.

    ``state0`` is the input's ``(log|x|^2, log|u|^2, cos, sin^2)``; ``widths``
    has ``L + 1`` entries, ``ranks``, ``log_scale``, ``log_beta`` ``L``; ``tables`` and ``table_of``
    are the ziggurat tables and each layer's row in them (:func:`maxbounds._max_ziggurat.stacked`).  With
    ``record_all`` rows ``0..L`` are written, otherwise only the output layer
    in row 0.  Sample ``s`` uses stream ``(seed, first + s)``.
    """
    L = ranks.shape[0]
    rng = np.empty(4, dtype=np.uint64)
    bits = np.empty(MAX_BATCH, dtype=np.uint64)
    for s in range(start, stop):  # samples start..stop-1 (run_chunks)
        seed_stream(rng, seed, np.uint64(first + s))
        log_xx, log_vv, cos, sin_sq = state0[0], state0[1], state0[2], state0[3]
        if record_all:
            out[0, 0, s], out[1, 0, s], out[2, 0, s], out[3, 0, s] = log_xx, log_vv, cos, sin_sq
            out[4, 0, s], out[5, 0, s] = math.nan, math.nan
        s0, s1, s2, s3 = rng[0], rng[1], rng[2], rng[3]  # the stream's state, in registers
        for layer in range(L):
            # the layer's three draws: A = sum of the n squared maxima, g ~ N(0, 1), chi ~ chi^2_{n-1}
            n, K, slot = widths[layer + 1], ranks[layer], table_of[layer]
            if slot >= 0:  # ranks 2..MAX_RANK: the ziggurat, its table in row slot (the sum only)
                A, s0, s1, s2, s3 = max_sum_step(n, K, tables, slot, bits, None, s0, s1, s2, s3)
            else:
                A, s0, s1, s2, s3 = layer_sum(n, K, s0, s1, s2, s3)
            g, s0, s1, s2, s3 = normal_step(s0, s1, s2, s3)
            chi, s0, s1, s2, s3 = chi_square_step(n - 1, s0, s1, s2, s3)
            log_xx, log_vv, cos, sin_sq, rho, r2 = gram_step(
                log_xx, log_vv, cos, sin_sq, log_scale[layer], log_beta[layer], A, g, chi)
            if record_all or layer == L - 1:
                row = layer + 1 if record_all else 0
                out[0, row, s], out[1, row, s], out[2, row, s], out[3, row, s] = log_xx, log_vv, cos, sin_sq
                out[4, row, s], out[5, row, s] = rho, r2


# ---------------------------------------------------------------------------
# explicit networks: drawn and evaluated by the layers' kernels (maxbounds.layers._kernels)
# ---------------------------------------------------------------------------
@_jit
def vector_state(x, v):
    """``(log|x|^2, log|v|^2, cos, sin^2)`` of two vectors, ``sin^2`` from the rejection of ``x`` from ``v``."""
    xx, vv, xv = 0.0, 0.0, 0.0
    for j in range(x.shape[0]):
        xx += x[j] * x[j]
        vv += v[j] * v[j]
        xv += x[j] * v[j]
    if xx == 0.0 or vv == 0.0:
        return (math.log(xx) if xx > 0.0 else -math.inf), (math.log(vv) if vv > 0.0 else -math.inf), 0.0, 1.0
    proj = xv / vv
    rej = 0.0
    for j in range(x.shape[0]):
        d = x[j] - proj * v[j]
        rej += d * d
    cos = xv / (math.sqrt(xx) * math.sqrt(vv))  # not sqrt(xx * vv): the product underflows in deep networks
    sin_sq = rej / xx
    total = cos * cos + sin_sq
    cos, sin_sq = cos / math.sqrt(total), sin_sq / total
    if not math.isfinite(cos):
        cos, sin_sq = 0.0, 1.0
    return math.log(xx), math.log(vv), min(max(cos, -1.0), 1.0), min(sin_sq, 1.0)


@_jit
def log_sq_norm(x):
    """``log|x|^2`` (``-inf`` for zero), the sum taken in the order of :func:`vector_state`."""
    total = 0.0
    for j in range(x.shape[0]):
        total += x[j] * x[j]
    return math.log(total) if total > 0.0 else -math.inf


@_jit
def explicit_kernel(start, stop, x0, u0, ispec, fspec, n_params, n_select, width_max, seed, first, record_all,
                    out):
    """The explicit-network sampler: as :func:`chain_kernel`, with each sample a freshly drawn network.

    Sample ``s`` is network ``first + s`` of ``seed``, the numbers of
    :func:`maxbounds.layers._kernels.draw_network` on the plan ``(ispec, fspec)``,
    drawn and evaluated layer by layer with the Jacobian-vector product
    (:func:`maxbounds.layers._kernels.draw_forward`: dense parameters are used as
    drawn, not kept).  The vectors are held in double precision (not in log space).  Column 4 and 5 hold the
    chain's ``rho`` and ``1 - rho^2`` computed from the layer's scale and bias
    variance (meaningful for dense layers).
    """
    L = ispec.shape[0]
    params = np.empty(n_params)  # touched only by convolution layers (dense ones are not kept)
    sel = np.empty(n_select, dtype=np.int64)
    x = np.empty(width_max)
    v = np.empty(width_max)
    x_new = np.empty(width_max)
    v_new = np.empty(width_max)
    n0 = ispec[0, I_NIN]
    rng = np.empty(4, dtype=np.uint64)
    for s in range(start, stop):  # samples start..stop-1 (run_chunks); the buffers serve the whole chunk
        seed_stream(rng, seed, np.uint64(first + s))
        x[:n0] = x0
        v[:n0] = u0
        log_xx, log_vv, cos, sin_sq = vector_state(x[:n0], v[:n0])
        if record_all:
            out[0, 0, s], out[1, 0, s], out[2, 0, s], out[3, 0, s] = log_xx, log_vv, cos, sin_sq
            out[4, 0, s], out[5, 0, s] = math.nan, math.nan
        for layer in range(L):
            n_prev, n = ispec[layer, I_NIN], ispec[layer, I_WIDTH]
            rho, r2, _ = correlation(log_xx, log_vv, cos, sin_sq, _log_sq(fspec[layer, F_WSD]),
                                     _log_sq(fspec[layer, F_BSD]))
            _layer_kernels.draw_forward(rng, ispec, fspec, params, runtime_bool(False), layer, x[:n_prev],
                                        v[:n_prev], x_new[:n], v_new[:n], sel, runtime_bool(True))
            x, x_new = x_new, x
            v, v_new = v_new, v
            log_xx, log_vv, cos, sin_sq = vector_state(x[:n], v[:n])
            if record_all or layer == L - 1:
                row = layer + 1 if record_all else 0
                out[0, row, s], out[1, row, s], out[2, row, s], out[3, row, s] = log_xx, log_vv, cos, sin_sq
                out[4, row, s], out[5, row, s] = rho, r2


@_jit
def _log_sq(sd):
    return 2.0 * math.log(sd) if sd > 0.0 else -math.inf


@_jit
def explicit_many_kernel(start, stop, X0, U0, ispec, fspec, n_params, n_select, width_max, seed, out):
    """Push the ``m`` rows of ``X0`` (directions ``U0``, same shape) through each sample's network.

    Writes ``out[0, s, t] = log|J_N(x_t) u_t|^2`` and
    ``out[1, s, t] = log|x_{L-1}(x_t)|^2`` (the input of the output layer).
    Sample ``s`` is network ``s`` of ``seed`` (the network of :func:`explicit_kernel`), drawn once
    and evaluated at every input.
    """
    L = ispec.shape[0]
    m = X0.shape[0]
    for s in range(start, stop):  # samples start..stop-1 (run_chunks)
        rng = np.empty(4, dtype=np.uint64)
        seed_stream(rng, seed, np.uint64(s))
        params = np.empty(n_params)
        sel = np.empty(n_select, dtype=np.int64)
        _layer_kernels.draw_network(rng, ispec, fspec, params)
        x = np.empty(width_max)
        v = np.empty(width_max)
        x_new = np.empty(width_max)
        v_new = np.empty(width_max)
        n0 = ispec[0, I_NIN]
        for t in range(m):
            x[:n0] = X0[t]
            v[:n0] = U0[t]
            for layer in range(L):
                n_prev, n = ispec[layer, I_NIN], ispec[layer, I_WIDTH]
                if layer == L - 1:
                    out[1, s, t] = log_sq_norm(x[:n_prev])
                _layer_kernels.layer_forward(ispec, fspec, params, layer, x[:n_prev], v[:n_prev], x_new[:n],
                                             v_new[:n], sel, runtime_bool(True))
                x, x_new = x_new, x
                v, v_new = v_new, v
            out[0, s, t] = log_sq_norm(v[:ispec[L - 1, I_WIDTH]])
