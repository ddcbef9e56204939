r"""Numba kernel: the exact partition of a rectangle of a 2-D slice into activation regions.

Coordinates ``(s, t)`` of the slice map affinely to the input,
:math:`x_0 = A_0 (s, t, 1)^\top`.  On a convex cell where the pattern of the
units processed so far is fixed, every layer output already computed is an
affine function of ``(s, t)`` (three floating-point coefficients per unit),
and so is every feature :math:`\hat\zeta_{l,i,k}` of the next unit.  Unit
``i`` splits the cell into the convex sub-cells

.. math::

    P_k = P \cap \{\hat\zeta_{l,i,k} - \hat\zeta_{l,i,j} \ge 0 \ \forall j \ne k\},

each obtained by clipping ``P`` with ``K - 1`` half-planes (Sutherland–Hodgman
on a convex polygon).  Every decision is an **exact** sign: the geometry is
that of the coefficients as computed, which are floating-point numbers, hence
rationals.

*Lines.*  The half-plane ``zeta_k - zeta_j >= 0`` is stored as the exact
difference of the two float triples, ``hi + lo`` with ``hi = fl(zeta_k -
zeta_j)`` and ``lo`` its rounding error (TwoSum, so ``|lo| <= u |hi|``,
``u = 2^-53``); a side of the box is ``s - s_lo >= 0`` etc.  Every line is
oriented with the cell on its non-negative side.

*Vertices.*  A polygon is a counter-clockwise cycle of strict corners; row
``q`` holds vertex ``q``'s float coordinates ``(x, y)``, rigorous bounds
``(ex, ey)`` on ``|x - x*|, |y - y*|`` for the exact vertex ``(x*, y*)``,
and the line of the edge leaving it.  The exact vertex ``q`` is the
intersection of the lines of its incoming and outgoing edges, ``L_1`` and
``L_2``, and because the corner is strictly convex and the lines point
inwards, :math:`D = a_1 b_2 - a_2 b_1 > 0`.  Hence for any line ``g``

.. math::

    \operatorname{sign} g(x^*, y^*) = \operatorname{sign} \det (L_1; L_2; g),

a 3x3 determinant of rationals.  New vertices get their coordinates by
Cramer's rule with a forward error bound (infinite when the two lines are
nearly parallel); coordinates never accumulate error, since each vertex is
recomputed from its own two lines.

*Predicates (filtered, in the style of Shewchuk).*  The sign of ``g`` at a
vertex is first read off the float value ``fl(g(x, y))``: it is certain when
``|fl(g(x, y))|`` exceeds the bound ``2e-15 (|a x| + |b y| + |c|) + |a| ex +
|b| ey + 1e-300`` on the error of the evaluation (8 or more units in the last
place of the terms, the vertex error, and underflow).  Otherwise, the exact
sign of the determinant is computed with floating-point expansions (TwoSum,
Dekker's TwoProduct and Grow-Expansion with zero elimination, exact in the
absence of underflow and overflow, which a power-of-two scaling of the
columns rules out), and with Python's :class:`fractions.Fraction` in the
remaining case of entries more than ``2^250`` apart within a column.  A vertex
where every term vanishes exactly (``x = 0`` or ``a = 0``, ``y = 0`` or ``b =
0``, ``c = 0``, exact coordinates: the origin of a network without biases)
gives the sign 0 without any determinant.

*Cells.*  Clipping a cell with interior by ``h >= 0`` with the exact signs
``sigma_q`` of ``h`` at its vertices: no ``sigma < 0`` leaves it unchanged;
no ``sigma > 0`` leaves no interior (the child is dropped); otherwise the
vertices with ``sigma >= 0`` are kept and one new vertex is made on each edge
whose end signs are strictly opposite, so the result again has interior and
strict corners.  Cells are therefore dropped exactly when they have no
interior, whatever their area: a line through an existing vertex or three
concurrent lines make no sliver, and a genuine region of any area is kept.
Ties follow :func:`numpy.argmax` (the first maximal feature): two identical
feature triples give one child, the first.

*Fast path.*  If one feature is strictly the largest, with certainty, at
every vertex whose values are not all exactly 0, it is the largest on all of
``P`` (the differences are affine and ``P`` is the hull of its vertices), so
the cell is not split and no clipping is done; this is the common case, and
it costs ``K`` evaluations and one error bound per vertex.

The cells are walked depth first with an explicit stack, so memory stays
proportional to depth, not to the number of regions.  Every leaf is one
activation region: siblings differ in the argmax of the unit that split
them, so no two leaves share a pattern, and each is convex, so regions are
never counted twice.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numba
import numpy as np
from numba import types
from numba.typed import List

from .._streams import runtime_bool, seed_stream
from ..layers._kernels import draw_network

from .._numba_cache import refresh_stale_cache

refresh_stale_cache()  # before any kernel is compiled or loaded: a cache of other sources is removed

_POLY = types.float64[:, ::1]
_PATTERN = types.int32[::1]

#: Relative allowance of the filters: at least 8 units in the last place (u = 2^-53 = 1.1e-16).
EPS = 2e-15
#: Absolute allowance for underflow in products (each loses at most 2^-1075).
TINY = 1e-300
#: Columns of a polygon row: x, y, ex, ey, then the edge line leaving the vertex (hi a, b, c; lo a, b, c).
NCOL = 10
#: Entries of a scaled determinant at least this large (or zero) keep the expansion arithmetic exact.
_SAFE_MIN = 2.0 ** -250
_SPLITTER = 134217729.0  # 2^27 + 1
_PERMS = np.array([[0, 1, 2, 1], [1, 2, 0, 1], [2, 0, 1, 1], [0, 2, 1, -1], [1, 0, 2, -1], [2, 1, 0, -1]],
                  dtype=np.int64)


# ---------------------------------------------------------------------------
# exact arithmetic: floating-point expansions (Shewchuk 1997)
# ---------------------------------------------------------------------------
@numba.njit(cache=True, nogil=True)
def two_sum(a, b):
    """``(s, e)`` with ``s = fl(a + b)`` and ``a + b = s + e`` exactly (Knuth)."""
    s = a + b
    bb = s - a
    e = (a - (s - bb)) + (b - bb)
    return s, e


@numba.njit(cache=True, nogil=True)
def two_prod(a, b):
    """``(p, e)`` with ``p = fl(a b)`` and ``a b = p + e`` exactly (Dekker; no overflow or underflow)."""
    p = a * b
    c = _SPLITTER * a
    ah = c - (c - a)
    al = a - ah
    c = _SPLITTER * b
    bh = c - (c - b)
    bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, e


@numba.njit(cache=True, nogil=True)
def _grow(h, n, b):
    """Add ``b`` to the non-overlapping expansion ``h[:n]`` (increasing magnitude); return its new length."""
    q = b
    m = 0
    for i in range(n):
        q, hh = two_sum(q, h[i])
        if hh != 0.0:
            h[m] = hh
            m += 1
    if q != 0.0:
        h[m] = q
        m += 1
    return m


def _det3_fraction(mat):
    """Sign of the 3x3 determinant of the rows ``mat[r, :3] + mat[r, 3:]``, in rational arithmetic."""
    f = [[Fraction(float(mat[r, c])) + Fraction(float(mat[r, c + 3])) for c in range(3)] for r in range(3)]
    d = (f[0][0] * (f[1][1] * f[2][2] - f[1][2] * f[2][1]) - f[0][1] * (f[1][0] * f[2][2] - f[1][2] * f[2][0])
         + f[0][2] * (f[1][0] * f[2][1] - f[1][1] * f[2][0]))
    return (d > 0) - (d < 0)


@numba.njit(cache=True)
def _det3_slow(mat):
    with numba.objmode(s="int64"):
        s = _det3_fraction(mat)
    return s


@numba.njit(cache=True, nogil=True)
def det3_sign(mat, work, expn):
    """Exact sign of the determinant of the rows ``mat[r, :3] + mat[r, 3:]`` (``r = 0, 1, 2``).

    The columns are scaled by powers of two (the sign does not change), so
    that every entry is at most 1; then each of the ``8 x 6`` products of
    three floats is an exact sum of four floats (TwoProduct), and these are
    summed exactly into a non-overlapping expansion whose last component has
    the sign of the sum.  If some non-zero entry is below ``2^-250`` after
    scaling, products could underflow, and the determinant is evaluated with
    :class:`fractions.Fraction` instead.
    """
    for c in range(3):
        m = max(abs(mat[0, c]), abs(mat[1, c]), abs(mat[2, c]))
        if m == 0.0:
            return 0
        e = math.frexp(m)[1]
        for r in range(3):
            for o in (0, 3):
                v = math.ldexp(mat[r, c + o], -e)
                if v != 0.0 and abs(v) < _SAFE_MIN:
                    return _det3_slow(mat)
                work[r, c + o] = v
    n = 0
    for combo in range(8):
        o0 = 3 * (combo & 1)
        o1 = 3 * ((combo >> 1) & 1)
        o2 = 3 * ((combo >> 2) & 1)
        for p in range(6):
            a = work[0, o0 + _PERMS[p, 0]]
            b = work[1, o1 + _PERMS[p, 1]]
            c = work[2, o2 + _PERMS[p, 2]]
            if a == 0.0 or b == 0.0 or c == 0.0:
                continue
            if _PERMS[p, 3] < 0:
                a = -a
            x, y = two_prod(a, b)
            s1, s2 = two_prod(x, c)
            n = _grow(expn, n, s2)
            n = _grow(expn, n, s1)
            if y != 0.0:
                s1, s2 = two_prod(y, c)
                n = _grow(expn, n, s2)
                n = _grow(expn, n, s1)
    if n == 0:
        return 0
    return 1 if expn[n - 1] > 0.0 else -1


# ---------------------------------------------------------------------------
# predicates and clipping on exact polygons
# ---------------------------------------------------------------------------
@numba.njit(cache=True, nogil=True)
def line_sign(poly, q, nv, h, mat, work, expn):
    """Exact sign of the line ``h`` (``h[:3] + h[3:]``) at vertex ``q`` of the polygon ``poly[:nv]``."""
    x = poly[q, 0]
    y = poly[q, 1]
    ex = poly[q, 2]
    ey = poly[q, 3]
    ha = h[0]
    hb = h[1]
    hc = h[2]
    if ex == 0.0 and ey == 0.0 and (x == 0.0 or ha == 0.0) and (y == 0.0 or hb == 0.0) and hc == 0.0:
        return 0
    v = ha * x + hb * y + hc
    bound = EPS * (abs(ha * x) + abs(hb * y) + abs(hc)) + (abs(ha) * ex + abs(hb) * ey) * (1.0 + EPS) + TINY
    if abs(v) > bound:
        return 1 if v > 0.0 else -1
    p = q - 1 if q > 0 else nv - 1
    for c in range(6):
        mat[0, c] = poly[p, 4 + c]
        mat[1, c] = poly[q, 4 + c]
        mat[2, c] = h[c]
    return det3_sign(mat, work, expn)


@numba.njit(cache=True, nogil=True)
def _intersect(poly, q, r, h, out, m):
    """Write to ``out[m, :4]`` the crossing of edge ``q -> r`` of ``poly`` with the line ``h``, with error bounds."""
    a1 = poly[q, 4]
    b1 = poly[q, 5]
    c1 = poly[q, 6]
    a2 = h[0]
    b2 = h[1]
    c2 = h[2]
    p1 = a1 * b2
    p2 = a2 * b1
    d = p1 - p2
    e_d = 1e-15 * (abs(p1) + abs(p2)) + TINY
    n1 = b1 * c2
    n2 = b2 * c1
    nx = n1 - n2
    e_nx = 0.0 if ((b1 == 0.0 or c2 == 0.0) and (b2 == 0.0 or c1 == 0.0)) else 1e-15 * (abs(n1) + abs(n2)) + TINY
    n3 = c1 * a2
    n4 = c2 * a1
    ny = n3 - n4
    e_ny = 0.0 if ((c1 == 0.0 or a2 == 0.0) and (c2 == 0.0 or a1 == 0.0)) else 1e-15 * (abs(n3) + abs(n4)) + TINY
    ad = abs(d)
    if ad > 2.0 * e_d:
        x = nx / d
        y = ny / d
        den = ad - e_d
        ex = (e_nx + abs(x) * e_d) / den * (1.0 + 1e-14) + 4e-16 * abs(x)
        ey = (e_ny + abs(y) * e_d) / den * (1.0 + 1e-14) + 4e-16 * abs(y)
        if np.isfinite(x) and np.isfinite(y) and np.isfinite(ex) and np.isfinite(ey):
            out[m, 0] = x
            out[m, 1] = y
            out[m, 2] = ex
            out[m, 3] = ey
            return
    # nearly parallel lines: approximate coordinates on the edge, and no error bound
    h0 = a2 * poly[q, 0] + b2 * poly[q, 1] + c2
    h1 = a2 * poly[r, 0] + b2 * poly[r, 1] + c2
    lam = h0 / (h0 - h1) if h0 != h1 else 0.5
    if not (0.0 <= lam <= 1.0):
        lam = 0.5
    out[m, 0] = poly[q, 0] + lam * (poly[r, 0] - poly[q, 0])
    out[m, 1] = poly[q, 1] + lam * (poly[r, 1] - poly[q, 1])
    out[m, 2] = np.inf
    out[m, 3] = np.inf


@numba.njit(cache=True, nogil=True)
def clip(poly, nv, h, out, sgn, mat, work, expn, scale):
    """Clip the exact polygon ``poly[:nv]`` to ``h >= 0`` into ``out``.

    ``scale = (X, Y, EX, EY)`` bounds ``|x|, |y|, ex, ey`` over the vertices
    (a first, per-polygon filter; ``EX, EY`` are raised for the new vertices).
    Returns ``-1`` when the polygon lies in the half-plane (``out`` untouched),
    ``0`` when the intersection has no interior, else the vertex count of ``out``.
    """
    ha = abs(h[0])
    hb = abs(h[1])
    coarse = EPS * (ha * scale[0] + hb * scale[1] + abs(h[2])) + (ha * scale[2] + hb * scale[3]) * (1.0 + EPS) + TINY
    pos = False
    neg = False
    for q in range(nv):
        v = h[0] * poly[q, 0] + h[1] * poly[q, 1] + h[2]
        if v > coarse:
            s = 1
        elif v < -coarse:
            s = -1
        else:
            s = line_sign(poly, q, nv, h, mat, work, expn)
        sgn[q] = s
        if s > 0:
            pos = True
        elif s < 0:
            neg = True
    if not neg:
        return -1
    if not pos:
        return 0
    m = 0
    for q in range(nv):
        r = q + 1 if q + 1 < nv else 0
        sq = sgn[q]
        sr = sgn[r]
        if sq >= 0:
            for c in range(4):
                out[m, c] = poly[q, c]
            if sq == 0 and sr < 0:
                for c in range(6):
                    out[m, 4 + c] = h[c]
            else:
                for c in range(6):
                    out[m, 4 + c] = poly[q, 4 + c]
            m += 1
            if sq > 0 and sr < 0:
                _intersect(poly, q, r, h, out, m)
                scale[2] = max(scale[2], out[m, 2])
                scale[3] = max(scale[3], out[m, 3])
                for c in range(6):
                    out[m, 4 + c] = h[c]
                m += 1
        elif sr > 0:
            _intersect(poly, q, r, h, out, m)
            scale[2] = max(scale[2], out[m, 2])
            scale[3] = max(scale[3], out[m, 3])
            for c in range(6):
                out[m, 4 + c] = poly[q, 4 + c]
            m += 1
    return m


@numba.njit(cache=True, nogil=True)
def _difference(feats, k, j, h):
    """``h = feats[k] - feats[j]`` exactly, as ``hi + lo``."""
    for c in range(3):
        h[c], h[3 + c] = two_sum(feats[k, c], -feats[j, c])


@numba.njit(cache=True, nogil=True)
def box_polygon(box_poly):
    """The exact polygon of the rectangle with corners ``box_poly`` (counter-clockwise from ``(s_lo, t_lo)``)."""
    s_lo, t_lo = box_poly[0, 0], box_poly[0, 1]
    s_hi, t_hi = box_poly[2, 0], box_poly[2, 1]
    poly = np.zeros((4, NCOL))
    for q in range(4):
        poly[q, 0] = box_poly[q, 0]
        poly[q, 1] = box_poly[q, 1]
    # edges leaving each corner: bottom t - t_lo, right s_hi - s, top t_hi - t, left s - s_lo (all >= 0 inside)
    poly[0, 4], poly[0, 5], poly[0, 6] = 0.0, 1.0, -t_lo
    poly[1, 4], poly[1, 5], poly[1, 6] = -1.0, 0.0, s_hi
    poly[2, 4], poly[2, 5], poly[2, 6] = 0.0, -1.0, t_hi
    poly[3, 4], poly[3, 5], poly[3, 6] = 1.0, 0.0, -s_lo
    return poly


@numba.njit(cache=True, nogil=True)
def _grow_stack(st_poly, st_nv, st_layer, st_unit, st_prev, st_cur, st_pat):
    cap = 2 * st_nv.shape[0]
    p = np.empty((cap, st_poly.shape[1], NCOL))
    p[: st_poly.shape[0]] = st_poly
    nv = np.empty(cap, dtype=np.int64)
    nv[: st_nv.shape[0]] = st_nv
    la = np.empty(cap, dtype=np.int64)
    la[: st_layer.shape[0]] = st_layer
    un = np.empty(cap, dtype=np.int64)
    un[: st_unit.shape[0]] = st_unit
    pr = np.empty((cap, st_prev.shape[1], 3))
    pr[: st_prev.shape[0]] = st_prev
    cu = np.empty((cap, st_cur.shape[1], 3))
    cu[: st_cur.shape[0]] = st_cur
    pa = np.empty((cap, st_pat.shape[1]), dtype=np.int32)
    pa[: st_pat.shape[0]] = st_pat
    return p, nv, la, un, pr, cu, pa


@numba.njit(cache=True, nogil=True)
def _widen(st_poly, poly, sgn):
    """Double the vertex capacity of the polygon buffers."""
    vmax = 2 * poly.shape[0]
    p = np.empty((st_poly.shape[0], vmax, NCOL))
    p[:, : st_poly.shape[1]] = st_poly
    q = np.empty((vmax, NCOL))
    q[: poly.shape[0]] = poly
    return p, q, np.empty((vmax, NCOL)), np.empty((vmax, NCOL)), np.empty(vmax, dtype=np.int64)


@numba.njit(cache=True, nogil=True)
def partition(widths, ranks, w_off, b_off, weights, biases, A0, box_poly, keep, out_rows,
              polygons, patterns, segments):
    """Count the activation regions of one network in the rectangle with corners ``box_poly``.

    ``out_rows`` is 1 (decision function ``N``) or 2 (``N_1 - N_2``), or 0 for
    no decision boundary.  With ``keep`` the region polygons (float vertex
    coordinates), their patterns and the boundary chords are appended to the
    typed lists.  Returns ``(regions, boundary_pieces, boundary_length)``.
    """
    L = ranks.shape[0]
    nmax = 1
    for l in range(L + 1):
        nmax = max(nmax, widths[l])
    unit_off = np.zeros(L, dtype=np.int64)
    for l in range(1, L):
        unit_off[l] = unit_off[l - 1] + widths[l]
    U = max(unit_off[L - 1], 1)
    Kmax = 1
    for l in range(L):
        Kmax = max(Kmax, ranks[l])
    vmax = 16
    while vmax < 4 + Kmax + 2:
        vmax *= 2
    cap = 64
    st_poly = np.empty((cap, vmax, NCOL))
    st_nv = np.empty(cap, dtype=np.int64)
    st_layer = np.empty(cap, dtype=np.int64)
    st_unit = np.empty(cap, dtype=np.int64)
    st_prev = np.empty((cap, nmax, 3))
    st_cur = np.empty((cap, nmax, 3))
    st_pat = np.zeros((cap, U), dtype=np.int32)
    poly = np.empty((vmax, NCOL))
    tmp = np.empty((vmax, NCOL))
    tmp2 = np.empty((vmax, NCOL))
    sgn = np.empty(vmax, dtype=np.int64)
    prev = np.zeros((nmax, 3))
    cur = np.zeros((nmax, 3))
    pat = np.zeros(U, dtype=np.int32)
    feats = np.empty((Kmax, 3))
    g = np.zeros(6)
    h = np.empty(6)
    seg = np.empty((2, 2))
    mat = np.empty((3, 6))
    work = np.empty((3, 6))
    expn = np.empty(256)
    cell = np.zeros(4)  # max |x|, |y|, ex, ey over the cell's vertices
    child = np.zeros(4)
    # root
    st_poly[0, :4] = box_polygon(box_poly)
    st_nv[0] = 4
    st_layer[0] = 0
    st_unit[0] = 0
    st_prev[0, :, :] = 0.0
    st_prev[0, : widths[0]] = A0
    st_cur[0, :, :] = 0.0
    sp = 1
    regions = 0
    pieces = 0
    boundary_length = 0.0
    while sp > 0:
        sp -= 1
        nv = st_nv[sp]
        poly[:nv] = st_poly[sp, :nv]
        for c in range(4):
            cell[c] = 0.0
        for q in range(nv):
            cell[0] = max(cell[0], abs(poly[q, 0]))
            cell[1] = max(cell[1], abs(poly[q, 1]))
            cell[2] = max(cell[2], poly[q, 2])
            cell[3] = max(cell[3], poly[q, 3])
        l = st_layer[sp]
        i = st_unit[sp]
        prev[:, :] = st_prev[sp]
        cur[:, :] = st_cur[sp]
        pat[:] = st_pat[sp]
        while True:
            if l == L - 1:
                regions += 1
                if out_rows > 0:
                    n_prev = widths[l]
                    for r in range(6):
                        g[r] = 0.0
                    for row in range(out_rows):
                        sign = 1.0 if row == 0 else -1.0
                        base = w_off[l] + row * n_prev
                        g[2] += sign * biases[b_off[l] + row]
                        for j in range(n_prev):
                            for r in range(3):
                                g[r] += sign * weights[base + j] * prev[j, r]
                    pos = False
                    neg = False
                    for q in range(nv):
                        s = line_sign(poly, q, nv, g, mat, work, expn)
                        sgn[q] = s
                        pos = pos or s > 0
                        neg = neg or s < 0
                    if pos and neg:
                        m = 0
                        for q in range(nv):
                            r = q + 1 if q + 1 < nv else 0
                            if (sgn[q] >= 0) != (sgn[r] >= 0) and m < 2:
                                h0 = g[0] * poly[q, 0] + g[1] * poly[q, 1] + g[2]
                                h1 = g[0] * poly[r, 0] + g[1] * poly[r, 1] + g[2]
                                lam = h0 / (h0 - h1) if h0 != h1 else 0.5
                                if not (0.0 <= lam <= 1.0):
                                    lam = 0.5
                                seg[m, 0] = poly[q, 0] + lam * (poly[r, 0] - poly[q, 0])
                                seg[m, 1] = poly[q, 1] + lam * (poly[r, 1] - poly[q, 1])
                                m += 1
                        pieces += 1
                        boundary_length += np.sqrt((seg[1, 0] - seg[0, 0]) ** 2 + (seg[1, 1] - seg[0, 1]) ** 2)
                        if keep:
                            segments.append(seg.copy())
                if keep:
                    polygons.append(np.ascontiguousarray(poly[:nv, :2]))
                    patterns.append(pat.copy())
                break
            n = widths[l + 1]
            if i == n:
                prev[:n] = cur[:n]
                l += 1
                i = 0
                continue
            K = ranks[l]
            n_prev = widths[l]
            amax = 0.0
            bmax = 0.0
            cmax = 0.0
            for k in range(K):
                base = w_off[l] + (i * K + k) * n_prev
                feats[k, 0] = 0.0
                feats[k, 1] = 0.0
                feats[k, 2] = biases[b_off[l] + i * K + k]
                for j in range(n_prev):
                    w = weights[base + j]
                    feats[k, 0] += w * prev[j, 0]
                    feats[k, 1] += w * prev[j, 1]
                    feats[k, 2] += w * prev[j, 2]
                amax = max(amax, abs(feats[k, 0]))
                bmax = max(bmax, abs(feats[k, 1]))
                cmax = max(cmax, abs(feats[k, 2]))
            u = unit_off[l] + i
            # fast path: a feature certainly and strictly largest at every vertex (bar exact all-zero ones);
            # first against one bound for the whole cell, then against the vertex's own bound
            coarse = EPS * (amax * cell[0] + bmax * cell[1] + cmax) + (amax * cell[2] + bmax * cell[3]) * (1.0 + EPS)
            coarse = 2.0 * (coarse + TINY) * (1.0 + 4.0 * EPS)
            cand = -1
            split = False
            uncertain = False
            for v in range(nv):
                x = poly[v, 0]
                y = poly[v, 1]
                best = 0
                best_v = feats[0, 0] * x + feats[0, 1] * y + feats[0, 2]
                second = -np.inf
                for k in range(1, K):
                    val = feats[k, 0] * x + feats[k, 1] * y + feats[k, 2]
                    if val > best_v:
                        second = best_v
                        best, best_v = k, val
                    elif val > second:
                        second = val
                if not best_v - second > coarse:
                    ex = poly[v, 2]
                    ey = poly[v, 3]
                    if ex == 0.0 and ey == 0.0 and (x == 0.0 or amax == 0.0) and (y == 0.0 or bmax == 0.0) \
                            and cmax == 0.0:
                        continue  # every feature is exactly 0 here
                    bound = EPS * (amax * abs(x) + bmax * abs(y) + cmax) + (amax * ex + bmax * ey) * (1.0 + EPS)
                    if not (best_v - second) * (1.0 - EPS) > 2.0 * (bound + TINY):
                        uncertain = True
                        continue
                if cand < 0:
                    cand = best
                elif cand != best:
                    split = True
                    break
            if cand >= 0 and uncertain and not split:
                # exact check that cand is (weakly) the largest at every vertex
                for v in range(nv):
                    for j in range(K):
                        if j == cand:
                            continue
                        _difference(feats, cand, j, h)
                        if line_sign(poly, v, nv, h, mat, work, expn) < 0:
                            split = True
                            break
                    if split:
                        break
            if cand >= 0 and not split:
                cur[i] = feats[cand]
                pat[u] = cand
                i += 1
                continue
            # split the cell among the features that win somewhere in it, with exact clipping
            while nv + K + 2 > tmp.shape[0]:
                st_poly, poly, tmp, tmp2, sgn = _widen(st_poly, poly, sgn)
            for k in range(K):
                tied = False
                for j in range(k):
                    if feats[j, 0] == feats[k, 0] and feats[j, 1] == feats[k, 1] and feats[j, 2] == feats[k, 2]:
                        tied = True
                        break
                if tied:
                    continue  # an identical earlier feature is the argmax wherever this one is
                src = poly  # the child so far: the cell itself until a clip changes it
                child[:] = cell
                nt = nv
                alive = True
                for j in range(K):
                    if j == k:
                        continue
                    _difference(feats, k, j, h)
                    if h[0] == 0.0 and h[1] == 0.0 and h[2] == 0.0:
                        continue
                    res = clip(src, nt, h, tmp, sgn, mat, work, expn, child)
                    if res == 0:
                        alive = False
                        break
                    if res > 0:
                        nt = res
                        src = tmp
                        tmp = tmp2
                        tmp2 = src
                if not alive:
                    continue
                if sp == st_nv.shape[0]:
                    st_poly, st_nv, st_layer, st_unit, st_prev, st_cur, st_pat = _grow_stack(
                        st_poly, st_nv, st_layer, st_unit, st_prev, st_cur, st_pat)
                st_poly[sp, :nt] = src[:nt]
                st_nv[sp] = nt
                st_layer[sp] = l
                st_unit[sp] = i + 1
                st_prev[sp] = prev
                st_cur[sp] = cur
                st_cur[sp, i] = feats[k]
                st_pat[sp] = pat
                st_pat[sp, u] = k
                sp += 1
            break
    return regions, pieces, boundary_length


@numba.njit(cache=True)
def new_lists():
    """Empty typed lists for :func:`partition`'s kept polygons, patterns and chords."""
    return List.empty_list(_POLY), List.empty_list(_PATTERN), List.empty_list(_POLY)


@numba.njit(cache=True, nogil=True)
def random_counts(start, stop, ispec, fspec, n_params, widths, ranks, w_off, b_off, A0, box_poly,
                  out_rows, seed, first, regions, pieces, boundary_length):
    """Regions and boundary pieces of networks ``first + start .. first + stop - 1`` of ``seed``.

    Each network is drawn by the layers' one draw (:func:`maxbounds.layers._kernels.draw_network` on the
    plan ``ispec, fspec``) into one flat buffer, which :func:`partition` reads through the plan's dense
    layout ``(widths, ranks, w_off, b_off)``.  Run with :func:`maxbounds._parallel.run_chunks`.
    """
    rng = np.empty(4, dtype=np.uint64)
    params = np.empty(n_params)
    keep = runtime_bool(False)
    for s in range(start, stop):
        seed_stream(rng, seed, np.uint64(first + s))
        draw_network(rng, ispec, fspec, params)
        polygons, patterns, segments = new_lists()
        r, p, length = partition(widths, ranks, w_off, b_off, params, params, A0, box_poly, keep,
                                 out_rows, polygons, patterns, segments)
        regions[s] = r
        pieces[s] = p
        boundary_length[s] = length
