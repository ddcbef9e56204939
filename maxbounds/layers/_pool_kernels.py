r"""Numba kernels of :class:`maxbounds.layers.MaxPool2d`: forward with JVP and backward (no parameters).

``sel[out]`` is the flat index (into the input map) of the window's largest input, the first in row-major
order on ties.
"""

from __future__ import annotations

import numba

from .._numba_cache import refresh_stale_cache

refresh_stale_cache()  # before any kernel is compiled or loaded: a cache of other sources is removed

_jit = numba.njit(cache=True, nogil=True, fastmath=False)


@_jit
def pool_forward(x, v, C, H, Wd, p, x_out, v_out, sel, jvp):
    Ho, Wo = H // p, Wd // p
    for c in range(C):
        for ho in range(Ho):
            for wo in range(Wo):
                best, best_idx = 0.0, -1
                for dy in range(p):
                    for dx in range(p):
                        idx = (c * H + ho * p + dy) * Wd + wo * p + dx
                        if best_idx < 0 or x[idx] > best:
                            best, best_idx = x[idx], idx
                out = (c * Ho + ho) * Wo + wo
                x_out[out] = best
                sel[out] = best_idx
                if jvp:
                    v_out[out] = v[best_idx]


@_jit
def pool_vjp(d_out, n_in, width, sel, d_in):
    for i in range(n_in):
        d_in[i] = 0.0
    for out in range(width):
        d_in[sel[out]] += d_out[out]
