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
"""

from __future__ import annotations

import math

from .._validate import MaxboundsValueError, as_rank
from ..constants import L, M, S

__all__ = ["SCHEMES", "init_scale", "weight_std", "conv_fan_in"]

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
