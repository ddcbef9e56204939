r"""Convolutional layers: ``k x k`` kernels, stride 1, 'same' zero padding (odd ``k``).

Input ``(C_in, H, W)``, output ``(C, H, W)`` (C order, flattened).  Unit
``(c, h, w)`` of a kind of rank ``K`` has the pieces
:math:`\zeta_{c,k,h,w} = \sum_{c',dy,dx} W_{c,k,c',dy,dx}\,x_{c',h+dy-p,w+dx-p} + b_{c,k}`,
:math:`p = \lfloor k/2\rfloor` (inputs outside the image are 0).  Weights
:math:`N(0, c/(k^2 C_{\mathrm{in}}))` (fan-in :math:`k^2 C_{\mathrm{in}}`), biases
:math:`N(0,\beta)`, both shared over positions.  Two kinds share this geometry
(:class:`Conv2dLayer`):

* :class:`MaxoutConv2d` (code 3, rank ``K``): unit ``(c, h, w)`` outputs
  :math:`\max_k \zeta_{c,k,h,w}` (the first piece on ties) and passes the Jacobian
  vector through the winning piece;
* :class:`LeakyReLUConv2d` (code 5, rank 1, slope ``0 <= a <= 1``; ``a = 0`` is
  ReLU): unit ``(c, h, w)`` outputs :math:`\phi_a(\zeta_{c,0,h,w})`,
  :math:`\phi_a(z) = z` for :math:`z > 0` and :math:`a z` otherwise, and passes
  :math:`\phi_a'(\zeta)` (1 or ``a``) times the piece's Jacobian-vector product.
  The kernels record ``sel = 1[zeta > 0]``, as for the dense leaky ReLU units.

Draw order: all weights in C order of ``(C, K, C_in, k, k)``, then, when
:math:`\beta > 0`, the biases in C order of ``(C, K)`` (zeros otherwise); a
leaky ReLU convolution is drawn as a maxout convolution of rank 1.

Laws: none of the dense factors holds, because the units of one channel share
their weights (the factors of different positions are not independent) and
the border units see fewer inputs; every law raises :class:`NoLawError`
(``docs/layer_laws.md`` shows that even the conditional mean of
:math:`\lVert J v\rVert^2` depends on where the mass of ``v`` lies, not on
:math:`\lVert v\rVert` alone).  The initialisers are those of the dense kind at
fan-in :math:`k^2 C_{\mathrm{in}}`: maxout :math:`1/M(K)`, :math:`1/L(K)`,
:math:`1/S(K)`; leaky ReLU ``he`` :math:`2/(1 + a^2)`.
"""

from __future__ import annotations

import dataclasses

from .._validate import MaxboundsValueError
from .base import Layer, NoLawError, check_image, check_size, register
from .maxout import MaxoutScales

__all__ = ["Conv2dLayer", "LeakyReLUConv2d", "MaxoutConv2d"]


@dataclasses.dataclass(frozen=True)
class Conv2dLayer(Layer):
    """The geometry every convolutional kind shares: sizes, fan-in, parameter counts and shapes, no laws.

    A kind adds its hyperparameters (checked in :meth:`_check_kind`), its label and its scales; its
    ``rank`` (pieces per unit) sets the parameter shapes ``(C, K, C_in, k, k)`` and ``(C, K)``.
    """

    n_in: int = dataclasses.field(init=False, default=0)
    width: int = dataclasses.field(init=False, default=0)
    in_channels: int = 1
    channels: int = 1
    image: tuple = (1, 1)
    kernel_size: int = 3

    def __post_init__(self):
        object.__setattr__(self, "in_channels", check_size(self.in_channels, "in_channels"))
        object.__setattr__(self, "channels", check_size(self.channels, "channels"))
        object.__setattr__(self, "image", check_image(self.image))
        k = check_size(self.kernel_size, "kernel_size")
        if k % 2 == 0:
            raise MaxboundsValueError("kernel_size", f"'same' padding needs odd kernel sizes, got {k}")
        object.__setattr__(self, "kernel_size", k)
        self._check_kind()
        H, W = self.image
        object.__setattr__(self, "n_in", self.in_channels * H * W)
        object.__setattr__(self, "width", self.channels * H * W)
        super().__post_init__()

    def _check_kind(self):
        """Check (and normalise) the kind's own hyperparameters; called before the sizes are set."""

    @property
    def kernel_label(self) -> str:
        return f"{self.kernel_size}x{self.kernel_size}"

    @property
    def fan_in(self) -> int:
        return self.kernel_size**2 * self.in_channels

    @property
    def weight_count(self) -> int:
        return self.channels * self.rank * self.in_channels * self.kernel_size**2

    @property
    def bias_count(self) -> int:
        return self.channels * self.rank

    def geometry(self) -> tuple:
        return (self.in_channels, self.channels, self.image[0], self.image[1], self.kernel_size)

    def weight_shape(self) -> tuple:
        return (self.channels, self.rank, self.in_channels, self.kernel_size, self.kernel_size)

    def _no_law_reason(self) -> str:
        return ("the units of a channel share their weights, so the per-unit factors are not independent, "
                "and 'same' padding gives border units fewer inputs")


@register
@dataclasses.dataclass(frozen=True)
class MaxoutConv2d(MaxoutScales, Conv2dLayer):
    """``channels`` maxout feature maps of rank ``K`` from ``in_channels`` maps of size ``image = (H, W)``."""

    K: int = 2

    kind = "maxout_conv"
    code = 3

    def _check_kind(self):
        self._check_rank()

    @property
    def label(self) -> str:
        return f"maxout conv {self.kernel_label} (K={self.K})"


def _check_slope(a) -> float:
    if isinstance(a, bool) or not isinstance(a, (int, float)) or not 0 <= a <= 1:
        raise MaxboundsValueError("slope", f"must be a number in [0, 1], got {a!r}")
    return float(a)


@register
@dataclasses.dataclass(frozen=True, init=False)
class LeakyReLUConv2d(Conv2dLayer):
    """``channels`` leaky ReLU feature maps of slope ``a`` (``a = 0``: ReLU) from ``in_channels`` maps.

    ``LeakyReLUConv2d(in_channels, channels, image, kernel_size=3, slope=0.0, c="he", bias_var=0.0)``;
    ``c`` defaults to He at the layer's slope, :math:`2/(1 + a^2)`.
    """

    c: object = "he"
    slope: float = 0.0

    kind = "leaky_relu_conv"
    code = 5
    scale_names = ("he",)

    def __init__(self, in_channels=1, channels=1, image=(1, 1), kernel_size=3, slope=0.0, c="he", bias_var=0.0,
                 index=None):
        # the arguments in the order of the kind (the dataclass order would start with the base's c)
        for name, value in (("in_channels", in_channels), ("channels", channels), ("image", image),
                            ("kernel_size", kernel_size), ("slope", slope), ("c", c), ("bias_var", bias_var),
                            ("index", index)):
            object.__setattr__(self, name, value)
        self.__post_init__()

    def _check_kind(self):
        object.__setattr__(self, "slope", _check_slope(self.slope))

    @property
    def label(self) -> str:
        name = "relu conv" if self.slope == 0 else "leaky relu conv"
        return f"{name} {self.kernel_label}" + ("" if self.slope == 0 else f" (a={self.slope:g})")

    @property
    def kernel_slope(self) -> float:
        return self.slope

    def named_scale(self, name: str) -> float:
        """``he`` at this layer's slope: :math:`2/(1 + a^2)`."""
        return 2.0 / (1.0 + self.slope**2)

    def init_scale(self, scheme: str) -> float:
        """``he`` (or ``relu``): :math:`c = 2/(1 + a^2)`, so that :math:`c\\,E[\\phi_a(Z)^2] = 1`."""
        if scheme in ("he", "relu"):
            return self.named_scale("he")
        if scheme in ("maxout", "upper", "lower"):
            raise NoLawError(self, f"the initialisation {scheme!r}", "it is a maxout scheme; use 'he'")
        return super().init_scale(scheme)
