r"""The one drawing and evaluation of a random network, for every Numba simulator.

A network is given by its plan (:meth:`maxbounds.layers.Serial.plan`):
``ispec`` (one integer row per layer: kind code, sizes, buffer offsets,
geometry) and ``fspec`` (weight sd, bias sd, slope).  Network ``s`` of seed
``seed`` is :func:`draw_network` applied to the stream
``maxbounds._streams.seed_stream(seed, s)``: layer by layer, each kind's
draw (see the kind's module for its order).  :func:`layer_forward` and
:func:`layer_vjp` dispatch one layer's forward pass (with the
Jacobian-vector product) and backward pass on the kind code.

:func:`draw_forward` is :func:`draw_layer` and :func:`layer_forward` in one pass (a dense layer is drawn as
it is used).

Registering a kind here is one branch in each of the dispatchers.
"""

from __future__ import annotations

import numba

import numpy as np

from .._streams import runtime_bool, seed_stream

from ._conv_kernels import conv_forward, conv_vjp, draw_conv, leaky_conv_forward, leaky_conv_vjp
from ._dense_kernels import dense_vjp, draw_dense, draw_forward_dense, leaky_forward, maxout_forward
from ._pool_kernels import pool_forward, pool_vjp
from .serial import (F_BSD, F_SLOPE, F_WSD, I_BOFF, I_CIN, I_COUT, I_H, I_K, I_KIND, I_NIN, I_RANK, I_SOFF,
                     I_W, I_WIDTH, I_WOFF)

from .._numba_cache import refresh_stale_cache

refresh_stale_cache()  # before any kernel is compiled or loaded: a cache of other sources is removed

_jit = numba.njit(cache=True, nogil=True, fastmath=False)

# kind codes (the ``code`` of each layer class)
MAXOUT, LEAKY_RELU, LINEAR, MAXOUT_CONV, MAXPOOL, LEAKY_RELU_CONV = 0, 1, 2, 3, 4, 5


@_jit
def draw_layer(rng, ispec, fspec, layer, params):
    """Draw the parameters of one layer into ``params`` (its slices at the plan's offsets)."""
    kind = ispec[layer, I_KIND]
    w0, b0 = ispec[layer, I_WOFF], ispec[layer, I_BOFF]
    if kind == MAXPOOL:
        return
    if kind == MAXOUT_CONV or kind == LEAKY_RELU_CONV:  # a leaky ReLU convolution: a maxout one of rank 1
        n_b = ispec[layer, I_COUT] * ispec[layer, I_RANK]
        draw_conv(rng, b0 - w0, n_b, fspec[layer, F_WSD], fspec[layer, F_BSD], params[w0:b0], params[b0:b0 + n_b])
        return
    n_in, width, K = ispec[layer, I_NIN], ispec[layer, I_WIDTH], ispec[layer, I_RANK]
    draw_dense(rng, n_in, width, K, fspec[layer, F_WSD], fspec[layer, F_BSD], params[w0:b0],
               params[b0:b0 + width * K])


@_jit
def draw_network(rng, ispec, fspec, params):
    """Draw every layer, in order, from the stream ``rng``."""
    for layer in range(ispec.shape[0]):
        draw_layer(rng, ispec, fspec, layer, params)


@_jit
def draw_forward(rng, ispec, fspec, params, keep, layer, x, v, x_out, v_out, sel, jvp):
    """:func:`draw_layer` then :func:`layer_forward`, the same numbers; a dense layer is drawn as it is used.

    Dense kinds run :func:`~maxbounds.layers._dense_kernels.draw_forward_dense`: their parameters reach
    ``params`` only with ``keep`` (needed by a later :func:`layer_vjp`); other kinds are drawn whole.
    """
    kind = ispec[layer, I_KIND]
    if kind == MAXOUT_CONV or kind == LEAKY_RELU_CONV or kind == MAXPOOL:
        draw_layer(rng, ispec, fspec, layer, params)
        layer_forward(ispec, fspec, params, layer, x, v, x_out, v_out, sel, jvp)
        return
    n_in, width, K = ispec[layer, I_NIN], ispec[layer, I_WIDTH], ispec[layer, I_RANK]
    w0, b0, s0 = ispec[layer, I_WOFF], ispec[layer, I_BOFF], ispec[layer, I_SOFF]
    draw_forward_dense(rng, x, v, n_in, width, K, fspec[layer, F_WSD], fspec[layer, F_BSD], kind == LEAKY_RELU,
                       fspec[layer, F_SLOPE], params[w0:b0], params[b0:b0 + width * K], keep, x_out, v_out,
                       sel[s0:s0 + width], jvp, runtime_bool(True))


@_jit
def layer_forward(ispec, fspec, params, layer, x, v, x_out, v_out, sel, jvp):
    """One layer: ``x_out`` from ``x`` and (with ``jvp``) ``v_out = J v``; the winners go to ``sel``.

    ``x``, ``v`` hold the layer's ``n_in`` inputs, ``x_out``, ``v_out`` its ``width`` outputs, ``sel`` the
    whole network's selection buffer (this layer's part at its offset).
    """
    kind = ispec[layer, I_KIND]
    n_in, width, K = ispec[layer, I_NIN], ispec[layer, I_WIDTH], ispec[layer, I_RANK]
    w0, b0, s0 = ispec[layer, I_WOFF], ispec[layer, I_BOFF], ispec[layer, I_SOFF]
    s = sel[s0:s0 + width]
    if kind == MAXOUT or kind == LINEAR:
        maxout_forward(x, v, n_in, width, K, params[w0:b0], params[b0:b0 + width * K], x_out, v_out, s, jvp)
    elif kind == LEAKY_RELU:
        leaky_forward(x, v, n_in, width, fspec[layer, F_SLOPE], params[w0:b0], params[b0:b0 + width], x_out,
                      v_out, s, jvp)
    elif kind == MAXOUT_CONV:
        C = ispec[layer, I_COUT]
        conv_forward(x, v, ispec[layer, I_CIN], C, ispec[layer, I_H], ispec[layer, I_W], ispec[layer, I_K], K,
                     params[w0:b0], params[b0:b0 + C * K], x_out, v_out, s, jvp)
    elif kind == LEAKY_RELU_CONV:
        C = ispec[layer, I_COUT]
        leaky_conv_forward(x, v, ispec[layer, I_CIN], C, ispec[layer, I_H], ispec[layer, I_W], ispec[layer, I_K],
                           fspec[layer, F_SLOPE], params[w0:b0], params[b0:b0 + C], x_out, v_out, s, jvp)
    else:
        pool_forward(x, v, ispec[layer, I_CIN], ispec[layer, I_H], ispec[layer, I_W], ispec[layer, I_K], x_out,
                     v_out, s, jvp)


@_jit
def layer_vjp(ispec, fspec, params, layer, sel, d_out, d_in):
    """``d_in = d_out J_l`` (a row vector through the layer's Jacobian at the recorded winners)."""
    kind = ispec[layer, I_KIND]
    n_in, width, K = ispec[layer, I_NIN], ispec[layer, I_WIDTH], ispec[layer, I_RANK]
    w0, b0, s0 = ispec[layer, I_WOFF], ispec[layer, I_BOFF], ispec[layer, I_SOFF]
    s = sel[s0:s0 + width]
    if kind == MAXOUT or kind == LINEAR or kind == LEAKY_RELU:
        dense_vjp(d_out, n_in, width, K, params[w0:b0], s, kind == LEAKY_RELU, fspec[layer, F_SLOPE], d_in)
    elif kind == MAXOUT_CONV:
        conv_vjp(d_out, ispec[layer, I_CIN], ispec[layer, I_COUT], ispec[layer, I_H], ispec[layer, I_W],
                 ispec[layer, I_K], K, params[w0:b0], s, d_in)
    elif kind == LEAKY_RELU_CONV:
        leaky_conv_vjp(d_out, ispec[layer, I_CIN], ispec[layer, I_COUT], ispec[layer, I_H], ispec[layer, I_W],
                       ispec[layer, I_K], fspec[layer, F_SLOPE], params[w0:b0], s, d_in)
    else:
        pool_vjp(d_out, n_in, width, s, d_in)


@_jit
def draw_many(start, stop, seed, first, ispec, fspec, out):
    """Rows ``start..stop-1`` of ``out`` (networks, n_params): network ``first + s`` of ``seed`` in row ``s``."""
    rng = np.empty(4, dtype=np.uint64)
    for s in range(start, stop):
        seed_stream(rng, seed, np.uint64(first + s))
        draw_network(rng, ispec, fspec, out[s])
