r"""Moments of the order-statistic laws: the constants of every bound.

Notation (docs/constants.md):

* :math:`\Xi_K = \max(Z_1, \dots, Z_K)`, the largest of :math:`K` i.i.d.
  standard normals, density :math:`K\varphi(x)\Phi(x)^{K-1}`;
  :math:`M_t(K) = E[\Xi_K^t]` and :math:`M(K) = M_2(K)`.
* :math:`\xi_K = \min(Z_1^2, \dots, Z_K^2)` and
  :math:`\Xi^{\chi}_K = \max(Z_1^2, \dots, Z_K^2)`, the smallest and largest of
  :math:`K` i.i.d. :math:`\chi^2_1` values;
  :math:`S_t(K) = E[\xi_K^t]`, :math:`L_t(K) = E[(\Xi^{\chi}_K)^t]`,
  :math:`S = S_1`, :math:`L = L_1`.

Every function is vectorised over arrays of ``K`` (and ``t``), computes in
double precision by default (relative error below ``1e-12`` for
``1 <= K <= 10**6`` and ``0 <= t <= 8``; see :mod:`._double`), and with
``dps=N`` returns :class:`mpmath.mpf` values whose ``N`` digits were checked
by two independent quadratures (see :mod:`._precise`).
"""

from __future__ import annotations

import functools
import math

import mpmath as mp
import numpy as np

from .. import _validate
from . import _double, _precise, _quantiles

__all__ = [
    "M",
    "S",
    "L",
    "gaussian_max_moment",
    "chi2_min_moment",
    "chi2_max_moment",
    "OutOfRangeError",
    "constant",
]


class OutOfRangeError(ArithmeticError):
    """A value lies outside the double-precision range; use ``log=True`` or ``dps=``."""


def _is_integral(t) -> np.ndarray:
    return np.floor(t) == t


def _finish(values, scalar: bool):
    if scalar:
        return values.reshape(()).item() if isinstance(values, np.ndarray) else values
    return values


def _precise_map(function, K, t, dps, log, **kwargs):
    """Apply a scalar mpmath ``function(K, t, dps)`` over broadcast arrays."""
    Kb, tb = np.broadcast_arrays(K, t)
    out = np.empty(Kb.shape, dtype=object)
    for index in np.ndindex(Kb.shape):
        value = function(int(Kb[index]), float(tb[index]), dps, **kwargs)
        if log:
            with mp.workdps(dps):
                value = mp.log(value) if value > 0 else _log_of_nonpositive()
        out[index] = value
    return out


def _log_of_nonpositive():
    raise _validate.MaxboundsValueError(
        "log", "the moment is not positive (an odd moment of a symmetric law), so it has no logarithm"
    )


def gaussian_max_moment(K, t=2, *, absolute: bool = False, dps: int | None = None, log: bool = False):
    r"""Moment :math:`M_t(K) = E[\Xi_K^t]` of the largest of ``K`` standard normals.

    .. math:: M_t(K) = \int_{-\infty}^{\infty} x^t\, K\varphi(x)\Phi(x)^{K-1}\,dx
              = \int_0^1 \big(\Phi^{-1}(p^{1/K})\big)^t\,dp .

    Parameters
    ----------
    K : int or array_like of int
        Rank, ``K >= 1``.
    t : float or array_like, default 2
        Order, ``0 <= t <= 32``.  :math:`\Xi_K` takes negative values, so
        :math:`E[\Xi_K^t]` is real only for integer ``t``; for other ``t`` pass
        ``absolute=True`` to get :math:`E|\Xi_K|^t`.
    absolute : bool
        Return :math:`E|\Xi_K|^t` instead.
    dps : int, optional
        Decimal digits for the arbitrary-precision path (``mpmath.mpf`` result).
    log : bool
        Return the natural logarithm of the moment.

    Returns
    -------
    float, ndarray, mpmath.mpf or ndarray of mpmath.mpf
    """
    K, t = _validate.as_rank(K), _validate.as_order(t)
    dps = _validate.as_dps(dps)
    scalar = K.ndim == 0 and t.ndim == 0
    if not absolute and not np.all(_is_integral(t)):
        raise _validate.MaxboundsValueError(
            "t",
            "E[Xi^t] is not real for non-integer t (the largest of K normals can be negative); "
            "pass absolute=True for E|Xi|^t",
        )
    if dps is not None:
        return _finish(_precise_map(_precise.gaussian_max_moment, K, t, dps, log, absolute=absolute), scalar)
    integrand = _double.abs_power if absolute else _double.power
    kink = 0.5**K if absolute else None  # |x|^t has a kink where Xi = 0, at p = 2^-K
    values = _double.quantile_expectation(_quantiles.gaussian_max_quantile, integrand, K, t, kink=kink)
    values = np.where(t == 0, 1.0, values)
    if not absolute:
        # odd moments of a single normal vanish by symmetry
        values = np.where((K == 1) & (t % 2 == 1), 0.0, values)
    if log:
        if np.any(values <= 0):
            _log_of_nonpositive()
        values = np.log(values)
    return _finish(np.asarray(values, dtype=float), scalar)


def chi2_max_moment(K, t=1, *, dps: int | None = None, log: bool = False):
    r"""Moment :math:`L_t(K)` of the largest of ``K`` chi-squared(1) values.

    .. math:: L_t(K) = E\big[\max_k Z_k^{2t}\big]
              = \int_0^1 \big(\sqrt2\,\operatorname{erf}^{-1}(p^{1/K})\big)^{2t}\,dp .

    Parameters are as in :func:`gaussian_max_moment`; ``t`` may be any real
    order in ``[0, 32]``.
    """
    K, t = _validate.as_rank(K), _validate.as_order(t)
    dps = _validate.as_dps(dps)
    scalar = K.ndim == 0 and t.ndim == 0
    if dps is not None:
        return _finish(_precise_map(_precise.chi2_max_moment, K, t, dps, log), scalar)
    values = _double.quantile_expectation(_quantiles.chi2_max_quantile, _double.power, K, t)
    values = np.where(t == 0, 1.0, values)
    if log:
        values = np.log(values)
    return _finish(np.asarray(values, dtype=float), scalar)


def chi2_min_moment(K, t=1, *, dps: int | None = None, log: bool = False):
    r"""Moment :math:`S_t(K)` of the smallest of ``K`` chi-squared(1) values.

    .. math:: S_t(K) = E\big[\min_k Z_k^{2t}\big]
              = K^{-2t}\int_0^1 \big(K^2\,\xi(p)\big)^{t}\,dp,
              \qquad \sqrt{\xi(p)} = \sqrt2\,\operatorname{erfc}^{-1}\big((1-p)^{1/K}\big).

    The integrand is scaled by :math:`K^{2t}` (``K sqrt(xi)`` has a limit law,
    exponential with rate :math:`\sqrt{2/\pi}`), so the quadrature works on
    numbers of order one; the factor :math:`K^{-2t}` is applied last, in
    log-space when ``log=True``.  Without ``log``, a value below the double
    range raises :class:`OutOfRangeError` rather than returning 0.
    """
    K, t = _validate.as_rank(K), _validate.as_order(t)
    dps = _validate.as_dps(dps)
    scalar = K.ndim == 0 and t.ndim == 0
    if dps is not None:
        return _finish(_precise_map(_precise.chi2_min_moment, K, t, dps, log), scalar)
    Kf = K.astype(float)
    scaled = _double.quantile_expectation(_quantiles.chi2_min_quantile, _double.scaled_power, K, t, Kf * Kf)
    log_values = np.where(t == 0, 0.0, np.log(scaled) - 2.0 * t * np.log(Kf))
    if log:
        return _finish(np.asarray(log_values, dtype=float), scalar)
    if np.any(log_values < math.log(np.finfo(float).tiny)):
        worst = float(np.min(log_values)) / math.log(10.0)
        raise OutOfRangeError(
            f"S_t(K) is about 1e{worst:.0f}, below the double-precision range; "
            "pass log=True or dps=..."
        )
    return _finish(np.asarray(np.exp(log_values), dtype=float), scalar)


@functools.lru_cache(maxsize=1024)
def constant(name: str, K: int) -> float:
    """``M(K)``, ``S(K)`` or ``L(K)`` for one integer rank, cached.

    For code that needs the same constant many times (deep networks with
    repeated ranks); ``name`` is ``"M"``, ``"S"`` or ``"L"``.
    """
    function = {"M": M, "S": S, "L": L}.get(name)
    if function is None:
        raise _validate.MaxboundsValueError("name", f"expected 'M', 'S' or 'L', got {name!r}")
    return float(function(int(_validate.as_rank(K))))


def M(K, *, dps: int | None = None):
    r""":math:`M(K) = E[\Xi_K^2]`, the second moment of the largest of ``K`` standard normals."""
    return gaussian_max_moment(K, 2, dps=dps)


def S(K, *, dps: int | None = None):
    r""":math:`S(K) = E[\min_k Z_k^2]`, the mean of the smallest of ``K`` chi-squared(1) values."""
    return chi2_min_moment(K, 1, dps=dps)


def L(K, *, dps: int | None = None):
    r""":math:`L(K) = E[\max_k Z_k^2]`, the mean of the largest of ``K`` chi-squared(1) values."""
    return chi2_max_moment(K, 1, dps=dps)
