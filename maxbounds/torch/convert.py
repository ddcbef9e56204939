r"""PyTorch models as maxbounds layers, and back.

A model is read as the chain of its leaf modules in the order they are
registered (an ``nn.Sequential``, nested or not, or any module whose
submodules are registered in the order its ``forward`` runs them).  Each
link is one maxbounds layer kind:

=====================================================  ==========================================
PyTorch modules                                        maxbounds layer
=====================================================  ==========================================
:class:`~maxbounds.torch.Maxout`                        :class:`~maxbounds.layers.MaxoutDense`
``nn.Linear`` then ``nn.ReLU`` / ``nn.LeakyReLU(a)``    :class:`~maxbounds.layers.LeakyReLUDense`
``nn.Linear`` (no activation after it)                  :class:`~maxbounds.layers.Linear`
:class:`~maxbounds.torch.MaxoutConv2d`                  :class:`~maxbounds.layers.MaxoutConv2d`
``nn.Conv2d`` then ``nn.ReLU`` / ``nn.LeakyReLU(a)``    :class:`~maxbounds.layers.LeakyReLUConv2d`
``nn.MaxPool2d(p)`` (stride ``p``)                      :class:`~maxbounds.layers.MaxPool2d`
``nn.Flatten``, ``nn.Identity``, ``nn.Dropout``         (no layer: a reshape, or the identity in eval)
=====================================================  ==========================================

Convolutions must be stride 1 with 'same' zero padding and an odd kernel
(the maxbounds convolution); anything else is refused in one line naming the
module.  Image sizes come from ``input_shape = (C, H, W)``; without it (only
:func:`maxbounds.torch.init_` may omit it) a consistent placeholder geometry
is used, which changes no parameter count and no initial scale.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._validate import MaxboundsValueError
from ._require import require_torch

torch = require_torch()
nn = torch.nn

__all__ = ["Link", "chain", "to_layers", "to_network", "from_network", "build", "load_parameters"]

_PASS_THROUGH = (nn.Identity, nn.Dropout)


@dataclasses.dataclass
class Link:
    """One maxbounds layer of a model: the layer, the module holding its parameters, and its activation."""

    layer: object
    module: object = None
    activation: object = None
    position: int = 0

    @property
    def name(self) -> str:
        return type(self.module).__name__ if self.module is not None else "MaxPool2d"


def _leaves(model):
    if not isinstance(model, nn.Module):
        raise MaxboundsValueError("model", f"expected a torch.nn.Module, got {type(model).__name__}")
    return [m for m in model.modules() if next(m.children(), None) is None]


def _refuse(index, module, why):
    raise MaxboundsValueError("model", f"module {index} ({type(module).__name__}): {why}")


def _slope(index, module):
    if isinstance(module, nn.ReLU):
        return 0.0
    a = float(module.negative_slope)
    if not 0 <= a <= 1:
        _refuse(index, module, f"a leaky ReLU slope must be in [0, 1] for maxbounds, got {a:g}")
    return a


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _check_conv(index, module):
    k = _pair(module.kernel_size)
    if k[0] != k[1] or k[0] % 2 == 0:
        _refuse(index, module, f"maxbounds convolutions have square odd kernels, got {k}")
    padding = module.padding if isinstance(module.padding, str) else _pair(module.padding)
    if (_pair(module.stride) != (1, 1) or _pair(module.dilation) != (1, 1) or module.groups != 1
            or padding not in ("same", (k[0] // 2, k[0] // 2)) or module.padding_mode != "zeros"):
        _refuse(index, module, "maxbounds convolutions are stride 1, dilation 1, one group, 'same' zero padding")
    return k[0]


def _check_pool(index, module):
    p = _pair(module.kernel_size)
    stride = _pair(module.stride) if module.stride is not None else p
    if (p[0] != p[1] or stride != p or _pair(module.padding) != (0, 0) or _pair(module.dilation) != (1, 1)
            or module.ceil_mode or module.return_indices):
        _refuse(index, module, "maxbounds max-pooling has square p x p windows with stride p and no padding")
    return p[0]


class _Shape:
    """The running shape of the chain: features ``n`` or an image ``(C, H, W)``."""

    def __init__(self, input_shape):
        self.image = None
        self.features = None
        if input_shape is None:
            return
        shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else (input_shape,)
        from ..layers.base import check_size

        try:
            shape = tuple(check_size(v, "input_shape") for v in shape)
        except MaxboundsValueError:
            raise MaxboundsValueError("input_shape", f"expected (features,) or (C, H, W), got {input_shape!r}") from None
        if len(shape) == 1:
            self.features = shape[0]
        elif len(shape) == 3:
            self.image = shape
        else:
            raise MaxboundsValueError("input_shape", f"expected (features,) or (C, H, W), got {input_shape!r}")


def _placeholder_image(leaves, start):
    """A consistent ``(H, W)`` for the convolutions from leaf ``start`` on, when no input shape is given.

    The parameters of a convolution do not depend on the image size, so any
    geometry the pooling windows and the first dense layer after ``Flatten``
    agree with gives the same layers: pools of sizes ``p_1, p_2, ...`` need an
    image divisible by their product ``P``; a dense layer of ``F`` inputs after
    ``C`` channels needs ``H' W' = F / C``, met by ``(P, P F / C)``.
    """
    P, channels = 1, None
    for leaf in leaves[start:]:
        if isinstance(leaf, nn.MaxPool2d):
            P *= _pair(leaf.kernel_size)[0]
        elif isinstance(leaf, (nn.Conv2d,)) or type(leaf).__name__ == "MaxoutConv2d":
            channels = leaf.out_channels
        elif isinstance(leaf, (nn.Linear,)) or type(leaf).__name__ == "Maxout":
            features = leaf.in_features
            if channels is None or features % channels:
                return (P, P)
            return (P, P * (features // channels))
    return (P, P)


def chain(model, input_shape=None, *, placeholder=False) -> list:
    """The :class:`Link` list of ``model`` (see the module docstring for the table of kinds).

    ``input_shape`` is ``(n_0,)`` for a dense model or ``(C, H, W)`` for a
    convolutional one; without it dense sizes are read from the modules and,
    with ``placeholder=True``, images get a consistent placeholder size.
    """
    from .. import layers as L
    from .modules import Maxout, MaxoutConv2d

    leaves = _leaves(model)
    shape = _Shape(input_shape)
    links, i = [], 0
    while i < len(leaves):
        m = leaves[i]
        nxt = leaves[i + 1] if i + 1 < len(leaves) else None
        activation = nxt if isinstance(nxt, (nn.ReLU, nn.LeakyReLU)) else None
        if isinstance(m, _PASS_THROUGH):
            i += 1
            continue
        if isinstance(m, nn.Flatten):
            if m.start_dim != 1 or m.end_dim != -1:
                _refuse(i, m, "only Flatten(start_dim=1) (features in C, H, W order) is supported")
            if shape.image is not None:
                C, H, W = shape.image
                shape.features, shape.image = C * H * W, None
            i += 1
            continue
        if isinstance(m, (Maxout, nn.Linear)):
            n_in = m.in_features
            if shape.features is not None and shape.features != n_in:
                _refuse(i, m, f"takes {n_in} inputs but the model gives it {shape.features}")
            if shape.image is not None:
                _refuse(i, m, "a dense layer after a feature map needs nn.Flatten() before it")
            if isinstance(m, Maxout):
                layer = L.MaxoutDense(n_in, m.out_features, K=m.rank)
                activation = None
            elif activation is not None:
                layer = L.LeakyReLUDense(n_in, m.out_features, slope=_slope(i + 1, activation))
            else:
                layer = L.Linear(n_in, m.out_features)
            shape.features = m.out_features
        elif isinstance(m, (MaxoutConv2d, nn.Conv2d)):
            if shape.features is not None:
                _refuse(i, m, "a convolution after a dense layer is not a maxbounds chain")
            if shape.image is None:
                if not placeholder:
                    raise MaxboundsValueError("input_shape", "give the input shape (C, H, W) of a convolutional "
                                                             "model")
                shape.image = (m.in_channels,) + _placeholder_image(leaves, i)
            C_in, H, W = shape.image
            if C_in != m.in_channels:
                _refuse(i, m, f"takes {m.in_channels} channels but the model gives it {C_in}")
            if isinstance(m, MaxoutConv2d):
                layer = L.MaxoutConv2d(in_channels=C_in, channels=m.out_channels, image=(H, W),
                                       kernel_size=m.kernel_size, K=m.rank)
                activation = None
            else:
                k = _check_conv(i, m)
                if activation is None:
                    _refuse(i, m, "a convolution needs nn.ReLU or nn.LeakyReLU after it (or use "
                                  "maxbounds.torch.MaxoutConv2d)")
                layer = L.LeakyReLUConv2d(in_channels=C_in, channels=m.out_channels, image=(H, W), kernel_size=k,
                                          slope=_slope(i + 1, activation))
            shape.image = (m.out_channels, H, W)
        elif isinstance(m, nn.MaxPool2d):
            p = _check_pool(i, m)
            if shape.image is None:
                _refuse(i, m, "max-pooling needs a feature map before it")
            C, H, W = shape.image
            layer = L.MaxPool2d(channels=C, image=(H, W), pool=p)
            shape.image = (C, H // p, W // p)
            m, activation = None, None
        elif isinstance(m, (nn.ReLU, nn.LeakyReLU)):
            _refuse(i, m, "an activation must follow nn.Linear or nn.Conv2d (maxout layers have their own)")
        else:
            _refuse(i, m, "has no maxbounds layer kind; use Maxout, MaxoutConv2d, nn.Linear or nn.Conv2d with "
                          "nn.ReLU / nn.LeakyReLU, nn.MaxPool2d, nn.Flatten")
        links.append(Link(layer, m, activation, len(links) + 1))
        i += 2 if activation is not None else 1
    if not links:
        raise MaxboundsValueError("model", "has no layer maxbounds knows")
    return links


def _module_parameters(link, dtype=np.float64):
    """``(W, b)`` of one link in the maxbounds kind's shape (``None`` for pooling)."""
    m, layer = link.module, link.layer
    if m is None:
        return None
    W = m.weight.detach().cpu().double().numpy().astype(dtype, copy=True)
    shape = layer.weight_shape()
    W = W.reshape(shape)
    if m.bias is None:
        b = np.zeros(shape[:2], dtype=dtype)
    else:
        b = m.bias.detach().cpu().double().numpy().astype(dtype, copy=True).reshape(shape[:2])
    return (W, b)


def load_parameters(links, params) -> None:
    """Copy maxbounds parameters ``[(W, b) or None, ...]`` into the links' modules (in place, no gradient)."""
    with torch.no_grad():
        for link, p in zip(links, params):
            if link.module is None:
                continue
            W, b = p
            m = link.module
            m.weight.copy_(torch.as_tensor(np.asarray(W).reshape(tuple(m.weight.shape)), dtype=m.weight.dtype))
            if m.bias is not None:
                m.bias.copy_(torch.as_tensor(np.asarray(b).reshape(tuple(m.bias.shape)), dtype=m.bias.dtype))
            elif np.any(np.asarray(b) != 0):
                raise MaxboundsValueError("model", f"layer {link.position} ({link.name}) has no bias to hold a "
                                                   f"non-zero bias")


def to_layers(model, input_shape=None, *, check: bool = True):
    """``(net, params)``: the model as a :class:`~maxbounds.layers.Serial` and its parameters (float64).

    ``params[l]`` is ``(W, b)`` in the kind's shape, as
    :func:`maxbounds.layers.draw.draw_parameters` returns them, so
    :mod:`maxbounds.reference` evaluates the model (``reference.forward(net, params, x)``).  With ``check``
    the model and the converted network are evaluated on random inputs (in eval mode, float64) and must
    agree to 1e-9 relative: a model whose ``forward`` is not the chain of its registered modules is refused.
    """
    from ..layers import serial

    links = chain(model, input_shape)
    net = serial([link.layer for link in links])
    params = [_module_parameters(link) for link in links]
    if check:
        _check_same_outputs(model, net, params, input_shape)
    return net, params


def _input_batch(net, input_shape, count=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((count, net.n_in))
    if input_shape is not None and len(tuple(input_shape)) == 3:
        return x, x.reshape((count,) + tuple(input_shape))
    return x, x


def _check_same_outputs(model, net, params, input_shape):
    import copy

    from .. import reference

    flat, shaped = _input_batch(net, input_shape)
    expected = reference.forward(net, params, flat).output
    twin = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        got = twin(torch.as_tensor(shaped)).reshape(len(flat), -1).numpy()
    if got.shape != expected.shape or not np.allclose(got, expected, rtol=1e-9,
                                                      atol=1e-9 * max(1.0, float(np.abs(expected).max()))):
        raise MaxboundsValueError("model", "its forward pass is not the chain of its registered modules "
                                           "(give an nn.Sequential of supported layers)")


def to_network(model, *, check: bool = True):
    """A dense model as a :class:`maxbounds.regions.Network`, for exact region counts.

    Maxout layers keep their pieces; a ReLU or leaky ReLU unit :math:`\\max(z, a z)` becomes the rank-2
    maxout unit with pieces :math:`(W, b)` and :math:`(aW, ab)`; a hidden ``nn.Linear`` a rank-1 unit.
    The last layer must be ``nn.Linear``.  The network computes the model's function to rounding (checked).
    """
    from ..regions import Network

    net, params = to_layers(model, None, check=check)
    layers = []
    for number, (layer, (W, b)) in enumerate(zip(net.layers, params), start=1):
        if layer.kind not in ("maxout", "leaky_relu", "linear"):
            raise MaxboundsValueError("model", f"layer {number} ({layer.label}): region counting needs a "
                                               f"dense model (use to_layers for convolutional ones)")
        if layer.kind == "leaky_relu":
            a = layer.slope
            W, b = np.concatenate([W, a * W], axis=1), np.concatenate([b, a * b], axis=1)
        layers.append((W, b))
    if net.layers[-1].kind != "linear":
        raise MaxboundsValueError("model", "the last layer must be nn.Linear to count regions")
    return Network(layers)


def _modules_for(layer, previous):
    """The torch modules of one maxbounds layer (after ``previous``, to insert Flatten/Unflatten)."""
    from .modules import Maxout, MaxoutConv2d

    out = []
    image_kinds = ("maxout_conv", "leaky_relu_conv", "maxpool")
    if layer.kind in image_kinds and previous is not None and previous.kind not in image_kinds:
        raise MaxboundsValueError("net", f"layer {layer.index} ({layer.label}) follows a dense layer")
    if layer.kind not in image_kinds and previous is not None and previous.kind in image_kinds:
        out.append(nn.Flatten())
    bias = layer.has_parameters
    if layer.kind == "maxout":
        out.append(Maxout(layer.n_in, layer.width, layer.K, bias=bias))
    elif layer.kind in ("leaky_relu", "linear"):
        out.append(nn.Linear(layer.n_in, layer.width, bias=bias))
        if layer.kind == "leaky_relu":
            out.append(nn.ReLU() if layer.slope == 0 else nn.LeakyReLU(layer.slope))
    elif layer.kind == "maxout_conv":
        out.append(MaxoutConv2d(layer.in_channels, layer.channels, layer.kernel_size, layer.K, bias=bias))
    elif layer.kind == "leaky_relu_conv":
        k = layer.kernel_size
        out.append(nn.Conv2d(layer.in_channels, layer.channels, k, padding=k // 2, bias=bias))
        out.append(nn.ReLU() if layer.slope == 0 else nn.LeakyReLU(layer.slope))
    elif layer.kind == "maxpool":
        out.append(nn.MaxPool2d(layer.pool))
    else:
        raise MaxboundsValueError("net", f"layer {layer.index} ({layer.label}) has no PyTorch module")
    return out


def build(net, *, seed=None, index: int = 0, dtype=None, params=None):
    """An ``nn.Sequential`` computing ``net`` (a Serial, an Architecture, or a :class:`maxbounds.regions.Network`).

    Its parameters are network ``index`` of ``seed`` of maxbounds' one draw
    (:func:`maxbounds.layers.draw.draw_parameters`): the very network sample
    ``index`` of every maxbounds simulator uses with that seed, so the model's
    initialisation has exactly the law maxbounds analyses (weights
    :math:`N(0, c_l/\\mathrm{fan\\_in}_l)`, biases :math:`N(0, \\beta_l)`).  ``seed=None`` takes a seed from
    PyTorch's default generator.  ``params`` (``[(W, b), ...]`` as ``draw_parameters`` returns them) sets
    given parameters instead; a ``regions.Network`` brings its own.  A convolutional model takes
    ``(N, C, H, W)`` images, a dense one ``(N, n_0)``; ``dtype`` defaults to PyTorch's default dtype.
    """
    from ..layers import Serial
    from ..layers.draw import as_serial, draw_parameters
    from ..regions import Network
    from .init import torch_seed

    if isinstance(net, Network):
        from .. import layers as L

        if params is not None:
            raise MaxboundsValueError("params", "a regions.Network brings its own parameters")
        hidden = [L.MaxoutDense(W.shape[2], W.shape[0], K=W.shape[1]) for W, _ in net.layers[:-1]]
        W_out = net.layers[-1][0]
        net, params = L.serial(hidden + [L.Linear(W_out.shape[2], W_out.shape[0])]), list(net.layers)
    serial = net if isinstance(net, Serial) else as_serial(net, "net")
    if params is None:
        params = draw_parameters(serial, torch_seed() if seed is None else seed, index)
    elif len(params) != len(serial):
        raise MaxboundsValueError("params", f"expected {len(serial)} layers of parameters, got {len(params)}")
    modules, previous = [], None
    for layer in serial:
        modules.extend(_modules_for(layer, previous))
        previous = layer
    model = nn.Sequential(*modules)
    if dtype is not None:
        model = model.to(dtype)
    load_parameters(chain(model, _input_shape_of(serial)), params)
    return model


def _input_shape_of(serial):
    first = serial.layers[0]
    if first.kind in ("maxout_conv", "leaky_relu_conv"):
        return (first.in_channels,) + tuple(first.image)
    if first.kind == "maxpool":
        return (first.channels,) + tuple(first.image)
    return (first.n_in,)


def from_network(net, dtype=None):
    """The ``nn.Sequential`` of a :class:`maxbounds.regions.Network` (its weights): the way back of :func:`to_network`."""
    return build(net, dtype=dtype)

