r"""Stochastic-order bounds on :math:`\|J_N(x)u\|^2` (MATH.md section 4).

For a unit vector :math:`u` and any input :math:`x`, almost surely

.. math::

    B_{\mathrm{lo}} = \frac{c_L}{n_{L-1}}\chi^2_{n_L}
        \prod_{l=1}^{L-1}\frac{c_l}{n_{l-1}}\sum_{i=1}^{n_l}\xi_{l,i}
    \;\le\; \|J_N(x)u\|^2 \;\le\;
    B_{\mathrm{up}} = \frac{c_L}{n_{L-1}}\chi^2_{n_L}
        \prod_{l=1}^{L-1}\frac{c_l}{n_{l-1}}\sum_{i=1}^{n_l}\Xi_{l,i},

with :math:`\xi_{l,i}` (:math:`\Xi_{l,i}`) the smallest (largest) of
:math:`K_l` independent :math:`\chi^2_1` values, all factors independent.  The
reason: given the past, the unit's output gradient is one of the :math:`K`
Gaussian rows :math:`W_{l,i,k}\cdot v`, whose squares are
:math:`(c_l/n_{l-1})\|v\|^2` times i.i.d. :math:`\chi^2_1` values independent of
the past; the selected one lies between their minimum and maximum.

Each bounding variable is a :class:`JacobianBound`: a product of independent
factors, so every moment is a product of factor moments,
:math:`E[B^t] = (c_L/n_{L-1})^t E[(\chi^2_{n_L})^t]\prod_l (c_l/n_{l-1})^t
E[(\sum_i \xi_{l,i})^t]`, computed in log-space (depth :math:`10^4` or width
:math:`10^6` never overflow silently).  Means telescope:
:math:`E[B_{\mathrm{lo}}] = (c_L n_L/n_0)\prod_l c_l S(K_l)` and likewise with
:math:`L(K_l)`.  For :math:`K = 1` both bounds are the exact law of a linear
network.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from .._validate import MaxboundsValueError, as_order
from ..architecture import Architecture
from ..constants import OutOfRangeError, chi2_max, chi2_min, constant
from .sums import chi2_log_moment, iid_sum_log_moment

__all__ = ["JacobianBound", "jacobian_bounds", "jacobian_moment_bounds", "ReLUJacobianLaw"]

_SIDES = {"lower": ("chi2_min", chi2_min, "S"), "upper": ("chi2_max", chi2_max, "L")}


def exp_checked(log_value: float, what: str) -> float:
    """``exp(log_value)``, or :class:`OutOfRangeError` if it leaves the double range."""
    if log_value > math.log(np.finfo(float).max) or log_value < math.log(np.finfo(float).tiny):
        raise OutOfRangeError(
            f"{what} is about 1e{log_value / math.log(10):.0f}, outside the double-precision range; "
            "use the log_ variant"
        )
    return math.exp(log_value)


class JacobianBound:
    r"""The lower (``side="lower"``) or upper (``side="upper"``) bounding variable of :math:`\|J_N(x)u\|^2`.

    Methods follow :mod:`scipy.stats`: :meth:`moment` (any real order
    ``t >= 0``), :meth:`mean`, :meth:`var`, :meth:`rvs`; ``log_`` variants
    return logarithms.
    """

    def __init__(self, arch: Architecture, side: str):
        arch.require_fully_connected("the stochastic-order bound")
        if side not in _SIDES:
            raise MaxboundsValueError("side", f"expected 'lower' or 'upper', got {side!r}")
        self.arch = arch
        self.side = side
        self._law_name, self._law, self._mean_constant = _SIDES[side]

    def __repr__(self):
        return f"JacobianBound({self.arch.describe()}, side={self.side!r})"

    # the layers as (fan-in, width, rank, scale) with repeats grouped
    def _hidden_layers(self):
        a = self.arch
        return [(a.widths[l - 1], a.widths[l], a.ranks[l - 1], a.c[l - 1]) for l in range(1, a.depth)]

    def log_moment(self, t) -> float:
        r""":math:`\log E[B^t]` for real ``t >= 0``."""
        t = float(as_order(t))
        if t == 0:
            return 0.0
        a = self.arch
        total = t * math.log(a.c_out / a.widths[-2]) + float(chi2_log_moment(a.n_out, t))
        for (fan_in, width, K, c), count in Counter(self._hidden_layers()).items():
            layer = t * math.log(c / fan_in) + float(iid_sum_log_moment(self._law_name, K, width, t))
            total += count * layer
        return total

    def moment(self, t) -> float:
        r""":math:`E[B^t]`; raises :class:`OutOfRangeError` outside the double range."""
        return exp_checked(self.log_moment(t), f"E[B^{float(t):g}]")

    def log_mean(self) -> float:
        r"""Closed form :math:`\log\big((c_L n_L/n_0)\prod_l c_l\,C(K_l)\big)`, ``C = S`` or ``L``."""
        a = self.arch
        total = math.log(a.c_out * a.n_out / a.n_in)
        for (K, c), count in Counter(zip(a.ranks, a.c)).items():
            total += count * math.log(c * constant(self._mean_constant, K))
        return total

    def mean(self) -> float:
        return exp_checked(self.log_mean(), "the mean")

    def var(self) -> float:
        """``E[B^2] - E[B]^2``."""
        second, mean = self.moment(2), self.mean()
        return second - mean * mean

    def rvs(self, size=1, random_state=None) -> np.ndarray:
        """Draw ``size`` samples of the bounding variable (each layer's sum drawn unit by unit)."""
        rng = np.random.default_rng(random_state)
        size = int(size)
        a = self.arch
        out = a.c_out / a.widths[-2] * rng.chisquare(a.n_out, size=size)
        for fan_in, width, K, c in self._hidden_layers():
            draws = self._law(K=K).rvs(size=(size, width), random_state=rng)
            out = out * (c / fan_in) * draws.sum(axis=1)
        return out


def jacobian_bounds(arch: Architecture) -> tuple[JacobianBound, JacobianBound]:
    """The pair ``(lower, upper)`` of bounding variables."""
    return JacobianBound(arch, "lower"), JacobianBound(arch, "upper")


def jacobian_moment_bounds(arch: Architecture, moments=(2.0,), log: bool = False) -> dict:
    r"""Bounds on the moments of :math:`\|J_N(x)u\|^2`, for every input.

    Returns ``{"mean": {"lower", "upper"}, "second_moment": {...},
    "variance": {...}, "moment_t": {...} for each extra order}`` where

    * mean and moments: :math:`E[B_{\mathrm{lo}}^t] \le E\|J u\|^{2t} \le E[B_{\mathrm{up}}^t]`
      (stochastic order);
    * variance: :math:`\max(0, E[B_{\mathrm{lo}}^2] - E[B_{\mathrm{up}}]^2) \le
      \mathrm{Var} \le E[B_{\mathrm{up}}^2] - E[B_{\mathrm{lo}}]^2`.

    With ``log=True`` the values are natural logarithms (the variance's lower
    bound ``0`` becomes ``-inf``).
    """
    lower, upper = jacobian_bounds(arch)
    log_mean = (lower.log_mean(), upper.log_mean())
    log_second = (lower.log_moment(2.0), upper.log_moment(2.0))
    var_hi = _log_diff(log_second[1], 2 * log_mean[0])
    var_lo = _log_diff(log_second[0], 2 * log_mean[1]) if log_second[0] > 2 * log_mean[1] else -math.inf
    out = {
        "mean": log_mean,
        "second_moment": log_second,
        "variance": (var_lo, var_hi),
    }
    for t in moments:
        t = float(as_order(t))
        if t in (1.0, 2.0):
            continue
        out[f"moment_{t:g}"] = (lower.log_moment(t), upper.log_moment(t))
    if log:
        return {k: {"lower": v[0], "upper": v[1]} for k, v in out.items()}
    return {
        k: {"lower": 0.0 if v[0] == -math.inf else exp_checked(v[0], k), "upper": exp_checked(v[1], k)}
        for k, v in out.items()
    }


def _log_diff(log_a: float, log_b: float) -> float:
    """``log(exp(log_a) - exp(log_b))`` for ``log_a > log_b``."""
    return log_a + math.log1p(-math.exp(log_b - log_a))


class ReLUJacobianLaw:
    r"""Exact law of :math:`\|J_N(x)u\|^2` for a ReLU network with zero biases (any input).

    .. math:: \|Ju\|^2 = \frac{c_L}{n_{L-1}}\chi^2_{n_L}\prod_{l=1}^{L-1}\frac{c_l}{n_{l-1}}\chi^2_{B_l},
              \qquad B_l \sim \mathrm{Binomial}(n_l, 1/2),

    each active unit passing its Gaussian row.  Mean :math:`(c_L n_L/n_0)\prod_l c_l/2`,
    so :math:`c = 2` (He) preserves it.  The architecture's ranks are ignored.
    """

    def __init__(self, arch: Architecture):
        self.arch = arch

    def log_moment(self, t) -> float:
        from scipy import stats

        t = float(as_order(t))
        if t == 0:
            return 0.0
        a = self.arch
        total = t * math.log(a.c_out / a.widths[-2]) + float(chi2_log_moment(a.n_out, t))
        for l in range(1, a.depth):
            n = a.widths[l]
            b = np.arange(1, n + 1)
            log_terms = stats.binom.logpmf(b, n, 0.5) + chi2_log_moment(b, t)
            total += t * math.log(a.c[l - 1] / a.widths[l - 1]) + float(np.logaddexp.reduce(log_terms))
        return total

    def moment(self, t) -> float:
        return exp_checked(self.log_moment(t), f"E[B^{float(t):g}]")

    def mean(self) -> float:
        a = self.arch
        return exp_checked(
            math.log(a.c_out * a.n_out / a.n_in) + sum(math.log(c / 2) for c in a.c), "the mean"
        )

    def var(self) -> float:
        return self.moment(2) - self.mean() ** 2

    def rvs(self, size=1, random_state=None) -> np.ndarray:
        rng = np.random.default_rng(random_state)
        a = self.arch
        out = a.c_out / a.widths[-2] * rng.chisquare(a.n_out, size=size)
        for l in range(1, a.depth):
            active = rng.binomial(a.widths[l], 0.5, size=size)
            chi = np.where(active > 0, rng.chisquare(np.maximum(active, 1)), 0.0)
            out = out * (a.c[l - 1] / a.widths[l - 1]) * chi
        return out
