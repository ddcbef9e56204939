r"""Stochastic-order bounds on :math:`\|J_N(x)u\|^2` (docs/bounds.md).

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

import numpy as np

from .._validate import MaxboundsValueError, as_order
from ..constants import OutOfRangeError

__all__ = ["JacobianBound", "jacobian_bounds", "jacobian_moment_bounds", "ReLUJacobianLaw", "layer_groups"]

_SIDE_NAMES = ("lower", "upper")


def exp_checked(log_value: float, what: str) -> float:
    """``exp(log_value)``, or :class:`OutOfRangeError` if it leaves the double range."""
    if log_value > math.log(np.finfo(float).max) or log_value < math.log(np.finfo(float).tiny):
        raise OutOfRangeError(
            f"{what} is about 1e{log_value / math.log(10):.0f}, outside the double-precision range; "
            "use the log_ variant"
        )
    return math.exp(log_value)


def layer_groups(net) -> list:
    """``[(layer, first, count), ...]``: the distinct layers of ``net`` (``index`` set to None), in order.

    ``first`` is the first layer of the group as it sits in the network (its
    index names it in errors), ``count`` the number of equal layers.  Repeated
    layers cost one factor evaluation, so depth :math:`10^4` is cheap.
    """
    groups: dict = {}
    for layer in net:
        key = layer.replace(index=None)
        if key in groups:
            groups[key][1] += 1
        else:
            groups[key] = [layer, 1]
    return [(key, first, count) for key, (first, count) in groups.items()]


def _output_shape(size) -> tuple:
    """``size`` (an int or a tuple of ints >= 0) as a shape."""
    shape = (size,) if np.ndim(size) == 0 else tuple(size)
    for n in shape:
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 0:
            raise MaxboundsValueError("size", f"expected an integer >= 0 or a tuple of them, got {size!r}")
    return tuple(int(n) for n in shape)


class _LayerProduct:
    r"""A product of independent per-layer factors :math:`G_1 \cdots G_L` (the common part of the laws)."""

    side = "lower"

    def __init__(self, net, side):
        from ..architecture import Architecture
        from ..layers.draw import as_serial

        if side not in _SIDE_NAMES:
            raise MaxboundsValueError("side", f"expected 'lower' or 'upper', got {side!r}")
        self.side = side
        self.arch = net if isinstance(net, Architecture) else None
        self.net = as_serial(net, "arch")
        self._groups = layer_groups(self.net)
        for _, first, _ in self._groups:
            first.jacobian_log_mean(side)  # a kind without the law raises its NoLawError, naming the layer

    def _describe(self) -> str:
        return self.arch.describe() if self.arch is not None else self.net.describe()

    def log_moment(self, t) -> float:
        r""":math:`\log E[B^t] = \sum_l \log E[G_l^t]` for real ``t >= 0``."""
        t = float(as_order(t))
        if t == 0:
            return 0.0
        return float(sum(count * layer.jacobian_log_moment(self.side, t) for layer, _, count in self._groups))

    def moment(self, t) -> float:
        r""":math:`E[B^t]`; raises :class:`OutOfRangeError` outside the double range."""
        return exp_checked(self.log_moment(t), f"E[B^{float(t):g}]")

    def log_mean(self) -> float:
        r""":math:`\log E[B] = \sum_l \log E[G_l]` (each factor's closed form)."""
        return float(sum(count * layer.jacobian_log_mean(self.side) for layer, _, count in self._groups))

    def mean(self) -> float:
        return exp_checked(self.log_mean(), "the mean")

    def var(self) -> float:
        """``E[B^2] - E[B]^2``."""
        second, mean = self.moment(2), self.mean()
        return second - mean * mean

    def rvs(self, size=1, random_state=None) -> np.ndarray:
        """Samples of shape ``size`` (an int or any tuple); each layer's factor is drawn in turn."""
        rng = np.random.default_rng(random_state)
        shape = _output_shape(size)
        count = math.prod(shape)
        out = np.ones(count)
        for layer in self.net:
            out = out * layer.jacobian_rvs(self.side, count, rng)
        return out.reshape(shape)


class JacobianBound(_LayerProduct):
    r"""The lower (``side="lower"``) or upper (``side="upper"``) bounding variable of :math:`\|J_N(x)u\|^2`.

    ``net`` is an :class:`~maxbounds.architecture.Architecture` (its maxout
    network) or any :class:`~maxbounds.layers.Serial`; the variable is the
    product of the layers' factors :meth:`~maxbounds.layers.Layer.jacobian_log_moment`,
    so a kind without the law (a convolution, a pooling layer) raises its
    :class:`~maxbounds.layers.NoLawError`, naming the layer, at construction.

    Methods follow :mod:`scipy.stats`: :meth:`moment` (any real order
    ``t >= 0``), :meth:`mean`, :meth:`var`, :meth:`rvs` (any ``size``, e.g.
    ``(2, 3)``); ``log_`` variants return logarithms.
    """

    def __init__(self, net, side: str):
        super().__init__(net, side)

    def __repr__(self):
        return f"JacobianBound({self._describe()}, side={self.side!r})"


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


class ReLUJacobianLaw(_LayerProduct):
    r"""Exact law of :math:`\|J_N(x)u\|^2` for a ReLU network with zero-mean symmetric biases (any input).

    .. math:: \|Ju\|^2 = \frac{c_L}{n_{L-1}}\chi^2_{n_L}\prod_{l=1}^{L-1}\frac{c_l}{n_{l-1}}\chi^2_{B_l},
              \qquad B_l \sim \mathrm{Binomial}(n_l, 1/2),

    each active unit passing its Gaussian row.  Mean :math:`(c_L n_L/n_0)\prod_l c_l/2`,
    so :math:`c = 2` (He) preserves it.  The product of the layers' exact
    factors (:mod:`maxbounds.layers.leaky_relu`) over ``arch.network("relu")``
    (``"leaky_relu"`` with ``slope > 0``; the architecture's ranks are
    ignored), or over any :class:`~maxbounds.layers.Serial` whose layers all
    have an exact law.  A layer without one (a convolution, a maxout layer of
    rank ``K > 1``) raises :class:`~maxbounds.layers.NoLawError` naming it.
    """

    def __init__(self, arch, slope: float = 0.0):
        from ..architecture import Architecture
        from ..layers import NoLawError

        net = arch
        if isinstance(arch, Architecture):
            if arch.conv is not None:
                net = arch.network()  # its convolutional layers have no law: the check below names them
            else:
                net = arch.network("leaky_relu" if slope else "relu", slope=slope)
        super().__init__(net, "lower")
        self.arch = arch if isinstance(arch, Architecture) else None
        for _, first, _ in self._groups:
            if not first.jacobian_is_exact():
                raise NoLawError(first, "the exact law of the Jacobian",
                                 "its lower and upper factors differ (use JacobianBound)")

    def __repr__(self):
        return f"ReLUJacobianLaw({self._describe()})"
