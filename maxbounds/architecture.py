r"""The architecture spec: one immutable description of a maxout network.

A network has input width :math:`n_0`, hidden maxout layers
:math:`l = 1, \dots, L-1` of :math:`n_l` units of rank :math:`K_l`, and a linear
output layer of width :math:`n_L`.  Weights of layer ``l`` are i.i.d.
:math:`N(0, c_l / \mathrm{fan\_in}_l)` and biases i.i.d. :math:`N(0, \beta_l)`
(``beta = 0`` allowed).  For a fully connected layer the fan-in is
:math:`n_{l-1}`; for a convolutional layer with ``k x k`` kernels and
:math:`C_{\mathrm{in}}` input channels it is :math:`k^2 C_{\mathrm{in}}`.

Every bound, law and simulator of maxbounds takes an :class:`Architecture`,
so a bound and the simulation that checks it always describe the same
network.  Build one from Python::

    Architecture(widths=(3, 8, 8, 8, 2), ranks=3, c=0.8)

or from the command line's strings with :meth:`Architecture.parse`
(``--widths 3,8x3,2 --rank 3 --c 1/M``), or a convolutional network with
:meth:`Architecture.convolutional` (``channels=(3, 16, 16), image=(32, 32),
n_out=10, kernel_size=3``).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence

from ._validate import MAX_RANK, MaxboundsValueError
from .layers.base import check_bias_var

#: Largest width and depth accepted (absurd sizes are rejected early).
MAX_WIDTH = 10**9
MAX_DEPTH = 10**6

_NAMED_SCALES = ("1/M", "1/L", "1/S")


@dataclasses.dataclass(frozen=True)
class ConvNet:
    """The convolutional part of a network: channels per layer, image size, kernel sizes.

    ``channels = (C_0, ..., C_{L-1})`` on an ``image = (H, W)`` grid with
    ``kernel_size[l-1] x kernel_size[l-1]`` kernels and 'same' padding, so layer
    ``l`` has ``C_l * H * W`` units and fan-in ``kernel_size**2 * C_{l-1}``.
    """

    channels: tuple
    image: tuple
    kernel_size: tuple

    def widths(self) -> tuple:
        height, width = self.image
        return tuple(C * height * width for C in self.channels)


class WidthsView:
    """``n_in`` and ``n_out`` read off ``widths = (n_0, ..., n_L)`` (architectures and explicit networks)."""

    @property
    def n_in(self) -> int:
        return self.widths[0]

    @property
    def n_out(self) -> int:
        return self.widths[-1]


@dataclasses.dataclass(frozen=True)
class Architecture(WidthsView):
    """Widths ``n_0..n_L``, ranks ``K_1..K_{L-1}``, scales ``c_1..c_L``, bias variances ``beta_1..beta_L``.

    Parameters
    ----------
    widths : sequence of int
        ``(n_0, n_1, ..., n_L)``; at least an input and an output width.
    ranks : int or sequence of int
        Rank of every hidden layer, or one per hidden layer (``L - 1`` values).
    c : float, str or sequence
        Weight scale of every hidden layer or one per hidden layer; a number
        ``> 0`` or one of ``"1/M"``, ``"1/L"``, ``"1/S"`` (evaluated at the
        layer's rank).
    c_out : float
        Weight scale ``c_L`` of the linear output layer (default 1).
    bias_var : float or sequence
        Bias variance ``beta_l >= 0`` of every layer (``L`` values, output
        included) or one value for all; default 0.
    """

    widths: tuple
    ranks: tuple
    c: tuple
    c_out: float = 1.0
    bias_var: tuple = ()
    conv: "ConvNet | None" = None
    c_spec: tuple = dataclasses.field(default=(), compare=False, repr=False)

    def __init__(self, widths, ranks=2, c=1.0, c_out=1.0, bias_var=0.0, conv=None):
        widths = _int_tuple(widths, "widths", lowest=1, highest=MAX_WIDTH)
        if len(widths) < 2:
            raise MaxboundsValueError("widths", "give at least an input and an output width, e.g. 3,8,2")
        if len(widths) - 1 > MAX_DEPTH:
            raise MaxboundsValueError("widths", f"at most {MAX_DEPTH} layers")
        hidden = len(widths) - 2
        ranks = _per_layer(ranks, hidden, "rank")
        ranks = _int_tuple(ranks, "rank", lowest=1, highest=MAX_RANK)
        c_spec = tuple(_scale_spec(value) for value in _per_layer(c, hidden, "c"))
        scales = tuple(_scale(value, K) for value, K in zip(c_spec, ranks))
        c_out = _positive(c_out, "c_out")
        betas = tuple(check_bias_var(b) for b in _per_layer(bias_var, hidden + 1, "bias_var"))
        object.__setattr__(self, "widths", widths)
        object.__setattr__(self, "ranks", ranks)
        object.__setattr__(self, "c", scales)
        object.__setattr__(self, "c_spec", c_spec)
        object.__setattr__(self, "c_out", c_out)
        object.__setattr__(self, "bias_var", betas)
        if conv is not None:
            if not isinstance(conv, ConvNet):
                raise MaxboundsValueError("conv", "expected a ConvNet (use Architecture.convolutional)")
            if conv.widths() != widths[:-1]:
                raise MaxboundsValueError("conv", "the widths must be the channels times the image size")
        object.__setattr__(self, "conv", conv)

    @classmethod
    def convolutional(cls, channels, image, n_out, kernel_size=3, ranks=2, c=1.0, c_out=1.0, bias_var=0.0):
        r"""A convolutional maxout network: ``k x k`` kernels with 'same' padding, then a linear output.

        ``channels = (C_0, C_1, ..., C_{L-1})`` (input channels first) on an
        ``image = (H, W)`` grid; layer ``l`` has :math:`C_l H W` units and
        fan-in :math:`k^2 C_{l-1}`; the output layer is fully connected from
        the flattened last feature map to ``n_out`` outputs.
        """
        conv = ConvNet(
            channels=_int_tuple(channels, "channels", 1, MAX_WIDTH),
            image=_int_tuple(image, "image", 1, MAX_WIDTH),
            kernel_size=_int_tuple(_per_layer(kernel_size, len(tuple(channels)) - 1, "kernel_size"),
                                   "kernel_size", 1, MAX_WIDTH),
        )
        if len(conv.image) != 2:
            raise MaxboundsValueError("image", "give the image size as (height, width)")
        if len(conv.channels) < 2:
            raise MaxboundsValueError("channels", "give the input channels and at least one hidden layer")
        return cls(conv.widths() + (n_out,), ranks, c, c_out, bias_var, conv=conv)

    # -- derived quantities -------------------------------------------------
    @property
    def depth(self) -> int:
        """``L``: the number of weight layers (hidden layers plus the output layer)."""
        return len(self.widths) - 1

    @property
    def hidden_widths(self) -> tuple:
        return self.widths[1:-1]

    @property
    def c_rules(self) -> tuple:
        """Per hidden layer, the named scale its ``c`` was given as (``"1/M"``, ``"1/L"``, ``"1/S"``), else ``None``."""
        return tuple(spec if isinstance(spec, str) else None for spec in self.c_spec)

    def scales(self) -> tuple:
        """``(c_1, ..., c_{L-1}, c_L)``: hidden scales then the output scale."""
        return self.c + (self.c_out,)

    def fan_in(self, layer: int) -> int:
        """Fan-in of weight layer ``layer`` (1-based): ``n_{layer-1}``, or ``k^2 C_{layer-1}`` if convolutional."""
        if self.conv is not None and layer < self.depth:
            return self.conv.kernel_size[layer - 1] ** 2 * self.conv.channels[layer - 1]
        return self.widths[layer - 1]

    def require_fully_connected(self, what: str) -> None:
        """Raise a clear error if ``what`` is only derived for fully connected layers."""
        if self.conv is not None:
            raise MaxboundsValueError(
                "conv", f"{what} is derived for fully connected layers; convolutional layers share their "
                "weights across positions, so the layer factors are not independent"
            )

    def with_(self, **changes) -> "Architecture":
        """A copy with some fields replaced (same validation).

        Named scales stay symbolic: ``Architecture((2, 16, 1), ranks=3, c="1/M").with_(ranks=5)`` has
        ``c = 1/M(5)``.
        """
        fields = {"widths": self.widths, "ranks": self.ranks, "c": self.c_spec, "c_out": self.c_out,
                  "bias_var": self.bias_var, "conv": self.conv}
        fields.update(changes)
        return Architecture(**fields)

    # -- the layers ----------------------------------------------------------
    def network(self, activation: str = "maxout", slope: float = 0.0, slopes=None):
        """The network as composed layers (:class:`maxbounds.layers.Serial`): hidden layers, then linear output.

        ``activation`` is ``"maxout"`` (the architecture's ranks), ``"relu"`` or ``"leaky_relu"`` (slope
        ``slope``), ``"rrelu"`` (randomised leaky ReLU, negative slopes uniform on ``slopes = (l, u)``,
        default ``(1/8, 1/3)``) or ``"linear"`` (the ranks are ignored and the scales are the
        architecture's numbers ``c_l``).  Convolutional architectures give
        :class:`~maxbounds.layers.MaxoutConv2d` hidden layers.
        """
        from . import layers as _layers

        hidden = []
        kinds = ("maxout", "relu", "leaky_relu", "rrelu", "linear")
        if activation not in kinds:
            raise MaxboundsValueError("activation", f"expected one of {', '.join(map(repr, kinds))}, got {activation!r}")
        if slopes is not None and activation != "rrelu":
            raise MaxboundsValueError("slopes", "applies to activation 'rrelu'")
        lower, upper = (1.0 / 8.0, 1.0 / 3.0) if slopes is None else _slope_pair(slopes)
        for l in range(1, self.depth):
            c = self.c_spec[l - 1]
            beta = self.bias_var[l - 1]
            if self.conv is not None:
                if activation != "maxout":
                    raise MaxboundsValueError("activation", "convolutional architectures have maxout units")
                H, W = self.conv.image
                hidden.append(_layers.MaxoutConv2d(
                    in_channels=self.conv.channels[l - 1], channels=self.conv.channels[l], image=(H, W),
                    kernel_size=self.conv.kernel_size[l - 1], K=self.ranks[l - 1], c=c, bias_var=beta, index=l))
            elif activation == "maxout":
                hidden.append(_layers.MaxoutDense(self.widths[l - 1], self.widths[l], c=c, bias_var=beta,
                                                  K=self.ranks[l - 1], index=l))
            elif activation == "rrelu":
                hidden.append(_layers.RandomisedLeakyReLUDense(self.widths[l - 1], self.widths[l], c=self.c[l - 1],
                                                               bias_var=beta, lower=lower, upper=upper, index=l))
            elif activation == "linear":
                hidden.append(_layers.Linear(self.widths[l - 1], self.widths[l], c=self.c[l - 1], bias_var=beta,
                                             index=l))
            else:
                hidden.append(_layers.LeakyReLUDense(self.widths[l - 1], self.widths[l], c=self.c[l - 1],
                                                     bias_var=beta,
                                                     slope=slope if activation == "leaky_relu" else 0.0,
                                                     index=l))
        hidden.append(_layers.Linear(self.widths[-2], self.widths[-1], c=self.c_out,
                                     bias_var=self.bias_var[-1], index=self.depth))
        return _layers.Serial(tuple(hidden))

    @property
    def layers(self):
        """The maxout network of this architecture as composed layers (see :meth:`network`)."""
        return self.network()

    # -- command-line strings ----------------------------------------------
    @classmethod
    def parse(cls, widths: str, rank: str = "2", c: str = "1", c_out: str = "1", bias_var: str = "0"):
        """Build from command-line strings.

        ``widths``: comma-separated widths where ``8x3`` repeats a width
        (``3,8x3,2`` is ``3,8,8,8,2``); ``rank``, ``c`` and ``bias_var``: one
        value or a comma-separated value per layer; ``c`` may be ``1/M``,
        ``1/L`` or ``1/S``.
        """
        return cls(
            widths=parse_widths(widths),
            ranks=_parse_list(rank, "rank", int),
            c=_parse_list(c, "c", _scale_token),
            c_out=_parse_number(c_out, "c_out"),
            bias_var=_parse_list(bias_var, "bias_var", lambda s: _parse_number(s, "bias_var")),
        )

    def describe(self) -> str:
        """A one-line summary, e.g. ``widths 3-8-8-8-2, K=3, c=0.8, c_L=1, beta=0``."""
        def short(values):
            values = tuple(values)
            return f"{values[0]:g}" if len(set(values)) == 1 else ",".join(f"{v:g}" for v in values)

        return (
            f"widths {'-'.join(map(str, self.widths))}, K={short(self.ranks) if self.ranks else '-'}, "
            f"c={short(self.c) if self.c else '-'}, c_L={self.c_out:g}, beta={short(self.bias_var)}"
        )


# -- helpers -----------------------------------------------------------------
def _slope_pair(slopes) -> tuple:
    """``(lower, upper)`` from a pair of numbers or the string ``"l,u"`` (checked by the layer)."""
    if isinstance(slopes, str):
        try:
            slopes = tuple(float(v) for v in slopes.split(","))
        except ValueError:
            raise MaxboundsValueError("slopes", f"expected L,U (two numbers), got {slopes!r}") from None
    try:
        lower, upper = (float(v) for v in slopes)
    except (TypeError, ValueError):
        raise MaxboundsValueError("slopes", f"expected a pair (lower, upper), got {slopes!r}") from None
    if not (0.0 <= lower <= upper <= 1.0):
        raise MaxboundsValueError("slopes", f"need 0 <= lower <= upper <= 1, got {lower:g},{upper:g}")
    return lower, upper


_WIDTH_TOKEN = re.compile(r"^\s*(\d+)\s*(?:[xX*]\s*(\d+)\s*)?$")


def parse_widths(text: str) -> tuple:
    """Parse ``3,8,8,2`` or ``3,8x3,2`` (a width repeated) into a tuple of ints."""
    widths = []
    for token in str(text).split(","):
        match = _WIDTH_TOKEN.match(token)
        if not match:
            raise MaxboundsValueError("widths", f"expected widths like 3,8x3,2, got {text!r}")
        width, repeat = int(match.group(1)), int(match.group(2) or 1)
        if repeat < 1 or repeat > MAX_DEPTH or len(widths) + repeat > MAX_DEPTH + 1:
            raise MaxboundsValueError("widths", f"a repeat count must be between 1 and {MAX_DEPTH}")
        widths.extend([width] * repeat)
    return tuple(widths)


def _parse_list(text, argument, convert):
    parts = [p.strip() for p in str(text).split(",")]
    if any(p == "" for p in parts):
        raise MaxboundsValueError(argument, f"empty value in {text!r}")
    values = []
    for p in parts:
        try:
            values.append(convert(p))
        except MaxboundsValueError:
            raise
        except ValueError:
            raise MaxboundsValueError(argument, f"cannot read {p!r}") from None
    return values[0] if len(values) == 1 else values


def _parse_number(text, argument):
    try:
        return float(text)
    except (TypeError, ValueError):
        raise MaxboundsValueError(argument, f"expected a number, got {text!r}") from None


def _scale_token(text):
    token = text.replace(" ", "").upper()
    for name in _NAMED_SCALES:
        if token == name.upper():
            return name
    try:
        return float(text)
    except ValueError:
        raise MaxboundsValueError("c", f"expected a number > 0 or one of 1/M, 1/L, 1/S, got {text!r}") from None


def _per_layer(value, count, argument):
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        return (value,) * count
    value = tuple(value)
    if len(value) == 1:
        return value * count
    if len(value) != count:
        raise MaxboundsValueError(argument, f"give one value or {count} (one per layer), got {len(value)}")
    return value


def _int_tuple(values, argument, lowest, highest):
    if isinstance(values, (int, float)) and not isinstance(values, bool):
        values = (values,)
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not float(v).is_integer():
            raise MaxboundsValueError(argument, f"expected integers, got {v!r}")
        if not lowest <= v <= highest:
            raise MaxboundsValueError(argument, f"must be between {lowest} and {highest}, got {v:g}")
        out.append(int(v))
    return tuple(out)


def _positive(value, argument):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise MaxboundsValueError(argument, f"must be a finite number > 0, got {value!r}")
    return float(value)


def _scale_spec(value):
    """A scale as given, checked by the layers' own check: a number > 0 or a named maxout scale (kept)."""
    from .layers.base import check_scale_spec
    from .layers.maxout import MaxoutScales

    return check_scale_spec(value, MaxoutScales.scale_names)


def _scale(spec, K):
    """The number of a checked scale at rank ``K`` (a named scale through the maxout layers' definition)."""
    from .layers.maxout import maxout_scale

    return maxout_scale(spec, K) if isinstance(spec, str) else spec
