r"""A frozen copy of the region kernel before exact predicates (commit 0f5f050), for side-by-side timing only.

Not used by maxbounds; see ``benchmarks/regions_exact_speed.py``.

Original docstring: Numba kernel: the exact partition of a convex polygon of a 2-D slice into activation regions.

Coordinates ``(s, t)`` of the slice map affinely to the input,
:math:`x_0 = A_0 (s, t, 1)^\top`.  On a convex cell where the pattern of the
units processed so far is fixed, every layer output already computed is an
affine function of ``(s, t)`` (three coefficients per unit), and so is every
feature :math:`\zeta_{l,i,k}` of the next unit.  Unit ``i`` splits the cell
into the convex sub-cells

.. math::

    P_k = P \cap \{\zeta_{l,i,k} - \zeta_{l,i,j} \ge 0 \ \forall j \ne k\},

each obtained by clipping ``P`` with ``K - 1`` half-planes (Sutherland–Hodgman
on a convex polygon, ``O(vertices)`` per half-plane).  If one feature is the
largest at every vertex of ``P`` it is the largest on all of ``P`` (the
differences are affine and ``P`` is the hull of its vertices), so the cell is
not split and no clipping is done; this is the common case.  Cells of area at
most ``min_area`` (round-off slivers where a line passes through a vertex)
are dropped.  The cells are walked depth first with an explicit stack, so
memory stays proportional to depth, not to the number of regions.  Every
leaf is one activation region: siblings differ in the argmax of the unit
that split them, so no two leaves share a pattern, and each is convex, so
regions are never counted twice.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import types

_POLY = types.float64[:, ::1]
_PATTERN = types.int32[::1]


@numba.njit(cache=True, nogil=True)
def _clip(poly, nv, a, b, c, out):
    """Clip the convex polygon ``poly[:nv]`` to ``a s + b t + c >= 0`` into ``out``; return its vertex count."""
    m = 0
    for q in range(nv):
        r = q + 1 if q + 1 < nv else 0
        h0 = a * poly[q, 0] + b * poly[q, 1] + c
        h1 = a * poly[r, 0] + b * poly[r, 1] + c
        if h0 >= 0.0:
            out[m, 0] = poly[q, 0]
            out[m, 1] = poly[q, 1]
            m += 1
        if (h0 > 0.0 and h1 < 0.0) or (h0 < 0.0 and h1 > 0.0):
            lam = h0 / (h0 - h1)
            out[m, 0] = poly[q, 0] + lam * (poly[r, 0] - poly[q, 0])
            out[m, 1] = poly[q, 1] + lam * (poly[r, 1] - poly[q, 1])
            m += 1
    return m


@numba.njit(cache=True, nogil=True)
def _area(poly, nv):
    """Shoelace area of ``poly[:nv]``."""
    total = 0.0
    for q in range(nv):
        r = q + 1 if q + 1 < nv else 0
        total += poly[q, 0] * poly[r, 1] - poly[r, 0] * poly[q, 1]
    return 0.5 * abs(total)


@numba.njit(cache=True, nogil=True)
def _zero_segment(poly, nv, g, seg):
    """If the affine ``g`` changes sign inside ``poly[:nv]``, write the chord ``g = 0`` to ``seg`` and return True."""
    lo = np.inf
    hi = -np.inf
    for q in range(nv):
        v = g[0] * poly[q, 0] + g[1] * poly[q, 1] + g[2]
        lo = min(lo, v)
        hi = max(hi, v)
    if not (lo < 0.0 < hi):
        return False
    m = 0
    for q in range(nv):
        r = q + 1 if q + 1 < nv else 0
        h0 = g[0] * poly[q, 0] + g[1] * poly[q, 1] + g[2]
        h1 = g[0] * poly[r, 0] + g[1] * poly[r, 1] + g[2]
        if m < 2 and ((h0 >= 0.0 and h1 < 0.0) or (h0 < 0.0 and h1 >= 0.0)):
            lam = h0 / (h0 - h1)
            seg[m, 0] = poly[q, 0] + lam * (poly[r, 0] - poly[q, 0])
            seg[m, 1] = poly[q, 1] + lam * (poly[r, 1] - poly[q, 1])
            m += 1
    return m == 2


@numba.njit(cache=True, nogil=True)
def _grow_stack(st_poly, st_nv, st_layer, st_unit, st_prev, st_cur, st_pat):
    cap = 2 * st_nv.shape[0]
    p = np.empty((cap, st_poly.shape[1], 2))
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
def _widen(st_poly, poly, tmp, tmp2):
    """Double the vertex capacity of the polygon buffers."""
    vmax = 2 * poly.shape[0]
    p = np.empty((st_poly.shape[0], vmax, 2))
    p[:, : st_poly.shape[1]] = st_poly
    q = np.empty((vmax, 2))
    q[: poly.shape[0]] = poly
    return p, q, np.empty((vmax, 2)), np.empty((vmax, 2))


@numba.njit(cache=True, nogil=True)
def partition(widths, ranks, w_off, b_off, weights, biases, A0, box_poly, min_area, keep, out_rows,
              polygons, patterns, segments):
    """Count the activation regions of one network in the convex polygon ``box_poly``.

    ``out_rows`` is 1 (decision function ``N``) or 2 (``N_1 - N_2``), or 0 for
    no decision boundary.  With ``keep`` the region polygons, their patterns
    and the boundary chords are appended to the typed lists.  Returns
    ``(regions, boundary_pieces, boundary_length)``.
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
    vmax = max(16, 2 * box_poly.shape[0])
    cap = 64
    st_poly = np.empty((cap, vmax, 2))
    st_nv = np.empty(cap, dtype=np.int64)
    st_layer = np.empty(cap, dtype=np.int64)
    st_unit = np.empty(cap, dtype=np.int64)
    st_prev = np.empty((cap, nmax, 3))
    st_cur = np.empty((cap, nmax, 3))
    st_pat = np.zeros((cap, U), dtype=np.int32)
    poly = np.empty((vmax, 2))
    tmp = np.empty((vmax, 2))
    tmp2 = np.empty((vmax, 2))
    prev = np.zeros((nmax, 3))
    cur = np.zeros((nmax, 3))
    pat = np.zeros(U, dtype=np.int32)
    feats = np.empty((Kmax, 3))
    g = np.empty(3)
    seg = np.empty((2, 2))
    # root
    nb = box_poly.shape[0]
    st_poly[0, :nb] = box_poly
    st_nv[0] = nb
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
                    for r in range(3):
                        g[r] = 0.0
                    for row in range(out_rows):
                        sign = 1.0 if row == 0 else -1.0
                        base = w_off[l] + row * n_prev
                        g[2] += sign * biases[b_off[l] + row]
                        for j in range(n_prev):
                            for r in range(3):
                                g[r] += sign * weights[base + j] * prev[j, r]
                    if _zero_segment(poly, nv, g, seg):
                        pieces += 1
                        boundary_length += np.sqrt((seg[1, 0] - seg[0, 0]) ** 2 + (seg[1, 1] - seg[0, 1]) ** 2)
                        if keep:
                            segments.append(seg.copy())
                if keep:
                    polygons.append(poly[:nv].copy())
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
            u = unit_off[l] + i
            first = 0
            single = True
            for v in range(nv):
                best = 0
                best_v = feats[0, 0] * poly[v, 0] + feats[0, 1] * poly[v, 1] + feats[0, 2]
                for k in range(1, K):
                    val = feats[k, 0] * poly[v, 0] + feats[k, 1] * poly[v, 1] + feats[k, 2]
                    if val > best_v:
                        best, best_v = k, val
                if v == 0:
                    first = best
                elif best != first:
                    single = False
                    break
            if single:
                cur[i] = feats[first]
                pat[u] = first
                i += 1
                continue
            # split the cell among the features that win somewhere in it
            for k in range(K):
                while nv + K > tmp.shape[0]:
                    st_poly, poly, tmp, tmp2 = _widen(st_poly, poly, tmp, tmp2)
                tmp[:nv] = poly[:nv]
                nt = nv
                for j in range(K):
                    if j == k or nt < 3:
                        continue
                    nt = _clip(tmp, nt, feats[k, 0] - feats[j, 0], feats[k, 1] - feats[j, 1],
                               feats[k, 2] - feats[j, 2], tmp2)
                    tmp, tmp2 = tmp2, tmp
                if nt < 3 or _area(tmp, nt) <= min_area:
                    continue
                if sp == st_nv.shape[0]:
                    st_poly, st_nv, st_layer, st_unit, st_prev, st_cur, st_pat = _grow_stack(
                        st_poly, st_nv, st_layer, st_unit, st_prev, st_cur, st_pat)
                st_poly[sp, :nt] = tmp[:nt]
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


