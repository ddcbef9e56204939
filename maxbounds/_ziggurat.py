r"""Tables of the ziggurat method for standard normal variates (Marsaglia & Tsang, 2000).

Write :math:`f(x) = e^{-x^2/2}` for :math:`x \ge 0`.  The area under ``f`` is
cut into ``LAYERS`` pieces of equal area ``v``:

* layer 0 is the rectangle :math:`[0, r]\times[0, f(r)]` together with the
  tail :math:`\{x > r,\ y < f(x)\}`, so
  :math:`v = r f(r) + \int_r^\infty f = r f(r) + \sqrt{\pi/2}\,\operatorname{erfc}(r/\sqrt2)`;
  it is given the virtual width :math:`x_0 = v / f(r)`;
* layer ``k = 1 .. LAYERS-1`` is the rectangle
  :math:`[0, x_k]\times[f(x_k), f(x_{k+1})]` of area ``v``, with
  :math:`x_1 = r`, :math:`x_{k+1} = f^{-1}\big(f(x_k) + v/x_k\big)` and
  :math:`x_{\mathrm{LAYERS}} = 0`.

The last condition, :math:`f(x_{L-1}) + v/x_{L-1} = 1`, fixes ``r``; it is
solved here with Brent's method, so no table is typed in.  Sampling (see
:func:`maxbounds.simulate._kernels.normal`): pick a layer ``k`` and a uniform
``U``; :math:`x = U x_k` is accepted at once when :math:`x < x_{k+1}` (the
whole horizontal strip lies under ``f`` there), which happens for about 99%
of draws; otherwise layer 0 samples the tail beyond ``r`` (Marsaglia's
exponential rejection) and the other layers accept ``x`` when a uniform
height in :math:`[f(x_k), f(x_{k+1})]` falls below :math:`f(x)`, else start
over.  A random sign makes the variate symmetric.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq
from scipy.special import erfc

#: Number of layers (a power of two: the layer index is the low bits of one 64-bit draw).
LAYERS = 256


def _f(x):
    return math.exp(-0.5 * x * x)


def _area(r):
    return r * _f(r) + math.sqrt(math.pi / 2) * erfc(r / math.sqrt(2))


def _edges(r):
    """``x_0 .. x_LAYERS`` for base ``r``, or ``None`` if the layers overshoot the top before the last one."""
    v = _area(r)
    x = np.empty(LAYERS + 1)
    x[0], x[1] = v / _f(r), r
    for k in range(1, LAYERS - 1):
        y = _f(x[k]) + v / x[k]
        if y >= 1.0:
            return None
        x[k + 1] = math.sqrt(-2.0 * math.log(y))
    x[LAYERS] = 0.0
    return x


def _top_mismatch(r):
    """``f(x_{L-1}) + v/x_{L-1} - 1``: positive when ``r`` is too small (the layers overshoot the top)."""
    x = _edges(r)
    if x is None:
        return 1.0
    return _f(x[LAYERS - 1]) + _area(r) / x[LAYERS - 1] - 1.0


def tables():
    """``(r, x, ratio, fx)``: base ``r``, edges ``x`` (``LAYERS + 1``), ``x_{k+1}/x_k`` and ``f(x_k)``."""
    r = brentq(_top_mismatch, 2.5, 4.5, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500)
    x = _edges(r)
    ratio = x[1:] / x[:-1]
    fx = np.array([_f(value) for value in x])
    fx[0] = 0.0  # layer 0's strip starts at height 0 (its tail is handled apart)
    return r, x, ratio, fx


R, X, RATIO, FX = tables()
