r"""Laws of a layer's squared-norm gain with zero biases: real moments and log-moments from Laplace transforms.

With zero biases a dense layer of the ReLU family, a linear layer and a maxout
layer all map :math:`\lVert x\rVert^2` to

.. math:: \lVert x_l\rVert^2 = \frac{c}{n_{l-1}}\lVert x_{l-1}\rVert^2\, Y_l,
          \qquad Y_l = \sum_{i\le n_l} X_i,

with :math:`X_1, \dots, X_{n_l}` i.i.d., independent of the past
(``docs/fractional.md``): one unit's *unit law* :math:`X`.  For the ReLU family
:math:`X = G Z^2` with :math:`Z\sim N(0,1)` and an independent gain
:math:`G = 1` (probability 1/2) or :math:`G = a^2` (a fixed slope, or
:math:`a\sim U[l, u]` for randomised leaky ReLU); for a linear layer
:math:`G = 1`; for maxout :math:`X = \Xi_K^2`.

This module computes, from the Laplace transform :math:`\lambda(v) = E e^{-vX}`
and its first two derivatives alone:

* :func:`sum_log_moment`: :math:`\log E[Y^t]` for :math:`0 < t < 2`, from
  :math:`y^t = \Gamma(2-t)^{-1}\int_0^\infty v^{1-t} y^2 e^{-vy}\,dv`, so

  .. math:: E[Y^t] = \frac{1}{\Gamma(2-t)}\int_0^\infty v^{1-t}\,E[Y^2e^{-vY}]\,dv,\qquad
            E[Y^2 e^{-vY}] = \lambda^{n-2}\big(n\lambda\mu_2 + n(n-1)\mu_1^2\big),

  :math:`\mu_j(v) = E[X^j e^{-vX}]`;
* :func:`sum_log_stats`: :math:`P(Y = 0) = P(X = 0)^n` and the mean and
  variance of :math:`\log Y` given :math:`Y > 0`, from Frullani's integral and
  its companion (both derived in ``docs/fractional.md``),

  .. math:: E\log Y = \int_0^\infty \big(e^{-v} - E[e^{-vY}]\big)\frac{dv}{v},\qquad
            E\log^2 Y = -2\int_0^\infty \log v\,\big(e^{-v} - E[e^{-vY}]\big)\frac{dv}{v} - 2\gamma\,E\log Y,

  with :math:`E[e^{-vY}\mid Y>0] = (\lambda^n - p_0^n)/(1 - p_0^n)`.

Both integrals are taken in :math:`w = \log v` on a uniform grid (the
trapezoid rule, spectrally accurate here: the integrands are analytic in the
strip :math:`|\mathrm{Im}\,w| < \pi/2` and decay exponentially at both ends),
after scaling :math:`X` to :math:`X/(n E X)` so that :math:`Y` has mean one.
:math:`1 - \lambda^n` is formed as ``-expm1(n log1p(lambda - 1))`` with
:math:`\lambda - 1` itself computed without cancellation, so no precision is
lost however small :math:`v` or large :math:`n`.  The result is checked by
halving the step (:class:`~maxbounds.constants._double.ConvergenceError`).

The closed forms of the ReLU, leaky ReLU and linear layers
(:mod:`maxbounds.layers.leaky_relu`) are independent of this module;
``tests/test_fractional.py`` checks one against the other.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np
from scipy import special

from ..constants._double import ConvergenceError

__all__ = ["UnitLaw", "GaussianScaleUnit", "MaxSquareUnit", "max_square_unit", "GainLogStats", "sum_log_moment",
           "sum_log_stats"]

#: The grid in w = log v (after scaling Y to mean one): v from e^-45 to e^95.
_W_RANGE = (-45.0, 95.0)
#: Steps compared (the coarse rule uses every other node of the fine one, which is returned).
_STEPS = (1.0 / 8.0, 1.0 / 16.0)
#: Largest absolute difference allowed between the two steps.
_TOL = 1e-11
_EULER = 0.57721566490153286061


class GainLogStats(NamedTuple):
    """``p_zero`` = :math:`P(Y = 0)`; ``mean``, ``var`` of :math:`\\log Y` given :math:`Y > 0`."""

    p_zero: float
    mean: float
    var: float


class UnitLaw:
    r"""The law of one unit's contribution :math:`X \ge 0` through its Laplace transform (subclasses)."""

    #: :math:`P(X = 0)`.
    p_zero: float = 0.0
    #: :math:`E[X]` (the scale :math:`Y` is divided by, :math:`n\,\mathrm{mean}`; a nominal scale where
    #: :math:`E[X] = \infty`).
    mean: float = 1.0
    #: :math:`E[Y^2 e^{-vY}] \sim v^{\mathrm{decay} - 2}` as :math:`v \to 0`: 2 where :math:`E X^2 < \infty`,
    #: 1 for a tail :math:`P(X > y) \sim C/y` (:mod:`maxbounds.laws.heavy_tails`).
    decay: float = 2.0

    def laplace(self, v):  # pragma: no cover - every law overrides it
        r"""``(lambda - 1, lambda, mu_1, mu_2)`` at the points ``v >= 0``: :math:`E[e^{-vX}] - 1` (without
        cancellation for small ``v``), :math:`E[e^{-vX}]` (accurate where it is small), :math:`E[Xe^{-vX}]`,
        :math:`E[X^2 e^{-vX}]`."""
        raise NotImplementedError


class GaussianScaleUnit(UnitLaw):
    r""":math:`X = G Z^2`: with probability ``1/2`` :math:`G = 1`, otherwise :math:`G = a^2`.

    ``negative`` is ``("fixed", a)`` (leaky ReLU of slope ``a``; ``a = 0`` ReLU, ``a = 1`` linear),
    or ``("uniform", l, u)`` (randomised leaky ReLU, :math:`a\sim U[l, u]`).  Given :math:`G = g`,
    :math:`E[e^{-vgZ^2}] = (1+2gv)^{-1/2}`, :math:`E[gZ^2e^{-vgZ^2}] = g(1+2gv)^{-3/2}` and
    :math:`E[g^2Z^4e^{-vgZ^2}] = 3g^2(1+2gv)^{-5/2}`.  For uniform slopes the average over
    :math:`a` is a Gauss-Legendre rule in :math:`a` while :math:`2vu^2 \le 1` and, beyond, in
    :math:`\theta = \mathrm{asinh}(a\sqrt{2v})`, where
    :math:`a^{2j}(1+2va^2)^{-(2j+1)/2}\,da = (2v)^{-(2j+1)/2}\tanh^{2j}\theta\,d\theta` is smooth
    however large ``v``.
    """

    def __init__(self, negative):
        self.negative = tuple(negative)
        if self.negative[0] == "fixed":
            a2 = float(self.negative[1]) ** 2
            self.p_zero = 0.5 if a2 == 0.0 else 0.0
            self.mean = 0.5 * (1.0 + a2)
        else:
            lo, hi = float(self.negative[1]), float(self.negative[2])
            self.p_zero = 0.0
            self.mean = 0.5 * (1.0 + (lo * lo + lo * hi + hi * hi) / 3.0)

    @staticmethod
    def _fixed(g, v):
        k = 2.0 * g * v
        base = np.log1p(k)
        return (np.expm1(-0.5 * base), np.exp(-0.5 * base), g * np.exp(-1.5 * base),
                3.0 * g * g * np.exp(-2.5 * base))

    def _uniform(self, v):
        lo, hi = float(self.negative[1]), float(self.negative[2])
        if hi == lo:
            return self._fixed(lo * lo, v)
        nodes, weights = _legendre(48)
        k = 2.0 * np.asarray(v, dtype=float)
        out = [np.empty(k.shape) for _ in range(4)]
        small = k * hi * hi <= 1.0
        # Gauss-Legendre in a on [lo, hi] (the integrands are smooth while k a^2 <= 1)
        a = 0.5 * (hi - lo) * nodes + 0.5 * (hi + lo)
        ks = k[small][:, None]
        base = np.log1p(ks * a * a)
        w = 0.5 * weights  # the average over [lo, hi]: (hi - lo)/2 * sum w f / (hi - lo)
        out[0][small] = np.expm1(-0.5 * base) @ w
        out[1][small] = np.exp(-0.5 * base) @ w
        out[2][small] = (a * a * np.exp(-1.5 * base)) @ w
        out[3][small] = (3.0 * a**4 * np.exp(-2.5 * base)) @ w
        big = ~small
        if np.any(big):
            kb = k[big][:, None]
            root = np.sqrt(kb)
            t_lo, t_hi = np.arcsinh(root * lo), np.arcsinh(root * hi)
            theta = 0.5 * (t_hi - t_lo) * nodes + 0.5 * (t_hi + t_lo)
            th2 = np.tanh(theta) ** 2
            scale = 0.5 * (t_hi - t_lo)[:, 0] / (hi - lo)
            zeroth = scale * (np.ones_like(th2) @ weights) / root[:, 0]
            out[0][big] = zeroth - 1.0
            out[1][big] = zeroth
            out[2][big] = scale * (th2 @ weights) / root[:, 0] ** 3
            out[3][big] = 3.0 * scale * ((th2 * th2) @ weights) / root[:, 0] ** 5
        return tuple(out)

    def laplace(self, v):
        v = np.asarray(v, dtype=float)
        one = self._fixed(1.0, v)
        other = self._fixed(float(self.negative[1]) ** 2, v) if self.negative[0] == "fixed" else self._uniform(v)
        return tuple(0.5 * (p + q) for p, q in zip(one, other))


class MaxSquareUnit(UnitLaw):
    r""":math:`X = \Xi_K^2`, the square of the largest of ``K`` standard normals (maxout with zero biases).

    Expectations over :math:`X` use the tanh-sinh rule in probability space of
    :mod:`maxbounds.laws.sums` (the accurate quantiles, split where
    :math:`\Xi_K` changes sign so that the density's :math:`x^{-1/2}` peak at 0
    sits at an end of each piece).
    """

    def __init__(self, K: int, level: int = 6):
        from .sums import _summand_rule

        self.K = int(K)
        rule = _summand_rule("gaussian_max_sq", self.K, level)
        self._x, self._w = rule.x, rule.fine
        self.mean = math.exp(rule.log_mean)
        self._x = self._x * self.mean  # back to the law of X itself
        self.p_zero = 0.0

    def laplace(self, v):
        v = np.asarray(v, dtype=float)
        vx = np.multiply.outer(v, self._x)
        e = np.exp(-vx)
        return np.expm1(-vx) @ self._w, e @ self._w, (e * self._x) @ self._w, (e * self._x**2) @ self._w


@functools.lru_cache(maxsize=32)
def max_square_unit(K: int) -> MaxSquareUnit:
    """The (cached) :class:`MaxSquareUnit` of rank ``K``."""
    return MaxSquareUnit(K)


@functools.lru_cache(maxsize=8)
def _legendre(n):
    nodes, weights = np.polynomial.legendre.leggauss(n)
    nodes.setflags(write=False)
    weights.setflags(write=False)
    return nodes, weights


def _grid(step, low=_W_RANGE[0]):
    w = np.arange(low, _W_RANGE[1] + step / 2, step)
    return w, np.exp(w)


def _scaled_laplace(unit: UnitLaw, n: int, v):
    r"""``(log lambda, mu_1, mu_2)`` of :math:`X/(nEX)` at ``v``: ``log1p(lambda - 1)`` where
    :math:`\lambda > 1/2`, the logarithm of the directly summed :math:`\lambda` elsewhere."""
    scale = n * unit.mean
    dl, lam, m1, m2 = unit.laplace(v / scale)
    with np.errstate(divide="ignore"):  # lambda underflows to 0 far out: log lambda = -inf is right
        log_lam = np.where(dl > -0.5, np.log1p(np.maximum(dl, -0.5)), np.log(lam))
    return log_lam, m1 / scale, m2 / scale**2


def _check_unit(unit, n):
    if not isinstance(unit, UnitLaw):
        raise TypeError(f"expected a UnitLaw, got {type(unit).__name__}")
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    return int(n)


def sum_log_moment(unit: UnitLaw, n: int, t: float) -> float:
    r""":math:`\log E[Y^t]`, :math:`Y = X_1 + \dots + X_n`, for :math:`0 < t < 2` (``t = 0`` gives 0)."""
    n = _check_unit(unit, n)
    t = float(t)
    if t == 0.0:
        return 0.0
    if not 0.0 < t < unit.decay:
        raise ValueError(f"t must lie in (0, {unit.decay:g}), got {t!r}")
    if t == 1.0 and unit.decay == 2.0:
        return math.log(n * unit.mean)
    # the integrand falls like v^(decay-t) as v -> 0: start where that is below 1e-17; the coarse
    # step's nodes are every other node of the fine step
    w, v = _grid(_STEPS[1], min(_W_RANGE[0], -40.0 / (unit.decay - t)))
    log_lam, m1, m2 = _scaled_laplace(unit, n, v)
    with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
        if n == 1:  # E[Y^2 e^{-vY}] = mu_2
            log_inner = np.log(m2)
        else:  # lambda^{n-2} (n lambda mu_2 + n (n-1) mu_1^2), in logarithms
            log_inner = (n - 2.0) * log_lam + np.logaddexp(math.log(n) + log_lam + np.log(m2),
                                                           math.log(n * (n - 1.0)) + 2.0 * np.log(m1))
        terms = np.where(np.isfinite(log_inner), np.exp(log_inner + (2.0 - t) * w), 0.0)
    results = [math.log(step * terms[::skip].sum()) - special.gammaln(2.0 - t)
               for step, skip in ((_STEPS[0], 2), (_STEPS[1], 1))]
    if abs(results[0] - results[1]) > _TOL:
        raise ConvergenceError(f"the moment of order {t:g} did not converge (steps differ by "
                               f"{abs(results[0] - results[1]):.1e})")
    return results[1] + t * math.log(n * unit.mean)


def sum_log_stats(unit: UnitLaw, n: int) -> GainLogStats:
    r""":math:`P(Y = 0)` and the mean and variance of :math:`\log Y` given :math:`Y > 0` (Frullani integrals)."""
    n = _check_unit(unit, n)
    p_zero = unit.p_zero**n
    w, v = _grid(_STEPS[1])
    log_lam, _, _ = _scaled_laplace(unit, n, v)
    # 1 - E[e^{-vY} | Y > 0] = (1 - lambda^n) / (1 - p0^n)
    deficit = -np.expm1(n * log_lam) / (1.0 - p_zero)
    g = deficit + np.expm1(-v)  # e^{-v} - E[e^{-vY} | Y > 0]
    results = []
    for step, skip in ((_STEPS[0], 2), (_STEPS[1], 1)):
        first = step * g[::skip].sum()
        second = -2.0 * step * (w[::skip] * g[::skip]).sum() - 2.0 * _EULER * first
        results.append((first, second))
    (f0, s0), (f1, s1) = results
    if abs(f0 - f1) > _TOL or abs(s0 - s1) > _TOL:
        raise ConvergenceError(f"the log-moments did not converge (steps differ by {max(abs(f0 - f1), abs(s0 - s1)):.1e})")
    log_scale = math.log(n * unit.mean)
    return GainLogStats(float(p_zero), float(f1 + log_scale), float(max(s1 - f1 * f1, 0.0)))
