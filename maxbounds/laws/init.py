r"""Initialisation: weight scales ``c`` and the weight standard deviations they imply.

Weights of a layer are drawn :math:`N(0, c/\mathrm{fan\_in})`, so the standard
deviation to give a PyTorch, JAX or Keras initialiser is
:math:`\sqrt{c/\mathrm{fan\_in}}` (:func:`weight_std`).  Schemes
(docs/getting_started.md):

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
    for :math:`s \in (0, 2]`, preserve :math:`E\|x_l\|^s` with zero biases,
    exactly at finite width, for every dense kind: with zero biases
    :math:`\|x_l\|^2 = (c/n_{l-1})\|x_{l-1}\|^2\,Y_l` with :math:`Y_l` independent
    of :math:`x_{l-1}` (maxout: :math:`Y = \sum_{i\le n_l}\Xi_{l,i}^2`; ReLU:
    :math:`\chi^2_B`; leaky ReLU: :math:`\chi^2_B + a^2\chi'^2_{n_l-B}`; randomised
    leaky ReLU: :math:`\chi^2_B + \sum a_i^2 Z_i^2`; linear: :math:`\chi^2_{n_l}`), so
    :math:`E\|x_l\|^s = (c/n_{l-1})^{s/2} E[Y_l^{s/2}]\,E\|x_{l-1}\|^s`,
    and the scale that keeps it is
    :math:`c_l = n_{l-1}\,E[Y_l^{s/2}]^{-2/s}`, asked of each layer
    (:meth:`maxbounds.layers.Layer.fractional_scale`, ``docs/fractional.md``).  For
    :math:`s = 2`, :math:`c = n_{l-1}/(n_l M(K))`: :math:`1/M` at equal widths;
    ReLU :math:`2 n_{l-1}/n_l` (He), leaky ReLU :math:`2 n_{l-1}/(n_l(1+a^2))`.

For a convolutional layer, fan-in is :math:`k^2 C_{\mathrm{in}}` (kernel
``k x k``, ``C_in`` input channels), and the number of units a fractional
scheme sums over is the layer's output channels times its spatial size.

Per network, :func:`init_network` gives every layer its scale from the
layer's own initialiser (:meth:`maxbounds.layers.Layer.init_scale`): maxout
layers (dense or convolutional) the scheme at their rank, leaky ReLU layers
``he`` (:math:`c = 2/(1+a^2)`), and every linear layer, the output included,
:math:`c = 1` (its output variance is then the mean square of its input);
under ``fractional`` every layer but a linear output asks its own
:meth:`~maxbounds.layers.Layer.fractional_scale` (hidden linear layers too).
A scheme a layer kind does not have raises its
:class:`~maxbounds.layers.NoLawError`, naming the layer; pooling layers have
no parameters and are passed through.  :func:`init_scale` is the same rule
for one maxout layer of rank ``K``.

Max-pooling (``pool_aware=True``, scheme ``maxout``; ``init_scale(K, pool=p)``)
    a maxout layer whose outputs a ``p x p`` max-pool takes next gets
    :math:`c = 1/M(K p^2)`: the pooled output is the largest of the
    :math:`K p^2` pieces of its window, which, when the window's :math:`p^2`
    patches are orthogonal with equal norms (always for a dense layer, whose
    units have their own weights), is :math:`\sqrt{c/\mathrm{fan\_in}}\,\lVert P\rVert`
    times the largest of :math:`K p^2` i.i.d. standard normals
    (:meth:`maxbounds.layers.maxout.MaxoutScales.pool_init_scale`,
    ``docs/pooling_init.md``).  At ``K = 5``, ``p = 2`` it is
    :math:`1/M(20) = 0.26573`, the value the 2023 paper's code gives the
    convolution before each max-pool.
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
               width: int | None = None, pool: int | None = None) -> float:
    """The weight scale ``c`` of ``scheme`` at rank ``K``.

    ``fractional`` needs ``s`` in ``(0, 2]`` and the layer's ``fan_in`` and
    ``width`` (number of units; default ``fan_in``).  ``pool = p`` (scheme
    ``maxout`` only) is the scale of a layer feeding a ``p x p`` max-pool,
    :math:`1/M(K p^2)`.
    """
    if scheme not in SCHEMES:
        raise MaxboundsValueError("scheme", f"expected one of {', '.join(SCHEMES)}, got {scheme!r}")
    if pool is not None:
        if scheme != "maxout":
            raise MaxboundsValueError("pool", f"the pooled scale 1/M(K p^2) is derived for the 'maxout' scheme, "
                                              f"got scheme {scheme!r}")
        from ..layers.maxpool import pooled_pieces

        return 1.0 / M(pooled_pieces(int(as_rank(K)), _positive_int(pool, "pool")))
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
    """One layer's initialisation: its position, kind, fan-in, scale ``c``, weight std ``sqrt(c/fan_in)`` and rule.

    ``c`` and ``weight_std`` are ``None`` for a layer without parameters (max-pooling).  ``rule`` says
    where ``c`` came from: ``1/M(K)``, ``1/L(K)``, ``1/S(K)``, ``he``, ``fractional s=...``, ``output``
    (a linear layer, ``c = 1``), ``1/M(K p^2), p=...`` (a maxout layer feeding a ``p x p`` max-pool,
    ``pool_aware=True``) or ``none`` (no parameters).
    """

    index: int
    label: str
    fan_in: int
    c: "float | None"
    weight_std: "float | None"
    rule: str = ""

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class NetworkInit:
    """The answer of :func:`init_network`: the scheme, a :class:`LayerInit` per layer, the network."""

    scheme: str
    layers: tuple
    network: object
    pool_aware: bool = False

    @property
    def pooled(self) -> tuple:
        """Positions (1-based) of the layers that got the pooled scale :math:`1/M(K p^2)`."""
        return tuple(layer.index for layer in self.layers if layer.rule.startswith("1/M(K p^2)"))

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


def init_network(net, scheme: str = "maxout", s: float | None = None, pool_aware: bool = False) -> NetworkInit:
    """Initialise every layer of ``net`` (an Architecture or a :class:`~maxbounds.layers.Serial`).

    Hidden layers take the scale of ``scheme`` from their own initialiser;
    linear layers (the output) take ``c = 1``; ``fractional`` (with ``s`` in
    ``(0, 2]``) is each layer's own fractional scale
    :math:`n_{l-1}E[Y_l^{s/2}]^{-2/s}` (:meth:`~maxbounds.layers.Layer.fractional_scale`:
    maxout, ReLU, leaky ReLU, randomised leaky ReLU and hidden linear layers;
    a linear output layer keeps ``c = 1``; a kind without a gain law raises its
    :class:`~maxbounds.layers.NoLawError`).  With ``pool_aware=True`` (scheme ``maxout`` only) every maxout
    layer (dense or convolutional) immediately followed by a
    :class:`~maxbounds.layers.MaxPool2d` of window ``p`` takes
    :math:`1/M(K p^2)` instead (its :class:`LayerInit` ``rule`` says so).  The
    initialised network has these scales as numbers.
    """
    from ..layers import Serial
    from ..layers.draw import as_serial

    if scheme not in SCHEMES:
        raise MaxboundsValueError("scheme", f"expected one of {', '.join(SCHEMES)}, got {scheme!r}")
    if not isinstance(pool_aware, bool):
        raise MaxboundsValueError("pool_aware", f"must be True or False, got {pool_aware!r}")
    if pool_aware and scheme != "maxout":
        raise MaxboundsValueError("pool_aware", f"the pooled scale 1/M(K p^2) is derived for the 'maxout' "
                                                f"scheme, got scheme {scheme!r}")
    serial = as_serial(net, "net")
    if scheme == "fractional":
        from ..layers.base import check_moment_order

        s = check_moment_order(s)
    rows, layers, fractional = [], [], {}
    for position, layer in enumerate(serial):
        if not layer.has_parameters:
            rows.append(LayerInit(layer.index, layer.label, layer.fan_in, None, None, "none"))
            layers.append(layer)
            continue
        following = serial[position + 1] if position + 1 < len(serial) else None
        # the fractional scale depends on the layer's law alone: compute it once per law (deep networks)
        key = layer.replace(index=None, c=1.0, bias_var=0.0) if scheme == "fractional" else None
        if key is not None and key in fractional:
            c, rule = fractional[key] if not (layer.kind == "linear" and following is None) else (1.0, "output")
        else:
            c, rule = _layer_scale(layer, scheme, s, following if pool_aware else None, following is None)
            if key is not None and not (layer.kind == "linear" and following is None):
                fractional[key] = (c, rule)
        initialised = layer.replace(c=c)
        rows.append(LayerInit(layer.index, layer.label, layer.fan_in, initialised.scale, initialised.weight_sd, rule))
        layers.append(initialised)
    return NetworkInit(scheme, tuple(rows), Serial(tuple(layers)), pool_aware)


_MAXOUT_KINDS = ("maxout", "maxout_conv")
_RULES = {"maxout": "1/M(K)", "upper": "1/L(K)", "lower": "1/S(K)", "he": "he"}


def _layer_scale(layer, scheme, s, following=None, last=False):
    """``(c, rule)`` of one layer: ``1`` if linear (under ``fractional``: if it is the last layer), the pooled
    scale of a maxout layer before a max-pool (``following``, given only when pool-aware), the layer's own
    fractional scale, or its initialiser."""
    if layer.kind == "linear" and (last or scheme != "fractional"):
        return layer.init_scale("output"), "output"
    if following is not None and following.kind == "maxpool" and layer.kind in _MAXOUT_KINDS:
        return layer.pool_init_scale(following.pool), f"1/M(K p^2), p={following.pool}"
    if scheme == "fractional":
        return layer.fractional_scale(s), f"fractional s={s:g}"
    return layer.init_scale(scheme), _RULES[scheme]
