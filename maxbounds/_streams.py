r"""Random streams and variates of every Numba kernel: xoshiro256** streams, normals, maxima, gammas.

Sample (or network) ``s`` of a call with seed ``seed`` reads its own
xoshiro256** stream, whose 256-bit state is filled by splitmix64 started from
``mix(mix(seed) ^ mix(s + GOLDEN))``.  Its numbers therefore depend only on
``(seed, s)``: neither on the other samples nor on how the chunks of :func:`maxbounds._parallel.run_chunks` split the
loop over threads, so results are identical bit for bit whatever the thread
count.  NumPy's and Numba's global generators are never used.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from . import _ziggurat
from ._numba_cache import refresh_stale_cache

refresh_stale_cache()  # before any kernel is compiled or loaded: a cache of other sources is removed

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
#: Inlined by Numba into each caller (``inline="always"``): for a function that takes an array and runs once per
#: layer, where a call would cost two atomic reference-count updates of that array (contended when the
#: threads share it).
_jit_inline = numba.njit(cache=True, nogil=True, fastmath=False, inline="always")


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
def xoshiro_step(s0, s1, s2, s3):
    """One step of xoshiro256** on a state held in four words: ``(output, s0, s1, s2, s3)``."""
    a = s1 * _U5
    result = ((a << _S7) | (a >> _S57)) * _U9
    t = s1 << _S17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = (s3 << _S45) | (s3 >> _S19)
    return result, s0, s1, s2, s3


@_jit
def next_u64(state):
    """The next 64-bit output of xoshiro256** and the state update, in place."""
    result, s0, s1, s2, s3 = xoshiro_step(state[0], state[1], state[2], state[3])
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return result


@_jit
def uniform_step(s0, s1, s2, s3):
    """A uniform double in the open interval (0, 1), ``(m + 1/2) 2^-53`` with ``m`` the top 53 bits of the next
    output, on a state held in four words: ``(u, s0, s1, s2, s3)``."""
    word, s0, s1, s2, s3 = xoshiro_step(s0, s1, s2, s3)
    return (float(word >> _S11) + 0.5) * _TWO_M53, s0, s1, s2, s3


@_jit
def uniform(state):
    """:func:`uniform_step` on the state array ``state`` (updated in place): one uniform in (0, 1)."""
    u, state[0], state[1], state[2], state[3] = uniform_step(state[0], state[1], state[2], state[3])
    return u


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
#: The layers of the maxima's ziggurat, ``maxbounds._max_ziggurat.LAYERS`` (a test checks they agree; that module
#: is not imported here, since it needs SciPy's root finder only to build its tables), and their bits.
_MAX_LAYERS = 1024
_MAX_ZMASK = np.uint64(_MAX_LAYERS - 1)
_S8 = np.uint64(8)
_ONE = np.uint64(1)
_ZR = _ziggurat.R
_ZX = _ziggurat.X
_ZRATIO = _ziggurat.RATIO
_ZFX = _ziggurat.FX


@_jit
def normal_step(s0, s1, s2, s3):
    """A standard normal by the ziggurat method (:mod:`maxbounds.simulate._ziggurat`), on a state held in
    four words: ``(x, s0, s1, s2, s3)``.

    One 64-bit draw gives the layer (its low 8 bits), the sign (bit 8) and a 53-bit uniform (its top bits),
    three disjoint sets of bits; about 99% of variates need nothing more, and the rest of the algorithm is
    :func:`_normal_rest`.  Loops that draw many normals hold the stream's state in four local words and call
    this: the state then stays in registers, where :func:`normal`, which takes the state array, costs a
    call with two reference-count updates and a store and load of the state per draw (three to five times
    the draw itself).
    """
    u, s0, s1, s2, s3 = xoshiro_step(s0, s1, s2, s3)
    k = int(u & _ZMASK)
    fraction = float(np.int64(u >> _S11)) * _TWO_M53  # < 2^53: as a signed integer, one conversion instruction
    if fraction < _ZRATIO[k]:
        return _signed(u, fraction * _ZX[k]), s0, s1, s2, s3
    return _normal_rest(u, s0, s1, s2, s3)


@_jit
def normal(state):
    """:func:`normal_step` on the state array ``state`` (updated in place): one standard normal."""
    x, state[0], state[1], state[2], state[3] = normal_step(state[0], state[1], state[2], state[3])
    return x


@_jit
def _signed(u, x):
    """``x`` with the sign that bit 8 of the draw ``u`` gives (a product, not a branch on a random bit)."""
    return x * (1.0 - 2.0 * float(np.int64((u >> _S8) & _ONE)))


@_jit
def _normal_rest(u, s0, s1, s2, s3):
    """The ziggurat for a draw ``u`` outside its layer's inner part (base tail, wedge test, new draws):
    ``(x, s0, s1, s2, s3)``."""
    while True:
        k = int(u & _ZMASK)
        fraction = float(np.int64(u >> _S11)) * _TWO_M53
        x = fraction * _ZX[k]
        if fraction < _ZRATIO[k]:
            return _signed(u, x), s0, s1, s2, s3
        if k == 0:  # the tail beyond r: Marsaglia's exponential rejection
            while True:
                v, s0, s1, s2, s3 = uniform_step(s0, s1, s2, s3)
                a = -math.log(v) / _ZR
                v, s0, s1, s2, s3 = uniform_step(s0, s1, s2, s3)
                b = -math.log(v)
                if 2.0 * b > a * a:
                    return _signed(u, _ZR + a), s0, s1, s2, s3
        v, s0, s1, s2, s3 = uniform_step(s0, s1, s2, s3)
        height = _ZFX[k] + v * (_ZFX[k + 1] - _ZFX[k])
        if height < math.exp(-0.5 * x * x):
            return _signed(u, x), s0, s1, s2, s3
        u, s0, s1, s2, s3 = xoshiro_step(s0, s1, s2, s3)


@_jit
def gaussian_max(state, K):
    r"""The largest of ``K`` standard normals from one uniform, by inversion: :math:`-\Phi^{-1}(1 - U^{1/K})`.

    :math:`1 - U^{1/K} = -\operatorname{expm1}(\log U / K)` keeps full relative
    precision in the upper tail of the maximum.  The chain uses it above
    :data:`maxbounds._max_ziggurat.MAX_RANK`; below, :func:`gaussian_max_table`.
    """
    return gaussian_max_of(uniform(state), K)


@_jit
def gaussian_max_of(u, K):
    r""":func:`gaussian_max` from the uniform ``u``: :math:`-\Phi^{-1}(-\operatorname{expm1}(\log u / K))`."""
    return -ndtri(-math.expm1(math.log(u) / K))


_SQRT2 = math.sqrt(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


@_jit
def _max_log_density(x, K):
    r""":math:`\log(K\varphi(x)\Phi(x)^{K-1})`, as :func:`maxbounds._max_ziggurat.log_density`."""
    cdf = 0.5 * math.erfc(-x / _SQRT2)
    if cdf <= 0.0:
        return -math.inf
    return math.log(K) - 0.5 * x * x - _LOG_SQRT_2PI + (K - 1) * math.log(cdf)


@_jit
def _max_tail(u, K, p_left, log_cdf_left, right_mass):
    r"""A variate of the base layer's tails from the uniform ``u``, by exact inversion of :math:`\Phi^K`."""
    if u < p_left:  # the left tail: Phi(x)^K = (u / p_left) F(L_1)
        return ndtri(math.exp((math.log(u / p_left) + K * log_cdf_left) / K))
    # the right tail: 1 - Phi(x)^K = w (1 - F(R_1)), w uniform
    w = (u - p_left) / (1.0 - p_left)
    return -ndtri(-math.expm1(math.log1p(-w * right_mass) / K))


#: Draws per batch of :func:`gaussian_max_table` (the size of the scratch array of 64-bit words it is given).
MAX_BATCH = 256


@_jit
def _max_position(bits):
    """The position in its layer that a 64-bit draw gives: its top 53 bits over 2^53, in [0, 1)."""
    return float(np.int64(bits >> _S11)) * _TWO_M53  # < 2^53: as a signed integer, one conversion instruction


_G1, _G2, _G3 = 4 * _MAX_LAYERS, 8 * _MAX_LAYERS, 12 * _MAX_LAYERS  # where each group of 4 columns starts


@_jit_inline
def max_sum_step(n, K, tables, slot, bits, out, s0, s1, s2, s3):
    r"""``(total, s0, s1, s2, s3)``: :func:`gaussian_max_table` on a state held in four words.

    ``tables[slot]`` is the flat :func:`maxbounds._max_ziggurat.packed` of rank ``K``
    (:func:`~maxbounds._max_ziggurat.flat`, :func:`~maxbounds._max_ziggurat.stacked`): entry ``[g, k, j]``
    at ``(g * LAYERS + k) * 4 + j``, offsets the compiler folds into its addresses.  The row is indexed, not
    taken as a view, since a view costs two reference-count updates.
    A draw outside its layer's inner interval goes to the second stage, written out here (a call that
    passes the table on would cost two reference-count updates per draw): a tail variate by inversion from
    one uniform (:func:`_max_tail`), or a height drawn in the layer, accepted below the sliver's squeeze line
    (below the density by log-concavity, :func:`maxbounds._max_ziggurat._squeeze`), rejected above its hull
    line (above the density, :func:`maxbounds._max_ziggurat._hull`) and compared with the density itself
    only between the two.  A rejected draw is replaced by a new one, which goes through both stages.
    """
    batch = min(bits.shape[0], MAX_BATCH)
    tail_start, p_left = tables[slot, _G1 + 2], tables[slot, _G1 + 7]
    log_cdf_left, right_mass = tables[slot, _G1 + 11], tables[slot, _G1 + 15]
    total = 0.0
    i = 0  # variates done
    while i < n:
        m = min(batch, n - i)
        deferred = 0
        for t in range(m):  # the first stage, the state in registers; no counter but that of the deferred
            word, s0, s1, s2, s3 = xoshiro_step(s0, s1, s2, s3)
            row = 4 * int(word & _MAX_ZMASK)
            position = _max_position(word)
            if tables[slot, row + 2] <= position <= tables[slot, row + 3]:
                x = tables[slot, row] + position * tables[slot, row + 1]
                total += x * x
                if out is not None:
                    out[i + t - deferred] = x
            else:
                bits[deferred] = word
                deferred += 1
        i += m - deferred
        for j in range(deferred):
            word = bits[j]
            while True:  # the second stage of this draw, then new draws until one is accepted
                row = 4 * int(word & _MAX_ZMASK)
                position = _max_position(word)
                x = tables[slot, row] + position * tables[slot, row + 1]
                if tables[slot, row + 2] <= position <= tables[slot, row + 3]:
                    break
                u, s0, s1, s2, s3 = uniform_step(s0, s1, s2, s3)
                if row == 0 and position > tail_start:
                    x = _max_tail(u, K, p_left, log_cdf_left, right_mass)
                    break
                height = tables[slot, _G1 + row] + u * tables[slot, _G1 + row + 1]
                line = row if position < tables[slot, row + 2] else row + 2  # the left sliver's lines or the right's
                if height < tables[slot, _G2 + line] + position * tables[slot, _G2 + line + 1]:
                    break
                if height <= tables[slot, _G3 + line] + position * tables[slot, _G3 + line + 1] \
                        and height < math.exp(_max_log_density(x, K)):
                    break
                word, s0, s1, s2, s3 = xoshiro_step(s0, s1, s2, s3)
            total += x * x
            if out is not None:
                out[i] = x
            i += 1
    return total, s0, s1, s2, s3


@_jit
def gaussian_max_table(state, n, K, table, bits, out=None):
    r""":math:`\sum_{i \le n}\Xi_i^2` of ``n`` maxima of ``K`` standard normals, by the ziggurat of
    :mod:`maxbounds._max_ziggurat`; the variates themselves go to ``out`` (``n`` entries) when it is given.

    ``table`` is that module's :func:`~maxbounds._max_ziggurat.flat` for ``K``; ``bits`` a scratch array
    of 64-bit words (at most :data:`MAX_BATCH` are used).  One 64-bit draw gives the layer ``k`` (its low 10
    bits) and the position in it (its top 53 bits); about 99% of variates need nothing more.  The draws
    come in batches: one loop draws them (the stream's state in registers), keeps those accepted at once and
    sets the others aside; each of those then goes through the second stage (see :func:`max_sum_step`),
    and a draw rejected there is replaced by a new variate.  Every draw thus gives one
    variate, and the variates are independent with the law :math:`\Phi^K`; only their order differs from
    one-at-a-time sampling.  Numba compiles the two cases apart (``out`` ``None`` or an array), so the
    chain's sum-only loop has no stores.  The work is :func:`max_sum_step`, on the state as four words.
    """
    total, state[0], state[1], state[2], state[3] = max_sum_step(n, K, table.reshape((1, table.size)), 0, bits, out,
                                                                 state[0], state[1], state[2], state[3])
    return total


# ---------------------------------------------------------------------------
# gamma and chi-squared variates
# ---------------------------------------------------------------------------
@_jit
def gamma_step(a, s0, s1, s2, s3):
    r"""A Gamma(a, 1) variate, ``a > 0``, on a state held in four words: ``(x, s0, s1, s2, s3)``.

    Marsaglia and Tsang's rejection method, with their squeeze.  For :math:`a \ge 1`, with
    :math:`d = a - 1/3`, :math:`c = 1/\sqrt{9d}`, propose :math:`V = (1 + cZ)^3` (``Z`` normal) and accept
    when :math:`\log U < Z^2/2 + d - dV + d\log V`; return :math:`dV`.  For :math:`a < 1` use
    :math:`\Gamma(a) = \Gamma(a + 1)\,U^{1/a}`.  Exact (a rejection sampler); about 1.02 to 1.05
    proposals per draw.
    """
    boost = 1.0
    if a < 1.0:
        u, s0, s1, s2, s3 = uniform_step(s0, s1, s2, s3)
        boost = math.exp(math.log(u) / a)
        a += 1.0
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        z, s0, s1, s2, s3 = normal_step(s0, s1, s2, s3)
        v = 1.0 + c * z
        if v <= 0.0:
            continue
        v = v * v * v
        u, s0, s1, s2, s3 = uniform_step(s0, s1, s2, s3)
        # Marsaglia and Tsang's squeeze u < 1 - 0.0331 z^4 implies the exact test; it skips both logarithms
        if u < 1.0 - 0.0331 * (z * z) * (z * z) or math.log(u) < 0.5 * z * z + d - d * v + d * math.log(v):
            return d * v * boost, s0, s1, s2, s3


@_jit
def standard_gamma(state, a):
    """:func:`gamma_step` on the state array ``state`` (updated in place): one Gamma(a, 1) variate."""
    x, state[0], state[1], state[2], state[3] = gamma_step(a, state[0], state[1], state[2], state[3])
    return x


@_jit
def chi_square_step(k, s0, s1, s2, s3):
    r""":math:`\chi^2_k = 2\,\Gamma(k/2)` for an integer ``k >= 0`` (0 for ``k = 0``), on a state held in
    four words: ``(x, s0, s1, s2, s3)``; :math:`O(1)` work."""
    if k <= 0:
        return 0.0, s0, s1, s2, s3
    x, s0, s1, s2, s3 = gamma_step(0.5 * k, s0, s1, s2, s3)
    return 2.0 * x, s0, s1, s2, s3


@_jit
def chi_square(state, k):
    """:func:`chi_square_step` on the state array ``state`` (updated in place)."""
    x, state[0], state[1], state[2], state[3] = chi_square_step(k, state[0], state[1], state[2], state[3])
    return x


# ---------------------------------------------------------------------------
# flags passed between kernels
# ---------------------------------------------------------------------------
_FLAGS = np.array([False, True])


@_jit
def runtime_bool(value):
    """``value`` as a run-time ``bool``.

    Numba compiles a called kernel once per *literal* argument: ``f(x, True)`` and ``f(x, False)`` written
    as constants are two specialisations, each costing seconds of compile time on a first run.  Kernels
    pass constant flags through this function (an array read, so the type is plain ``bool``) to share one.
    """
    return _FLAGS[1] if value else _FLAGS[0]
