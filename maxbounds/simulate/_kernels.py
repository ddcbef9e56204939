r"""Numba kernels of the simulators: random streams, normal variates, one layer of each sampler.

Everything here is a small pure function compiled in ``nopython`` mode with
``cache=True``.  The Python API (:mod:`maxbounds.simulate.chain`,
:mod:`maxbounds.simulate.explicit`) validates arguments and calls the two
drivers :func:`chain_kernel` and :func:`explicit_kernel`.

Random streams
--------------
Sample ``s`` of a call with seed ``seed`` reads its own xoshiro256** stream,
whose 256-bit state is filled by splitmix64 started from
``mix(mix(seed) ^ mix(s + GOLDEN))``.  A sample's numbers therefore depend
only on ``(seed, s)``: neither on the other samples nor on how ``prange``
splits the loop over threads, so results are identical bit for bit whatever
the thread count.  NumPy's and Numba's global generators are never used.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from . import _ziggurat

# ---------------------------------------------------------------------------
# splitmix64 and xoshiro256** (Vigna), in wrapping unsigned 64-bit arithmetic
# ---------------------------------------------------------------------------
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_U5 = np.uint64(5)
_U9 = np.uint64(9)
_S7, _S57 = np.uint64(7), np.uint64(57)
_S11, _S17 = np.uint64(11), np.uint64(17)
_S27, _S30, _S31 = np.uint64(27), np.uint64(30), np.uint64(31)
_S45, _S19 = np.uint64(45), np.uint64(19)
_TWO_M53 = 2.0**-53

_jit = numba.njit(cache=True, nogil=True, fastmath=False)


@_jit
def mix64(z):
    """The splitmix64 finaliser: a bijection of 64-bit words with good avalanche."""
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@_jit
def seed_stream(state, seed, index):
    """Fill the 4-word xoshiro256** ``state`` for stream ``index`` of ``seed`` (both uint64)."""
    sm = mix64(mix64(seed) ^ mix64(index + _GOLDEN))
    for w in range(4):
        sm += _GOLDEN
        state[w] = mix64(sm)


@_jit
def next_u64(state):
    """The next 64-bit output of xoshiro256** and the state update, in place."""
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    a = s1 * _U5
    result = ((a << _S7) | (a >> _S57)) * _U9
    t = s1 << _S17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = (s3 << _S45) | (s3 >> _S19)
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return result


@_jit
def uniform(state):
    """A uniform double in the open interval (0, 1): ``(m + 1/2) 2^-53`` with ``m`` the top 53 bits."""
    return (float(next_u64(state) >> _S11) + 0.5) * _TWO_M53


# ---------------------------------------------------------------------------
# inverse normal CDF: Wichura's algorithm AS 241 (PPND16), Appl. Statist. 37 (1988)
# ---------------------------------------------------------------------------
_A = (3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3, 1.3731693765509461125e4,
      4.5921953931549871457e4, 6.7265770927008700853e4, 3.3430575583588128105e4, 2.5090809287301226727e3)
_B = (1.0, 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3,
      2.1213794301586595867e4, 3.9307895800092710610e4, 2.8729085735721942674e4, 5.2264952788528545610e3)
_C = (1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0, 3.64784832476320460504e0,
      1.27045825245236838258e0, 2.41780725177450611770e-1, 2.27238449892691845833e-2,
      7.74545014278341407640e-4)
_D = (1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
      1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4,
      1.05075007164441684324e-9)
_E = (6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0, 2.96560571828504891230e-1,
      2.65321895265761230930e-2, 1.24266094738807843860e-3, 2.71155556874348757815e-5,
      2.01033439929228813265e-7)
_F = (1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
      7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7,
      2.04426310338993978564e-15)


@_jit
def _poly7(c, r):
    """``c[0] + c[1] r + ... + c[7] r^7`` by Horner's rule."""
    return ((((((c[7] * r + c[6]) * r + c[5]) * r + c[4]) * r + c[3]) * r + c[2]) * r + c[1]) * r + c[0]


@_jit
def ndtri(p):
    r""":math:`\Phi^{-1}(p)` for ``0 < p < 1`` (``-inf``/``inf`` at 0/1, NaN outside).

    Three rational approximations (central, intermediate tail, far tail) of
    degree 7/7, relative error about 1e-16.  In the tails the argument is the
    smaller of ``p`` and ``1 - p``, so pass the small tail probability
    itself where it is known more accurately than its complement.
    """
    if not 0.0 < p < 1.0:
        if p == 0.0:
            return -math.inf
        if p == 1.0:
            return math.inf
        return math.nan
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        return q * _poly7(_A, r) / _poly7(_B, r)
    r = p if q < 0.0 else 1.0 - p
    r = math.sqrt(-math.log(r))
    if r <= 5.0:
        r -= 1.6
        value = _poly7(_C, r) / _poly7(_D, r)
    else:
        r -= 5.0
        value = _poly7(_E, r) / _poly7(_F, r)
    return -value if q < 0.0 else value


_ZMASK = np.uint64(_ziggurat.LAYERS - 1)
_S8 = np.uint64(8)
_ONE = np.uint64(1)
_ZR = _ziggurat.R
_ZX = _ziggurat.X
_ZRATIO = _ziggurat.RATIO
_ZFX = _ziggurat.FX


@_jit
def normal(state):
    """A standard normal by the ziggurat method (:mod:`maxbounds.simulate._ziggurat`).

    One 64-bit draw gives the layer (its low 8 bits), the sign (bit 8) and a
    53-bit uniform (its top bits), three disjoint sets of bits; about 99% of
    variates need nothing more.
    """
    while True:
        u = next_u64(state)
        k = int(u & _ZMASK)
        negative = (u >> _S8) & _ONE
        fraction = float(u >> _S11) * _TWO_M53
        x = fraction * _ZX[k]
        if fraction < _ZRATIO[k]:
            return -x if negative else x
        if k == 0:  # the tail beyond r: Marsaglia's exponential rejection
            while True:
                a = -math.log(uniform(state)) / _ZR
                b = -math.log(uniform(state))
                if 2.0 * b > a * a:
                    x = _ZR + a
                    return -x if negative else x
        height = _ZFX[k] + uniform(state) * (_ZFX[k + 1] - _ZFX[k])
        if height < math.exp(-0.5 * x * x):
            return -x if negative else x


#: Up to this rank the maximum is the largest of K normals (a ziggurat normal costs a few ns, less than one
#: inversion); above it, one uniform by inversion, -ndtri(1 - U^(1/K)).
DIRECT_MAX_RANK = 8


@_jit
def gaussian_max(state, K):
    r"""The largest of ``K`` standard normals.

    For ``K <= DIRECT_MAX_RANK`` it draws the ``K`` normals and keeps the
    largest; above, one uniform by inversion, :math:`-\Phi^{-1}(1 - U^{1/K})`,
    where :math:`1 - U^{1/K} = -\operatorname{expm1}(\log U / K)` keeps full
    relative precision in the upper tail of the maximum.
    """
    if K <= DIRECT_MAX_RANK:
        xi = normal(state)
        for _ in range(K - 1):
            xi = max(xi, normal(state))
        return xi
    return -ndtri(-math.expm1(math.log(uniform(state)) / K))


# ---------------------------------------------------------------------------
# the Gram chain (MATH.md section 3), in log space, as in maxbounds.laws.exact.gram_step
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
    log_q = logaddexp(log_scale + log_xx, log_beta)
    if log_q == -math.inf:
        w, w_c = 0.0, 1.0
    else:
        w = min(math.exp(log_scale + log_xx - log_q), 1.0)
        w_c = min(math.exp(log_beta - log_q), 1.0)
    if log_vv == -math.inf:
        cos, sin_sq = 0.0, 1.0
    rho = cos * math.sqrt(w)
    r2 = min(w_c + w * sin_sq, 1.0)
    return rho, r2, log_q


@_jit
def standard_gamma(state, a):
    r"""A Gamma(a, 1) variate, ``a > 0``: Marsaglia and Tsang's squeeze-free rejection method.

    For :math:`a \ge 1`, with :math:`d = a - 1/3`, :math:`c = 1/\sqrt{9d}`,
    propose :math:`V = (1 + cZ)^3` (``Z`` normal) and accept when
    :math:`\log U < Z^2/2 + d - dV + d\log V`; return :math:`dV`.  For
    :math:`a < 1` use :math:`\Gamma(a) = \Gamma(a + 1)\,U^{1/a}`.  Exact
    (a rejection sampler); about 1.02 to 1.05 proposals per draw.
    """
    boost = 1.0
    if a < 1.0:
        boost = math.exp(math.log(uniform(state)) / a)
        a += 1.0
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        z = normal(state)
        v = 1.0 + c * z
        if v <= 0.0:
            continue
        v = v * v * v
        if math.log(uniform(state)) < 0.5 * z * z + d - d * v + d * math.log(v):
            return d * v * boost


@_jit
def chi_square(state, k):
    r""":math:`\chi^2_k = 2\,\Gamma(k/2)` for an integer ``k >= 0`` (0 for ``k = 0``): :math:`O(1)` work."""
    if k <= 0:
        return 0.0
    return 2.0 * standard_gamma(state, 0.5 * k)


@_jit
def draw_layer(state, n, K):
    r"""The three draws of one layer: :math:`A = \sum_{i\le n}\Xi_i^2`, :math:`g \sim N(0,1)`, :math:`\chi \sim \chi^2_{n-1}`.

    The maxima come from :func:`gaussian_max` (the largest of ``K`` normals,
    or one uniform by inversion for large ``K``); for
    ``K = 1``, where :math:`A \sim \chi^2_n`, one gamma draw.  Then one
    normal for ``g`` and one gamma draw for :math:`\chi`: :math:`O(nK)` (small
    ``K``) or :math:`O(n)` work for maxout layers, :math:`O(1)` for linear ones.
    """
    if K == 1:
        A = chi_square(state, n)
    else:
        A = 0.0
        for _ in range(n):
            xi = gaussian_max(state, K)
            A += xi * xi
    g = normal(state)
    chi = chi_square(state, n - 1)
    return A, g, chi


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


@numba.njit(cache=True, parallel=True)
def chain_kernel(state0, widths, ranks, log_scale, log_beta, samples, seed, first, record_all, out):
    """Fill ``out[0..5]`` (log|x|^2, log|u|^2, cos, sin^2, rho, 1-rho^2; rows = layers) for ``samples`` samples.

    ``state0`` is the input's ``(log|x|^2, log|u|^2, cos, sin^2)``; ``widths``
    has ``L + 1`` entries, ``ranks``, ``log_scale``, ``log_beta`` ``L``.  With
    ``record_all`` rows ``0..L`` are written, otherwise only the output layer
    in row 0.  Sample ``s`` uses stream ``(seed, first + s)``.
    """
    L = ranks.shape[0]
    for s in numba.prange(samples):
        rng = np.empty(4, dtype=np.uint64)
        seed_stream(rng, seed, np.uint64(first + s))
        log_xx, log_vv, cos, sin_sq = state0[0], state0[1], state0[2], state0[3]
        if record_all:
            out[0, 0, s], out[1, 0, s], out[2, 0, s], out[3, 0, s] = log_xx, log_vv, cos, sin_sq
            out[4, 0, s], out[5, 0, s] = math.nan, math.nan
        for layer in range(L):
            A, g, chi = draw_layer(rng, widths[layer + 1], ranks[layer])
            log_xx, log_vv, cos, sin_sq, rho, r2 = gram_step(
                log_xx, log_vv, cos, sin_sq, log_scale[layer], log_beta[layer], A, g, chi)
            if record_all or layer == L - 1:
                row = layer + 1 if record_all else 0
                out[0, row, s], out[1, row, s], out[2, row, s], out[3, row, s] = log_xx, log_vv, cos, sin_sq
                out[4, row, s], out[5, row, s] = rho, r2


# ---------------------------------------------------------------------------
# explicit networks
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
    cos = xv / math.sqrt(xx * vv)
    sin_sq = rej / xx
    total = cos * cos + sin_sq
    cos, sin_sq = cos / math.sqrt(total), sin_sq / total
    if not math.isfinite(cos):
        cos, sin_sq = 0.0, 1.0
    return math.log(xx), math.log(vv), min(max(cos, -1.0), 1.0), min(sin_sq, 1.0)


@_jit
def dense_layer(rng, x, v, n, K, weight_sd, bias_sd, relu, x_out, v_out):
    r"""One random layer applied to ``x`` and to the Jacobian vector ``v``; weights drawn on the fly.

    Unit ``i``, piece ``k``: :math:`\zeta = \sum_j W_{ikj} x_j + b_{ik}` and
    :math:`w = \sum_j W_{ikj} v_j`; the unit keeps the piece with the largest
    :math:`\zeta` (the first on ties).  With ``relu`` (``K = 1``) the unit
    outputs :math:`\max(\zeta, 0)` and passes :math:`w` only where
    :math:`\zeta > 0`.  Draw order: for each unit and piece, the weights
    ``j = 0..n_prev-1``, then the bias when ``bias_sd > 0``.
    """
    n_prev = x.shape[0]
    for i in range(n):
        best_z, best_w = 0.0, 0.0
        for k in range(K):
            z, w = 0.0, 0.0
            for j in range(n_prev):
                g = normal(rng)
                z += g * x[j]
                w += g * v[j]
            z *= weight_sd
            w *= weight_sd
            if bias_sd > 0.0:
                z += bias_sd * normal(rng)
            if k == 0 or z > best_z:
                best_z, best_w = z, w
        if relu:
            if best_z > 0.0:
                x_out[i], v_out[i] = best_z, best_w
            else:
                x_out[i], v_out[i] = 0.0, 0.0
        else:
            x_out[i], v_out[i] = best_z, best_w


@numba.njit(cache=True, parallel=True)
def explicit_kernel(x0, u0, widths, ranks, log_scale, log_beta, relu, samples, seed, first, record_all, out):
    """The explicit-network sampler: as :func:`chain_kernel`, with each sample a freshly drawn network.

    ``relu`` applies to the hidden layers (the output layer is linear).  The
    vectors are held in double precision (not in log space).
    """
    L = ranks.shape[0]
    width_max = 0
    for layer in range(L + 1):
        width_max = max(width_max, widths[layer])
    for s in numba.prange(samples):
        rng = np.empty(4, dtype=np.uint64)
        seed_stream(rng, seed, np.uint64(first + s))
        x = np.empty(width_max)
        v = np.empty(width_max)
        x_new = np.empty(width_max)
        v_new = np.empty(width_max)
        n0 = widths[0]
        x[:n0] = x0
        v[:n0] = u0
        log_xx, log_vv, cos, sin_sq = vector_state(x[:n0], v[:n0])
        if record_all:
            out[0, 0, s], out[1, 0, s], out[2, 0, s], out[3, 0, s] = log_xx, log_vv, cos, sin_sq
            out[4, 0, s], out[5, 0, s] = math.nan, math.nan
        for layer in range(L):
            n_prev, n = widths[layer], widths[layer + 1]
            rho, r2, _ = correlation(log_xx, log_vv, cos, sin_sq, log_scale[layer], log_beta[layer])
            weight_sd = math.exp(0.5 * log_scale[layer])
            bias_sd = math.exp(0.5 * log_beta[layer])
            hidden_relu = relu and layer < L - 1
            dense_layer(rng, x[:n_prev], v[:n_prev], n, ranks[layer], weight_sd, bias_sd, hidden_relu,
                        x_new[:n], v_new[:n])
            x, x_new = x_new, x
            v, v_new = v_new, v
            log_xx, log_vv, cos, sin_sq = vector_state(x[:n], v[:n])
            if record_all or layer == L - 1:
                row = layer + 1 if record_all else 0
                out[0, row, s], out[1, row, s], out[2, row, s], out[3, row, s] = log_xx, log_vv, cos, sin_sq
                out[4, row, s], out[5, row, s] = rho, r2


# ---------------------------------------------------------------------------
# many inputs through each explicit network
# ---------------------------------------------------------------------------
@_jit
def dense_layer_many(rng, X, V, n, K, weight_sd, bias_sd, relu, X_out, V_out, row, best_z, best_w):
    r""":func:`dense_layer` for ``m`` inputs at once: each weight row is drawn once and used for every input.

    ``X`` and ``V`` are ``(m, n_prev)``; ``X_out`` and ``V_out`` ``(m, n)``;
    ``row`` (``n_prev``), ``best_z`` and ``best_w`` (``m``) are scratch.  The
    random numbers are read in exactly the order of :func:`dense_layer` (the
    weights of unit ``i``, piece ``k``, then its bias), and every input's sums
    are formed in the same order as there, so input ``t`` gets the very
    numbers :func:`dense_layer` would give it alone.
    """
    m, n_prev = X.shape[0], X.shape[1]
    for i in range(n):
        for k in range(K):
            for j in range(n_prev):
                row[j] = normal(rng)
            b = bias_sd * normal(rng) if bias_sd > 0.0 else 0.0
            for t in range(m):
                z, w = 0.0, 0.0
                for j in range(n_prev):
                    z += row[j] * X[t, j]
                    w += row[j] * V[t, j]
                z *= weight_sd
                w *= weight_sd
                if bias_sd > 0.0:
                    z += b
                if k == 0 or z > best_z[t]:
                    best_z[t], best_w[t] = z, w
        for t in range(m):
            if relu and not best_z[t] > 0.0:
                X_out[t, i], V_out[t, i] = 0.0, 0.0
            else:
                X_out[t, i], V_out[t, i] = best_z[t], best_w[t]


@_jit
def log_sq_norm(x):
    """``log|x|^2`` (``-inf`` for zero), the sum taken in the order of :func:`vector_state`."""
    total = 0.0
    for j in range(x.shape[0]):
        total += x[j] * x[j]
    return math.log(total) if total > 0.0 else -math.inf


@numba.njit(cache=True, parallel=True)
def explicit_many_kernel(X0, U0, widths, ranks, log_scale, log_beta, relu, samples, seed, out):
    """Push the ``m`` rows of ``X0`` (directions ``U0``, same shape) through each sample's network.

    Writes ``out[0, s, t] = log|J_N(x_t) u_t|^2`` and
    ``out[1, s, t] = log|x_{L-1}(x_t)|^2`` (the input of the output layer).
    Sample ``s`` draws its network from stream ``(seed, s)`` in the order of
    :func:`explicit_kernel`, so with one input the two kernels agree bit for bit.
    """
    L = ranks.shape[0]
    m = X0.shape[0]
    width_max = 0
    for layer in range(L + 1):
        width_max = max(width_max, widths[layer])
    for s in numba.prange(samples):
        rng = np.empty(4, dtype=np.uint64)
        seed_stream(rng, seed, np.uint64(s))
        X = np.empty((m, width_max))
        V = np.empty((m, width_max))
        X_new = np.empty((m, width_max))
        V_new = np.empty((m, width_max))
        row = np.empty(width_max)
        best_z = np.empty(m)
        best_w = np.empty(m)
        n0 = widths[0]
        X[:, :n0] = X0
        V[:, :n0] = U0
        for layer in range(L):
            n_prev, n = widths[layer], widths[layer + 1]
            if layer == L - 1:
                for t in range(m):
                    out[1, s, t] = log_sq_norm(X[t, :n_prev])
            weight_sd = math.exp(0.5 * log_scale[layer])
            bias_sd = math.exp(0.5 * log_beta[layer])
            hidden_relu = relu and layer < L - 1
            dense_layer_many(rng, X[:, :n_prev], V[:, :n_prev], n, ranks[layer], weight_sd, bias_sd,
                             hidden_relu, X_new[:, :n], V_new[:, :n], row, best_z, best_w)
            X, X_new = X_new, X
            V, V_new = V_new, V
        n_out = widths[L]
        for t in range(m):
            out[0, s, t] = log_sq_norm(V[t, :n_out])
