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

Not covered: convolutional architectures (rejected with an error), and many
inputs through one network (each sample is a new network).
"""

from __future__ import annotations

import numpy as np

from .._validate import MaxboundsValueError
from ..laws.exact import GramChainSamples
from . import _kernels
from .chain import _result, check_args, layer_arrays

__all__ = ["explicit_samples"]

_ACTIVATIONS = ("maxout", "relu")


def explicit_samples(arch, x, u, samples, seed, *, activation="maxout", per_layer=False) -> GramChainSamples:
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
    ranks = (1,) * arch.depth if relu else None
    widths, ranks, log_scale, log_beta = layer_arrays(arch, ranks)
    rows = arch.depth + 1 if per_layer else 1
    out = np.empty((6, rows, samples))
    _kernels.explicit_kernel(x, u, widths, ranks, log_scale, log_beta, relu, samples, np.uint64(seed),
                             per_layer, out)
    return _result(arch, out, per_layer, "numba-explicit-relu" if relu else "numba-explicit")
