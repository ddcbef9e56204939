r"""Prototype (not part of maxbounds): explicit networks that draw two normals per piece instead of a weight row.

For one input the pair :math:`(\zeta_{ik}, w_{ik}) = (W_{ik}\cdot x_{l-1},\ W_{ik}\cdot u_{l-1})`
of unit ``i``, piece ``k`` is bivariate normal with covariance
:math:`(c_l/n_{l-1})\,G`, :math:`G` the Gram matrix of :math:`(x_{l-1}, u_{l-1})`,
and pairs of different rows are independent.  With :math:`a = \lVert x\rVert^2`,
:math:`b = x\cdot u`, :math:`d = \lVert u\rVert^2` and :math:`g_1, g_2` standard normals:

.. math:: \zeta = \sigma\sqrt a\,g_1,\qquad w = \sigma\bigl(b/\sqrt a\,g_1 + \sqrt{d - b^2/a}\,g_2\bigr),

(:math:`\zeta = 0`, :math:`w = \sigma\sqrt d\,g_2` when :math:`a = 0`).  So
:math:`\lVert J_N(x)u\rVert^2` has the same law at :math:`O(K_l n_l)` cost per
layer instead of :math:`O(K_l n_l n_{l-1})`.  It measures how far drawing less
would close the explicit sampler's gap to batched PyTorch (docs/benchmarks.md).
Zero biases only.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from maxbounds.simulate import _kernels


@numba.njit(parallel=True)  # not cached: it would keep stale copies of the maxbounds kernels it calls
def _kernel(x0, u0, widths, ranks, sds, samples, seed, out):
    L = ranks.shape[0]
    width_max = 0
    for layer in range(L + 1):
        width_max = max(width_max, widths[layer])
    for s in numba.prange(samples):
        rng = np.empty(4, dtype=np.uint64)
        _kernels.seed_stream(rng, seed, np.uint64(s))
        x = np.zeros(width_max)
        v = np.zeros(width_max)
        n0 = widths[0]
        x[:n0] = x0
        v[:n0] = u0
        for layer in range(L):
            n_prev, n, K = widths[layer], widths[layer + 1], ranks[layer]
            a, b, d = 0.0, 0.0, 0.0
            for j in range(n_prev):
                a += x[j] * x[j]
                b += x[j] * v[j]
                d += v[j] * v[j]
            sa = math.sqrt(a)
            along = b / sa if a > 0.0 else 0.0
            across = math.sqrt(max(d - along * along, 0.0))
            sd = sds[layer]
            s0, s1, s2, s3 = rng[0], rng[1], rng[2], rng[3]  # the state in registers (normal_step)
            for i in range(n):
                best_z, best_w = 0.0, 0.0
                for k in range(K):
                    g1, s0, s1, s2, s3 = _kernels.normal_step(s0, s1, s2, s3)
                    g2, s0, s1, s2, s3 = _kernels.normal_step(s0, s1, s2, s3)
                    z = sd * sa * g1
                    w = sd * (along * g1 + across * g2)
                    if k == 0 or z > best_z:
                        best_z, best_w = z, w
                x[i], v[i] = best_z, best_w
            rng[0], rng[1], rng[2], rng[3] = s0, s1, s2, s3
        total = 0.0
        for i in range(widths[L]):
            total += v[i] * v[i]
        out[s] = total


def dense_samples(arch, x, u, samples: int, seed: int) -> np.ndarray:
    r""":math:`\lVert J_N(x)u\rVert^2` of ``samples`` networks (``u`` scaled to unit length; zero biases)."""
    if any(b > 0 for b in arch.bias_var):
        raise ValueError("the projected prototype draws no biases; use bias_var=0")
    scales = arch.scales()
    sds = np.array([math.sqrt(scales[l] / arch.widths[l]) for l in range(arch.depth)])
    u = np.asarray(u, float) / np.linalg.norm(u)
    out = np.empty(samples)
    _kernel(np.asarray(x, float), u, np.asarray(arch.widths, dtype=np.int64),
            np.asarray(tuple(arch.ranks) + (1,), dtype=np.int64), sds, samples, np.uint64(seed), out)
    return out
