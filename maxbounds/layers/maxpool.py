r"""Max-pooling over non-overlapping ``p x p`` windows (no parameters).

Input ``(C, H, W)``, output ``(C, H // p, W // p)`` (C order, flattened; rows
and columns beyond the last full window are dropped, as in
``torch.nn.MaxPool2d(p)``).  Output ``(c, h, w)`` is the largest input of its
window (the first in row-major order on ties) and passes the Jacobian vector
of that input.

Laws: the pooled inputs of one window are outputs of one feature map, which
share weights and overlap in their receptive fields, so they are neither
independent nor identically distributed in general; every law raises
:class:`NoLawError`.

Initialisation: a maxout layer of rank ``K`` feeding a ``p x p`` max-pool
outputs, per pooled feature, the largest of the :math:`K p^2` pieces of its
window (:func:`pooled_pieces`).  Where these pieces are i.i.d. given the input
(a dense maxout layer with zero biases: the ``p^2`` units of a window have their own
weights; a convolution whose ``p^2`` patches of a window are orthogonal with equal
norms), the pooled output is :math:`\sqrt{c/\mathrm{fan\_in}}\,\lVert P\rVert`
times the largest of :math:`K p^2` standard normals, so
:math:`c = 1/M(K p^2)` keeps the mean square per feature
(:meth:`maxbounds.layers.maxout.MaxoutScales.pool_init_scale`; ``docs/pooling_init.md``
derives it and measures how far it is from exact for overlapping patches).
"""

from __future__ import annotations

import dataclasses

from .._validate import MaxboundsValueError
from .base import Layer, check_image, check_size, register

__all__ = ["MaxPool2d", "pooled_pieces"]


def pooled_pieces(K, pool) -> int:
    r"""The number :math:`K p^2` of maxout pieces one ``pool x pool`` max-pool output is the largest of.

    A ``p x p`` window holds :math:`p^2` maxout units of rank ``K``; the pooled
    output is the maximum over the window of the maximum over the pieces, one
    maximum over :math:`K p^2` pieces.
    """
    from .._validate import MAX_RANK

    K, p = check_size(K, "rank", MAX_RANK), check_size(pool, "pool")
    return check_size(K * p * p, "rank", MAX_RANK)


@register
@dataclasses.dataclass(frozen=True)
class MaxPool2d(Layer):
    """Max-pooling of ``channels`` maps of size ``image = (H, W)`` over ``pool x pool`` windows."""

    n_in: int = dataclasses.field(init=False, default=0)
    width: int = dataclasses.field(init=False, default=0)
    channels: int = 1
    image: tuple = (2, 2)
    pool: int = 2

    kind = "maxpool"
    code = 4
    has_parameters = False

    def __post_init__(self):
        object.__setattr__(self, "channels", check_size(self.channels, "channels"))
        object.__setattr__(self, "image", check_image(self.image))
        p = check_size(self.pool, "pool")
        H, W = self.image
        if p > min(H, W):
            raise MaxboundsValueError("pool", f"a {p}x{p} window does not fit a {H}x{W} image")
        object.__setattr__(self, "pool", p)
        object.__setattr__(self, "n_in", self.channels * H * W)
        object.__setattr__(self, "width", self.channels * (H // p) * (W // p))
        object.__setattr__(self, "c", 0.0)
        super().__post_init__()

    @property
    def label(self) -> str:
        return f"max-pool {self.pool}x{self.pool}"

    @property
    def out_image(self) -> tuple:
        return (self.image[0] // self.pool, self.image[1] // self.pool)

    def geometry(self) -> tuple:
        return (self.channels, self.channels, self.image[0], self.image[1], self.pool)

    @property
    def fan_in(self) -> int:
        return self.pool * self.pool

    def describe(self) -> str:
        return f"{self.label}: {self.n_in} -> {self.width}"

    def _no_law_reason(self) -> str:
        return "the pooled units share weights and receptive fields, so they are not independent"
