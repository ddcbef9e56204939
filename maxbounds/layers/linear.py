r"""Linear dense layers (the output layer of every network): :math:`x = W x_{\mathrm{in}} + b`.

Exact Jacobian law: :math:`\lVert J v\rVert^2 = (c/n)\lVert v\rVert^2\chi^2_{\mathrm{width}}`,
so lower and upper factors coincide; activation gain 1; the Gram-chain step
of rank 1; initialiser ``lecun`` (``c = 1``).  Gain law with zero biases:
:math:`\lVert x\rVert^2 = (c/n)\lVert x_{\mathrm{in}}\rVert^2\,\chi^2_{\mathrm{width}}` (the Jacobian's law
at :math:`v = x_{\mathrm{in}}`), so :math:`E\log Y = \psi(w/2) + \log 2`, :math:`\mathrm{Var}\log Y = \psi'(w/2)`
and the fractional scale is :math:`c = n\,E[(\chi^2_w)^{s/2}]^{-2/s}` (``docs/fractional.md``).
"""

from __future__ import annotations

import dataclasses
import math

from .base import register, side_check
from .dense import DenseLayer

__all__ = ["Linear"]


@register
@dataclasses.dataclass(frozen=True)
class Linear(DenseLayer):
    """``width`` linear outputs on ``n_in`` inputs."""

    kind = "linear"
    code = 2

    def jacobian_log_moment(self, side, t) -> float:
        from ..laws.sums import chi2_log_moment

        side_check(side)
        t = float(t)
        if t == 0:
            return 0.0
        return t * math.log(self.scale / self.fan_in) + float(chi2_log_moment(self.width, t))

    def jacobian_log_mean(self, side) -> float:
        side_check(side)
        return math.log(self.scale / self.fan_in * self.width)

    def jacobian_rvs(self, side, size, rng):
        side_check(side)
        return self.scale / self.fan_in * self.gain_rvs(size, rng)

    # -- the gain law with zero biases: chi^2_width ----------------------------------------------------
    def unit_law(self):
        from ..laws.gains import GaussianScaleUnit

        return GaussianScaleUnit(("fixed", 1.0))

    def gain_log_moment(self, t) -> float:
        from ..laws.sums import chi2_log_moment
        from .base import _gain_order

        t = _gain_order(t)
        return 0.0 if t == 0 else float(chi2_log_moment(self.width, t))

    def gain_log_stats(self):
        from scipy import special

        from ..laws.gains import GainLogStats

        return GainLogStats(0.0, float(special.digamma(self.width / 2) + math.log(2.0)),
                            float(special.polygamma(1, self.width / 2)))

    def gain_log_cf(self, u):
        from .leaky_relu import chi2_log_cf

        return chi2_log_cf(self.width, u)

    def gain_rvs(self, size, rng):
        return rng.chisquare(self.width, size=size)

    def jacobian_is_exact(self) -> bool:
        return True

    def activation_gain(self) -> float:
        return 1.0

    def chain_rank(self) -> int:
        return 1

    def init_scale(self, scheme: str) -> float:
        if scheme in ("lecun", "linear", "output"):
            return 1.0
        return super().init_scale(scheme)
