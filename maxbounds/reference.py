r"""The independent NumPy reference of a random network: draw, forward, Jacobian, backward, gradients.

Plain NumPy (no Numba), written from the definitions of the layer kinds and
sharing nothing with the Numba kernels but the layer objects
(:mod:`maxbounds.layers`: sizes, ``weight_sd``, ``bias_sd``, ``slope``).  It is
the independent side of every simulator test and of ``maxbounds validate``:
evaluated on the very network a simulator drew
(:func:`maxbounds.layers.draw.draw_parameters`) it must agree with the
simulator to rounding, and with its own draw (:func:`draw`) in law.

Parameters are per layer ``(W, b)`` in the kind's shape (dense ``(width, K,
n_in)`` and ``(width, K)``; convolution ``(C, K, C_in, k, k)`` and ``(C, K)``;
max-pooling ``None``), optionally with leading batch axes (``(S, ...)``: ``S``
networks at once, see :func:`stack`).  Features are flat, in C order of
``(C, H, W)`` for feature maps.  Per kind, with winners :math:`k^*` (the first
maximiser on ties) and slopes :math:`g`:

* maxout / linear: :math:`x_i = \max_k (W_{ik}\cdot x + b_{ik})`,
  :math:`(Jv)_i = W_{ik^*_i}\cdot v`, :math:`(dJ)_j = \sum_i d_i W_{ik^*_i j}`;
* leaky ReLU: :math:`x_i = \phi_a(z_i)`, :math:`g_i = 1[z_i > 0] + a\,1[z_i \le 0]`,
  :math:`(Jv)_i = g_i W_i\cdot v`;
* randomised leaky ReLU (parameters ``(W, b, a)``, the slopes ``a`` of shape ``(width,)``, drawn
  :math:`U[l, u]` after the weights and biases of the layer): the same with :math:`a_i` in place of
  ``a``; no Numba kernel exists for this kind, so this is its only draw and forward pass;
* maxout convolution: the same with :math:`W_{ck}\cdot P(h, w)`, ``P`` the
  ``k x k`` zero-padded patch of the input at ``(h, w)``;
* leaky ReLU convolution (rank 1, slope ``a``; ``a = 0`` is ReLU):
  :math:`x_{c,h,w} = \phi_a(z_{c,h,w})`, :math:`z_{c,h,w} = W_{c0}\cdot P(h, w) + b_{c0}`,
  winners :math:`1[z > 0]`, :math:`g = 1[z > 0] + a\,1[z \le 0]` and
  :math:`(Jv)_{c,h,w} = g_{c,h,w}\,W_{c0}\cdot P_v(h, w)`;
* max-pooling: :math:`x_o = x_{\iota(o)}`, :math:`\iota(o)` the first largest
  input of window ``o``; :math:`(Jv)_o = v_{\iota(o)}`.

Parameter gradients (for an output direction :math:`d`, :math:`\delta_l = d^T
\partial N/\partial x_l`): dense :math:`\partial/\partial W_{l,i,k,j} =
1[k = k^*_i]\,g_i\,\delta_{l,i}\,x_{l-1,j}` and :math:`\partial/\partial b_{l,i,k}
= 1[k = k^*_i]\,g_i\,\delta_{l,i}`; convolution (maxout and leaky ReLU) the same summed over
positions, :math:`\partial/\partial W_{l,c,k,c',dy,dx} = \sum_{h,w} 1[k = k^*_{c,h,w}]\,g_{c,h,w}\,
\delta_{l,c,h,w}\,P(h, w)_{c',dy,dx}`.
See ``docs/reference.md``.
"""

from __future__ import annotations

import dataclasses
import numbers

import numpy as np

from ._validate import MaxboundsValueError
from .layers.serial import Serial

__all__ = ["Forward", "ReferenceSamples", "draw", "stack", "forward", "jvp", "vjp", "jacobian",
           "parameter_gradients", "ntk_diagonal", "evaluate", "samples"]

#: Networks drawn and evaluated together by :func:`samples` (bounds the working memory).
_CHUNK_PARAMETERS = 2**22


# ---------------------------------------------------------------------------
# arguments
# ---------------------------------------------------------------------------
def _serial(net) -> Serial:
    if isinstance(net, Serial):
        return net
    from .layers.draw import as_serial  # Architecture -> Serial (imports no Numba code at module level)

    return as_serial(net)


def _generator(rng):
    """A NumPy ``Generator`` from a ``Generator``, an int seed or ``None`` (one rule everywhere)."""
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool) and rng >= 0):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.Generator):
        return rng
    raise MaxboundsValueError("rng", f"expected a numpy.random.Generator, an int seed >= 0 or None, "
                                     f"got {type(rng).__name__}")


#: The convolutional kinds: parameters ``(C, K, C_in, k, k)``, ``(C, K)``, features ``(C, H, W)``.
_CONV_KINDS = ("maxout_conv", "leaky_relu_conv")


def _is_conv(layer) -> bool:
    return layer.kind in _CONV_KINDS


def _batch_shape(net, params) -> tuple:
    if len(params) != len(net):
        raise MaxboundsValueError("params", f"expected {len(net)} layers of parameters, got {len(params)}")
    shapes = []
    for layer, p in zip(net, params):
        if not layer.has_parameters:
            if p is not None:
                raise MaxboundsValueError("params", f"layer {layer.index} ({layer.label}) has no parameters")
            continue
        W, b = p[0], p[1]
        core = layer.weight_shape()
        if W.shape[W.ndim - len(core):] != core or b.shape[b.ndim - 2:] != core[:2]:
            raise MaxboundsValueError("params", f"layer {layer.index} ({layer.label}): weights {W.shape} and "
                                                f"biases {b.shape} do not end in {core} and {core[:2]}")
        shapes += [W.shape[:-len(core)], b.shape[:-2]]
        if layer.kind == "rrelu":
            if len(p) != 3 or p[2].shape[-1:] != (layer.width,):
                raise MaxboundsValueError("params", f"layer {layer.index} ({layer.label}): expected (W, b, a) with "
                                                    f"slopes a of shape (..., {layer.width})")
            shapes.append(p[2].shape[:-1])
    return np.broadcast_shapes(*shapes) if shapes else ()


def _features(value, argument, n) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arr.ndim < 1 or arr.shape[-1] != n:
        raise MaxboundsValueError(argument, f"need a last axis of length {n}, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise MaxboundsValueError(argument, "must be finite")
    return arr


# ---------------------------------------------------------------------------
# parameters
# ---------------------------------------------------------------------------
def draw(net, rng=None, networks=None) -> list:
    r"""Draw a network's parameters from the layers' law, in NumPy (independent of the Numba stream).

    Every weight :math:`N(0, \mathrm{weight\_sd}^2)`, every bias :math:`N(0,
    \mathrm{bias\_sd}^2)` (zeros when ``bias_sd = 0``).  ``rng``: a
    ``numpy.random.Generator``, an int seed or ``None``.  With ``networks = S``
    every array gets a leading axis of length ``S``.
    """
    net, rng = _serial(net), _generator(rng)
    lead = () if networks is None else (int(networks),)
    out = []
    for layer in net:
        if not layer.has_parameters:
            out.append(None)
            continue
        shape = layer.weight_shape()
        W = rng.standard_normal(lead + shape) * layer.weight_sd
        b = rng.standard_normal(lead + shape[:2]) * layer.bias_sd if layer.bias_sd > 0 else np.zeros(lead + shape[:2])
        if layer.kind == "rrelu":
            out.append((W, b, rng.uniform(layer.lower, layer.upper, lead + (layer.width,))))
        else:
            out.append((W, b))
    return out


def stack(networks) -> list:
    """Per-layer parameters of several networks (lists as :func:`draw` returns) stacked on a leading axis."""
    networks = list(networks)
    if not networks:
        raise MaxboundsValueError("networks", "give at least one network")
    out = []
    for layer in zip(*networks):
        if layer[0] is None:
            out.append(None)
        else:
            out.append(tuple(np.stack([p[j] for p in layer]) for j in range(len(layer[0]))))
    return out


# ---------------------------------------------------------------------------
# one layer: forward, and the linear map at fixed winners (JVP, VJP)
# ---------------------------------------------------------------------------
def _patches(x, layer):
    """``(..., C_in, k, k, H, W)``: the zero-padded ``k x k`` neighbourhood of every position."""
    H, Wd = layer.image
    k, pad = layer.kernel_size, layer.kernel_size // 2
    x = x.reshape(x.shape[:-1] + (layer.in_channels, H, Wd))
    padded = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(pad, pad), (pad, pad)])
    rows = [np.stack([padded[..., dy:dy + H, dx:dx + Wd] for dx in range(k)], axis=-3) for dy in range(k)]
    return np.stack(rows, axis=-4)


def _conv(W, x, layer):
    """``(..., C, K, H, W)``: every piece of every unit without the bias, :math:`W_{ck}\\cdot P(h, w)`."""
    return np.einsum("...ckief,...iefhw->...ckhw", W, _patches(x, layer))


def _onehot(sel, K, axis):
    return np.expand_dims(sel, axis) == np.arange(K).reshape((K,) + (1,) * (-axis - 1))


def _gather(v, index):
    """``v[..., index]`` along the last axis, broadcasting the leading axes of both."""
    lead = np.broadcast_shapes(v.shape[:-1], index.shape[:-1])
    return np.take_along_axis(np.broadcast_to(v, lead + v.shape[-1:]),
                              np.broadcast_to(index, lead + index.shape[-1:]), axis=-1)


def _layer_forward(layer, p, x):
    """``(x_out, winners)`` of one layer."""
    kind = layer.kind
    if kind == "maxpool":
        C, (H, Wd), q = layer.channels, layer.image, layer.pool
        Ho, Wo = layer.out_image
        flat = np.arange(C * H * Wd).reshape(C, H, Wd)[:, :Ho * q, :Wo * q]
        windows = flat.reshape(C, Ho, q, Wo, q).transpose(0, 1, 3, 2, 4).reshape(C * Ho * Wo, q * q)
        values = x[..., windows]  # (..., outputs, q*q) in row-major window order
        first = np.argmax(values, axis=-1)
        return np.take_along_axis(values, first[..., None], axis=-1)[..., 0], windows[np.arange(windows.shape[0]), first]
    W, b = p[0], p[1]
    if kind == "maxout_conv":
        z = _conv(W, x, layer) + b[..., None, None]
        sel = np.argmax(z, axis=-3)
        out = np.take_along_axis(z, sel[..., None, :, :], axis=-3)[..., 0, :, :]
        return out.reshape(out.shape[:-3] + (-1,)), sel.reshape(sel.shape[:-3] + (-1,))
    if kind == "leaky_relu_conv":
        z = (_conv(W, x, layer) + b[..., None, None])[..., 0, :, :]  # (..., C, H, W): the one piece
        z = z.reshape(z.shape[:-3] + (-1,))
        positive = z > 0
        return np.where(positive, z, layer.slope * z), positive.astype(np.int64)
    z = np.einsum("...ikj,...j->...ik", W, x) + b
    if kind in ("leaky_relu", "rrelu"):
        z = z[..., 0]
        positive = z > 0
        return np.where(positive, z, _slopes(layer, p) * z), positive.astype(np.int64)
    sel = np.argmax(z, axis=-1)  # maxout; linear has one piece
    return np.take_along_axis(z, sel[..., None], axis=-1)[..., 0], sel


def _slopes(layer, p):
    """The negative slope of each unit: the layer's ``a``, or the drawn slopes of a randomised leaky ReLU layer."""
    return p[2] if layer.kind == "rrelu" else layer.slope


def _gain(layer, sel, p=None):
    """The slope of each unit at its winner (1 except for leaky ReLU units, dense or conv, with input <= 0)."""
    return np.where(sel == 1, 1.0, _slopes(layer, p))


def _layer_jvp(layer, p, sel, v):
    """:math:`J_l v` at the winners ``sel`` (``v`` may carry more leading axes than ``sel``)."""
    kind = layer.kind
    if kind == "maxpool":
        return _gather(v, sel)
    W = p[0]
    if kind == "maxout_conv":
        C, (H, Wd) = layer.channels, layer.image
        pieces = _conv(W, v, layer)
        picked = (pieces * _onehot(sel.reshape(sel.shape[:-1] + (C, H, Wd)), layer.K, -3)).sum(axis=-3)
        return picked.reshape(picked.shape[:-3] + (-1,))
    if kind == "leaky_relu_conv":
        piece = _conv(W, v, layer)[..., 0, :, :]
        return _gain(layer, sel) * piece.reshape(piece.shape[:-3] + (-1,))
    pieces = np.einsum("...ikj,...j->...ik", W, v)
    if kind in ("leaky_relu", "rrelu"):
        return _gain(layer, sel, p) * pieces[..., 0]
    return (pieces * _onehot(sel, layer.rank, -1)).sum(axis=-1)


def _coefficients(layer, sel, d, p=None):
    """``d`` spread onto the pieces: :math:`1[k = k^*]\\,g\\,d`, shape ``(..., width, K)`` or ``(..., C, K, H, W)``."""
    if layer.kind == "maxout_conv":
        C, (H, Wd) = layer.channels, layer.image
        grid = d.reshape(d.shape[:-1] + (C, 1, H, Wd))
        return grid * _onehot(sel.reshape(sel.shape[:-1] + (C, H, Wd)), layer.K, -3)
    if layer.kind == "leaky_relu_conv":
        C, (H, Wd) = layer.channels, layer.image
        scaled = _gain(layer, sel) * d
        return scaled.reshape(scaled.shape[:-1] + (C, 1, H, Wd))
    if layer.kind in ("leaky_relu", "rrelu"):
        return (_gain(layer, sel, p) * d)[..., None]
    return d[..., None] * _onehot(sel, layer.rank, -1)


def _layer_vjp(layer, p, sel, d):
    """:math:`d\\,J_l` (a row vector through the layer at the winners)."""
    if layer.kind == "maxpool":
        lead = np.broadcast_shapes(d.shape[:-1], sel.shape[:-1])
        out = np.zeros(lead + (layer.n_in,))
        np.put_along_axis(out, np.broadcast_to(sel, lead + sel.shape[-1:]), np.broadcast_to(d, lead + d.shape[-1:]),
                          axis=-1)  # windows do not overlap: each input receives at most one output
        return out
    W = p[0]
    coef = _coefficients(layer, sel, d, p)
    if not _is_conv(layer):
        return np.einsum("...ik,...ikj->...j", coef, W)
    (H, Wd), k, pad = layer.image, layer.kernel_size, layer.kernel_size // 2
    lead = coef.shape[:-4]
    padded = np.zeros(lead + (layer.in_channels, H + 2 * pad, Wd + 2 * pad))
    for dy in range(k):
        for dx in range(k):
            padded[..., dy:dy + H, dx:dx + Wd] += np.einsum("...ckhw,...cki->...ihw", coef, W[..., dy, dx])
    return padded[..., pad:pad + H, pad:pad + Wd].reshape(lead + (-1,))


# ---------------------------------------------------------------------------
# a network
# ---------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Forward:
    """A forward pass: ``activations[l]`` is :math:`x_l` (``l = 0..L``), ``winners[l-1]`` the winners of layer ``l``.

    Winners: the piece of each unit (maxout, linear, convolution), ``1[z > 0]`` (leaky ReLU) or the flat
    input index of each window's first largest entry (max-pooling).
    """

    activations: list
    winners: list

    @property
    def output(self) -> np.ndarray:
        return self.activations[-1]


def forward(net, params, x) -> Forward:
    """Forward ``x`` (shape ``(..., n_0)``) through the network with parameters ``params``."""
    net = _serial(net)
    lead = _batch_shape(net, params)
    x = _features(x, "x", net.n_in)
    xs = [np.broadcast_to(x, np.broadcast_shapes(lead, x.shape[:-1]) + (net.n_in,))]
    winners = []
    for layer, p in zip(net, params):
        out, sel = _layer_forward(layer, p, xs[-1])
        xs.append(out)
        winners.append(sel)
    return Forward(xs, winners)


def jvp(net, params, x, u, *, per_layer=False):
    """:math:`J_N(x)u`; with ``per_layer`` the list :math:`u_l = J_l\\cdots J_1 u`, ``l = 0..L``."""
    net = _serial(net)
    fwd = forward(net, params, x)
    us = [_features(u, "u", net.n_in)]
    for layer, p, sel in zip(net, params, fwd.winners):
        us.append(_layer_jvp(layer, p, sel, us[-1]))
    return us if per_layer else us[-1]


def _backward(net, params, fwd, d):
    """:math:`\\delta_l = d^T\\partial N/\\partial x_l`, ``l = 0..L``."""
    deltas = [d]
    for layer, p, sel in zip(reversed(net.layers), reversed(params), reversed(fwd.winners)):
        deltas.append(_layer_vjp(layer, p, sel, deltas[-1]))
    return deltas[::-1]


def _directions(net, fwd, output_direction):
    """The output direction as given, or the unit vectors of every output on a new leading axis."""
    nb = fwd.activations[-1].ndim - 1
    if output_direction is None:
        return np.eye(net.n_out).reshape((net.n_out,) + (1,) * nb + (net.n_out,))
    return _features(output_direction, "output_direction", net.n_out)


def vjp(net, params, x, d, *, per_layer=False):
    """:math:`d^T J_N(x)`; with ``per_layer`` the list :math:`\\delta_l = d^T\\partial N/\\partial x_l`, ``l = 0..L``."""
    net = _serial(net)
    fwd = forward(net, params, x)
    deltas = _backward(net, params, fwd, _features(d, "d", net.n_out))
    return deltas if per_layer else deltas[0]


def jacobian(net, params, x) -> np.ndarray:
    r""":math:`J_N(x) = J_L\cdots J_1`, shape ``(..., n_L, n_0)``; :math:`J_l` is the layer's map at its winners."""
    net = _serial(net)
    fwd = forward(net, params, x)
    nb = fwd.activations[0].ndim - 1
    total = None
    for layer, p, sel in zip(net, params, fwd.winners):
        basis = np.eye(layer.n_in).reshape((layer.n_in,) + (1,) * nb + (layer.n_in,))
        J = np.moveaxis(_layer_jvp(layer, p, sel, basis), 0, -1)  # (..., width, n_in)
        total = J if total is None else J @ total
    return total


def parameter_gradients(net, params, x, output_direction=None) -> list:
    r"""Per layer ``(dN/dW, dN/db)`` (``None`` for pooling) of :math:`d^T N(x)`.

    ``output_direction = d`` (shape ``(n_L,)``): the gradients of :math:`d^T N`;
    ``None``: those of every output :math:`N_o`, on a new leading axis of
    length :math:`n_L` (a scalar network gives an axis of length 1).
    """
    net = _serial(net)
    fwd = forward(net, params, x)
    deltas = _backward(net, params, fwd, _directions(net, fwd, output_direction))
    out = []
    for l, (layer, p, sel) in enumerate(zip(net, params, fwd.winners), start=1):
        if not layer.has_parameters:
            out.append(None)
            continue
        coef = _coefficients(layer, sel, deltas[l], p)
        if _is_conv(layer):
            dW = np.einsum("...ckhw,...iefhw->...ckief", coef, _patches(fwd.activations[l - 1], layer))
            out.append((dW, coef.sum(axis=(-2, -1))))
        else:
            out.append((coef[..., None] * fwd.activations[l - 1][..., None, None, :], coef))
    return out


def ntk_diagonal(net, params, x) -> np.ndarray:
    r""":math:`\Theta(x, x) = \sum_o\sum_\theta (\partial N_o/\partial\theta)^2` over every weight and bias (trace over outputs)."""
    net = _serial(net)
    nb = forward(net, params, x).activations[0].ndim - 1  # batch axes
    total = 0.0
    for g in parameter_gradients(net, params, x):
        for a in () if g is None else g:  # (n_out, batch..., core...)
            squares = np.moveaxis(a**2, 0, -1)
            total = total + squares.reshape(squares.shape[:nb] + (-1,)).sum(axis=-1)
    return total


# ---------------------------------------------------------------------------
# samples
# ---------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, eq=False)
class ReferenceSamples:
    r"""Per-network quantities of networks evaluated by the reference (layers on the first axis).

    Attributes
    ----------
    jacobian_sq_norm : ndarray, shape (S,)
        :math:`\lVert J_N(x)u\rVert^2` (``u`` as given).
    sq_norm_x, sq_norm_u, cos : ndarray, shape (L + 1, S)
        :math:`\lVert x_l\rVert^2`, :math:`\lVert u_l\rVert^2`, :math:`\cos\angle(x_l, u_l)` (0 for a zero vector).
    weight_grad_sq, bias_grad_sq : ndarray, shape (L, S)
        :math:`\sum_{o,\theta\in W_l}(\partial N_o/\partial\theta)^2` and the same over the biases of layer
        ``l`` (0 for pooling), summed over the outputs.
    ntk : ndarray, shape (S,)
        :math:`\Theta(x, x)`, the sum of both over the layers.
    """

    jacobian_sq_norm: np.ndarray
    sq_norm_x: np.ndarray
    sq_norm_u: np.ndarray
    cos: np.ndarray
    weight_grad_sq: np.ndarray
    bias_grad_sq: np.ndarray

    @property
    def ntk(self) -> np.ndarray:
        return self.weight_grad_sq.sum(axis=0) + self.bias_grad_sq.sum(axis=0)

    @property
    def networks(self) -> int:
        return self.jacobian_sq_norm.shape[0]


def evaluate(net, params, x, u) -> ReferenceSamples:
    """The quantities of :class:`ReferenceSamples` for networks ``params`` with one leading batch axis."""
    net = _serial(net)
    if len(_batch_shape(net, params)) != 1:
        raise MaxboundsValueError("params", "expected parameters of several networks on one leading axis (stack)")
    fwd = forward(net, params, x)
    S = fwd.activations[-1].shape[0]
    us = [np.broadcast_to(_features(u, "u", net.n_in), (S, net.n_in))]
    for layer, p, sel in zip(net, params, fwd.winners):
        us.append(_layer_jvp(layer, p, sel, us[-1]))
    xx = np.stack([np.einsum("sj,sj->s", a, a) for a in fwd.activations])
    uu = np.stack([np.einsum("sj,sj->s", a, a) for a in us])
    xu = np.stack([np.einsum("sj,sj->s", a, b) for a, b in zip(fwd.activations, us)])
    with np.errstate(divide="ignore", invalid="ignore"):
        cos = np.where((xx > 0) & (uu > 0), xu / np.sqrt(xx * uu), 0.0)
    grads = parameter_gradients(net, params, x)
    w_sq, b_sq = [], []
    for g in grads:  # arrays (n_out, S, ...)
        if g is None:
            w_sq.append(np.zeros(S))
            b_sq.append(np.zeros(S))
            continue
        w_sq.append((g[0] ** 2).reshape(net.n_out, S, -1).sum(axis=(0, 2)))
        b_sq.append((g[1] ** 2).reshape(net.n_out, S, -1).sum(axis=(0, 2)))
    return ReferenceSamples(uu[-1].copy(), xx, uu, cos, np.stack(w_sq), np.stack(b_sq))


def samples(net, x, u, networks, rng=None) -> ReferenceSamples:
    """Draw ``networks`` networks with :func:`draw` (``rng``: Generator, int seed or None) and :func:`evaluate` them."""
    net, rng = _serial(net), _generator(rng)
    if isinstance(networks, bool) or not isinstance(networks, numbers.Integral) or not 1 <= networks <= 10**9:
        raise MaxboundsValueError("networks", f"expected an integer in 1..10**9, got {networks!r}")
    per_network = (net.n_out + 1) * (net.parameter_count + sum(layer.width * layer.rank * layer.fan_in for layer in net))
    chunk = max(1, min(int(networks), _CHUNK_PARAMETERS // per_network))
    parts = [evaluate(net, draw(net, rng, min(chunk, networks - start)), x, u) for start in range(0, networks, chunk)]
    return ReferenceSamples(*(np.concatenate([getattr(p, f.name) for p in parts], axis=-1)
                              for f in dataclasses.fields(ReferenceSamples)))
