r"""Heavy-tailed weights: symmetric Student-t and symmetric :math:`\alpha`-stable (``docs/fractional.md``).

maxbounds layers have Gaussian weights; this module is separate and self-contained: its laws
are derived here and its checks draw networks with NumPy and SciPy (:func:`simulate_norms`), not
with the layers' draw.

Absolute moments (closed forms, ``0 < s < nu`` or ``0 < s < alpha``):

* Student-t with :math:`\nu` degrees of freedom:
  :math:`E|T|^s = \nu^{s/2}\,\Gamma(\tfrac{s+1}{2})\Gamma(\tfrac{\nu-s}{2})/(\sqrt\pi\,\Gamma(\tfrac\nu2))`;
* symmetric :math:`\alpha`-stable with :math:`E e^{itS} = e^{-|t|^\alpha}`:
  :math:`E|S|^s = 2^s\,\Gamma(\tfrac{1+s}{2})\Gamma(1 - s/\alpha)/(\sqrt\pi\,\Gamma(1 - s/2))`.

**Stable weights, any widths: an exact s-scheme in the** :math:`\ell_\alpha` **norm.**  With weights
:math:`W_{ij} = \sigma S_{ij}` (i.i.d. standard symmetric :math:`\alpha`-stable) and zero biases,
:math:`z_i = W_i\cdot x` is :math:`\sigma\lVert x\rVert_\alpha S_i` in law, the :math:`S_i` i.i.d. and
independent of :math:`x` (a stable sum is stable with scale :math:`\lVert x\rVert_\alpha`), so
:math:`E|W_i\cdot x|^s = \sigma^s\lVert x\rVert_\alpha^s E|S|^s`, and for a leaky ReLU of slope ``a``
(``a = 0`` ReLU, ``a = 1`` linear)

.. math:: \lVert x_l\rVert_\alpha^\alpha = \sigma^\alpha\lVert x_{l-1}\rVert_\alpha^\alpha\, Y_l,\qquad
          Y_l = \sum_{i\le n_l} g_i|S_i|^\alpha,\quad g_i = 1[S_i > 0] + a^\alpha 1[S_i < 0],

with :math:`Y_l` independent of the past.  Hence :math:`E\lVert x_l\rVert_\alpha^s = \sigma^s
E[Y_l^{s/\alpha}]\,E\lVert x_{l-1}\rVert_\alpha^s` and the scale that keeps it is
:math:`\sigma_l = E[Y_l^{s/\alpha}]^{-1/s}` (:func:`stable_scale`).  (The Euclidean norm does not
close: :math:`\lVert x_l\rVert_2` depends on more of :math:`x_{l-1}` than its norm.)  The moment
:math:`E[Y^{t}]`, :math:`t = s/\alpha < 1`, comes from the Laplace transform of one unit,
:math:`E e^{-vg|S|^\alpha}`, through :mod:`maxbounds.laws.gains` (where :math:`E X = \infty` changes
only how fast the integrand falls as :math:`v \to 0`).  That transform is a two-dimensional
quadrature in the Chambers-Mallows-Stuck representation
:math:`|S|^\alpha = A(U)\,E^{\alpha-1}`, :math:`A(U) = \sin(\alpha U)^\alpha\cos((1-\alpha)U)^{1-\alpha}/\cos U`,
:math:`U\sim U(0, \pi/2)`, :math:`E\sim\mathrm{Exp}(1)` independent: tanh-sinh in ``U``, the
trapezoid rule in :math:`\log E`.  The quadrature cuts the tail of :math:`|S|^\alpha` near
:math:`e^{42}`, which :math:`E[Y^t]` feels as :math:`t \to 1`: measured error (against steps and
range doubled) below ``1e-10`` for :math:`t = s/\alpha \le 0.5` and about ``1e-5`` at 0.75, beyond which
it is refused.

**Student-t weights.**  A sum of Student-t variables is not Student-t, so no norm closes at width
above one.  Exact: a chain of one-input units (all widths 1), :math:`x_l = \phi_a(\sigma T_l x_{l-1})`,
:math:`E|x_l|^s = \sigma^s E|T|^s\frac{1 + a^s}{2}E|x_{l-1}|^s`, so :math:`\sigma = (2/((1+a^s)E|T|^s))^{1/s}`
(:func:`student_t_chain_scale`).  For a given input ``x``, :math:`E|T\cdot x|^s` is the
characteristic-function integral :func:`weighted_sum_abs_moment`.  At larger widths with
:math:`\nu < 2`, :math:`\sum_j T_jx_j` is in the domain of attraction of the :math:`\nu`-stable law
(the generalised central limit theorem), with scale :math:`\gamma_\nu\lVert x\rVert_\nu` where
:math:`\gamma_\nu^\nu` is the ratio of the tail constants of :math:`T` and :math:`S_\nu`
(:func:`student_t_stable_match`); :func:`student_t_gclt_scale` is the stable scheme divided by
:math:`\gamma_\nu`, an approximation whose error the documentation measures.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import integrate, special

from .._validate import MaxboundsValueError
from .gains import GainLogStats, UnitLaw, sum_log_moment, sum_log_stats

__all__ = ["student_t_abs_moment", "stable_abs_moment", "StableUnit", "stable_unit", "stable_gain_log_moment",
           "stable_gain_log_stats", "stable_scale", "student_t_chain_scale", "student_t_stable_match",
           "student_t_gclt_scale", "weighted_sum_abs_moment", "draw_weights", "simulate_norms"]


def _positive(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise MaxboundsValueError(name, f"must be a finite number > 0, got {value!r}")
    return float(value)


def _check_pair(index, s, name):
    """``0 < s < index < 2`` (``index`` is nu or alpha)."""
    index, s = _positive(index, name), _positive(s, "s")
    if not index <= 2.0:
        raise MaxboundsValueError(name, f"the heavy-tailed laws here have {name} in (0, 2], got {index:g}")
    if not s < index:
        raise MaxboundsValueError("s", f"E|w|^s is finite only for s < {name} = {index:g}, got s = {s:g}")
    return index, s


def _check_slope(a):
    if isinstance(a, bool) or not isinstance(a, (int, float)) or not 0 <= a <= 1:
        raise MaxboundsValueError("slope", f"must be a number in [0, 1], got {a!r}")
    return float(a)


def student_t_abs_moment(nu: float, s: float) -> float:
    r""":math:`E|T|^s = \nu^{s/2}\Gamma(\frac{s+1}2)\Gamma(\frac{\nu-s}2)/(\sqrt\pi\,\Gamma(\frac\nu2))`, ``0 < s < nu``."""
    nu, s = _positive(nu, "nu"), _positive(s, "s")
    if not s < nu:
        raise MaxboundsValueError("s", f"E|T|^s is finite only for s < nu = {nu:g}, got s = {s:g}")
    return math.exp(s / 2 * math.log(nu) + special.gammaln((s + 1) / 2) + special.gammaln((nu - s) / 2)
                    - 0.5 * math.log(math.pi) - special.gammaln(nu / 2))


def stable_abs_moment(alpha: float, s: float) -> float:
    r""":math:`E|S|^s = 2^s\Gamma(\frac{1+s}2)\Gamma(1-\frac s\alpha)/(\sqrt\pi\,\Gamma(1-\frac s2))` for :math:`E e^{itS} = e^{-|t|^\alpha}`."""
    alpha, s = _check_pair(alpha, s, "alpha")
    return math.exp(s * math.log(2) + special.gammaln((1 + s) / 2) + special.gammaln(1 - s / alpha)
                    - 0.5 * math.log(math.pi) - special.gammaln(1 - s / 2))


@functools.lru_cache(maxsize=16)
def _cms_nodes(alpha: float, h_u: float = 1.0 / 8.0, h_e: float = 1.0 / 3.0):
    r"""Nodes ``|S|^alpha`` and weights (summing to 1) of the two-dimensional CMS quadrature (halving both steps
    moves the scales of :func:`stable_scale` by about 3e-10)."""
    tau = np.arange(-3.3, 3.3 + h_u / 2, h_u)
    z = 0.5 * math.pi * np.sinh(tau)
    u = 0.5 * math.pi * special.expit(2.0 * z)          # U on (0, pi/2)
    v = 0.5 * math.pi * special.expit(-2.0 * z)         # pi/2 - U, exact near pi/2
    w_u = h_u * 0.5 * math.pi * 0.5 * math.pi * np.cosh(tau) * 2.0 * special.expit(2 * z) * special.expit(-2 * z)
    w_u /= 0.5 * math.pi                                 # the density of U on (0, pi/2)
    log_a = alpha * np.log(np.sin(alpha * u)) + (1 - alpha) * np.log(np.cos((1 - alpha) * u)) - np.log(np.sin(v))
    rho = np.arange(-32.0, 4.6, h_e)                     # log E
    w_e = h_e * np.exp(rho - np.exp(rho))
    log_x = log_a[:, None] + (alpha - 1.0) * rho[None, :]
    weight = w_u[:, None] * w_e[None, :]
    keep = weight > 1e-300
    x, weight = np.exp(log_x[keep]), weight[keep]
    weight = weight / weight.sum()
    x.setflags(write=False)
    weight.setflags(write=False)
    return x, weight


class StableUnit(UnitLaw):
    r"""One unit's :math:`X = g|S|^\alpha`, :math:`g = 1[S > 0] + a^\alpha 1[S < 0]` (``a`` the slope)."""

    decay = 1.0  # P(|S|^alpha > y) ~ C / y: E[Y^2 e^{-vY}] ~ C / v as v -> 0

    def __init__(self, alpha: float, slope: float = 0.0):
        self.alpha = _positive(alpha, "alpha")
        self.slope = _check_slope(slope)
        self.p_zero = 0.5 if self.slope == 0.0 else 0.0
        self.mean = 1.0  # nominal: E X is infinite
        self._x, self._w = _cms_nodes(self.alpha)

    def laplace(self, v):
        v = np.asarray(v, dtype=float)
        out = [np.zeros(v.shape) for _ in range(4)]
        gains = [(1.0, 0.5)] + ([(self.slope**self.alpha, 0.5)] if self.slope > 0 else [])
        for g, p in gains:
            x = g * self._x
            for start in range(0, v.size, 256):
                part = slice(start, start + 256)
                vx = np.multiply.outer(v.ravel()[part], x)
                e = np.exp(-vx)
                out[0].ravel()[part] += p * (np.expm1(-vx) @ self._w)
                out[1].ravel()[part] += p * (e @ self._w)
                out[2].ravel()[part] += p * ((e * x) @ self._w)
                out[3].ravel()[part] += p * ((e * x * x) @ self._w)
        if self.slope == 0.0:  # the zero of a ReLU unit: e^{-v 0} = 1 with probability 1/2
            out[1] += 0.5
            out[0] += 0.0  # expm1(0) = 0
        return tuple(out)


@functools.lru_cache(maxsize=64)
def stable_unit(alpha: float, slope: float = 0.0) -> StableUnit:
    return StableUnit(alpha, slope)


def stable_gain_log_moment(alpha: float, t: float, width: int, slope: float = 0.0) -> float:
    r""":math:`\log E[Y^t]`, :math:`Y = \sum_{i\le\mathrm{width}} g_i|S_i|^\alpha`, for ``0 < t < 1``."""
    alpha = _positive(alpha, "alpha")
    t = _positive(t, "t")
    if not t <= 0.75:
        raise MaxboundsValueError("s", f"the quadrature is derived for s / alpha <= 0.75 (error below 1e-10 up to "
                                       f"0.5, about 1e-5 at 0.75: the tail of |S|^alpha is cut), got {t:g}")
    return sum_log_moment(stable_unit(alpha, _check_slope(slope)), int(width), t)


def stable_gain_log_stats(alpha: float, width: int, slope: float = 0.0) -> GainLogStats:
    r""":math:`P(Y = 0)` and the mean and variance of :math:`\log Y` given :math:`Y > 0` (stable weights)."""
    return sum_log_stats(stable_unit(_positive(alpha, "alpha"), _check_slope(slope)), int(width))


def stable_scale(alpha: float, s: float, width: int, slope: float = 0.0) -> float:
    r"""The weight scale :math:`\sigma = E[Y^{s/\alpha}]^{-1/s}` (weights :math:`\sigma S`) that keeps
    :math:`E\lVert x_l\rVert_\alpha^s` exactly through a layer of ``width`` units (any fan-in)."""
    alpha, s = _check_pair(alpha, s, "alpha")
    return math.exp(-stable_gain_log_moment(alpha, s / alpha, width, slope) / s)


def student_t_chain_scale(nu: float, s: float, slope: float = 0.0) -> float:
    r""":math:`\sigma = (2/((1 + a^s)E|T|^s))^{1/s}`: exact for a chain of one-input units (widths 1)."""
    a = _check_slope(slope)
    return (2.0 / ((1.0 + a**s) * student_t_abs_moment(nu, s))) ** (1.0 / s)


def student_t_stable_match(nu: float) -> float:
    r""":math:`\gamma_\nu` with :math:`P(|T| > y) \sim P(|\gamma_\nu S_\nu| > y)`, ``nu < 2``.

    :math:`P(|T|>y) \sim \frac{2}{\nu}\frac{\Gamma(\frac{\nu+1}2)\nu^{\nu/2}}{\sqrt\pi\,\Gamma(\frac\nu2)}y^{-\nu}`
    and :math:`P(|S_\nu| > y) \sim \frac2\pi\Gamma(\nu)\sin\frac{\pi\nu}2\,y^{-\nu}`.
    """
    nu = _positive(nu, "nu")
    if not nu < 2:
        raise MaxboundsValueError("nu", f"the stable limit needs nu < 2, got {nu:g}")
    tail_t = 2.0 / nu * math.exp(special.gammaln((nu + 1) / 2) + nu / 2 * math.log(nu) - 0.5 * math.log(math.pi)
                                 - special.gammaln(nu / 2))
    tail_s = 2.0 / math.pi * math.gamma(nu) * math.sin(math.pi * nu / 2)
    return (tail_t / tail_s) ** (1.0 / nu)


def student_t_gclt_scale(nu: float, s: float, width: int, slope: float = 0.0) -> float:
    r"""The stable scheme at :math:`\alpha = \nu` divided by :math:`\gamma_\nu`: an approximation for wide layers."""
    return stable_scale(nu, s, width, slope) / student_t_stable_match(nu)


def weighted_sum_abs_moment(x, s: float, law: str, index: float) -> float:
    r""":math:`E|w\cdot x|^s` for i.i.d. weights ``w`` of ``law`` ``"stable"`` (``index`` :math:`\alpha`) or ``"t"``
    (``index`` :math:`\nu`).

    Stable: :math:`\lVert x\rVert_\alpha^s E|S|^s`.  Student-t: for :math:`0 < s < 2`,
    :math:`E|X|^s = \frac{2}{\pi}\Gamma(s+1)\sin\frac{\pi s}2\int_0^\infty(1 - \mathrm{Re}\,\varphi_X(u))\,u^{-s-1}du`
    with :math:`\varphi_X(u) = \prod_j\varphi_T(x_ju)`,
    :math:`\varphi_T(u) = K_{\nu/2}(\sqrt\nu|u|)(\sqrt\nu|u|)^{\nu/2}/(\Gamma(\frac\nu2)2^{\nu/2-1})`.
    """
    x = np.asarray(x, dtype=float).ravel()
    if law == "stable":
        alpha, s = _check_pair(index, s, "alpha")
        return float(np.sum(np.abs(x) ** alpha) ** (s / alpha)) * stable_abs_moment(alpha, s)
    if law != "t":
        raise MaxboundsValueError("law", f"expected 'stable' or 't', got {law!r}")
    nu, s = _check_pair(index, s, "nu")
    x = x[x != 0]

    def log_cf_t(u):
        y = math.sqrt(nu) * np.abs(u)
        with np.errstate(invalid="ignore", over="ignore"):
            # log K_v(y) e^y; K_v(y) e^y -> sqrt(pi / (2y)) for large y (where kve itself fails)
            log_kve = np.where(y > 1e6, 0.5 * np.log(math.pi / (2 * np.maximum(y, 1e6))),
                               np.log(special.kve(nu / 2, np.minimum(y, 1e6))))
            value = np.where(y > 0, log_kve - y + nu / 2 * np.log(y)
                             - special.gammaln(nu / 2) - (nu / 2 - 1) * math.log(2), 0.0)
        return value

    def integrand(logu):
        u = math.exp(logu)
        log_phi = float(np.sum(log_cf_t(x * u)))
        return -math.expm1(log_phi) * u ** (-s)

    # below u0 the Bessel formula loses 1 - phi to rounding; there, from the series of K_v (v = nu/2),
    # 1 - phi_T(y) = G (y/2)^nu - (y/2)^2/(1 - v) + O(y^(nu+2)), G = Gamma(1-v)/Gamma(1+v), and the product
    # over j adds O(y^(2 nu)): that piece in closed form
    u0 = 1e-5 / (math.sqrt(nu) * float(np.max(np.abs(x))))
    c = math.sqrt(nu) * np.abs(x) / 2
    head = (math.gamma(1 - nu / 2) / math.gamma(1 + nu / 2) * float(np.sum(c**nu)) * u0 ** (nu - s) / (nu - s)
            - float(np.sum(c**2)) / (1 - nu / 2) * u0 ** (2 - s) / (2 - s))
    value = head + integrate.quad(integrand, math.log(u0), 60.0, limit=400, epsabs=0, epsrel=1e-10)[0]
    return 2.0 / math.pi * math.gamma(s + 1) * math.sin(math.pi * s / 2) * value


# ---------------------------------------------------------------------------------------------
# simulation (NumPy / SciPy draws; not the layers' draw)
# ---------------------------------------------------------------------------------------------
def draw_weights(law: str, index: float, shape, rng) -> np.ndarray:
    """Standard weights: Student-t (``numpy`` ``standard_t``) or symmetric stable (``scipy.stats.levy_stable``,
    characteristic function :math:`e^{-|t|^\\alpha}`)."""
    if law == "t":
        return rng.standard_t(index, size=shape)
    if law == "stable":
        from scipy import stats

        return stats.levy_stable.rvs(index, 0.0, size=shape, random_state=rng)
    raise MaxboundsValueError("law", f"expected 'stable' or 't', got {law!r}")


def simulate_norms(law: str, index: float, sigma, widths, networks: int, rng, slope: float = 0.0,
                   norm: float = None) -> np.ndarray:
    r"""``log ||x_l||_p`` for ``l = 0..L`` (``p = norm``, default the tail index) of ``networks`` networks
    :math:`x_l = \phi_a(\sigma_l W_l x_{l-1})` with heavy-tailed standard weights ``W_l``, input
    :math:`(1, \dots, 1)`; an array ``(L + 1, networks)`` (``-inf`` where :math:`x_l = 0`)."""
    widths = tuple(int(n) for n in widths)
    p = index if norm is None else norm
    sigma = np.broadcast_to(np.asarray(sigma, dtype=float), (len(widths) - 1,))
    total = np.full(networks, math.log(widths[0]) / p)  # log ||(1, ..., 1)||_p
    x = np.full((networks, widths[0]), math.exp(-total[0]))  # carried at unit norm
    logs = [total.copy()]
    for l, (n_in, n) in enumerate(zip(widths[:-1], widths[1:])):
        W = draw_weights(law, index, (networks, n, n_in), rng)
        z = sigma[l] * np.einsum("sij,sj->si", W, x)
        x = np.where(z > 0, z, slope * z)
        size = np.sum(np.abs(x) ** p, axis=1) ** (1.0 / p)
        with np.errstate(divide="ignore", invalid="ignore"):
            total = total + np.log(size)
            # the map is positively homogeneous: carry x / ||x||_p and the logarithm apart (no overflow)
            x = np.where(size[:, None] > 0, x / size[:, None], 0.0)
        logs.append(total.copy())
    return np.vstack(logs)
