"""Arbitrary-precision moments, integrated in ``x`` with mpmath and verified.

This path is independent of the double-precision one
(:mod:`maxbounds.constants._double` integrates in probability space): it
integrates densities and survival functions directly,

* largest of K normals:   ``E[Xi^t] = int x^t K phi(x) Phi(x)^(K-1) dx``;
* smallest of K ``|Z|``:  ``E[m^(2t)] = int_0^oo x^(2t) 2K phi(x) erfc(x/sqrt2)^(K-1) dx``;
* largest of K ``|Z|``:   ``E[m^(2t)] = int_0^oo x^(2t) 2K phi(x) erf(x/sqrt2)^(K-1) dx``.

The line is cut into pieces of the law's natural width around its bulk
(found by scanning the log-integrand in double precision), and each value is
computed twice by tanh-sinh quadrature: once on these pieces at
``dps + GUARD`` digits, once on pieces half as wide with ``CHECK_EXTRA`` more digits.  The
value is returned only if the two agree to ``dps + 2`` digits; otherwise the
pieces are halved again,
and after :data:`MAX_REFINEMENTS` failures a :class:`PrecisionError` is
raised.  Digits are therefore verified, not assumed.  Results are cached
(they are immutable mpmath numbers).
"""

from __future__ import annotations

import functools
import math

import mpmath as mp
import numpy as np
from scipy import special

#: Extra working digits beyond the requested ones.
GUARD = 8
#: Extra digits of the second, checking quadrature.
CHECK_EXTRA = 5
#: How often the subdivision is halved before giving up.
MAX_REFINEMENTS = 3


class PrecisionError(ArithmeticError):
    """Two independent quadratures disagreed in the requested digits."""


def _bulk(logf, lo, hi, step, drop):
    """Points ``lo + j*step`` spanning where ``logf > max(logf) - drop``.

    ``logf`` is a vectorised double-precision log-integrand; the returned
    grid brackets the region that carries all but ``exp(-drop)`` of the
    integrand's height, with one extra step on each side.
    """
    grid = np.arange(lo, hi + step, step)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        values = logf(grid)
    # an integrable endpoint singularity (+inf) or NaN does not define the bulk
    values = np.where(np.isfinite(values), values, -np.inf)
    keep = np.flatnonzero(values > values.max() - drop)
    first, last = max(keep[0] - 1, 0), min(keep[-1] + 1, grid.size - 1)
    return [float(x) for x in grid[first : last + 1]]


def _refine(points):
    """Insert the midpoint of every finite piece."""
    finite = [x for x in points if mp.isfinite(x)]
    mids = [(x + y) / 2 for x, y in zip(finite[:-1], finite[1:])]
    return sorted(set(points) | set(mids), key=float)


def _verified_quad(f, points, dps):
    """Integrate ``f`` over consecutive ``points``, twice, and check agreement.

    The first value uses the pieces ``points`` at ``dps + GUARD`` digits; the
    second halves every piece and works with ``CHECK_EXTRA`` more digits, so that the
    two share neither nodes nor rounding.  They must agree to ``dps + 2``
    digits.
    """
    tolerance = mp.mpf(10) ** (-(dps + 2))
    for _ in range(MAX_REFINEMENTS + 1):
        finer = _refine(points)
        a = mp.quad(f, points)
        with mp.extradps(CHECK_EXTRA):
            b = mp.quad(f, finer)
        if abs(a - b) <= tolerance * abs(b):
            return b
        points = finer
    raise PrecisionError(
        f"two quadratures disagree beyond {dps} digits; try fewer digits"
    )


def _drop(dps):
    return (dps + 5) * math.log(10.0)


@functools.lru_cache(maxsize=4096)
def gaussian_max_moment(K: int, t: float, dps: int, absolute: bool = False):
    """``E[Xi^t]`` (or ``E|Xi|^t``) for the largest of ``K`` standard normals."""
    if t == 0:
        return mp.mpf(1)
    if K == 1 and not absolute and t % 2 == 1:
        return mp.mpf(0)  # odd moment of a symmetric law
    centre = 0.0 if K == 1 else -float(special.ndtri(1.0 / K))
    step = min(1.0, 1.0 / (K * math.exp(-centre * centre / 2) / math.sqrt(2 * math.pi)))

    def logf(x):
        return t * np.log(np.abs(x)) - x * x / 2 + (K - 1) * special.log_ndtr(x)

    points = _bulk(logf, centre - 40.0, centre + 40.0, 4 * step, _drop(dps))
    # |x|^t is not smooth at 0: make 0 a breakpoint
    points = [-mp.inf] + sorted(set(points) | {0.0}) + [mp.inf]
    with mp.workdps(dps + GUARD):
        def f(x):
            log_cdf = mp.log(mp.ncdf(x)) if x < 0 else mp.log1p(-mp.ncdf(-x))
            power = abs(x) ** t if absolute else x**t
            return power * K * mp.npdf(x) * mp.exp((K - 1) * log_cdf)

        value = _verified_quad(f, points, dps)
    with mp.workdps(dps):
        return +value


@functools.lru_cache(maxsize=4096)
def chi2_min_moment(K: int, t: float, dps: int):
    """``E[xi^t]`` for the smallest ``xi`` of ``K`` chi-squared(1) values.

    Integrates ``E[m^(2t)] = int_0^oo x^(2t) 2K phi(x) erfc(x/sqrt2)^(K-1) dx``
    for ``m = min |Z_k|`` in ``y = K x``, where the law has unit width for every ``K``:
    ``E[m^(2t)] = K^(-2t) int_0^oo y^(2t) 2 phi(y/K) erfc(y/(K sqrt2))^(K-1) dy``.
    The integral is of order one, which matters because mpmath's quadrature
    error control is absolute.
    """
    if t == 0:
        return mp.mpf(1)

    def logf(y):
        x = y / K
        return 2 * t * np.log(x) - x * x / 2 + (K - 1) * (math.log(2.0) + special.log_ndtr(-x))

    points = _bulk(logf, 0.0, 4000.0, 4.0, _drop(dps))
    points = [0.0] + [y for y in points if y > 0] + [mp.inf]
    with mp.workdps(dps + GUARD):
        Km = mp.mpf(K)
        root2 = mp.sqrt(2)

        def f(y):
            x = y / Km
            return y ** (2 * t) * 2 * mp.npdf(x) * mp.exp((K - 1) * mp.log(mp.erfc(x / root2)))

        value = _verified_quad(f, points, dps) / Km ** (2 * t)
    with mp.workdps(dps):
        return +value


@functools.lru_cache(maxsize=4096)
def chi2_max_moment(K: int, t: float, dps: int):
    """``E[Xi^t]`` for the largest ``Xi`` of ``K`` chi-squared(1) values.

    Integrates ``E[m^(2t)] = int_0^oo x^(2t) 2K phi(x) erf(x/sqrt2)^(K-1) dx``
    for ``m = max |Z_k|``.
    """
    if t == 0:
        return mp.mpf(1)
    centre = -float(special.ndtri(0.5 / K))
    step = min(1.0, 1.0 / (2 * K * math.exp(-centre * centre / 2) / math.sqrt(2 * math.pi)))

    def logf(x):
        log_cdf = np.log1p(-special.erfc(x / math.sqrt(2.0)))
        return 2 * t * np.log(x) - x * x / 2 + (K - 1) * log_cdf

    points = _bulk(logf, 0.0, centre + 40.0, 4 * step, _drop(dps))
    points = [0.0] + [x for x in points if x > 0] + [mp.inf]
    with mp.workdps(dps + GUARD):
        root2 = mp.sqrt(2)

        def f(x):
            log_cdf = mp.log(mp.erf(x / root2)) if x < 1 else mp.log1p(-mp.erfc(x / root2))
            return x ** (2 * t) * 2 * K * mp.npdf(x) * mp.exp((K - 1) * log_cdf)

        value = _verified_quad(f, points, dps)
    with mp.workdps(dps):
        return +value
