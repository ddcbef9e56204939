"""Accurate quantile functions of the three order-statistic laws.

Each function takes a probability ``p`` *and its complement* ``q = 1 - p``
(both given, so that tail probabilities far below machine epsilon stay
exact) and the rank ``K``.  They are the one place where the laws are
inverted; the distribution objects (:mod:`maxbounds.constants.laws`), the
samplers and the double-precision moments
(:mod:`maxbounds.constants._double`) all call them.

With ``r = p**(1/K)`` and ``1 - r`` both computed without cancellation
(:func:`kth_root_pair`):

* largest of K standard normals:  ``Q(p) = Phi^{-1}(p**(1/K))``;
* largest of K values ``|Z|``:    ``Q(p) = sqrt(2) erfinv(p**(1/K))``, since
  ``P(|Z| <= x) = erf(x / sqrt 2)``;
* smallest of K values ``|Z|``:   ``Q(p) = sqrt(2) erfcinv(q**(1/K))``, since
  ``P(min |Z| > x) = erfc(x / sqrt 2)**K``.

The chi-squared(1) order statistics are the squares of the last two.
"""

from __future__ import annotations

import numpy as np
from scipy import special

_SQRT2 = np.sqrt(2.0)


def kth_root_pair(p, q, K):
    """Return ``(r, 1 - r)`` for ``r = p**(1/K)``, each to full relative precision.

    ``log p`` is taken from ``p`` when ``p < 1/2`` and as ``log1p(-q)``
    otherwise; then ``r = exp(log p / K)`` and ``1 - r = -expm1(log p / K)``.
    """
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    with np.errstate(divide="ignore"):
        log_p = np.where(p < 0.5, np.log(p), np.log1p(-q))
    scaled = log_p / K
    return np.exp(scaled), -np.expm1(scaled)


def gaussian_max_quantile(p, q, K):
    """Quantile of the largest of ``K`` standard normals: ``Phi^{-1}(p**(1/K))``."""
    r, r_c = kth_root_pair(p, q, K)
    return np.where(r < 0.5, special.ndtri(r), -special.ndtri(r_c))


def abs_max_quantile(p, q, K):
    """Quantile of the largest of ``K`` values ``|Z|``: ``sqrt(2) erfinv(p**(1/K))``."""
    r, r_c = kth_root_pair(p, q, K)
    return _SQRT2 * np.where(r < 0.5, special.erfinv(r), special.erfcinv(r_c))


def abs_min_quantile(p, q, K):
    """Quantile of the smallest of ``K`` values ``|Z|``: ``sqrt(2) erfcinv(q**(1/K))``."""
    s, s_c = kth_root_pair(q, p, K)
    return _SQRT2 * np.where(s < 0.5, special.erfcinv(s), special.erfinv(s_c))


def chi2_max_quantile(p, q, K):
    """Quantile of the largest of ``K`` chi-squared(1) values."""
    return abs_max_quantile(p, q, K) ** 2


def chi2_min_quantile(p, q, K):
    """Quantile of the smallest of ``K`` chi-squared(1) values."""
    return abs_min_quantile(p, q, K) ** 2
