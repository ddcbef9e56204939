r"""Explicit random networks, compiled with Numba: the slow, assumption-free check of the chain.

For each sample :func:`explicit_samples` draws every weight
:math:`W_{l,i,k,j}\sim N(0, c_l/n_{l-1})` and bias :math:`b_{l,i,k}\sim N(0,\beta_l)`
on the fly (nothing is stored), forwards :math:`x`, keeps the piece with the
largest pre-activation in each unit (the first on ties) and carries
:math:`u_l = J_l u_{l-1}` along.  Cost :math:`O(K_l n_l n_{l-1})` per layer and
sample.  ``activation="relu"`` replaces the hidden maxout units by ReLU units
(one weight row per unit; the architecture's ranks are ignored).  The
output layer is linear.  Same random-stream scheme as the chain: sample
``s`` uses the stream of ``(seed, s)``.

:func:`explicit_samples_many` pushes ``m`` inputs through each sampled
network (the weights are drawn once per sample and applied to all inputs),
which exposes the correlation across inputs of one network.

Not covered: convolutional architectures (rejected with an error).
"""

from __future__ import annotations

import math

import numpy as np

from .._parallel import run_chunks
from .._validate import MaxboundsValueError, as_real_array
from ..architecture import Architecture
from ..laws.exact import GramChainSamples, _exp_checked
from ..layers.draw import as_serial
from . import _kernels
from .chain import _result, _vector, check_args, check_first, check_run_args

__all__ = ["explicit_samples", "explicit_samples_many", "network_samples"]

_ACTIVATIONS = ("maxout", "relu")


def explicit_samples(arch, x, u, samples, seed, *, activation="maxout", per_layer=False,
                     first_sample=0) -> GramChainSamples:
    r"""Sample :math:`\lVert J_N(x)u\rVert^2` from explicitly drawn networks.

    Parameters are those of :func:`maxbounds.simulate.chain_samples`, plus

    activation : {"maxout", "relu"}
        The hidden units.  ReLU networks use the architecture's widths,
        scales ``c_l`` and bias variances.

    Returns
    -------
    GramChainSamples
        With ``method="numba-explicit"`` (or ``"numba-explicit-relu"``).
        The vectors are held in double precision, so a very deep network
        whose activations grow or vanish geometrically can overflow (the
        chain, in log space, cannot).
    """
    arch, x, u, samples, seed, per_layer = check_args(arch, x, u, samples, seed, per_layer)
    if activation not in _ACTIVATIONS:
        raise MaxboundsValueError("activation", f"expected 'maxout' or 'relu', got {activation!r}")
    relu = activation == "relu"
    plan = arch.network(activation).plan()
    rows = arch.depth + 1 if per_layer else 1
    out = np.empty((6, rows, samples))
    run_chunks(_kernels.explicit_kernel, samples, x, u, plan.ispec, plan.fspec, plan.n_params, plan.n_select,
               plan.width_max, np.uint64(seed), check_first(first_sample, samples), per_layer, out)
    return _result(arch, out, per_layer, "numba-explicit-relu" if relu else "numba-explicit")


def _unit_rows(U):
    """Each row of ``U`` scaled to unit length exactly as :func:`check_args` scales one direction."""
    rows = np.empty_like(U)
    for t in range(U.shape[0]):
        u = np.ascontiguousarray(U[t])
        scale = float(np.max(np.abs(u)))
        if scale == 0.0:
            raise MaxboundsValueError("U", f"direction {t} is zero; every direction must be non-zero")
        u = u / scale
        rows[t] = u / math.sqrt(float(u @ u))
    return rows


def explicit_samples_many(arch, X, U, samples, seed, *, activation="maxout", hidden_sq_norm=False):
    r"""Sample :math:`\lVert J_N(x_t)u_t\rVert^2` for ``m`` inputs through the same random networks.

    Sample ``s`` draws one network (stream ``(seed, s)``, the draw order of
    :func:`explicit_samples`) and evaluates it at every input, so column ``t``
    equals, bit for bit, ``explicit_samples(arch, X[t], U[t], samples,
    seed).jacobian_sq_norm``, while the columns of one row share a network.

    Parameters
    ----------
    arch : Architecture
        A fully connected architecture.
    X : array_like, shape (m, n_0)
        The inputs, one per row.
    U : array_like, shape (n_0,) or (m, n_0)
        One direction for all inputs, or one per input; each is scaled to unit length.
    samples, seed : int
        Number of networks and the seed, as in :func:`explicit_samples`.
    activation : {"maxout", "relu"}
        The hidden units.
    hidden_sq_norm : bool
        Also return :math:`\lVert x_{L-1}(x_t)\rVert^2`, the squared norm of
        the input of the (linear) output layer.

    Returns
    -------
    ndarray, shape (samples, m)
        The squared Jacobian-vector norms; with ``hidden_sq_norm`` a pair
        ``(jacobian_sq_norm, hidden_sq_norm)`` of such arrays.
    """
    if not isinstance(arch, Architecture):
        raise MaxboundsValueError("arch", f"expected an Architecture, got {type(arch).__name__}")
    arch.require_fully_connected("the Numba simulators")
    n0 = arch.n_in
    X = as_real_array(X, "X")
    if X.ndim != 2 or X.shape[1] != n0 or X.shape[0] < 1:
        raise MaxboundsValueError("X", f"need an array of shape (m, n_0) with m >= 1 and n_0 = {n0}, got shape {X.shape}")
    m = X.shape[0]
    U = as_real_array(U, "U")
    if U.ndim == 1 and U.shape[0] == n0:
        U = np.broadcast_to(U, (m, n0))
    elif not (U.ndim == 2 and U.shape == (m, n0)):
        raise MaxboundsValueError("U", f"need shape (n_0,) = ({n0},) or (m, n_0) = ({m}, {n0}), got shape {U.shape}")
    samples, seed, _ = check_run_args(samples, seed, False)
    if activation not in _ACTIVATIONS:
        raise MaxboundsValueError("activation", f"expected 'maxout' or 'relu', got {activation!r}")
    if not isinstance(hidden_sq_norm, (bool, np.bool_)):
        raise MaxboundsValueError("hidden_sq_norm", f"expected True or False, got {hidden_sq_norm!r}")
    X = np.ascontiguousarray(X)
    U = _unit_rows(U)
    plan = arch.network(activation).plan()
    out = np.empty((2, samples, m))
    run_chunks(_kernels.explicit_many_kernel, samples, X, U, plan.ispec, plan.fspec, plan.n_params, plan.n_select,
               plan.width_max, np.uint64(seed), out)
    jac = _exp_checked(out[0], "||J u||^2", "a smaller network or scale")
    if not hidden_sq_norm:
        return jac
    return jac, _exp_checked(out[1], "||x_{L-1}||^2", "a smaller network or scale")


def network_samples(net, x, u, samples, seed, per_layer=False, *, first_sample=0) -> GramChainSamples:
    r"""Sample :math:`\lVert J_N(x)u\rVert^2` from explicitly drawn networks of any composition of layers.

    The generic explicit simulator: sample ``s`` is network ``first_sample + s`` of ``seed``
    (:func:`maxbounds.layers.draw.draw_parameters` gives its parameters), drawn and evaluated with the
    Jacobian-vector product by the layers' kernels, whatever the kinds (dense maxout, leaky ReLU, linear,
    maxout or leaky ReLU convolution, max-pooling).  ``explicit_samples(arch, ...)`` is
    ``network_samples(arch.network(), ...)``, bit for bit.

    Parameters
    ----------
    net : Serial or Architecture
        The layers (:func:`maxbounds.layers.serial`); an Architecture stands for ``arch.network()``.
    x, u : array_like, shape (n_0,)
        The input (flattened C order for images) and the direction, scaled to unit length.
    samples, seed, per_layer, first_sample
        As in :func:`explicit_samples`.

    Returns
    -------
    GramChainSamples
        With ``architecture`` the Serial and ``method="numba-explicit-layers"``.  Columns ``rho`` and
        ``1 - rho^2`` are the chain's for dense layers and carry no meaning after a spatial layer.
    """
    net = as_serial(net)
    x = _vector(x, "x", net.n_in)
    u = _unit_rows(np.atleast_2d(_vector(u, "u", net.n_in)))[0]
    samples, seed, per_layer = check_run_args(samples, seed, per_layer)
    plan = net.plan()
    rows = net.depth + 1 if per_layer else 1
    out = np.empty((6, rows, samples))
    run_chunks(_kernels.explicit_kernel, samples, np.ascontiguousarray(x, dtype=float), u, plan.ispec, plan.fspec,
               plan.n_params, plan.n_select, plan.width_max, np.uint64(seed), check_first(first_sample, samples),
               per_layer, out)
    layers = tuple(range(net.depth + 1)) if per_layer else (net.depth,)
    return GramChainSamples(net, layers, *out, method="numba-explicit-layers")
