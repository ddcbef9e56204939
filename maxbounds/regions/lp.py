r"""The region count with one linear program per candidate region (reference method and baseline).

This is the method of the 2021 paper's code, written independently of the
polygon splitting: no vertices, no clipping.  A cell is a list of linear
inequalities :math:`a\cdot(s, t) + c \ge 0` (the box's four sides first).
Unit by unit, each candidate child :math:`\{\zeta_k \ge \zeta_j\ \forall j\}`
of each cell is kept if the Chebyshev linear program

.. math::

    \max r \quad\text{s.t.}\quad a\cdot z + c \ge r\lVert a\rVert
    \ \text{for every inequality}

has :math:`r^* > \text{tol}` (the child has an interior), solved with
HiGHS through :func:`scipy.optimize.linprog`.  It costs ``K`` linear
programs per cell and unit, which is why the exact splitting exists; it is
kept as an independent check of the count and as the baseline of the
benchmarks.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog

from .network import Network, check_network
from .plane import make_slice

__all__ = ["lp_count_plane_regions"]


def _interior_radius(A, c):
    """Largest ``r`` with a disk of radius ``r`` inside ``{z : A z + c >= 0}`` (0 if empty)."""
    norms = np.linalg.norm(A, axis=1)
    keep = norms > 0
    if not np.all(c[~keep] >= 0):
        return 0.0
    A, c, norms = A[keep], c[keep], norms[keep]
    # variables (s, t, r); minimise -r subject to -A z + |a| r <= c
    res = linprog(np.array([0.0, 0.0, -1.0]), A_ub=np.column_stack([-A, norms]), b_ub=c,
                  bounds=[(None, None), (None, None), (0.0, None)], method="highs")
    return float(res.x[2]) if res.status == 0 else 0.0


def lp_count_plane_regions(net: Network, box=(-1.0, 1.0), plane=None, *, tol: float = 1e-9,
                           return_lps: bool = False):
    """Count the activation regions in the slice with one LP per candidate region.

    ``tol`` is the smallest inradius counted, relative to the box's shorter
    side.  With ``return_lps`` the result is ``(regions, linear_programs)``.
    """
    net = check_network(net)
    sl = make_slice(net.n_in, box, plane)
    (s0, s1), (t0, t1) = sl.s_range, sl.t_range
    radius_tol = tol * min(s1 - s0, t1 - t0)
    A_box = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    c_box = np.array([-s0, s1, -t0, t1])
    hidden = net.layers[:-1]
    # a stack item: (A, c, layer, unit, prev map (n_{l-1}, 3), current map rows so far)
    stack = [(A_box, c_box, 0, 0, sl.affine(), [])]
    regions = 0
    lps = 0
    while stack:
        A, c, l, i, prev, cur = stack.pop()
        while True:
            if l == len(hidden):
                regions += 1
                break
            W, b = hidden[l]
            if i == W.shape[0]:
                prev, cur, l, i = np.array(cur), [], l + 1, 0
                continue
            feats = W[i] @ prev
            feats[:, 2] += b[i]
            K = feats.shape[0]
            if K == 1:
                cur = cur + [feats[0]]
                i += 1
                continue
            children = []
            for k in range(K):
                diff = np.delete(feats[k] - feats, k, axis=0)
                A_k = np.vstack([A, diff[:, :2]])
                c_k = np.concatenate([c, diff[:, 2]])
                lps += 1
                if _interior_radius(A_k, c_k) > radius_tol:
                    children.append((A_k, c_k, l, i + 1, prev, cur + [feats[k]]))
            stack.extend(children)
            break
    return (regions, lps) if return_lps else regions
