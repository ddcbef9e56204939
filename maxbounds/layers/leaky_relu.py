r"""Leaky ReLU dense layers, :math:`\phi_a(z) = \max(z, a z)` with ``0 <= a <= 1`` (docs/bounds.md, docs/fractional.md).

``a = 0`` is ReLU, ``a = 1`` the identity.  Unit ``i`` outputs
:math:`\phi_a(\zeta_i)` and passes :math:`\phi_a'(\zeta_i)\,W_i\cdot v` (slope
``1`` where :math:`\zeta_i > 0`, ``a`` otherwise).

Exact Jacobian law (any input, any bias law symmetric about 0): the pair
:math:`(\zeta_i, W_i\cdot v)` is symmetric under :math:`(W, b)\mapsto(-W, -b)`,
so the sign of :math:`\zeta_i` is independent of :math:`(W_i\cdot v)^2`, and

.. math:: \lVert J v\rVert^2 = \frac{c}{n}\lVert v\rVert^2\,Y,\qquad
          Y = \chi^2_B + a^2\chi'^2_{\mathrm{width}-B},\quad B\sim\mathrm{Binomial}(\mathrm{width}, 1/2).

Writing :math:`Y = \chi^2_{\mathrm{width}}\,(1 - (1 - a^2)\,\beta)` with
:math:`\beta = \chi'^2_{w-B}/(\chi^2_B + \chi'^2_{w-B})\sim\mathrm{Beta}((w-B)/2, B/2)`
independent of :math:`\chi^2_w` gives every real moment in closed form,

.. math:: E[Y^t] = E[(\chi^2_w)^t]\sum_{b=0}^{w}\binom{w}{b}2^{-w}\,
          {}_2F_1\!\big(-t, \tfrac{w-b}{2}; \tfrac{w}{2}; 1 - a^2\big),

(for ``a = 0`` Gauss's theorem turns the hypergeometric function into
:math:`\Gamma(b/2 + t)\Gamma(w/2)/(\Gamma(b/2)\Gamma(w/2 + t))`, the ReLU
law :math:`(c/n)\chi^2_B`).  Lower and upper factors are this one law.

Gain law with zero biases: :math:`x_l = J_l x_{l-1}` (the map is positively
homogeneous), so :math:`\lVert x_l\rVert^2 = (c/n)\lVert x_{l-1}\rVert^2\,Y` with the
same :math:`Y`, independent of :math:`x_{l-1}`: :meth:`LeakyReLUDense.gain_log_moment`
is :meth:`~LeakyReLUDense.jacobian_log_moment` without the scale, and the
fractional scale is :math:`c = n\,E[Y^{s/2}]^{-2/s}` (``docs/fractional.md``).  For
ReLU, given :math:`Y > 0` (probability :math:`1 - 2^{-w}`), :math:`\log Y` has mean
:math:`\sum_{b\ge1} p_b(\psi(b/2) + \log 2)` and second moment
:math:`\sum_{b\ge 1} p_b(\psi'(b/2) + (\psi(b/2) + \log 2)^2)`,
:math:`p_b = \binom wb 2^{-w}/(1 - 2^{-w})`, and characteristic function
:math:`\sum_{b\ge1} p_b\,2^{iu}\Gamma(b/2 + iu)/\Gamma(b/2)`; for ``0 < a < 1`` the
mean and variance of :math:`\log Y` are Frullani integrals of the Laplace transform
:math:`E e^{-vY} = ((1+2v)^{-1/2}/2 + (1+2a^2v)^{-1/2}/2)^w` (:mod:`maxbounds.laws.gains`).

Activation gain :math:`E[\phi_a(Z)^2] = (1 + a^2)/2`; initialiser ``he``:
:math:`c = 2/(1 + a^2)`.  The derivation, step by step, is in
``docs/layer_laws.md``; ``tests/test_layer_laws.py`` checks the moments
against the binomial mixture in mpmath and against draws.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .._validate import MaxboundsValueError
from .base import NoLawError, register, side_check
from .dense import DenseLayer

__all__ = ["LeakyReLUDense", "relu_log_moment_factor", "leaky_log_moment_factor", "relu_log_stats",
           "relu_log_cf", "chi2_log_cf"]


@register
@dataclasses.dataclass(frozen=True)
class LeakyReLUDense(DenseLayer):
    """``width`` leaky ReLU units of slope ``a`` (``a = 0``: ReLU) on ``n_in`` inputs."""

    slope: float = 0.0

    kind = "leaky_relu"
    code = 1
    scale_names = ("he",)

    def __post_init__(self):
        super().__post_init__()
        a = self.slope
        if isinstance(a, bool) or not isinstance(a, (int, float)) or not 0 <= a <= 1:
            raise MaxboundsValueError("slope", f"must be a number in [0, 1], got {a!r}")
        object.__setattr__(self, "slope", float(a))

    @property
    def label(self) -> str:
        return "relu" if self.slope == 0 else f"leaky relu (a={self.slope:g})"

    @property
    def kernel_slope(self) -> float:
        return self.slope

    def named_scale(self, name: str) -> float:
        return 2.0 / (1.0 + self.slope**2)

    def jacobian_log_moment(self, side, t) -> float:
        side_check(side)
        t = float(t)
        if t == 0:
            return 0.0
        return t * math.log(self.scale / self.fan_in) + leaky_log_moment_factor(self.width, self.slope, t)

    def jacobian_log_mean(self, side) -> float:
        side_check(side)
        return math.log(self.scale / self.fan_in * self.width * (1 + self.slope**2) / 2)

    def jacobian_rvs(self, side, size, rng):
        side_check(side)
        return self.scale / self.fan_in * self.gain_rvs(size, rng)

    def jacobian_is_exact(self) -> bool:
        return True

    # -- the gain law with zero biases: the Jacobian's law at v = x_{l-1} -----------------------------
    def unit_law(self):
        from ..laws.gains import GaussianScaleUnit

        return GaussianScaleUnit(("fixed", self.slope))

    def gain_log_moment(self, t) -> float:
        from .base import _gain_order

        t = _gain_order(t)
        return 0.0 if t == 0 else leaky_log_moment_factor(self.width, self.slope, t)

    def gain_log_stats(self):
        from ..laws.gains import GainLogStats

        if self.slope == 0.0:
            return relu_log_stats(self.width)
        if self.slope == 1.0:
            from scipy import special

            return GainLogStats(0.0, float(special.digamma(self.width / 2) + math.log(2.0)),
                                float(special.polygamma(1, self.width / 2)))
        return super().gain_log_stats()

    def gain_log_cf(self, u):
        if self.slope == 0.0:
            return relu_log_cf(self.width, u)
        if self.slope == 1.0:
            return chi2_log_cf(self.width, u)
        raise NoLawError(self, "the characteristic function of log Y",
                         "it is derived for ReLU (a = 0) and linear (a = 1) units; for 0 < a < 1 use the "
                         "Gaussian limit in depth")

    def gain_rvs(self, size, rng):
        positive = rng.binomial(self.width, 0.5, size=size)
        chi_pos = np.where(positive > 0, rng.chisquare(np.maximum(positive, 1)), 0.0)
        negative = self.width - positive
        chi_neg = np.where(negative > 0, rng.chisquare(np.maximum(negative, 1)), 0.0)
        return chi_pos + self.slope**2 * chi_neg

    def activation_gain(self) -> float:
        return (1.0 + self.slope**2) / 2.0

    def chain_rank(self) -> int:
        raise NoLawError(self, "the Gram chain (exact law given the input)",
                         "the chain of docs/exact_laws.md is derived for maxout and linear layers")

    def init_scale(self, scheme: str) -> float:
        if scheme in ("he", "relu"):
            return 2.0 / (1.0 + self.slope**2)
        if scheme in ("maxout", "upper", "lower"):
            raise NoLawError(self, f"the initialisation {scheme!r}", "it is a maxout scheme; use 'he'")
        return super().init_scale(scheme)


def relu_log_moment_factor(width: int, t: float) -> float:
    r""":math:`\log E[(\chi^2_B)^t]`, :math:`B\sim\mathrm{Binomial}(w, 1/2)` (a zero ``B`` gives 0)."""
    from scipy import stats

    from ..laws.sums import chi2_log_moment

    b = _binomial_support(width)
    b = b[b > 0]
    log_terms = stats.binom.logpmf(b, width, 0.5) + chi2_log_moment(b, t)
    return float(np.logaddexp.reduce(log_terms))


def leaky_log_moment_factor(width: int, slope: float, t: float) -> float:
    r""":math:`\log E[(\chi^2_B + a^2\chi'^2_{w-B})^t]` by the hypergeometric sum of the module docstring."""
    if slope == 0.0:
        return relu_log_moment_factor(width, t)
    from scipy import special, stats

    from ..laws.sums import chi2_log_moment

    if slope == 1.0:
        return float(chi2_log_moment(width, t))
    b = _binomial_support(width)
    hyp = special.hyp2f1(-t, (width - b) / 2.0, width / 2.0, 1.0 - slope**2)
    if not np.all(np.isfinite(hyp)) or np.any(hyp <= 0):
        raise MaxboundsValueError("slope", f"the moment of order {t:g} is out of reach at width {width}")
    log_terms = stats.binom.logpmf(b, width, 0.5) + np.log(hyp)
    return float(chi2_log_moment(width, t)) + float(np.logaddexp.reduce(log_terms))


def _positive_counts(width: int):
    """``(b, p_b)``: the values ``b >= 1`` of ``B ~ Binomial(width, 1/2)`` and their probabilities given ``B >= 1``."""
    from scipy import stats

    b = _binomial_support(width)
    b = b[b > 0]
    log_p = stats.binom.logpmf(b, width, 0.5) - math.log1p(-(2.0**-width))
    return b, np.exp(log_p - np.logaddexp.reduce(log_p))


def relu_log_stats(width: int):
    r""":math:`P(Y = 0) = 2^{-w}` and the mean and variance of :math:`\log Y` given :math:`Y > 0`, :math:`Y = \chi^2_B`.

    Given :math:`B = b \ge 1`, :math:`E\log\chi^2_b = \psi(b/2) + \log 2` and
    :math:`\mathrm{Var}\log\chi^2_b = \psi'(b/2)`; the law of :math:`\log Y` given
    :math:`Y > 0` is the mixture over :math:`b \ge 1` with weights :math:`p_b/(1 - 2^{-w})`.
    """
    from scipy import special

    from ..laws.gains import GainLogStats

    b, p = _positive_counts(width)
    m = special.digamma(b / 2.0) + math.log(2.0)
    mean = float(p @ m)
    var = float(p @ special.polygamma(1, b / 2.0) + p @ (m - mean) ** 2)
    return GainLogStats(2.0**-width, mean, var)


def chi2_log_cf(n: int, u) -> np.ndarray:
    r""":math:`E[(\chi^2_n)^{iu}] = 2^{iu}\Gamma(n/2 + iu)/\Gamma(n/2)` at the real points ``u``."""
    from scipy import special

    u = np.asarray(u, dtype=float)
    return np.exp(1j * u * math.log(2.0) + special.loggamma(n / 2.0 + 1j * u) - special.loggamma(n / 2.0))


def relu_log_cf(width: int, u) -> np.ndarray:
    r""":math:`E[Y^{iu}\mid Y > 0]` for :math:`Y = \chi^2_B`: :math:`\sum_{b\ge1} p_b\,2^{iu}\Gamma(b/2+iu)/\Gamma(b/2)`."""
    from scipy import special

    u = np.asarray(u, dtype=float)
    b, p = _positive_counts(width)
    keep = p > 1e-300
    b, p = b[keep], p[keep]
    flat = u.ravel()
    terms = (np.log(p)[:, None] + 1j * flat[None, :] * math.log(2.0)
             + special.loggamma(b[:, None] / 2.0 + 1j * flat[None, :]) - special.loggamma(b / 2.0)[:, None])
    top = terms.real.max(axis=0)
    return (np.exp(top) * np.exp(terms - top).sum(axis=0)).reshape(u.shape)


def _binomial_support(width: int) -> np.ndarray:
    """The values of ``B ~ Binomial(width, 1/2)`` that carry all but about ``1e-40`` of the mass."""
    if width <= 4000:
        return np.arange(0, width + 1)
    half, spread = width / 2.0, 10.0 * math.sqrt(width) + 10
    return np.arange(max(0, int(half - spread)), min(width, int(half + spread)) + 1)
