r"""Moments of sums of i.i.d. order statistics, for integer and real orders.

The stochastic-order bounds of the Jacobian (docs/bounds.md), the curve
length bounds (section 5) and fractional-moment initialisation (section 7) all
need

.. math:: E\Big[\Big(\sum_{i=1}^{n} X_i\Big)^t\Big],
          \qquad X_i \ \text{i.i.d.}, \quad n \ge 1,\ 0 \le t \le 32,

for three laws of :math:`X`:

* ``"chi2_min"``: :math:`X = \xi_K`, the smallest of :math:`K` values
  :math:`\chi^2_1`, with :math:`E[X^j] = S_j(K)`;
* ``"chi2_max"``: :math:`X = \Xi^\chi_K`, the largest of :math:`K` values
  :math:`\chi^2_1`, with :math:`E[X^j] = L_j(K)`;
* ``"gaussian_max_sq"``: :math:`X = \Xi_K^2`, the square of the largest of
  :math:`K` standard normals, with :math:`E[X^j] = M_{2j}(K)`.

Results are returned as natural logarithms (:func:`iid_sum_log_moment`), so
that products over thousands of layers stay in range.  The derivation and the
measured accuracy are in ``docs/sums.md``; in brief, with
:math:`\mu = E[X]`, :math:`\tilde X = X/\mu` and the sample mean
:math:`\bar Y = \frac1n\sum_i \tilde X_i`,

.. math:: \log E\Big[\Big(\sum_i X_i\Big)^t\Big] = t\log(n\mu) + \log E[\bar Y^t],

and :math:`E[\bar Y^t]` is a number of order one:

* **integer** :math:`t`: the exponential generating function of the moments
  of :math:`\bar Y` is the :math:`n`-th power of that of :math:`\tilde X/n`;
  its coefficients follow from J.C.P. Miller's recurrence (all terms
  non-negative once :math:`n \ge t`) or, for :math:`n < t`, from binary
  powering in which every step is a sum of non-negative terms;
* **real** :math:`t = m - a` with :math:`m = \lfloor t\rfloor + 2` and
  :math:`a \in (1, 2)`: from :math:`y^{-a} = \Gamma(a)^{-1}\int_0^\infty
  v^{a-1}e^{-vy}\,dv`,

  .. math:: E[\bar Y^t] = \frac{1}{\Gamma(a)} \int_0^\infty v^{a-1}\,
            \psi(v/n)^n\, E_{v/n}\big[\bar Y^{m}\big]\, dv,

  where :math:`\psi(w) = E[e^{-w\tilde X}]` and :math:`E_w` is the
  expectation under which the :math:`\tilde X_i` are i.i.d. with the
  exponentially tilted law :math:`e^{-wx}P(\tilde X\in dx)/\psi(w)`.  The
  integer moment :math:`E_w[\bar Y^m]` comes from the tilted moments
  :math:`E[\tilde X^j e^{-w\tilde X}]/\psi(w)` exactly as in the integer case,
  and :math:`n\log\psi(w)` is formed as :math:`n\,\mathrm{log1p}(-E[1 -
  e^{-w\tilde X}])`, so that no cancellation grows with :math:`n`.

Every expectation over one :math:`X` is a tanh-sinh quadrature in probability
space (the accurate quantiles of :mod:`maxbounds.constants._quantiles`); the
integral over :math:`v` is an exp-sinh quadrature.  Both rules are evaluated
at two nested step sizes and the difference of the final results is checked:
:class:`~maxbounds.constants._double.ConvergenceError` is raised if either
check fails.  Measured relative error of the moment: below ``2e-13`` for
``1 <= n <= 2**50``, ``1 <= K <= 10**6``, ``0 <= t <= 32`` (``docs/sums.md``).
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np
from scipy import special

from .._validate import MaxboundsValueError, as_counts, as_order, as_rank
from ..constants import _quantiles
from ..constants._double import ConvergenceError
from ..constants.moments import OutOfRangeError

__all__ = ["LAWS", "iid_sum_log_moment", "iid_sum_moment", "chi2_log_moment"]

#: The laws of one summand understood by :func:`iid_sum_log_moment`.
LAWS = ("chi2_min", "chi2_max", "gaussian_max_sq")

#: Largest width accepted: widths are used as floating-point numbers, and
#: every integer up to 2**53 is exact in double precision.
MAX_WIDTH = 2**53

_LN2 = math.log(2.0)
#: Relative difference allowed between the results of two nested step sizes.
#: The tanh-sinh error roughly squares when the step is halved, so a
#: difference of 1e-8 leaves an error near 1e-16 in the finer result.
_CHECK_TOL = 1e-8
#: Step levels (step 2**-level) of the probability-space rule.
_INNER_LEVELS = (6, 7)
#: Step levels of the exp-sinh rule over v.
_OUTER_LEVELS = (4, 5, 6, 7)
#: Range of the exp-sinh variable s, v = exp((pi/2) sinh s): v from e^-70 to e^116.
_OUTER_RANGE = (-4.5, 5.0)
#: Smallest probability used as a node (the quantiles are exact down to here).
_SMALLEST_P = 1e-300


# --------------------------------------------------------------------------
# argument checking
# --------------------------------------------------------------------------


def _as_law(law) -> str:
    if not isinstance(law, str) or law not in LAWS:
        raise MaxboundsValueError("law", f"must be one of {', '.join(map(repr, LAWS))}, got {law!r}")
    return law


def _as_width(n, argument: str = "n") -> np.ndarray:
    """Return ``n`` as an int64 array, checking ``1 <= n <= MAX_WIDTH`` and integrality."""
    return as_counts(n, argument, "width", MAX_WIDTH)


def _finish(values: np.ndarray, scalar: bool):
    return float(values.reshape(())) if scalar else values


# --------------------------------------------------------------------------
# chi-squared moments in closed form
# --------------------------------------------------------------------------

#: B_{2k} / (2k (2k - 1)) for k = 1..8: the coefficients of Stirling's series.
_STIRLING = np.array(
    [1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156, -3617 / 122400]
)
#: Below this argument the Stirling series is reached by the recurrence Gamma(x+1) = x Gamma(x).
_STIRLING_FROM = 20.0


def _log_gamma_ratio(x, t):
    r"""Return :math:`\log\Gamma(x+t) - \log\Gamma(x)` for ``x > 0``, ``t >= 0``, without cancellation.

    ``gammaln(x + t) - gammaln(x)`` loses the absolute accuracy of two numbers
    of size :math:`x\log x` (about ``1e-9`` at ``x = 5e5``).  Instead, for
    :math:`x \ge 20` Stirling's series is differenced term by term,

    .. math:: (x - \tfrac12)\,\mathrm{log1p}(t/x) + t\log(x+t) - t
              + \sum_{k=1}^{8} \frac{B_{2k}}{2k(2k-1)}
                \big[(x+t)^{1-2k} - x^{1-2k}\big],

    (truncation error below ``1e-20``), and smaller ``x`` are first shifted
    up with :math:`\Gamma(x+1) = x\Gamma(x)`.  The absolute error is a few
    units in the last place of :math:`t\log x`.
    """
    x, t = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(t, dtype=float))
    shift = np.maximum(np.ceil(_STIRLING_FROM - x), 0.0)
    correction = np.zeros(x.shape)
    for i in range(int(shift.max(initial=0.0))):
        active = i < shift
        correction -= np.where(active, np.log1p(t / (x + i)), 0.0)
    y = x + shift
    total = (y - 0.5) * np.log1p(t / y) + t * np.log(y + t) - t
    for k, coefficient in enumerate(_STIRLING, start=1):
        total += coefficient * ((y + t) ** (1 - 2 * k) - y ** (1 - 2 * k))
    return np.where(t == 0, 0.0, total + correction)


def chi2_log_moment(n, t):
    r"""Logarithm of the moment :math:`E[(\chi^2_n)^t]` of a chi-squared law with ``n`` degrees of freedom.

    .. math:: \log E[(\chi^2_n)^t] = t\log 2 + \log\Gamma\big(\tfrac n2 + t\big)
              - \log\Gamma\big(\tfrac n2\big).

    The difference of log-gamma functions is formed without cancellation
    (:func:`_log_gamma_ratio`), so the result has a relative error of a few
    ``1e-16`` even for ``n = 10**9``, where the two log-gamma values are near
    ``1e10``.

    Parameters
    ----------
    n : int or array_like of int
        Degrees of freedom, ``1 <= n <= 2**53`` (in the bounds: the number of
        outputs :math:`n_L`).
    t : float or array_like
        Order, ``0 <= t <= 32``.

    Returns
    -------
    float or ndarray
        :math:`\log E[(\chi^2_n)^t]`, broadcast over ``n`` and ``t``; ``0`` at ``t = 0``.

    Examples
    --------
    >>> import math
    >>> round(math.exp(chi2_log_moment(3, 1)), 12)   # the mean is n
    3.0
    >>> round(math.exp(chi2_log_moment(2, 0.5)) ** 2, 12)   # (sqrt(2) Gamma(3/2))^2 = pi/2
    1.570796326795
    """
    n, t = _as_width(n), as_order(t)
    scalar = n.ndim == 0 and t.ndim == 0
    values = t * _LN2 + _log_gamma_ratio(n.astype(float) / 2.0, t)
    return _finish(np.asarray(values, dtype=float), scalar)


# --------------------------------------------------------------------------
# expectations over one summand: tanh-sinh in probability space
# --------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _half_rule(level: int):
    r"""Tanh-sinh rule on ``(0, 1/2)``: nodes ``p``, fine weights, coarse weights.

    ``p = expit(pi sinh s) / 2`` with ``s = k h``, ``h = 2**-level``.  The
    nodes cluster double-exponentially at ``p = 0`` (kept down to
    ``1e-300``, where peaked or growing integrands live) and at ``p = 1/2``
    (cut where the weights fall below ``1e-20``: the integrands are bounded
    there).  The coarse rule (step ``2h``) uses the even nodes only.
    """
    h = 2.0**-level
    s_left = math.asinh(-math.log(_SMALLEST_P) / math.pi)
    s_right = math.asinh(46.0 / math.pi)
    k = np.arange(-math.floor(s_left / h), math.ceil(s_right / h) + 1)
    s = k * h
    z = np.pi * np.sinh(s)
    p = 0.5 * special.expit(z)
    weight = h * 0.5 * np.pi * np.cosh(s) * special.expit(z) * special.expit(-z)
    keep = p >= _SMALLEST_P
    p, weight, k = p[keep], weight[keep], k[keep]
    coarse = np.where(k % 2 == 0, 2.0 * weight, 0.0)
    for array in (p, weight, coarse):
        array.setflags(write=False)
    return p, weight, coarse


def _positive_part_lower(s, K):
    r"""Square of the largest of ``K`` normals given that it is positive, at probability ``s <= 1/2``.

    Given :math:`\Xi_K > 0`, :math:`P(\Xi_K \le x) = (\Phi(x)^K - 2^{-K})/(1 - 2^{-K})`,
    so the quantile solves :math:`\Phi(x)^K = 2^{-K}(1 + (2^K - 1)s)`.  With
    :math:`\ell = \log(1 + (2^K-1)s)` (a ``logaddexp``, exact for tiny
    ``s``), :math:`2\Phi(x) - 1 = \mathrm{expm1}(\ell/K)`, so
    :math:`x = \sqrt2\,\mathrm{erfinv}(\mathrm{expm1}(\ell/K))` without
    cancellation near :math:`x = 0`; where :math:`\Phi(x) > 3/4` the
    complement :math:`1 - \Phi(x) = -\mathrm{expm1}(\log\Phi(x)^K / K)`
    feeds ``erfcinv`` instead.
    """
    log_s = np.log(s)
    log_keep = math.log1p(-(2.0**-K))  # log(1 - 2^-K); 2.0**-K is 0.0 for K > 1074
    ell = np.logaddexp(0.0, K * _LN2 + log_keep + log_s)
    log_cdf = np.logaddexp(-K * _LN2, log_keep + log_s)  # log Phi(x)^K
    z = np.expm1(ell / K)
    tail = -np.expm1(log_cdf / K)
    # both branches are evaluated; each is accurate where it is selected
    x = np.where(z <= 0.5, special.erfinv(z), special.erfcinv(2.0 * tail))
    return 2.0 * x * x


def _positive_part_upper(sigma, K):
    r"""As :func:`_positive_part_lower`, at probability ``1 - sigma`` (``sigma <= 1/2``)."""
    log_keep = math.log1p(-(2.0**-K))
    log_cdf = np.log1p(-math.exp(log_keep) * sigma)
    tail = -np.expm1(log_cdf / K)
    z = 2.0 * np.exp(log_cdf / K) - 1.0
    x = np.where(2.0 * tail <= 0.5, special.erfcinv(2.0 * tail), special.erfinv(z))
    return 2.0 * x * x


class _Rule(NamedTuple):
    """Nodes of one summand, scaled by its mean, with fine and coarse weights (each summing to 1)."""

    x: np.ndarray
    fine: np.ndarray
    coarse: np.ndarray
    log_mean: float


@functools.lru_cache(maxsize=64)
def _summand_rule(law: str, K: int, level: int) -> _Rule:
    r"""Quadrature rule for :math:`E[g(X)] = \int_0^1 g(Q(p))\,dp` for one summand ``X``.

    The probability interval is split at ``1/2`` and the upper half is written
    in the complement, so both tails are resolved.  For ``"gaussian_max_sq"``
    the law is a mixture: with probability :math:`2^{-K}` every normal is
    negative and :math:`\Xi_K^2` is the smallest of the :math:`K` values
    :math:`Z_k^2` (law ``"chi2_min"``); otherwise :math:`\Xi_K > 0`
    (:func:`_positive_part_lower`).  Splitting there puts the zero of
    :math:`\Xi_K^2`, where tilted integrands :math:`e^{-wX}` peak, at an end
    of each piece, where the tanh-sinh nodes cluster.
    """
    p, weight, coarse = _half_rule(level)
    q = 1.0 - p  # the quantiles read whichever of (p, q) is below 1/2, so rounding here is harmless
    pieces = []
    if law in ("chi2_min", "chi2_max"):
        quantile = _quantiles.chi2_min_quantile if law == "chi2_min" else _quantiles.chi2_max_quantile
        pieces += [(quantile(p, q, K), 1.0), (quantile(q, p, K), 1.0)]
    else:
        negative = 2.0**-K
        pieces += [(_positive_part_lower(p, K), 1.0 - negative), (_positive_part_upper(p, K), 1.0 - negative)]
        if negative >= _SMALLEST_P:  # below this the negative branch has no weight in double precision
            quantile = _quantiles.chi2_min_quantile
            pieces += [(quantile(p, q, K), negative), (quantile(q, p, K), negative)]
    x = np.concatenate([values for values, _ in pieces])
    fine = np.concatenate([mass * weight for _, mass in pieces])
    crude = np.concatenate([mass * coarse for _, mass in pieces])
    if not np.all(np.isfinite(x)) or np.any(x < 0):
        raise ConvergenceError(f"quantile nodes of {law} are not finite for K = {K}")  # pragma: no cover
    fine, crude = fine / fine.sum(), crude / crude.sum()
    mean = float(np.dot(fine, x))
    x = x / mean
    for array in (x, fine, crude):
        array.setflags(write=False)
    return _Rule(x, fine, crude, math.log(mean))


# --------------------------------------------------------------------------
# moments of the mean of n i.i.d. copies from moments of one
# --------------------------------------------------------------------------


def _product(a, b, lam):
    r"""Coefficients of the mean :math:`\lambda A + (1-\lambda) B` of independent ``A``, ``B``.

    With :math:`a_j = E[A^j]/j!` and :math:`b_j = E[B^j]/j!` (last axis),
    :math:`E[(\lambda A + (1-\lambda)B)^k]/k! = \sum_j \lambda^j a_j
    (1-\lambda)^{k-j} b_{k-j}`: a sum of non-negative terms.
    """
    j = np.arange(a.shape[-1])
    a, b = a * lam**j, b * (1.0 - lam) ** j
    out = np.empty(np.broadcast_shapes(a.shape, b.shape))
    for k in range(a.shape[-1]):
        out[..., k] = np.sum(a[..., : k + 1] * b[..., k::-1], axis=-1)
    return out


def _mean_power(c, n: int):
    r"""Exponential-generating-function coefficients of the mean of ``n`` i.i.d. copies.

    ``c[..., j] = E[X^j]/j!`` with ``c[..., 0] = 1``; returns
    ``E[Ybar^k]/k!`` for :math:`\bar Y = \frac1n\sum_{i\le n} X_i`, ``k`` up to
    ``c.shape[-1] - 1``.  The generating function of :math:`\bar Y` is
    :math:`A(s/n)^n`, :math:`A(s) = \sum_j c_j s^j`.  Miller's recurrence for
    the coefficients of a power,

    .. math:: b_0 = 1,\qquad b_k = \frac1k\sum_{j=1}^{k}\big(j(n+1) - k\big)\,
              \frac{c_j}{n^j}\, b_{k-j},

    has non-negative terms when :math:`n \ge k - 1` and is used then; for
    smaller ``n`` the power is built by binary powering with
    :func:`_product`, whose terms are non-negative for every ``n``.
    """
    kmax = c.shape[-1] - 1
    if n == 1:
        return c
    if n >= kmax - 1:
        j = np.arange(kmax + 1)
        a = c * (1.0 / n) ** j
        b = np.zeros_like(a)
        b[..., 0] = 1.0
        for k in range(1, kmax + 1):
            i = np.arange(1, k + 1)
            weights = (i * (n + 1.0) - k) / k
            b[..., k] = np.sum(weights * a[..., 1 : k + 1] * b[..., k - 1 :: -1], axis=-1)
        return b
    result, copies = c, 1
    for bit in bin(n)[3:]:
        result, copies = _product(result, result, 0.5), 2 * copies
        if bit == "1":
            result, copies = _product(result, c, copies / (copies + 1.0)), copies + 1
    return result


def _egf(x, weight, kmax):
    """``E[X^j]/j!`` for ``j = 0..kmax`` from a rule, with the zeroth coefficient exactly 1."""
    j = np.arange(kmax + 1)
    c = (weight[:, None] * x[:, None] ** j).sum(axis=0) / special.factorial(j)
    c[0] = 1.0
    return c


def _tilted(x, weight, tilts, kmax):
    r"""Log-transform and tilted moments of one summand at each tilt ``w``.

    Returns :math:`\log\psi(w)` with :math:`\psi(w) = E[e^{-wX}]` and the
    coefficients :math:`E[X^j e^{-wX}]/(j!\,\psi(w))`, ``j = 0..kmax``.  The
    exponentials are shifted by the smallest node so nothing underflows, and
    for :math:`\psi(w) > 1/2` the logarithm is
    :math:`\mathrm{log1p}(-E[-\mathrm{expm1}(-wX)])`, relatively exact however
    small ``w`` is: ``n`` times it is then exact to the same relative order.
    """
    keep = weight > 0  # the coarse rule gives half the nodes no weight
    x, weight = x[keep], weight[keep]
    xmin = float(x.min())
    wx = np.multiply.outer(tilts, x)
    shifted = np.exp(-np.multiply.outer(tilts, x - xmin))
    j = np.arange(kmax + 1)
    powers = weight[:, None] * x[:, None] ** j / special.factorial(j)
    moments = shifted @ powers
    deficit = -np.expm1(-wx) @ weight
    with np.errstate(divide="ignore"):
        log_psi = np.where(
            deficit < 0.5, np.log1p(-np.minimum(deficit, 0.5)), np.log(moments[:, 0]) - tilts * xmin
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        coefficients = moments / moments[:, :1]
    coefficients[:, 0] = 1.0
    return log_psi, coefficients


# --------------------------------------------------------------------------
# log E[Ybar^t] for one (law, K, n) and several t
# --------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _outer_rule(level: int):
    r"""Exp-sinh rule on :math:`(0,\infty)`, ``v = exp((pi/2) sinh s)``: nodes, weights, even-node mask."""
    h = 2.0**-level
    low, high = _OUTER_RANGE
    k = np.arange(math.floor(low / h), math.ceil(high / h) + 1)
    s = k * h
    v = np.exp(0.5 * np.pi * np.sinh(s))
    dv = h * 0.5 * np.pi * np.cosh(s) * v
    return v, dv, k % 2 == 0


def _laplace_terms(x, weight, n, orders, level):
    r"""Quadrature terms of :math:`E[\bar Y^t] = \Gamma(a)^{-1}\int v^{a-1}\psi(v/n)^n E_{v/n}[\bar Y^m]\,dv`.

    ``orders`` is a 1-D array of orders ``t > 0`` (the public functions pass
    only non-integer ones; the formula holds for all); returns an array
    ``(len(orders), nodes)`` of terms and the even-node mask.
    """
    v, dv, even = _outer_rule(level)
    m = np.floor(orders).astype(int) + 2
    a = m - orders
    log_psi, coefficients = _tilted(x, weight, v / n, int(m.max()))
    b = _mean_power(coefficients, n)  # E_w[Ybar^k]/k! at each node
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        log_terms = (
            (a[:, None] - 1.0) * np.log(v)
            + n * log_psi
            + np.log(b[:, m].T)
            + (special.gammaln(m + 1.0) - special.gammaln(a))[:, None]
        )
        terms = np.exp(log_terms) * dv
    # where psi(v/n)^n is 0 the term is 0 whatever the tilted moments
    return np.where(n * log_psi == -np.inf, 0.0, terms), even


def _relative_change(a, b):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.abs(a / b - 1.0)


def _group_log_mean_moment(law: str, K: int, n: int, t: np.ndarray) -> np.ndarray:
    r"""``log E[Ybar^t]`` (``Ybar`` the mean of ``n`` copies of ``X/E[X]``) for a 1-D array ``t``."""
    out = np.zeros(t.shape)
    integer = (np.floor(t) == t) & (t > 0)
    real = np.floor(t) != t
    for inner_level in _INNER_LEVELS:
        rule = _summand_rule(law, K, inner_level)
        converged = True
        if np.any(integer):
            kmax = int(t[integer].max())
            results = []
            for weight in (rule.fine, rule.coarse):
                b = _mean_power(_egf(rule.x, weight, kmax), n)
                k = t[integer].astype(int)
                results.append(np.log(b[k]) + special.gammaln(k + 1.0))
            out[integer] = results[0]
            converged &= bool(np.all(np.abs(results[0] - results[1]) <= _CHECK_TOL))
        if np.any(real) and n == 1:
            results = [np.log(np.power.outer(rule.x, t[real]).T @ w) for w in (rule.fine, rule.coarse)]
            out[real] = results[0]
            converged &= bool(np.all(np.abs(results[0] - results[1]) <= _CHECK_TOL))
        if np.any(real) and n > 1:
            try:
                out[real] = _laplace_checked(rule, n, t[real])
            except _InnerNotConverged:
                converged = False
        if converged:
            return out + t * (math.log(n) + rule.log_mean)
    raise ConvergenceError(
        f"the expectations over one summand of {law} did not converge for K = {K}, n = {n}"
    )


class _InnerNotConverged(Exception):
    """The probability-space rule disagrees with its coarse half: try a finer one."""


def _laplace_checked(rule: _Rule, n: int, orders: np.ndarray) -> np.ndarray:
    """``log E[Ybar^t]`` for non-integer ``t`` and ``n >= 2``, checking both quadratures by step halving."""
    for level in _OUTER_LEVELS:
        terms, even = _laplace_terms(rule.x, rule.fine, n, orders, level)
        if not np.all(np.isfinite(terms)):
            raise ConvergenceError(f"non-finite integrand for n = {n}, t = {orders.tolist()}")
        fine = terms.sum(axis=1)
        coarse = 2.0 * terms[:, even].sum(axis=1)
        if np.all(_relative_change(coarse, fine) <= _CHECK_TOL):
            break
    else:
        raise ConvergenceError(f"the integral over v did not converge for n = {n}, t = {orders.tolist()}")
    crude_terms, _ = _laplace_terms(rule.x, rule.coarse, n, orders, level)
    if not np.all(_relative_change(crude_terms.sum(axis=1), fine) <= _CHECK_TOL):
        raise _InnerNotConverged
    return np.log(fine)


# --------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------


def iid_sum_log_moment(law, K, n, t):
    r"""Logarithm of :math:`E[(X_1 + \dots + X_n)^t]` for i.i.d. order statistics :math:`X_i`.

    .. math:: \log E\Big[\Big(\sum_{i=1}^{n} X_i\Big)^t\Big]
              = t\log(n\mu) + \log E\big[\bar Y^t\big],
              \qquad \bar Y = \frac{1}{n\mu}\sum_{i=1}^n X_i,\ \mu = E[X].

    Integer orders come from the moments :math:`E[X^j]`, ``j <= t``, through
    the power of their generating function (Miller's recurrence); real orders
    from the Laplace-transform representation

    .. math:: E[\bar Y^t] = \frac{1}{\Gamma(a)}\int_0^\infty v^{a-1}\,
              E\big[\bar Y^{m} e^{-v\bar Y}\big]\,dv,
              \qquad m = \lfloor t\rfloor + 2,\ a = m - t \in (1, 2),

    in which :math:`E[\bar Y^m e^{-v\bar Y}]` is an integer moment of a sum of
    exponentially tilted summands times :math:`E[e^{-vX/(n\mu)}]^n`.  See the
    module docstring and ``docs/sums.md``.

    Parameters
    ----------
    law : {"chi2_min", "chi2_max", "gaussian_max_sq"}
        Law of one summand: :math:`\xi_K` (smallest of ``K`` :math:`\chi^2_1`,
        mean :math:`S(K)`), :math:`\Xi^\chi_K` (largest of ``K``
        :math:`\chi^2_1`, mean :math:`L(K)`) or :math:`\Xi_K^2` (square of
        the largest of ``K`` standard normals, mean :math:`M(K)`; its
        moments are :math:`E[X^j] = M_{2j}(K)`).
    K : int or array_like of int
        Rank, ``1 <= K <= 2**53``.
    n : int or array_like of int
        Number of summands (the layer width), ``1 <= n <= 2**53``.
    t : float or array_like
        Order, ``0 <= t <= 32``; any real value (``t = 1/2`` for curve length,
        ``t = s/2`` for fractional-moment initialisation).

    Returns
    -------
    float or ndarray
        The natural logarithm of the moment, broadcast over ``K``, ``n`` and
        ``t``; ``0`` where ``t = 0``.  Relative error of the moment (that is,
        absolute error of the logarithm) below ``2e-13`` in the tested range
        ``K <= 10**6``, ``n <= 2**50``.

    Raises
    ------
    MaxboundsValueError
        For an unknown ``law`` or a bad ``K``, ``n`` or ``t``.
    ConvergenceError
        If a quadrature fails its step-halving check (not observed in the tested range).

    Examples
    --------
    With ``K = 1`` every law is :math:`\chi^2_1` and the sum is :math:`\chi^2_n`:

    >>> import math
    >>> a = iid_sum_log_moment("chi2_min", 1, 10**6, 0.5)
    >>> abs(a - chi2_log_moment(10**6, 0.5)) < 1e-12
    True
    >>> round(math.exp(iid_sum_log_moment("gaussian_max_sq", 1, 2, 2)), 12)   # E[(chi2_2)^2] = 8
    8.0
    """
    law = _as_law(law)
    K, n, t = as_rank(K), _as_width(n), as_order(t)
    scalar = K.ndim == 0 and n.ndim == 0 and t.ndim == 0
    K, n, t = np.broadcast_arrays(K, n, t)
    out = np.zeros(t.shape)
    pairs = np.stack([K.ravel(), n.ravel()], axis=1)
    flat_t = t.ravel()
    flat_out = out.reshape(-1)
    unique, inverse = np.unique(pairs, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    for index, (rank, width) in enumerate(unique):
        where = np.flatnonzero(inverse == index)
        orders = flat_t[where]
        distinct, back = np.unique(orders, return_inverse=True)
        values = _group_log_mean_moment(law, int(rank), int(width), distinct)
        flat_out[where] = values[back.ravel()]
    return _finish(out, scalar)


def iid_sum_moment(law, K, n, t):
    r""":math:`E[(X_1 + \dots + X_n)^t]`: the exponential of :func:`iid_sum_log_moment`.

    Parameters are those of :func:`iid_sum_log_moment`.

    Raises
    ------
    OutOfRangeError
        If a moment lies outside the positive double-precision range
        (above about ``1.8e308`` or below about ``2.2e-308``), rather than
        returning ``inf`` or ``0``: use :func:`iid_sum_log_moment` then.

    Examples
    --------
    >>> from maxbounds.constants import S
    >>> round(iid_sum_moment("chi2_min", 3, 50, 1) / (50 * S(3)), 12)   # the mean is n S(K)
    1.0
    """
    log_values = np.asarray(iid_sum_log_moment(law, K, n, t), dtype=float)
    high, low = math.log(np.finfo(float).max), math.log(np.finfo(float).tiny)
    if np.any(log_values > high) or np.any(log_values < low):
        worst = log_values[(log_values > high) | (log_values < low)].ravel()[0] / math.log(10.0)
        raise OutOfRangeError(
            f"the moment is about 1e{worst:.0f}, outside the double-precision range; "
            "use iid_sum_log_moment"
        )
    values = np.exp(log_values)
    return float(values) if values.ndim == 0 else values
