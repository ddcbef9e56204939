r"""The three order-statistic laws as :mod:`scipy.stats` random variables.

Each law is a :class:`scipy.stats.rv_continuous` with the rank ``K`` as its
shape parameter, so it has the whole scipy interface (``pdf``, ``logpdf``,
``cdf``, ``sf``, ``ppf``, ``isf``, ``rvs``, ``moment``, ``mean``, ``var``,
``interval``, ``expect``, freezing)::

    >>> from maxbounds.constants import gaussian_max
    >>> law = gaussian_max(K=5)
    >>> round(law.moment(2), 10)      # M(5)
    1.800020436

``rvs`` draws one uniform per sample whatever ``K``
(:math:`\Xi_K = F^{-1}(U^{1/K})`), from a :class:`numpy.random.Generator`
passed as ``random_state``.  Freezing checks ``K`` and raises a one-line
error for a bad rank; the unfrozen methods follow scipy and return NaN.  Moments and the variance come from the
quantile-space quadrature of :mod:`._double` (the variance integrates
:math:`(x-\mu)^2` directly, so it suffers no cancellation).

* ``gaussian_max(K)``: cdf :math:`\Phi(x)^K`, pdf :math:`K\varphi(x)\Phi(x)^{K-1}`;
* ``chi2_min(K)``: cdf :math:`1-\operatorname{erfc}(\sqrt{x/2})^K`,
  pdf :math:`K f_1(x)\operatorname{erfc}(\sqrt{x/2})^{K-1}`;
* ``chi2_max(K)``: cdf :math:`\operatorname{erf}(\sqrt{x/2})^K`,
  pdf :math:`K f_1(x)\operatorname{erf}(\sqrt{x/2})^{K-1}`;

with :math:`f_1(x) = e^{-x/2}/\sqrt{2\pi x}` the :math:`\chi^2_1` density.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from .._validate import MAX_RANK, MaxboundsValueError, as_rank
from . import _double, _quantiles
from .moments import chi2_max_moment, chi2_min_moment, gaussian_max_moment

__all__ = ["gaussian_max", "chi2_min", "chi2_max"]

_LOG2 = np.log(2.0)


def _valid_rank(K):
    return (K >= 1) & (K == np.floor(K)) & (K <= MAX_RANK)


def _log_chi2_1_pdf(x):
    return -x / 2 - 0.5 * np.log(2 * np.pi * x)


def _log_abs_sf(x):
    """``log P(|Z| > sqrt x) = log erfc(sqrt(x/2))``, accurate in both tails."""
    r = np.sqrt(x)
    with np.errstate(divide="ignore"):
        return np.where(
            r < 1.0, np.log1p(-special.erf(r / np.sqrt(2.0))), np.log(2.0) + special.log_ndtr(-r)
        )


def _log_abs_cdf(x):
    """``log P(|Z| <= sqrt x) = log erf(sqrt(x/2))``, accurate in both tails."""
    r = np.sqrt(x)
    with np.errstate(divide="ignore"):
        return np.where(r < 1.0, np.log(special.erf(r / np.sqrt(2.0))), np.log1p(-special.erfc(r / np.sqrt(2.0))))


class _OrderStatisticLaw(stats.rv_continuous):
    """Shared machinery: quantiles, sampling, moments and variance."""

    _quantile = None  # set by subclasses to a function (p, q, K) -> x

    def freeze(self, *args, **kwds):
        """Freeze the law at rank ``K``, checking it (a clear error, not NaN)."""
        K = kwds.get("K", args[0] if args else None)
        if K is None:
            raise MaxboundsValueError("K", "the rank K is required, e.g. gaussian_max(K=5)")
        as_rank(K)
        return super().freeze(*args, **kwds)

    __call__ = freeze

    def _shape_info(self):
        return [stats._distn_infrastructure._ShapeInfo("K", True, (1, np.inf), (True, False))]

    def _argcheck(self, K):
        return _valid_rank(K)

    def _ppf(self, p, K):
        return type(self)._quantile(p, 1.0 - p, K)

    def _isf(self, q, K):
        return type(self)._quantile(1.0 - q, q, K)

    def _rvs(self, K, size=None, random_state=None):
        u = random_state.random(size)
        return type(self)._quantile(u, 1.0 - u, K)

    def _stats(self, K):
        mean = self._munp(1, K)
        var = _double.quantile_expectation(type(self)._quantile, _double.centred_square, K, mean)
        return mean, var, None, None


class gaussian_max_gen(_OrderStatisticLaw):
    r"""Largest of ``K`` i.i.d. standard normals, :math:`\Xi(N(0,1), K)`.

    Shape parameter ``K`` (integer rank, ``K >= 1``).  ``K = 1`` is the
    standard normal.
    """

    _quantile = staticmethod(_quantiles.gaussian_max_quantile)

    def _logpdf(self, x, K):
        return np.log(K) + stats.norm.logpdf(x) + (K - 1) * special.log_ndtr(x)

    def _pdf(self, x, K):
        return np.exp(self._logpdf(x, K))

    def _logcdf(self, x, K):
        return K * special.log_ndtr(x)

    def _cdf(self, x, K):
        return np.exp(self._logcdf(x, K))

    def _sf(self, x, K):
        return -np.expm1(self._logcdf(x, K))

    def _munp(self, n, K):
        return gaussian_max_moment(K, n)


class chi2_min_gen(_OrderStatisticLaw):
    r"""Smallest of ``K`` i.i.d. :math:`\chi^2_1` values, :math:`\xi(\chi^2_1, K)`.

    Shape parameter ``K`` (integer rank, ``K >= 1``).  ``K = 1`` is
    :math:`\chi^2_1`.  Its mean is :math:`S(K)`.
    """

    _quantile = staticmethod(_quantiles.chi2_min_quantile)

    def _logpdf(self, x, K):
        return np.log(K) + _log_chi2_1_pdf(x) + (K - 1) * _log_abs_sf(x)

    def _pdf(self, x, K):
        return np.exp(self._logpdf(x, K))

    def _logsf(self, x, K):
        return K * _log_abs_sf(x)

    def _sf(self, x, K):
        return np.exp(self._logsf(x, K))

    def _cdf(self, x, K):
        return -np.expm1(self._logsf(x, K))

    def _munp(self, n, K):
        return chi2_min_moment(K, n)


class chi2_max_gen(_OrderStatisticLaw):
    r"""Largest of ``K`` i.i.d. :math:`\chi^2_1` values, :math:`\Xi(\chi^2_1, K)`.

    Shape parameter ``K`` (integer rank, ``K >= 1``).  ``K = 1`` is
    :math:`\chi^2_1`.  Its mean is :math:`L(K)`.
    """

    _quantile = staticmethod(_quantiles.chi2_max_quantile)

    def _logpdf(self, x, K):
        return np.log(K) + _log_chi2_1_pdf(x) + (K - 1) * _log_abs_cdf(x)

    def _pdf(self, x, K):
        return np.exp(self._logpdf(x, K))

    def _logcdf(self, x, K):
        return K * _log_abs_cdf(x)

    def _cdf(self, x, K):
        return np.exp(self._logcdf(x, K))

    def _sf(self, x, K):
        return -np.expm1(self._logcdf(x, K))

    def _munp(self, n, K):
        return chi2_max_moment(K, n)


gaussian_max = gaussian_max_gen(name="gaussian_max")
chi2_min = chi2_min_gen(a=0.0, name="chi2_min")
chi2_max = chi2_max_gen(a=0.0, name="chi2_max")
