r"""Max-pooling over non-overlapping ``p x p`` windows (no parameters).

Input ``(C, H, W)``, output ``(C, H // p, W // p)`` (C order, flattened; rows
and columns beyond the last full window are dropped, as in
``torch.nn.MaxPool2d(p)``).  Output ``(c, h, w)`` is the largest input of its
window (the first in row-major order on ties) and passes the Jacobian vector
of that input.

Laws: the pooled inputs of one window are outputs of one feature map, which
share weights and overlap in their receptive fields, so they are neither
independent nor identically distributed in general; every law raises
:class:`NoLawError` (the pooled-maximum initialisation of the torch issue
states the assumption under which it is exact).
"""

from __future__ import annotations

import dataclasses

from .._validate import MaxboundsValueError
from .base import Layer, check_image, check_size, register

__all__ = ["MaxPool2d"]


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
