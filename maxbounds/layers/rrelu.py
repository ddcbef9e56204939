r"""Randomised leaky ReLU dense layers: :math:`\phi(z_i) = \max(z_i, a_i z_i)`, :math:`a_i \sim U[l, u]`.

Every unit ``i`` of every network carries its own negative slope :math:`a_i`,
i.i.d. uniform on ``[lower, upper]`` (``0 <= lower <= upper <= 1``) and
independent of the weights (Xu et al. 2015; PyTorch's ``RReLU`` in training
mode, whose defaults are ``1/8, 1/3``).  The slopes are part of the draw:
a network is ``(W, b, a)``.

Gain law (zero biases; the Jacobian's law for any bias law symmetric about 0):
the sign of :math:`z_i = W_i\cdot x` is independent of :math:`z_i^2` and of
:math:`a_i`, so

.. math:: \lVert x_l\rVert^2 = \frac{c}{n}\lVert x_{l-1}\rVert^2\,Y,\qquad
          Y = \sum_{i\le w} G_i Z_i^2,\quad G_i = \begin{cases}1 & \text{prob. } 1/2\\
          a_i^2 & \text{prob. } 1/2\end{cases},

i.e. :math:`Y = \chi^2_B + \sum_{i\le w-B} a_i^2 Z_i^2`, independent of the past.
Its Laplace transform is :math:`E e^{-vY} = \lambda(v)^w`,
:math:`\lambda(v) = \tfrac12(1+2v)^{-1/2} + \tfrac12 E_a(1+2a^2v)^{-1/2}`, from which
:mod:`maxbounds.laws.gains` gives every real moment :math:`E[Y^t]` (``0 < t < 2``)
and the mean and variance of :math:`\log Y`; integer moments follow from
:math:`E[X^j] = (2j-1)!!\,(1 + E a^{2j})/2`,
:math:`E a^{2j} = (u^{2j+1} - l^{2j+1})/((2j+1)(u - l))`.  Activation gain
:math:`E\phi(Z)^2 = (1 + E a^2)/2`; initialiser ``he``: :math:`c = 2/(1 + E a^2)`.

Kernels: none.  The slopes are random per unit and per network, which the
Numba draw (:mod:`maxbounds.layers._kernels`) does not hold; the draw and the
forward pass of this kind live in the NumPy reference
(:func:`maxbounds.reference.draw`, :func:`maxbounds.reference.forward`), and
:meth:`maxbounds.layers.Serial.plan` (hence every simulator of
:mod:`maxbounds.simulate`) raises :class:`~maxbounds.layers.NoLawError` naming the
layer.  See ``docs/fractional.md``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .._validate import MaxboundsValueError
from .base import NoLawError, register, side_check
from .dense import DenseLayer

__all__ = ["RandomisedLeakyReLUDense", "uniform_slope_moment"]


def uniform_slope_moment(lower: float, upper: float, power: int) -> float:
    r""":math:`E[a^{p}]` for :math:`a \sim U[l, u]` (``l = u``: the point mass)."""
    if upper == lower:
        return lower**power
    return (upper ** (power + 1) - lower ** (power + 1)) / ((power + 1) * (upper - lower))


@register
@dataclasses.dataclass(frozen=True)
class RandomisedLeakyReLUDense(DenseLayer):
    """``width`` randomised leaky ReLU units, negative slopes i.i.d. uniform on ``[lower, upper]``."""

    lower: float = 1.0 / 8.0
    upper: float = 1.0 / 3.0

    kind = "rrelu"
    code = 6
    scale_names = ("he",)
    has_kernels = False

    def __post_init__(self):
        super().__post_init__()
        for name in ("lower", "upper"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise MaxboundsValueError("slopes", f"{name} must be a number in [0, 1], got {value!r}")
            object.__setattr__(self, name, float(value))
        if self.lower > self.upper:
            raise MaxboundsValueError("slopes", f"need lower <= upper, got {self.lower:g} > {self.upper:g}")

    @property
    def label(self) -> str:
        return f"rrelu (a~U[{self.lower:g},{self.upper:g}])"

    def _no_kernel_reason(self) -> str:
        return ("its negative slopes are random per unit and per network and the Numba draw does not hold "
                "them; draw and evaluate it with maxbounds.reference (NumPy)")

    @property
    def mean_slope_sq(self) -> float:
        r""":math:`E[a^2] = (l^2 + lu + u^2)/3`."""
        return uniform_slope_moment(self.lower, self.upper, 2)

    def named_scale(self, name: str) -> float:
        return 2.0 / (1.0 + self.mean_slope_sq)

    # -- the exact law of the gain (Jacobian, and activations with zero biases) ---------------------------
    def unit_law(self):
        from ..laws.gains import GaussianScaleUnit

        return GaussianScaleUnit(("uniform", self.lower, self.upper))

    def unit_moment(self, j: int) -> float:
        r""":math:`E[X^j] = (2j-1)!!\,(1 + E a^{2j})/2` of one unit's :math:`X = G Z^2`."""
        double_factorial = math.prod(range(1, 2 * j, 2))
        return double_factorial * 0.5 * (1.0 + uniform_slope_moment(self.lower, self.upper, 2 * j))

    def gain_log_moment(self, t) -> float:
        from .base import _gain_order

        t = _gain_order(t)
        if t == 0:
            return 0.0
        if t == int(t):
            return self._integer_log_moment(int(t))
        return super().gain_log_moment(t)

    def _integer_log_moment(self, k: int) -> float:
        from ..laws.sums import _mean_power

        mu = self.unit_moment(1)
        c = np.array([self.unit_moment(j) / mu**j / math.factorial(j) for j in range(k + 1)])
        c[0] = 1.0
        b = _mean_power(c, self.width)
        return float(math.log(b[k]) + math.lgamma(k + 1.0) + k * math.log(self.width * mu))

    def gain_rvs(self, size, rng):
        g = np.where(rng.random((size, self.width)) < 0.5, 1.0,
                     rng.uniform(self.lower, self.upper, (size, self.width)) ** 2)
        z = rng.standard_normal((size, self.width))
        return (g * z * z).sum(axis=1)

    def jacobian_log_moment(self, side, t) -> float:
        side_check(side)
        t = float(t)
        if t == 0:
            return 0.0
        return t * math.log(self.scale / self.fan_in) + self.gain_log_moment(t)

    def jacobian_log_mean(self, side) -> float:
        side_check(side)
        return math.log(self.scale / self.fan_in * self.width * (1.0 + self.mean_slope_sq) / 2.0)

    def jacobian_rvs(self, side, size, rng):
        side_check(side)
        return self.scale / self.fan_in * self.gain_rvs(size, rng)

    def jacobian_is_exact(self) -> bool:
        return True

    def activation_gain(self) -> float:
        return (1.0 + self.mean_slope_sq) / 2.0

    def chain_rank(self) -> int:
        raise NoLawError(self, "the Gram chain (exact law given the input)",
                         "the chain of docs/exact_laws.md is derived for maxout and linear layers")

    def init_scale(self, scheme: str) -> float:
        if scheme in ("he", "relu", "rrelu"):
            return 2.0 / (1.0 + self.mean_slope_sq)
        if scheme in ("maxout", "upper", "lower"):
            raise NoLawError(self, f"the initialisation {scheme!r}", "it is a maxout scheme; use 'he'")
        return super().init_scale(scheme)
