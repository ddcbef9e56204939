r"""Maxout dense layers of rank ``K`` (docs/architecture.md, docs/exact_laws.md, docs/bounds.md).

Unit ``i`` outputs :math:`x_i = \max_k \zeta_{i,k}` (the first piece on ties)
and passes the Jacobian vector through the winning piece:
:math:`(J v)_i = W_{i,k^*}\cdot v`.

Factors in the laws, with :math:`n = n_{\mathrm{in}}` and ``width`` units:

* stochastic-order gain: :math:`G = (c/n)\sum_{i\le\mathrm{width}} X_i` with
  :math:`X_i` the smallest (``lower``) or largest (``upper``) of ``K``
  :math:`\chi^2_1` values; :math:`E[G] = (c/n)\,\mathrm{width}\,S(K)` or
  :math:`\dots L(K)`;
* activation gain :math:`M(K) = E[\Xi^2]` (the square of the largest of ``K`` normals);
* Gram-chain step of rank ``K``;
* initialisers ``1/M`` (``maxout``), ``1/L`` (``upper``), ``1/S`` (``lower``), and
  :math:`1/M(K p^2)` for a layer feeding a ``p x p`` max-pool
  (:meth:`MaxoutScales.pool_init_scale`, ``docs/pooling_init.md``).
"""

from __future__ import annotations

import dataclasses
import math

from .base import NoLawError, register, side_check
from .dense import DenseLayer

__all__ = ["MaxoutDense", "MaxoutScales", "maxout_scale"]

_SIDE_LAW = {"lower": ("chi2_min", "S"), "upper": ("chi2_max", "L")}
_SCHEMES = {"maxout": "M", "upper": "L", "lower": "S"}


def maxout_scale(name: str, K: int) -> float:
    """The named scale ``1/M``, ``1/L`` or ``1/S`` at rank ``K``: :math:`1/M(K)`, :math:`1/L(K)`, :math:`1/S(K)`."""
    from ..constants import constant

    return 1.0 / constant(name[2], K)


class MaxoutScales:
    """What every maxout kind (dense, convolution) shares: the rank ``K``, the named scales and initialisers."""

    scale_names = ("1/M", "1/L", "1/S")

    def _check_rank(self):
        from .._validate import MAX_RANK
        from .base import check_size

        object.__setattr__(self, "K", check_size(self.K, "rank", MAX_RANK))

    @property
    def rank(self) -> int:
        return self.K

    def named_scale(self, name: str) -> float:
        """``1/M``, ``1/L``, ``1/S`` at this layer's rank."""
        return maxout_scale(name, self.K)

    def init_scale(self, scheme: str) -> float:
        """``maxout``: :math:`1/M(K)`; ``upper``: :math:`1/L(K)`; ``lower``: :math:`1/S(K)`."""
        if scheme in _SCHEMES:
            return self.named_scale("1/" + _SCHEMES[scheme])
        if scheme in ("he", "relu"):
            raise NoLawError(self, f"the initialisation {scheme!r}", "it is a ReLU scheme; use 'maxout' (c = 1/M)")
        return super().init_scale(scheme)

    def fractional_scale(self, s) -> float:
        r""":math:`c = \mathrm{fan\_in}\,E[(\sum_{i\le\mathrm{width}}\Xi_i^2)^{s/2}]^{-2/s}` (docs/getting_started.md).

        Exact for a dense layer with zero biases.  For a convolution it treats the ``C*H*W`` units
        as independent, which they are not (a channel's units share their weights): the rule kept
        from earlier releases, an approximation.
        """
        from ..laws.sums import iid_sum_log_moment
        from .base import check_moment_order

        s = check_moment_order(s)
        return self.fan_in * math.exp(-2.0 / s * float(iid_sum_log_moment("gaussian_max_sq", self.K, self.width,
                                                                            s / 2.0)))

    def pool_init_scale(self, pool) -> float:
        r"""The pooling-aware scale :math:`c = 1/M(K p^2)` of this layer when a ``pool x pool`` max-pool follows it.

        With zero biases and the input fixed, the pieces
        :math:`\zeta_{c,k,h,w} = W_{c,k}\cdot P(h, w)` of one channel are jointly
        Gaussian with covariance :math:`(c/\mathrm{fan\_in})\langle P(h,w), P(h',w')\rangle
        \delta_{kk'}`.  When the :math:`p^2` patches of a window are orthogonal with
        equal norms :math:`\lVert P\rVert` (exact for a dense layer, whose units have
        their own weights, and for ``1 x 1`` kernels on orthogonal channel vectors),
        the pooled output is :math:`\sqrt{c/\mathrm{fan\_in}}\,\lVert P\rVert` times the
        largest of :math:`K p^2` i.i.d. standard normals, whose mean square is
        :math:`M(K p^2)`; :math:`c = 1/M(K p^2)` keeps the mean square per feature
        (``pool = 1`` is :math:`1/M(K)`).  At ``K = 5``, ``p = 2``:
        :math:`1/M(20) = 0.26573`.  Overlapping patches are correlated and the
        maximum smaller: see ``docs/pooling_init.md``.
        """
        from .maxpool import pooled_pieces

        return maxout_scale("1/M", pooled_pieces(self.K, pool))


@register
@dataclasses.dataclass(frozen=True)
class MaxoutDense(MaxoutScales, DenseLayer):
    """``width`` maxout units of rank ``K`` on ``n_in`` inputs."""

    K: int = 2

    kind = "maxout"
    code = 0

    def __post_init__(self):
        super().__post_init__()
        self._check_rank()

    @property
    def label(self) -> str:
        return f"maxout (K={self.K})"

    def jacobian_log_moment(self, side, t) -> float:
        from ..laws.sums import iid_sum_log_moment

        t = float(t)
        if t == 0:
            return 0.0
        law = _SIDE_LAW[side_check(side)][0]
        return t * math.log(self.scale / self.fan_in) + float(iid_sum_log_moment(law, self.K, self.width, t))

    def jacobian_log_mean(self, side) -> float:
        from ..constants import constant

        name = _SIDE_LAW[side_check(side)][1]
        return math.log(self.scale / self.fan_in * self.width) + math.log(constant(name, self.K))

    def jacobian_rvs(self, side, size, rng):
        from ..constants import chi2_max, chi2_min

        law = chi2_min if side_check(side) == "lower" else chi2_max
        draws = law(K=self.K).rvs(size=(size, self.width), random_state=rng)
        return self.scale / self.fan_in * draws.sum(axis=1)

    def jacobian_is_exact(self) -> bool:
        return self.K == 1

    def activation_gain(self) -> float:
        from ..constants import M

        return 1.0 if self.K == 1 else float(M(self.K))  # K = 1: a standard normal, E[Z^2] = 1 exactly

    def chain_rank(self) -> int:
        return self.K

    # -- the gain law with zero biases: Y = sum of width squared Gaussian maxima (docs/getting_started.md) ----
    def unit_law(self):
        from ..laws.gains import max_square_unit

        return max_square_unit(self.K)

    def gain_log_moment(self, t) -> float:
        from ..laws.sums import iid_sum_log_moment
        from .base import _gain_order

        t = _gain_order(t)
        return 0.0 if t == 0 else float(iid_sum_log_moment("gaussian_max_sq", self.K, self.width, t))

    def gain_rvs(self, size, rng):
        from ..constants import gaussian_max

        xi = gaussian_max(K=self.K).rvs(size=(size, self.width), random_state=rng)
        return (xi * xi).sum(axis=1)
