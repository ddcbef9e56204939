r"""Network ``index`` of seed ``seed`` as NumPy arrays: the parameters every simulator draws.

:func:`draw_parameters` runs the one Numba draw (:func:`maxbounds.layers._kernels.draw_network`)
on the stream ``(seed, index)`` and returns each layer's weights and biases in
the kind's shape (dense ``(width, K, n_in)`` and ``(width, K)``; convolution
``(C, K, C_in, k, k)`` and ``(C, K)``; max-pooling ``None``).  It is how the
independent NumPy reference (:mod:`maxbounds.reference`), the region counters
and the tests see the very network a simulator used.
"""

from __future__ import annotations

import numpy as np

from .._validate import MaxboundsValueError
from .serial import Serial

__all__ = ["draw_parameters", "draw_many", "draw_flat", "as_serial"]


def as_serial(net, argument="net") -> Serial:
    """``net`` as a :class:`Serial`: a Serial, or an Architecture (its maxout network)."""
    from ..architecture import Architecture

    if isinstance(net, Serial):
        return net
    if isinstance(net, Architecture):
        return net.network()
    raise MaxboundsValueError(argument, f"expected layers (maxbounds.layers.serial) or an Architecture, "
                                        f"got {type(net).__name__}")


def draw_flat(net, seed, index=0) -> np.ndarray:
    """The flat parameter buffer of network ``index`` of ``seed`` (the plan's layout)."""
    from .. import _streams
    from ..simulate.chain import check_seed
    from . import _kernels

    net = as_serial(net)
    seed, index = check_seed(seed), check_seed(index, "index")
    plan = net.plan()
    rng = np.empty(4, dtype=np.uint64)
    _streams.seed_stream(rng, np.uint64(seed), np.uint64(index))
    params = np.empty(plan.n_params)
    _kernels.draw_network(rng, plan.ispec, plan.fspec, params)
    return params


def draw_parameters(net, seed, index=0) -> list:
    """``[(W_1, b_1), ..., (W_L, b_L)]`` of network ``index`` of ``seed`` (``None`` for a pooling layer)."""
    net = as_serial(net)
    params = draw_flat(net, seed, index)
    out, offset = [], 0
    for layer in net.layers:
        if not layer.has_parameters:
            out.append(None)
            continue
        W = params[offset:offset + layer.weight_count].reshape(layer.weight_shape())
        offset += layer.weight_count
        b = params[offset:offset + layer.bias_count].reshape(layer.weight_shape()[:2])
        offset += layer.bias_count
        out.append((W.copy(), b.copy()))
    return out


def draw_many(net, seed, first=0, count=1) -> list:
    """Networks ``first..first+count-1`` of ``seed`` at once: :func:`draw_parameters` stacked on a leading axis.

    ``[(W_1, b_1), ..., (W_L, b_L)]`` with ``W_l`` of shape ``(count,) + weight shape`` (``None`` for a
    pooling layer); one compiled call draws them all (in threads), where a Python loop over
    :func:`draw_parameters` would pay its overhead per network.
    """
    from .._parallel import run_chunks
    from ..simulate.chain import check_count, check_first, check_seed
    from . import _kernels

    net = as_serial(net)
    seed, count = check_seed(seed), check_count(count, "count")
    first = check_first(first, count)
    plan = net.plan()
    flat = np.empty((count, plan.n_params))
    run_chunks(_kernels.draw_many, count, np.uint64(seed), first, plan.ispec, plan.fspec, flat)
    out, offset = [], 0
    for layer in net.layers:
        if not layer.has_parameters:
            out.append(None)
            continue
        shape = layer.weight_shape()
        W = flat[:, offset:offset + layer.weight_count].reshape((count,) + shape)
        offset += layer.weight_count
        b = flat[:, offset:offset + layer.bias_count].reshape((count,) + shape[:2])
        offset += layer.bias_count
        out.append((W, b))
    return out
