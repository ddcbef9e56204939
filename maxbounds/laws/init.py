r"""Initialisation: weight scales ``c`` and the weight standard deviations they imply.

Weights of a layer are drawn :math:`N(0, c/\mathrm{fan\_in})`, so the standard
deviation to give a PyTorch, JAX or Keras initialiser is
:math:`\sqrt{c/\mathrm{fan\_in}}` (:func:`weight_std`).  Schemes
(MATH.md section 7):

``maxout``
    :math:`c = 1/M(K)`: in wide networks a layer multiplies
    :math:`E\|x_l\|^2/n_l` and, once :math:`u_l` aligns with :math:`x_l`, the
    Jacobian gain by :math:`cM(K)`; :math:`c = 1/M` keeps both at one.
``upper``
    :math:`c = 1/L(K)`: the upper bound :math:`\prod c L(K)` of the gradient
    mean does not explode.
``lower``
    :math:`c = 1/S(K)`: the lower bound :math:`\prod c S(K)` does not vanish.
``he``
    :math:`c = 2` for ReLU (half the units pass, each with gain 1).
``fractional``
    for :math:`s \in (0, 2]`, preserve :math:`E\|x_l\|^s` with zero biases:
    :math:`\|x_l\|^2 = (c/n_{l-1})\|x_{l-1}\|^2 \sum_{i\le n_l}\Xi_{l,i}^2` with the
    sum independent of :math:`x_{l-1}`, so
    :math:`E\|x_l\|^s = (c/n_{l-1})^{s/2} E[(\sum_i \Xi_i^2)^{s/2}]\,E\|x_{l-1}\|^s`,
    and the scale that keeps it is
    :math:`c = n_{l-1}\,E[(\sum_{i\le n_l}\Xi_i^2)^{s/2}]^{-2/s}`.  For
    :math:`s = 2`, :math:`c = n_{l-1}/(n_l M(K))`: :math:`1/M` at equal widths.

For a convolutional layer, fan-in is :math:`k^2 C_{\mathrm{in}}` (kernel
``k x k``, ``C_in`` input channels), and the number of units a fractional
scheme sums over is the layer's output channels times its spatial size.

Per network, :func:`init_network` gives every layer its scale from the
layer's own initialiser (:meth:`maxbounds.layers.Layer.init_scale`): maxout
layers (dense or convolutional) the scheme at their rank, leaky ReLU layers
``he`` (:math:`c = 2/(1+a^2)`), and every linear layer, the output included,
:math:`c = 1` (its output variance is then the mean square of its input).
A scheme a layer kind does not have raises its
:class:`~maxbounds.layers.NoLawError`, naming the layer; pooling layers have
no parameters and are passed through.  :func:`init_scale` is the same rule
for one maxout layer of rank ``K``.
"""

from __future__ import annotations

import math

import dataclasses

from .._validate import MaxboundsValueError, as_rank
from ..constants import L, M, S

__all__ = ["SCHEMES", "init_scale", "weight_std", "conv_fan_in", "init_network", "LayerInit", "NetworkInit"]

SCHEMES = ("maxout", "upper", "lower", "he", "fractional")


def conv_fan_in(kernel_size: int, in_channels: int) -> int:
    """Fan-in ``k**2 * C_in`` of a ``k x k`` convolution with ``C_in`` input channels."""
    for name, value in (("kernel_size", kernel_size), ("in_channels", in_channels)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise MaxboundsValueError(name, f"must be an integer >= 1, got {value!r}")
    return kernel_size * kernel_size * in_channels


def init_scale(K=2, scheme: str = "maxout", *, s: float | None = None, fan_in: int | None = None,
               width: int | None = None) -> float:
    """The weight scale ``c`` of ``scheme`` at rank ``K``.

    ``fractional`` needs ``s`` in ``(0, 2]`` and the layer's ``fan_in`` and
    ``width`` (number of units; default ``fan_in``).
    """
    if scheme not in SCHEMES:
        raise MaxboundsValueError("scheme", f"expected one of {', '.join(SCHEMES)}, got {scheme!r}")
    if scheme == "he":
        return 2.0
    K = int(as_rank(K))
    if scheme == "maxout":
        return 1.0 / M(K)
    if scheme == "upper":
        return 1.0 / L(K)
    if scheme == "lower":
        return 1.0 / S(K)
    if s is None or not (isinstance(s, (int, float)) and 0 < s <= 2):
        raise MaxboundsValueError("s", f"the fractional scheme needs s in (0, 2], got {s!r}")
    fan_in = _positive_int(fan_in, "fan_in", required=True)
    width = _positive_int(width if width is not None else fan_in, "width", required=True)
    from .sums import iid_sum_log_moment

    log_moment = float(iid_sum_log_moment("gaussian_max_sq", K, width, s / 2))
    return fan_in * math.exp(-2.0 / s * log_moment)


def weight_std(c: float, fan_in: int) -> float:
    r"""Standard deviation :math:`\sqrt{c/\mathrm{fan\_in}}` of the weights."""
    if isinstance(c, bool) or not isinstance(c, (int, float)) or not math.isfinite(c) or c <= 0:
        raise MaxboundsValueError("c", f"must be a finite number > 0, got {c!r}")
    fan_in = _positive_int(fan_in, "fan_in", required=True)
    return math.sqrt(c / fan_in)


def _positive_int(value, name, required=False):
    if value is None and required:
        raise MaxboundsValueError(name, "is required for this scheme")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise MaxboundsValueError(name, f"must be an integer >= 1, got {value!r}")
    return value


@dataclasses.dataclass(frozen=True)
class LayerInit:
    """One layer's initialisation: its position, kind, fan-in, scale ``c`` and weight std ``sqrt(c/fan_in)``.

    ``c`` and ``weight_std`` are ``None`` for a layer without parameters (max-pooling).
    """

    index: int
    label: str
    fan_in: int
    c: "float | None"
    weight_std: "float | None"

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class NetworkInit:
    """The answer of :func:`init_network`: the scheme, a :class:`LayerInit` per layer, the network."""

    scheme: str
    layers: tuple
    network: object

    @property
    def c(self) -> tuple:
        """The scales ``c_1, ..., c_L`` (``None`` for a pooling layer)."""
        return tuple(layer.c for layer in self.layers)

    @property
    def weight_std(self) -> tuple:
        """The weight standard deviations ``sqrt(c_l / fan_in_l)``."""
        return tuple(layer.weight_std for layer in self.layers)

    def rows(self) -> list:
        return [layer.as_dict() for layer in self.layers]


def init_network(net, scheme: str = "maxout", s: float | None = None) -> NetworkInit:
    """Initialise every layer of ``net`` (an Architecture or a :class:`~maxbounds.layers.Serial`).

    Hidden layers take the scale of ``scheme`` from their own initialiser;
    linear layers (the output) take ``c = 1``; ``fractional`` (with ``s`` in
    ``(0, 2]``) is the fractional scale of each maxout layer at its fan-in and
    width.  The initialised network has these scales as numbers.
    """
    from ..layers import Serial
    from ..layers.draw import as_serial

    if scheme not in SCHEMES:
        raise MaxboundsValueError("scheme", f"expected one of {', '.join(SCHEMES)}, got {scheme!r}")
    serial = as_serial(net, "net")
    rows, layers = [], []
    for layer in serial:
        if not layer.has_parameters:
            rows.append(LayerInit(layer.index, layer.label, layer.fan_in, None, None))
            layers.append(layer)
            continue
        initialised = layer.replace(c=_layer_scale(layer, scheme, s))
        rows.append(LayerInit(layer.index, layer.label, layer.fan_in, initialised.scale, initialised.weight_sd))
        layers.append(initialised)
    return NetworkInit(scheme, tuple(rows), Serial(tuple(layers)))


def _layer_scale(layer, scheme, s):
    """``c`` of one layer: ``1`` if linear, the fractional scale of a maxout layer, or its initialiser."""
    from ..layers import NoLawError

    if layer.kind == "linear":
        return layer.init_scale("output")
    if scheme == "fractional":
        if layer.kind not in ("maxout", "maxout_conv"):
            raise NoLawError(layer, "the initialisation 'fractional'", "it is derived for maxout units")
        return init_scale(layer.rank, "fractional", s=s, fan_in=layer.fan_in, width=layer.width)
    return layer.init_scale(scheme)
