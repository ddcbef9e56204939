r"""``init_``: initialise a PyTorch model with the weight scales maxbounds computes, drawn by maxbounds.

:func:`init_` reads the model as maxbounds layers (:func:`maxbounds.torch.convert.chain`),
gives every layer its scale :math:`c_l` by the rule of
:func:`maxbounds.laws.init.init_network` (the layer kind's own initialiser),
and draws the parameters with maxbounds' one draw of a network
(:func:`maxbounds.layers.draw.draw_parameters`): weights
:math:`N(0, c_l/\mathrm{fan\_in}_l)`, biases :math:`N(0, \beta)`.  For a dense
model the parameters are network 0 of ``seed`` of every maxbounds simulator.

Schemes (``scheme=``):

``"maxout"`` or ``"1/M"``
    :math:`c = 1/M(K)` on maxout layers (the paper's recommendation).
``"upper"`` / ``"1/L"``, ``"lower"`` / ``"1/S"``
    :math:`c = 1/L(K)`, :math:`c = 1/S(K)`.
``"he"``
    :math:`c = 2/(1 + a^2)` on ReLU and leaky ReLU layers (linear and convolutional).
``"fractional"``
    the scale that keeps :math:`E\lVert x_l\rVert^s` (give ``s`` in ``(0, 2]``).
``"pool"``
    ``"maxout"``, except that a maxout layer feeding a ``p x p`` max-pool gets
    :math:`c = 1/M(K p^2)` (docs/pooling_init.md: the scale of the pooled maximum).
``"sphere"``, ``"many-regions"``
    the two initialisations of Tseran & Montufar (2021) that raise the number of
    linear regions (docs/constructions.md); maxout dense layers only.
a number ``c > 0``
    that scale on every layer but the linear ones.

Linear layers (``nn.Linear`` with no activation after it, the output layer
among them) get ``c_linear`` (default 1).  ``seed=None`` takes the seed from
PyTorch's default generator, so ``torch.manual_seed`` makes ``init_``
reproducible.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .._validate import MaxboundsValueError
from ._require import require_torch

torch = require_torch()

__all__ = ["init_", "ModelInit", "SCHEMES", "torch_seed", "draw_into"]

#: Scheme names :func:`init_` understands (besides a number ``c > 0``).
SCHEMES = ("maxout", "1/M", "upper", "1/L", "lower", "1/S", "he", "fractional", "pool", "sphere", "many-regions")
_ALIASES = {"1/M": "maxout", "1/L": "upper", "1/S": "lower"}


def torch_seed() -> int:
    """A seed in ``0..2**62 - 1`` from PyTorch's default generator."""
    return int(torch.randint(0, 2**62, (1,)).item())


@dataclasses.dataclass(frozen=True)
class ModelInit:
    """What :func:`init_` did: the scheme, the seed, one :class:`maxbounds.laws.init.LayerInit` per layer, the
    initialised maxbounds network (its layers with their scales)."""

    scheme: object
    seed: int
    layers: tuple
    network: object

    @property
    def c(self) -> tuple:
        return tuple(row.c for row in self.layers)

    @property
    def weight_std(self) -> tuple:
        return tuple(row.weight_std for row in self.layers)

    def rows(self) -> list:
        return [row.as_dict() for row in self.layers]


def draw_into(pairs, seed=None) -> int:
    """Draw ``[(module, layer), ...]`` as one maxbounds network of ``seed`` and copy it into the modules."""
    from ..layers import serial
    from ..layers.draw import draw_parameters
    from .convert import Link, load_parameters

    seed = torch_seed() if seed is None else seed
    links = [Link(layer, module) for module, layer in pairs]
    load_parameters(links, draw_parameters(serial([layer for _, layer in pairs]), seed))
    return seed


def _scheme(scheme):
    if isinstance(scheme, str):
        if scheme not in SCHEMES:
            raise MaxboundsValueError("scheme", f"expected one of {', '.join(SCHEMES)} or a number > 0, "
                                                f"got {scheme!r}")
        return _ALIASES.get(scheme, scheme)
    if isinstance(scheme, bool) or not isinstance(scheme, (int, float)) or not math.isfinite(scheme) or scheme <= 0:
        raise MaxboundsValueError("scheme", f"expected a scheme name or a number > 0, got {scheme!r}")
    return float(scheme)


def _scaled_network(layers, scheme, s, c_linear):
    """The maxbounds network with each layer's scale, and its :class:`LayerInit` rows."""
    from ..laws.init import LayerInit, init_network
    from ..layers import serial

    net = serial(layers)
    if isinstance(scheme, float):
        chosen = [layer if not layer.has_parameters else layer.replace(c=scheme) for layer in net]
        rows = None
    else:
        name = "maxout" if scheme in ("pool", "sphere", "many-regions") else scheme
        extra = {"pool_aware": True} if scheme == "pool" else {}
        done = init_network(net, name, s, **extra)
        chosen, rows = list(done.network.layers), list(done.layers)
    out = []
    for layer in chosen:
        if layer.kind == "linear":
            layer = layer.replace(c=c_linear)
        out.append(layer)
    net = serial(out)
    fresh = [LayerInit(layer.index, layer.label, layer.fan_in, layer.scale if layer.has_parameters else None,
                       layer.weight_sd if layer.has_parameters else None) for layer in net]
    if rows is not None:  # keep the notes init_network wrote (e.g. which layers got the pooled scale)
        fresh = [dataclasses.replace(row, c=new.c, weight_std=new.weight_std) if row.index == new.index else new
                 for row, new in zip(rows, fresh)]
    return net, fresh


def init_(model, scheme="maxout", *, s=None, c_linear=1.0, bias_var=0.0, seed=None, input_shape=None) -> ModelInit:
    """Initialise ``model`` in place (see the module docstring for the schemes); returns a :class:`ModelInit`.

    ``bias_var`` is :math:`\\beta`, the variance of every bias (default 0, the paper's zero biases; the
    ``sphere`` and ``many-regions`` constructions set their own biases).  ``input_shape`` (``(C, H, W)``)
    is only needed to report image sizes; the scales and the draw do not depend on it.
    """
    from ..layers.base import check_bias_var, check_scale_spec
    from ..layers.draw import draw_parameters
    from ..simulate.chain import check_seed
    from .convert import chain, load_parameters

    scheme = _scheme(scheme)
    c_linear = check_scale_spec(c_linear, (), "c_linear")
    bias_var = check_bias_var(bias_var)
    seed = torch_seed() if seed is None else check_seed(seed)
    links = chain(model, input_shape, placeholder=True)
    layers = [link.layer.replace(bias_var=bias_var) if link.layer.has_parameters else link.layer for link in links]
    net, rows = _scaled_network(layers, scheme, s, c_linear)
    params = draw_parameters(net, seed)
    if scheme in ("sphere", "many-regions"):
        params = _constructed(net, params, scheme, seed)
    load_parameters(links, params)
    return ModelInit(scheme, seed, tuple(rows), net)


def _constructed(net, params, scheme, seed):
    """Replace the parameters of every maxout dense layer by the 2021 construction ``scheme``."""
    from ..layers import NoLawError
    from ..layers.constructions import CONSTRUCTIONS

    rng = np.random.default_rng(seed)
    out = []
    for layer, p in zip(net, params):
        if layer.kind == "maxout":
            p = CONSTRUCTIONS[scheme](layer, rng)
        elif layer.kind != "linear" and layer.has_parameters:
            raise NoLawError(layer, f"the initialisation {scheme!r}", "it is built for maxout dense layers")
        out.append(p)
    return out
