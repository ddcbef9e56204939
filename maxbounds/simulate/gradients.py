r"""Parameter gradients and the NTK diagonal of explicit random maxout networks, compiled with Numba.

Network ``s`` of seed ``seed`` is drawn by the one draw of every simulator,
:func:`maxbounds.layers._kernels.draw_network` on the stream ``(seed, s)``
and the plan of ``arch.network()`` (weights
:math:`W_{l,i,k,j}\sim N(0, c_l/n_{l-1})`, biases :math:`b_{l,i,k}\sim N(0,\beta_l)`),
so it is the network of sample ``s`` of :func:`maxbounds.simulate.explicit_samples`.
The forward pass (:func:`~maxbounds.layers._kernels.layer_forward`, no
Jacobian-vector product) records the winning piece :math:`k^*_{l,i}` of
every unit.  The backward pass then propagates the :math:`n_L\times n_l`
matrix :math:`D_l = \partial N/\partial x_l`, one output row at a time
through :func:`~maxbounds.layers._kernels.layer_vjp`,

.. math::

    D_L = I_{n_L},\qquad D_{l-1} = D_l\,W_{l,\cdot,k^*},

and records :math:`\lVert\delta_l\rVert^2 = \lVert D_l\rVert_F^2`, the squared
derivatives summed over units and outputs.  With
:math:`\partial N/\partial W_{l,i,k,j} = 1[k = k^*_{l,i}]\,\delta_{l,i}\,x_{l-1,j}`
and :math:`\partial N/\partial b_{l,i,k} = 1[k = k^*_{l,i}]\,\delta_{l,i}`
(docs/bounds.md) every per-layer quantity of
:func:`maxbounds.laws.gradients.gradient_bounds` and
:func:`~maxbounds.laws.gradients.ntk_bounds` is a function of the two
per-layer numbers :math:`\lVert\delta_l\rVert^2` and :math:`\lVert x_{l-1}\rVert^2`.

Cost per network: :math:`O(K_l n_l n_{l-1})` random draws and multiply-adds
forward and :math:`O(n_L n_l n_{l-1})` multiply-adds backward; memory
:math:`\sum_l K_l n_l (n_{l-1} + 1)` doubles for the parameters.  Networks run
in parallel (:func:`maxbounds._parallel.run_chunks`) and results are identical bit for bit whatever the
thread count.  Convolutional architectures are rejected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from .._parallel import run_chunks
from .._streams import runtime_bool, seed_stream
from .._validate import MaxboundsValueError
from ..architecture import Architecture
from ..layers import _kernels as _layer_kernels
from ..layers.serial import I_NIN, I_WIDTH
from ..estimators import summarise
from .chain import _vector, check_count, check_first, check_seed

from .._numba_cache import refresh_stale_cache

refresh_stale_cache()  # before any kernel is compiled or loaded: a cache of other sources is removed

__all__ = ["GradientSamples", "gradient_samples"]


# ---------------------------------------------------------------------------
# kernel
# ---------------------------------------------------------------------------
@numba.njit(cache=True, nogil=True)
def _gradient_kernel(start, stop, x0, ispec, fspec, n_params, n_select, width_max, seed, first, sq_x, delta_sq):
    """Fill ``sq_x[s, 0..L]`` with ``||x_l||^2`` and ``delta_sq[s, 0..L-1]`` with ``||delta_l||^2``, l = 1..L.

    Rows ``s = start..stop-1`` (run with :func:`maxbounds._parallel.run_chunks`); network ``s`` is network
    ``first + s`` of ``seed`` on the plan ``(ispec, fspec)``, drawn as it is evaluated
    (:func:`maxbounds.layers._kernels.draw_forward`, parameters kept for the backward pass).
    """
    L = ispec.shape[0]
    n_out = ispec[L - 1, I_WIDTH]
    n0 = ispec[0, I_NIN]
    params = np.empty(n_params)
    sel = np.empty(n_select, dtype=np.int64)
    x = np.empty(width_max)
    x_new = np.empty(width_max)
    d = np.empty((n_out, width_max))
    d_new = np.empty((n_out, width_max))
    rng = np.empty(4, dtype=np.uint64)
    for s in range(start, stop):  # the buffers serve the whole chunk
        seed_stream(rng, seed, np.uint64(first + s))
        total = 0.0
        for j in range(n0):
            x[j] = x0[j]
            total += x0[j] * x0[j]
        sq_x[s, 0] = total
        # forward: the winners of every unit go to sel
        for layer in range(L):
            n_prev, n = ispec[layer, I_NIN], ispec[layer, I_WIDTH]
            _layer_kernels.draw_forward(rng, ispec, fspec, params, runtime_bool(True), layer, x[:n_prev],
                                        x[:n_prev], x_new[:n], x_new[:n], sel, runtime_bool(False))
            x, x_new = x_new, x
            total = 0.0
            for i in range(n):
                total += x[i] * x[i]
            sq_x[s, layer + 1] = total
        # backward: d[o, i] = dN_o / dx_{l,i}, one output row at a time
        for o in range(n_out):
            for i in range(n_out):
                d[o, i] = 1.0 if i == o else 0.0
        delta_sq[s, L - 1] = float(n_out)
        for layer in range(L - 1, 0, -1):  # layer = l (0-based weight layer l gives delta at x_l)
            n_prev, n = ispec[layer, I_NIN], ispec[layer, I_WIDTH]
            total = 0.0
            for o in range(n_out):
                row = d_new[o, :n_prev]
                _layer_kernels.layer_vjp(ispec, fspec, params, layer, sel, d[o, :n], row)
                for j in range(n_prev):
                    total += row[j] * row[j]
            d, d_new = d_new, d
            delta_sq[s, layer - 1] = total


# ---------------------------------------------------------------------------
# result
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class GradientSamples:
    r"""Per-network gradient statistics of explicit random networks at one input.

    Column ``l - 1`` of every ``(networks, L)`` array belongs to weight layer
    ``l = 1..L``; squared derivatives are summed over the outputs.

    Attributes
    ----------
    architecture : Architecture
    sq_norm_x : ndarray, shape (networks, L + 1)
        :math:`\lVert x_l\rVert^2`, ``l = 0..L`` (column 0 is the input).
    delta_sq : ndarray, shape (networks, L)
        :math:`\lVert\delta_l\rVert^2 = \sum_{o,i}(\partial N_o/\partial x_{l,i})^2`;
        the last column is :math:`n_L`.
    """

    architecture: Architecture
    sq_norm_x: np.ndarray
    delta_sq: np.ndarray

    @property
    def networks(self) -> int:
        return self.delta_sq.shape[0]

    @property
    def weight_layer_sum(self) -> np.ndarray:
        r""":math:`\sum_{i,k,j}(\partial N/\partial W_{l,i,k,j})^2 = \lVert\delta_l\rVert^2\lVert x_{l-1}\rVert^2`."""
        return self.delta_sq * self.sq_norm_x[:, :-1]

    @property
    def weight_nonzero(self) -> np.ndarray:
        r"""Mean over ``(i, j)`` of :math:`(\partial N/\partial W_{l,i,k^*,j})^2`: the layer sum over :math:`n_l n_{l-1}`."""
        widths = np.asarray(self.architecture.widths, dtype=float)
        return self.weight_layer_sum / (widths[1:] * widths[:-1])

    @property
    def ranks(self) -> np.ndarray:
        """``(K_1, ..., K_{L-1}, 1)``: pieces per unit of every layer, as floats."""
        return np.asarray([layer.rank for layer in self.architecture.network()], dtype=float)

    @property
    def weight_per_k(self) -> np.ndarray:
        """Mean over ``(i, k, j)`` of the squared weight gradient: :attr:`weight_nonzero` over ``K_l``."""
        return self.weight_nonzero / self.ranks

    @property
    def bias_nonzero(self) -> np.ndarray:
        r"""Mean over ``i`` of :math:`(\partial N/\partial b_{l,i,k^*})^2 = \lVert\delta_l\rVert^2/n_l`."""
        return self.delta_sq / np.asarray(self.architecture.widths[1:], dtype=float)

    @property
    def bias_per_k(self) -> np.ndarray:
        """Mean over ``(i, k)`` of the squared bias gradient: :attr:`bias_nonzero` over ``K_l``."""
        return self.bias_nonzero / self.ranks

    @property
    def ntk_layers(self) -> np.ndarray:
        r"""Layer terms :math:`\lVert\delta_l\rVert^2(\lVert x_{l-1}\rVert^2 + 1)` of the NTK diagonal (trace over outputs)."""
        return self.delta_sq * (self.sq_norm_x[:, :-1] + 1.0)

    @property
    def ntk(self) -> np.ndarray:
        r""":math:`\Theta(x, x) = \sum_l \lVert\delta_l\rVert^2(\lVert x_{l-1}\rVert^2 + 1)`, shape ``(networks,)``."""
        return self.ntk_layers.sum(axis=1)

    def summary(self, level: float = 0.95) -> dict:
        """Estimates per weight layer of the squared gradients, and of the NTK diagonal."""
        return summarise(self, ("weight_nonzero", "weight_layer_sum", "bias_nonzero", "ntk"), sample_axis=0, level=level)

    @staticmethod
    def mean_se(values) -> tuple[np.ndarray, np.ndarray]:
        """Sample mean and its standard error along the first axis (``ddof = 1``)."""
        values = np.asarray(values, dtype=float)
        n = values.shape[0]
        if n < 2:
            raise MaxboundsValueError("networks", "need at least 2 networks for a standard error")
        return values.mean(axis=0), values.std(axis=0, ddof=1) / math.sqrt(n)


# ---------------------------------------------------------------------------
# API
# ---------------------------------------------------------------------------
def gradient_samples(arch, x, networks, seed, *, first_sample=0) -> GradientSamples:
    r"""Sample parameter-gradient statistics and the NTK diagonal of explicit random networks at ``x``.

    Parameters
    ----------
    arch : Architecture
        A fully connected architecture (widths, ranks, ``c``, ``c_out``,
        bias variances).  The output layer is linear.
    x : array_like, shape (n_0,)
        The input, finite.
    networks : int
        Number of independent networks, ``1..10**9``.
    seed : int
        In ``0..2**64-1``.  Network ``s`` depends only on ``(seed, s)``
        (and is the network of sample ``s`` of
        :func:`~maxbounds.simulate.explicit_samples` with the same seed).

    Returns
    -------
    GradientSamples
        Arrays of shape ``(networks, L)``: :attr:`~GradientSamples.weight_nonzero`,
        :attr:`~GradientSamples.weight_layer_sum`, :attr:`~GradientSamples.bias_nonzero`,
        :attr:`~GradientSamples.ntk_layers`; :attr:`~GradientSamples.ntk` of shape
        ``(networks,)``.  Values are held in double precision, so very deep
        networks whose activations grow or vanish geometrically can overflow.
    """
    if not isinstance(arch, Architecture):
        raise MaxboundsValueError("arch", f"expected an Architecture, got {type(arch).__name__}")
    arch.require_fully_connected("the gradient sampler")
    x = _vector(x, "x", arch.n_in)
    networks, seed = check_count(networks, "networks"), check_seed(seed)
    plan = arch.network().plan()
    L = arch.depth
    sq_x = np.empty((networks, L + 1))
    delta_sq = np.empty((networks, L))
    first = check_first(first_sample, networks)
    run_chunks(_gradient_kernel, networks, x, plan.ispec, plan.fspec, plan.n_params, plan.n_select, plan.width_max,
               np.uint64(int(seed)), first, sq_x, delta_sq)
    return GradientSamples(arch, sq_x, delta_sq)
