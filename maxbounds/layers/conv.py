r"""Maxout convolutional layers: ``k x k`` kernels, stride 1, 'same' zero padding (odd ``k``).

Input ``(C_in, H, W)``, output ``(C, H, W)`` (C order, flattened).  Unit
``(c, h, w)`` outputs :math:`\max_k \zeta_{c,k,h,w}` with
:math:`\zeta_{c,k,h,w} = \sum_{c',dy,dx} W_{c,k,c',dy,dx}\,x_{c',h+dy-p,w+dx-p} + b_{c,k}`,
:math:`p = \lfloor k/2\rfloor`.  Weights :math:`N(0, c/(k^2 C_{\mathrm{in}}))`
(fan-in :math:`k^2 C_{\mathrm{in}}`), biases :math:`N(0,\beta)`, both shared over
positions.

Draw order: all weights in C order of ``(C, K, C_in, k, k)``, then, when
:math:`\beta > 0`, the biases in C order of ``(C, K)`` (zeros otherwise).

Laws: none of the dense factors holds, because the units of one channel share
their weights (the factors of different positions are not independent) and
the border units see fewer inputs; every law raises :class:`NoLawError`.
The initialisers are the maxout ones at fan-in :math:`k^2 C_{\mathrm{in}}`.
"""

from __future__ import annotations

import dataclasses

from .._validate import MaxboundsValueError
from .base import Layer, check_image, check_size, register
from .maxout import MaxoutScales

__all__ = ["MaxoutConv2d"]


@register
@dataclasses.dataclass(frozen=True)
class MaxoutConv2d(MaxoutScales, Layer):
    """``channels`` maxout feature maps of rank ``K`` from ``in_channels`` maps of size ``image = (H, W)``."""

    n_in: int = dataclasses.field(init=False, default=0)
    width: int = dataclasses.field(init=False, default=0)
    in_channels: int = 1
    channels: int = 1
    image: tuple = (1, 1)
    kernel_size: int = 3
    K: int = 2

    kind = "maxout_conv"
    code = 3

    def __post_init__(self):
        object.__setattr__(self, "in_channels", check_size(self.in_channels, "in_channels"))
        object.__setattr__(self, "channels", check_size(self.channels, "channels"))
        object.__setattr__(self, "image", check_image(self.image))
        k = check_size(self.kernel_size, "kernel_size")
        if k % 2 == 0:
            raise MaxboundsValueError("kernel_size", f"'same' padding needs odd kernel sizes, got {k}")
        object.__setattr__(self, "kernel_size", k)
        self._check_rank()
        H, W = self.image
        object.__setattr__(self, "n_in", self.in_channels * H * W)
        object.__setattr__(self, "width", self.channels * H * W)
        super().__post_init__()

    @property
    def label(self) -> str:
        return f"maxout conv {self.kernel_size}x{self.kernel_size} (K={self.K})"

    @property
    def fan_in(self) -> int:
        return self.kernel_size**2 * self.in_channels

    @property
    def weight_count(self) -> int:
        return self.channels * self.K * self.in_channels * self.kernel_size**2

    @property
    def bias_count(self) -> int:
        return self.channels * self.K

    def geometry(self) -> tuple:
        return (self.in_channels, self.channels, self.image[0], self.image[1], self.kernel_size)

    def weight_shape(self) -> tuple:
        return (self.channels, self.K, self.in_channels, self.kernel_size, self.kernel_size)

    def _no_law_reason(self) -> str:
        return ("the units of a channel share their weights, so the per-unit factors are not independent, "
                "and 'same' padding gives border units fewer inputs")
