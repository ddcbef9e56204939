r"""The layer protocol: what every layer kind of maxbounds defines, in one place.

A layer maps ``n_in`` input features to ``width`` output features.  A kind
(maxout dense, leaky ReLU dense, linear, maxout convolution, max-pooling)
is one subclass of :class:`Layer`; it owns

* its **parameter law**: weights i.i.d. :math:`N(0, c/\mathrm{fan\_in})`,
  biases i.i.d. :math:`N(0, \beta)` (:attr:`Layer.weight_sd`,
  :attr:`Layer.bias_sd`, :attr:`Layer.fan_in`, the parameter counts and the
  order in which they are drawn, :attr:`Layer.draw_order`);
* its **factors in every law** (:meth:`Layer.jacobian_log_moment`,
  :meth:`Layer.jacobian_log_mean`, :meth:`Layer.activation_gain`,
  :meth:`Layer.gradient_gain`, :meth:`Layer.chain_rank`), each raising
  :class:`NoLawError` naming the layer where the law does not exist;
* its **gain law with zero biases** (:meth:`Layer.gain_log_moment`,
  :meth:`Layer.gain_log_stats`, :meth:`Layer.gain_log_cf`, :meth:`Layer.gain_rvs`,
  :meth:`Layer.unit_law`): the law of :math:`Y` in
  :math:`\lVert x_l\rVert^2 = (c/\mathrm{fan\_in})\lVert x_{l-1}\rVert^2\,Y`, from which the
  fractional initialisation (:meth:`Layer.fractional_scale`) and the law of
  :math:`\log\lVert x_L\rVert` (:class:`maxbounds.laws.lognorm.LogNormLaw`) follow
  (``docs/fractional.md``);
* its **initialisers** (:meth:`Layer.init_scale`);
* its **Numba kernels** (draw, forward with the Jacobian-vector product,
  backward), in :mod:`maxbounds.layers._kernels`, dispatched on
  :attr:`Layer.code`.

Named weight scales (``"1/M"``, ``"1/L"``, ``"1/S"``, ``"he"``) stay
symbolic in :attr:`Layer.c` and are evaluated at the layer's own rank or
slope by :attr:`Layer.scale`, so changing a rank never leaves a stale scale.
"""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

from .._validate import MaxboundsValueError

__all__ = ["Layer", "NoLawError", "KINDS", "register", "check_scale_spec", "check_bias_var"]

#: Registered layer kinds: name -> class.  The integer code of a kind is its Numba dispatch key.
KINDS: dict = {}


class NoLawError(MaxboundsValueError):
    """A law, bound or kernel does not exist for a layer kind; the message names the layer."""

    def __init__(self, layer: "Layer", what: str, why: str):
        self.layer = layer
        super().__init__(f"layer {layer.index_label}", f"{what} does not exist for a {layer.label} layer: {why}")


def register(cls):
    """Class decorator: record a layer kind under ``cls.kind`` (its ``code`` must be unique)."""
    for other in KINDS.values():
        if other.code == cls.code:
            raise RuntimeError(f"layer code {cls.code} used by {other.kind} and {cls.kind}")
    KINDS[cls.kind] = cls
    return cls


def check_scale_spec(value, names, argument="c"):
    """A weight scale as given: a finite number ``> 0`` or one of the kind's named scales (kept symbolic)."""
    if isinstance(value, str):
        token = value.replace(" ", "")
        for name in names:
            if token.lower() == name.lower():
                return name
        try:
            value = float(token)
        except ValueError:
            allowed = ", ".join(names) if names else "no named scales"
            raise MaxboundsValueError(argument, f"expected a number > 0 or one of {allowed}, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise MaxboundsValueError(argument, f"must be a finite number > 0, got {value!r}")
    return float(value)


def check_bias_var(value, argument="bias_var"):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise MaxboundsValueError(argument, f"must be a finite number >= 0, got {value!r}")
    return float(value)


def check_size(value, argument, highest=10**9):
    if isinstance(value, bool) or not isinstance(value, int) and not (isinstance(value, float) and value.is_integer()):
        raise MaxboundsValueError(argument, f"expected an integer, got {value!r}")
    if not 1 <= value <= highest:
        raise MaxboundsValueError(argument, f"must be between 1 and {highest}, got {value:g}")
    return int(value)


def check_image(image, argument="image") -> tuple:
    """An image size ``(height, width)`` of positive integers (one integer means a square)."""
    pair = (image, image) if isinstance(image, (int, float)) and not isinstance(image, bool) else image
    try:
        pair = tuple(pair)
    except TypeError:
        raise MaxboundsValueError(argument, f"give the image size as (height, width), got {image!r}") from None
    if len(pair) != 2:
        raise MaxboundsValueError(argument, f"give the image size as (height, width), got {image!r}")
    return tuple(check_size(v, argument) for v in pair)


@dataclasses.dataclass(frozen=True)
class Layer:
    """Base class of the layer kinds; see the module docstring for the protocol.

    Attributes
    ----------
    n_in : int
        Input features (flattened).
    width : int
        Output features (flattened).
    c : float or str
        Weight scale as given (a named scale stays a string).
    bias_var : float
        :math:`\\beta`, the variance of every bias (0 allowed).
    index : int or None
        Position in a network (1-based), set by :func:`maxbounds.layers.serial`; used in messages.
    """

    n_in: int
    width: int
    c: object = 1.0
    bias_var: float = 0.0
    index: object = None

    kind: ClassVar[str] = "layer"
    code: ClassVar[int] = -1
    #: Named scales this kind understands (evaluated by :meth:`named_scale`).
    scale_names: ClassVar[tuple] = ()
    #: True for kinds with weights and biases.
    has_parameters: ClassVar[bool] = True
    #: False for a kind whose draw and forward pass exist only in the NumPy reference
    #: (:mod:`maxbounds.reference`): :meth:`maxbounds.layers.Serial.plan` refuses it, naming the layer.
    has_kernels: ClassVar[bool] = True

    def __post_init__(self):
        object.__setattr__(self, "n_in", check_size(self.n_in, "n_in"))
        object.__setattr__(self, "width", check_size(self.width, "width"))
        if self.has_parameters:
            object.__setattr__(self, "c", check_scale_spec(self.c, self.scale_names))
            object.__setattr__(self, "bias_var", check_bias_var(self.bias_var))

    # -- names -------------------------------------------------------------
    @property
    def label(self) -> str:
        """A short name of the kind with its hyperparameters, e.g. ``maxout (K=3)``."""
        return self.kind

    @property
    def index_label(self) -> str:
        return f"{self.index} ({self.label})" if self.index is not None else f"({self.label})"

    def describe(self) -> str:
        scale = self.c if isinstance(self.c, str) else f"{self.c:g}"
        return f"{self.label}: {self.n_in} -> {self.width}, c={scale}, beta={self.bias_var:g}"

    def replace(self, **changes) -> "Layer":
        """A copy with fields replaced (same checks); named scales are re-evaluated at the new rank."""
        return dataclasses.replace(self, **changes)

    # -- parameter law -----------------------------------------------------
    @property
    def rank(self) -> int:
        """Pieces per unit (``K``; 1 for every kind but maxout)."""
        return 1

    @property
    def fan_in(self) -> int:
        """Inputs of one unit's affine map."""
        return self.n_in

    def named_scale(self, name: str) -> float:  # pragma: no cover - every kind with names overrides it
        raise NoLawError(self, f"the scale {name}", "the kind has no named scales")

    @property
    def scale(self) -> float:
        """The weight scale :math:`c` as a number (a named scale evaluated at this layer's rank or slope)."""
        if not self.has_parameters:
            return 0.0
        return self.named_scale(self.c) if isinstance(self.c, str) else float(self.c)

    @property
    def weight_sd(self) -> float:
        r""":math:`\sqrt{c/\mathrm{fan\_in}}`: the standard deviation of every weight."""
        return math.sqrt(self.scale / self.fan_in) if self.has_parameters else 0.0

    @property
    def bias_sd(self) -> float:
        r""":math:`\sqrt{\beta}`."""
        return math.sqrt(self.bias_var) if self.has_parameters else 0.0

    @property
    def weight_count(self) -> int:
        return 0

    @property
    def bias_count(self) -> int:
        return 0

    def geometry(self) -> tuple:
        """``(C_in, C_out, H, W, k or p)`` of the kernels' plan row: zeros for dense kinds."""
        return (0, 0, 0, 0, 0)

    @property
    def kernel_slope(self) -> float:
        """The float the kernels read as the layer's slope (leaky ReLU's ``a``; 0 for other kinds)."""
        return 0.0

    @property
    def selection_count(self) -> int:
        """Integers a forward pass records (the winning piece or input of each unit)."""
        return self.width

    # -- factors in the laws -------------------------------------------------
    def jacobian_log_moment(self, side: str, t: float) -> float:
        r""":math:`\log E[G^t]` of the layer's gain factor ``G`` in the stochastic-order bound.

        ``G`` bounds the layer's squared Jacobian-vector gain for every input:
        :math:`G_{\mathrm{lo}}\lVert v\rVert^2 \le \lVert J_l v\rVert^2 \le G_{\mathrm{up}}\lVert v\rVert^2`
        in distribution, independently of the past (``side`` is ``"lower"`` or ``"upper"``).
        """
        raise NoLawError(self, "the stochastic-order bound of the Jacobian", self._no_law_reason())

    def jacobian_log_mean(self, side: str) -> float:
        """:math:`\\log E[G]` (closed form)."""
        raise NoLawError(self, "the stochastic-order bound of the Jacobian", self._no_law_reason())

    def jacobian_rvs(self, side: str, size: int, rng):
        """Samples of ``G`` (NumPy ``Generator``)."""
        raise NoLawError(self, "the stochastic-order bound of the Jacobian", self._no_law_reason())

    def jacobian_is_exact(self) -> bool:
        """True where the lower and upper factors are the same law (the exact law of the gain)."""
        return False

    def gradient_gain(self, side: str) -> float:
        r"""Mean gain of one output unit's squared derivative: :math:`E[G]\,\mathrm{fan\_in}/\mathrm{width}`.

        The factor :math:`c\,S(K)`, :math:`c\,L(K)` (maxout), :math:`c(1+a^2)/2` (leaky ReLU) or :math:`c`
        (linear) by which :math:`E[\delta^2_{l-1,j}]` bounds follow from those of layer ``l``.
        """
        return math.exp(self.jacobian_log_mean(side)) * self.n_in / self.width

    def activation_gain(self) -> float:
        r""":math:`m = E[\phi(Z)^2]` for a standard normal pre-activation ``Z``: with zero-mean Gaussian biases,

        .. math:: E\lVert x_l\rVert^2 = n_l\, m\,\big(c\,E\lVert x_{l-1}\rVert^2/\mathrm{fan\_in} + \beta\big).
        """
        raise NoLawError(self, "the activation-length law", self._no_law_reason())

    def chain_rank(self) -> int:
        """The rank ``K`` of the Gram-chain step (docs/exact_laws.md) of this layer; :class:`NoLawError` if none."""
        raise NoLawError(self, "the Gram chain (exact law given the input)", self._no_law_reason())

    def _no_law_reason(self) -> str:
        return "not derived for this kind"

    def _no_kernel_reason(self) -> str:
        return "the kind has no Numba kernels"

    # -- the gain law with zero biases (docs/fractional.md) ----------------------
    def unit_law(self):
        r"""The law of one unit's contribution :math:`X` to :math:`Y = \sum_{i\le\mathrm{width}} X_i`
        (a :class:`maxbounds.laws.gains.UnitLaw`), where with zero biases
        :math:`\lVert x_l\rVert^2 = (c/\mathrm{fan\_in})\lVert x_{l-1}\rVert^2\,Y`, ``Y`` independent of
        :math:`x_{l-1}`; :class:`NoLawError` where no such law exists."""
        raise NoLawError(self, "the gain law of ||x_l||^2 (zero biases)", self._no_gain_reason())

    def _no_gain_reason(self) -> str:
        return self._no_law_reason()

    def gain_log_moment(self, t: float) -> float:
        r""":math:`\log E[Y^t]` of the gain law (see :meth:`unit_law`); ``t = 0`` gives 0.

        Kinds with closed forms (ReLU, leaky ReLU, linear, maxout) take any order ``0 <= t <= 32``; the
        Laplace-transform route of :mod:`maxbounds.laws.gains` (the default) takes ``t < 2``.
        """
        from ..laws.gains import sum_log_moment

        t = _gain_order(t)
        if t >= 2:
            raise MaxboundsValueError("t", f"the gain moment of order {t:g} of a {self.label} layer is derived "
                                           "for orders t < 2")
        return sum_log_moment(self.unit_law(), self.width, t)

    def gain_log_stats(self):
        r""":class:`~maxbounds.laws.gains.GainLogStats`: :math:`P(Y = 0)` and the mean and variance of
        :math:`\log Y` given :math:`Y > 0` (Frullani integrals of :mod:`maxbounds.laws.gains`)."""
        from ..laws.gains import sum_log_stats

        return sum_log_stats(self.unit_law(), self.width)

    def gain_log_cf(self, u):
        r""":math:`E[Y^{iu}\mid Y > 0]`, the characteristic function of :math:`\log Y` given :math:`Y > 0`,
        at the real points ``u`` (an array); :class:`NoLawError` where it is not derived."""
        raise NoLawError(self, "the characteristic function of log Y", "it is derived for ReLU and linear layers")

    def gain_rvs(self, size: int, rng):
        """``size`` draws of ``Y`` (NumPy ``Generator``; zeros where ``Y = 0``)."""
        raise NoLawError(self, "the gain law of ||x_l||^2 (zero biases)", self._no_gain_reason())

    def fractional_scale(self, s: float) -> float:
        r"""The scale :math:`c = \mathrm{fan\_in}\;E[Y^{s/2}]^{-2/s}` that keeps :math:`E\lVert x\rVert^s`
        through this layer exactly (zero biases), for ``s`` in ``(0, 2]``."""
        s = check_moment_order(s)
        return self.fan_in * math.exp(-2.0 / s * self.gain_log_moment(s / 2.0))

    # -- initialisers --------------------------------------------------------
    def init_scale(self, scheme: str) -> float:
        """The weight scale ``c`` that ``scheme`` gives this layer (see :mod:`maxbounds.laws.init`)."""
        raise NoLawError(self, f"the initialisation {scheme!r}", "the kind has no such scheme")

    def with_init(self, scheme: str) -> "Layer":
        """A copy whose ``c`` is the scale of ``scheme``."""
        return self.replace(c=self.init_scale(scheme))


def check_moment_order(s, argument="s"):
    """The order ``s`` of a fractional moment: a number in ``(0, 2]``."""
    if isinstance(s, bool) or not isinstance(s, (int, float)) or not math.isfinite(s) or not 0 < s <= 2:
        raise MaxboundsValueError(argument, f"the fractional scheme needs s in (0, 2], got {s!r}")
    return float(s)


def _gain_order(t):
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or not 0 <= t <= 32:
        raise MaxboundsValueError("t", f"the order of a gain moment must lie in [0, 32], got {t!r}")
    return float(t)


def side_check(side):
    if side not in ("lower", "upper"):
        raise MaxboundsValueError("side", f"expected 'lower' or 'upper', got {side!r}")
    return side
