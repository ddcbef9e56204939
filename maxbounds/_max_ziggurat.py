r"""Ziggurat tables for the largest of ``K`` standard normals, solved at first use per ``K``.

The density :math:`f(x) = K\varphi(x)\Phi(x)^{K-1}` is unimodal, so for a
height :math:`y < f_{\max}` the set :math:`\{f > y\}` is an interval
:math:`(L(y), R(y))`.  The area under ``f`` is cut into ``N`` layers of equal
area ``v``:

* layer 0 (the base) is the rectangle :math:`[L_1, R_1]\times[0, y_1]` together
  with the two tails :math:`x < L_1` and :math:`x > R_1`, so
  :math:`v = y_1 (R_1 - L_1) + F(L_1) + 1 - F(R_1)` with :math:`F = \Phi^K`;
  it is given the virtual width :math:`v / y_1`;
* layer ``k >= 1`` is the rectangle :math:`[L_k, R_k]\times[y_k, y_{k+1}]` with
  :math:`y_{k+1} = y_k + v / (R_k - L_k)`, up to the first :math:`y_N \ge f_{\max}`
  (the top layer reaches above the mode; its part above ``f`` is rejected
  like any other).

Every rectangle covers the part of the area under ``f`` at its heights,
because :math:`L_k \le L(y_k)` and :math:`R_k \ge R(y_k)`: the edges are the
roots of :math:`f = y_k` moved *outwards* by a margin that is verified
(``f`` is below :math:`y_k` there).  A point of layer ``k`` whose abscissa
lies in the *inner* interval :math:`[\ell_{k+1}, r_{k+1}] \subseteq \{f \ge y_{k+1}\}`
(roots moved *inwards*, also verified) is under ``f`` whatever its height and
is accepted at once; that is most draws.  The others draw a height and are
accepted when it is below :math:`f(x)`; since ``f`` is log-concave, a line
below it on each sliver (:func:`_squeeze`) accepts most of those and a line
above it (:func:`_hull`) rejects most of the rest, both without evaluating
``f``.  Base draws beyond :math:`R_1` in
virtual coordinates go to the tails, sampled exactly by inversion of ``F``.
So the margins cost a few rejections and never bias the law: the sampler is
exact for any tables that satisfy the two verified inclusions, which
:func:`verify` checks again.

There are exactly :data:`LAYERS` = 1024 layers: the base height is set by
the quantile of the left edge, solved by bisection so that the recursion ends
at the 1024th layer (99.55% of draws are then accepted at once, and about 6e-5
go to the tails; solving a rank's tables takes about 0.3 s, once per process).
One 64-bit draw gives the layer (its low 10 bits) and the position in it (its
top 53 bits), as in the normal ziggurat of :mod:`maxbounds._ziggurat`;
:func:`packed` lays the numbers every draw reads in 32 bytes a layer (32 KB in
all, within the L1 cache) and the others apart.  With 512 layers 0.83% of draws
went to the second stage and the chain was 10% slower.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy.optimize import brentq

#: Layers of every table (a power of two: the layer is the low bits of one 64-bit draw).
LAYERS = 1024
#: The largest rank the ziggurat serves (above, one uniform by inversion is as fast).
MAX_RANK = 64
#: Relative margins by which the edges are moved (and verified) outwards and inwards.
MARGIN = 1e-9
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def log_density(x: float, K: int) -> float:
    r""":math:`\log f(x) = \log K - x^2/2 - \log\sqrt{2\pi} + (K-1)\log\Phi(x)` (the kernel's formula)."""
    phi_cdf = 0.5 * math.erfc(-x / math.sqrt(2.0))
    if phi_cdf <= 0.0:
        return -math.inf
    return math.log(K) - 0.5 * x * x - _LOG_SQRT_2PI + (K - 1) * math.log(phi_cdf)


def density(x: float, K: int) -> float:
    return math.exp(log_density(x, K))


def _cdf(x: float, K: int) -> float:
    return (0.5 * math.erfc(-x / math.sqrt(2.0))) ** K


def _mode(K: int) -> float:
    """The root of :math:`(\\log f)' = -x + (K-1)\\varphi(x)/\\Phi(x)`."""
    if K == 1:
        return 0.0

    def slope(x):
        return -x + (K - 1) * math.exp(-0.5 * x * x - _LOG_SQRT_2PI) / (0.5 * math.erfc(-x / math.sqrt(2.0)))

    return brentq(slope, -1.0, 10.0, xtol=1e-15, rtol=1e-15, maxiter=200)


def _edge(y: float, K: int, mode: float, side: int, outwards: bool, far: float | None = None,
          xtol: float = 1e-14) -> float:
    """The root of ``f = y`` left (``side = -1``) or right (``+1``) of the mode, moved out- or inwards.

    Outwards: ``f(edge) < y``; inwards: ``f(edge) >= y`` (``nan`` if no such
    point exists near the root: the inner interval is then empty).  The root is
    bracketed by the mode and ``far``, a point on that side where ``f < y`` (by
    default 40 from the mode; the previous layer's edge is a much closer one).
    """
    log_y = math.log(y)
    far = mode + side * 40.0 if far is None else far

    def gap(x):
        return log_density(x, K) - log_y

    root = brentq(gap, *sorted((mode, far)), xtol=xtol, rtol=1e-15, maxiter=300)
    step = MARGIN * (1.0 + abs(root))
    direction = side if outwards else -side
    for _ in range(12):
        x = root + direction * step
        if (outwards and gap(x) < 0) or (not outwards and gap(x) >= 0 and (x - mode) * side >= 0):
            return x
        step *= 10.0
    if outwards:
        raise RuntimeError(f"ziggurat for K={K}: no point below the level {y:g} near {root:g}")
    return math.nan


def _outer(K: int, quantile: float, xtol: float = 1e-14):
    """The outer edges and heights for the base quantile ``quantile``: ``(lows, highs, heights, masses, v)``.

    ``xtol`` is the roots' tolerance (a coarse one serves to count the layers; the tables use the default).
    """
    mode = _mode(K)
    top = density(mode, K)
    # the base: the left edge at the quantile, the right edge at the same height
    left_root = brentq(lambda x: _cdf(x, K) - quantile, mode - 40.0, mode, xtol=1e-14, maxiter=300)
    y1 = density(left_root, K)
    L1, R1 = _edge(y1, K, mode, -1, True, xtol=xtol), _edge(y1, K, mode, 1, True, xtol=xtol)
    left_mass, right_mass = _cdf(L1, K), -math.expm1(K * math.log(0.5 * math.erfc(-R1 / math.sqrt(2.0))))
    v = y1 * (R1 - L1) + left_mass + right_mass
    lows, highs, heights = [L1], [R1], [0.0, y1]
    while len(heights) <= LAYERS + 1:  # more layers than needed: stop (the caller only counts them)
        y_next = heights[-1] + v / (highs[-1] - lows[-1])
        heights.append(y_next)
        if y_next >= top:
            break
        lows.append(_edge(y_next, K, mode, -1, True, lows[-1], xtol))  # edges move towards the mode
        highs.append(_edge(y_next, K, mode, 1, True, highs[-1], xtol))
    return lows, highs, heights, (left_mass, right_mass), v


def _quantile(K: int):
    """The base quantile that gives exactly :data:`LAYERS` layers, and its :func:`_outer` (bisection on its log).

    The bisection counts layers with coarse roots (``xtol`` 1e-9); the quantile found is kept once the
    precise roots of the tables give the same count (otherwise the bisection goes on with precise roots).
    """
    low, high = math.log(2.0**-26), math.log(2.0**-8)  # many layers .. few layers
    for xtol in (1e-9, 1e-14):
        for _ in range(60):
            middle = 0.5 * (low + high)
            layers = len(_outer(K, math.exp(middle), xtol)[2]) - 1
            if layers == LAYERS:
                outer = _outer(K, math.exp(middle))
                if len(outer[2]) - 1 == LAYERS:
                    return math.exp(middle), outer
                break  # the coarse count is at a boundary: go on with precise roots
            low, high = (middle, high) if layers > LAYERS else (low, middle)
    raise RuntimeError(f"ziggurat for K={K}: no base quantile gives {LAYERS} layers")


@lru_cache(maxsize=None)
def tables(K: int):
    """``(edges, tail)`` for rank ``K`` (``2 <= K <= MAX_RANK``), with exactly :data:`LAYERS` layers.

    ``edges`` has shape ``(5, N + 1)``: rows ``L_k``, ``R_k`` (outer edges at
    height ``y_k``, ``k = 1..N-1``; column 0 holds the base's ``L_1`` and its
    virtual width ``v / y_1``), ``l_k``, ``r_k`` (inner edges at ``y_k``, ``k = 1..N``;
    NaN where no point reaches the height) and ``y_k`` (``k = 0..N``).  ``tail``
    is ``(N, F(L_1)/T, log Phi(L_1), 1 - F(R_1))`` with ``T`` the tails' mass.
    """
    if not 2 <= K <= MAX_RANK:
        raise ValueError(f"the ziggurat serves ranks 2..{MAX_RANK}, got {K}")
    mode = _mode(K)
    top = density(mode, K)
    lows, highs, heights, (left_mass, right_mass), v = _quantile(K)[1]
    n = len(heights) - 1  # layers 0..n-1; heights y_0..y_n
    L1, y1 = lows[0], heights[1]
    table = np.full((5, n + 1), np.nan)
    table[0, 1:n], table[1, 1:n] = lows, highs
    table[0, 0], table[1, 0] = L1, v / y1
    for k in range(1, n + 1):
        if heights[k] < top:  # bracketed by the outer edges at the same height
            table[2, k] = _edge(heights[k], K, mode, -1, False, lows[max(k - 1, 0)])
            table[3, k] = _edge(heights[k], K, mode, 1, False, highs[max(k - 1, 0)])
    table[4] = heights
    tail = np.array([n, left_mass / (left_mass + right_mass), math.log(0.5 * math.erfc(-L1 / math.sqrt(2.0))),
                     right_mass])
    return table, tail


#: Numbers per layer: 0-3 are read by every draw, 4-15 only by the draws not accepted at once.
COLUMNS = 16
#: The squeeze lines are lowered (the hull lines raised) by this relative amount, so that rounding cannot
#: take them across ``f``.
SQUEEZE_MARGIN = 1e-9


def _squeeze(a: float, b: float, K: int, tangent_at: float, left: float, width: float) -> tuple[float, float]:
    r"""A line in the position ``p`` (``x = left + p * width``) below ``f`` on ``[a, b]``: ``(A, B)``, ``A + B p``.

    ``f`` is log-concave (:math:`\log\varphi` and :math:`\log\Phi` are concave), so on ``[a, b]`` it lies
    above :math:`e^{\ell}`, with :math:`\ell` the chord of :math:`\log f` between ``a`` and ``b``; and
    :math:`e^{\ell}`, being convex, lies above its tangent at ``tangent_at`` (``a`` or ``b``):
    :math:`f(x) \ge f(t)\,(1 + s\,(x - t))`, ``s`` the chord's slope.  Lowered by :data:`SQUEEZE_MARGIN`.
    """
    log_a, log_b = log_density(a, K), log_density(b, K)
    slope = (log_b - log_a) / (b - a)
    height = density(tangent_at, K) * (1.0 - SQUEEZE_MARGIN)
    # height * (1 + slope * (left + p * width - t)) = A + B p
    return height * (1.0 + slope * (left - tangent_at)), height * slope * width


def _log_slope(x: float, K: int) -> float:
    r""":math:`(\log f)'(x) = -x + (K - 1)\varphi(x)/\Phi(x)` (the Mills ratio by ``erfcx`` in the far left)."""
    from scipy.special import erfcx

    return -x + (K - 1) * math.sqrt(2.0 / math.pi) / erfcx(-x / math.sqrt(2.0))


def _hull(a: float, b: float, K: int, left: float, width: float) -> tuple[float, float]:
    r"""A line in the position ``p`` above ``f`` on ``[a, b]``: ``(A, B)``, ``A + B p``.

    By log-concavity ``f`` lies below :math:`g(x) = f(t)\,e^{s(x - t)}`, the exponential of the tangent of
    :math:`\log f` at the midpoint ``t`` (slope ``s``); ``g`` is convex, so on ``[a, b]`` it lies below its
    chord, which is therefore above ``f``.  Raised by :data:`SQUEEZE_MARGIN`.
    """
    t = 0.5 * (a + b)
    s, log_t = _log_slope(t, K), log_density(t, K)
    g_a = math.exp(log_t + s * (a - t)) * (1.0 + SQUEEZE_MARGIN)
    g_b = math.exp(log_t + s * (b - t)) * (1.0 + SQUEEZE_MARGIN)
    slope = (g_b - g_a) / (b - a)
    # g_a + slope * (left + p * width - a) = A + B p
    return g_a + slope * (left - a), slope * width


@lru_cache(maxsize=None)
def packed(K: int) -> np.ndarray:
    """The tables as the kernel reads them: shape ``(4, LAYERS, 4)``, the columns of :func:`columns` in groups of 4.

    ``packed(K)[g, k, j]`` is ``columns(K)[k, 4 g + j]``.  The first group, the only one that most draws
    read, is then 32 bytes a layer (32 KB for 1024 layers, which stays in the L1 cache).
    """
    rows = columns(K)
    out = np.ascontiguousarray(rows.reshape(LAYERS, COLUMNS // 4, 4).transpose(1, 0, 2))
    out.setflags(write=False)
    return out


@lru_cache(maxsize=None)
def flat(K: int) -> np.ndarray:
    """:func:`packed` flat, as the kernels take it: ``packed(K)[g, k, j]`` is ``flat(K)[(g * LAYERS + k) * 4 + j]``.

    Read-only, of ``COLUMNS * LAYERS`` numbers; with a 1-D table the compiler turns every index into a
    constant offset from four times the layer.
    """
    out = packed(K).reshape(-1).copy()
    out.setflags(write=False)
    return out


@lru_cache(maxsize=None)
def columns(K: int) -> np.ndarray:
    """The tables, one row of :data:`COLUMNS` numbers per layer, ``(LAYERS, COLUMNS)``.

    Row ``k``: the left edge ``L_k`` and width ``w_k`` of the rectangle (base:
    ``L_1`` and the virtual width ``v / y_1``); the positions ``(l_{k+1} - L_k)/w_k``
    and ``(r_{k+1} - L_k)/w_k`` between which a point is accepted at once (base: the
    inner edges at ``y_1``; ``1, 0``, never, where the interval is empty); the
    height ``y_k`` and the layer's height ``y_{k+1} - y_k``; for the base, the
    position ``(R_1 - L_1)/w_0`` beyond which a draw goes to the tails; then the
    tails' ``F(L_1)/T``, ``log Phi(L_1)`` and ``1 - F(R_1)`` in row 1's spare
    column and rows 2, 3 (column 7).  Columns 8, 9 and 10, 11: the squeeze lines
    ``A + B p`` (:func:`_squeeze`) below ``f`` on the left and right slivers, the
    positions left of the inner interval and right of it (``-1, 0``, never, for the
    top layer, whose interval is empty).  Columns 12, 13 and 14, 15: the hull lines (:func:`_hull`) above
    ``f`` on the same slivers (``inf, 0``, never rejecting, for the top layer).
    """
    edges, tail = tables(K)
    n = int(tail[0])
    out = np.zeros((n, COLUMNS))
    for k in range(n):
        if k == 0:
            left, width = edges[0, 0], edges[1, 0]
            inner = (edges[2, 1], edges[3, 1])
            right = edges[1, 1]
            out[0, 4], out[0, 5], out[0, 6] = 0.0, edges[4, 1], (right - left) / width
        else:
            left, width = edges[0, k], edges[1, k] - edges[0, k]
            inner = (edges[2, k + 1], edges[3, k + 1])
            right = edges[1, k]
            out[k, 4], out[k, 5] = edges[4, k], edges[4, k + 1] - edges[4, k]
        out[k, 0], out[k, 1] = left, width
        if math.isnan(inner[0]):
            out[k, 2], out[k, 3] = 1.0, 0.0
            out[k, 8:12] = (-1.0, 0.0, -1.0, 0.0)
            out[k, 12:16] = (math.inf, 0.0, math.inf, 0.0)
        else:
            # positions whose abscissa lies inside the verified inner interval, moved inwards by 1e-12 so that
            # the rounding of left + position * width cannot leave it (verify checks it)
            out[k, 2] = (inner[0] - left) / width + 1e-12
            out[k, 3] = (inner[1] - left) / width - 1e-12
            # the slivers the squeeze serves reach a little past the inner edges (the positions above)
            b = left + out[k, 2] * width + 1e-12 * width
            c = left + out[k, 3] * width - 1e-12 * width
            out[k, 8:10] = _squeeze(left, b, K, b, left, width)
            out[k, 10:12] = _squeeze(c, right, K, c, left, width)
            out[k, 12:14] = _hull(left, b, K, left, width)
            out[k, 14:16] = _hull(c, right, K, left, width)
    out[1, 7], out[2, 7], out[3, 7] = tail[1], tail[2], tail[3]
    return out


def verify(K: int) -> None:
    """Check the inclusions that make the sampler exact (raises ``AssertionError``)."""
    table, tail = tables(K)
    n = int(tail[0])
    heights = table[4]
    mode = _mode(K)
    assert heights[n] >= density(mode, K) > heights[n - 1]
    for k in range(1, n):
        lo, hi = table[0, k], table[1, k]
        assert lo < mode < hi and density(lo, K) < heights[k] and density(hi, K) < heights[k]
    for k in range(1, n + 1):
        lo, hi = table[2, k], table[3, k]
        if not math.isnan(lo):
            assert density(lo, K) >= heights[k] and density(hi, K) >= heights[k]
    v = table[1, 0] * heights[1]
    areas = [(table[1, k] - table[0, k]) * (heights[k + 1] - heights[k]) for k in range(1, n)]
    assert np.allclose(areas, v, rtol=1e-12)
    rows = columns(K)
    assert np.array_equal(packed(K).transpose(1, 0, 2).reshape(LAYERS, COLUMNS), rows)
    assert np.array_equal(flat(K), packed(K).reshape(-1))
    for k in range(n):  # the packed immediate-accept positions map into the verified inner intervals
        left, width, lo, hi = rows[k, :4]
        if lo <= hi:
            inner = (table[2, k + 1], table[3, k + 1]) if k else (table[2, 1], table[3, 1])
            assert inner[0] <= left + lo * width and left + hi * width <= inner[1]
        # the squeeze lines lie below f on the slivers (log-concavity; checked on a grid, ends included)
        end = (table[1, 1] - left) / width if k == 0 else 1.0
        for line, grid in ((slice(8, 10), np.linspace(0.0, min(lo, 1.0), 33)),
                           (slice(10, 12), np.linspace(max(hi, 0.0), end, 33))):
            A, B = rows[k, line]
            for p in grid:
                assert A + B * p <= density(left + p * width, K), (K, k, p)
        # the hull lines lie above f on the same slivers
        for line, grid in ((slice(12, 14), np.linspace(0.0, min(lo, 1.0), 33)),
                           (slice(14, 16), np.linspace(max(hi, 0.0), end, 33))):
            A, B = rows[k, line]
            for p in grid:
                assert A + B * p >= density(left + p * width, K), (K, k, p)


def stacked(ranks):
    """``(tables, index)``: one :func:`flat` table per distinct rank of ``ranks`` that the ziggurat serves,
    shape ``(distinct, COLUMNS * LAYERS)``, and for each layer the row of its table (``-1`` for a rank it does
    not serve, 1 or above :data:`MAX_RANK`, whose sampler draws otherwise).

    Layers of the same rank share one table, which then stays in the cache from one layer to the next.
    """
    served = sorted({int(K) for K in ranks if 2 <= int(K) <= MAX_RANK})
    tables = np.zeros((max(len(served), 1), COLUMNS * LAYERS))
    for row, K in enumerate(served):
        tables[row] = flat(K)
    index = np.array([served.index(int(K)) if int(K) in served else -1 for K in ranks], dtype=np.int64)
    return tables, index
