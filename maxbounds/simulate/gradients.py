r"""Parameter gradients and the NTK diagonal of explicit random maxout networks, compiled with Numba.

For each network :func:`gradient_samples` draws every weight
:math:`W_{l,i,k,j}\sim N(0, c_l/n_{l-1})` and bias :math:`b_{l,i,k}\sim N(0,\beta_l)`
on the fly, in the same order and from the same per-network random stream as
:func:`maxbounds.simulate.explicit_samples` (network ``s`` of seed ``seed``
is the network of sample ``s`` there), forwards the input, and keeps only the
selected weight row :math:`W_{l,i,k^*_{l,i}}` of every unit.  The backward
pass then propagates the :math:`n_L\times n_l` matrix
:math:`D_l = \partial N/\partial x_l` (one row per output),

.. math::

    D_L = I_{n_L},\qquad D_{l-1} = D_l\,W_{l,\cdot,k^*},

and records :math:`\lVert\delta_l\rVert^2 = \lVert D_l\rVert_F^2`, the squared
derivatives summed over units and outputs.  With
:math:`\partial N/\partial W_{l,i,k,j} = 1[k = k^*_{l,i}]\,\delta_{l,i}\,x_{l-1,j}`
and :math:`\partial N/\partial b_{l,i,k} = 1[k = k^*_{l,i}]\,\delta_{l,i}`
(MATH.md section 5) every per-layer quantity of
:func:`maxbounds.laws.gradients.gradient_bounds` and
:func:`~maxbounds.laws.gradients.ntk_bounds` is a function of the two
per-layer numbers :math:`\lVert\delta_l\rVert^2` and :math:`\lVert x_{l-1}\rVert^2`.

Cost per network: :math:`O(K_l n_l n_{l-1})` random draws forward and
:math:`O(n_L n_l n_{l-1})` multiply-adds backward; memory
:math:`\sum_l n_l n_{l-1}` doubles for the selected rows.  Networks run in
parallel (``prange``) and results are identical bit for bit whatever the
thread count.  Convolutional architectures are rejected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from .._validate import MaxboundsValueError
from ..architecture import Architecture
from ..estimators import summarise
from . import _kernels
from .chain import _vector, check_count, check_first, check_seed, layer_arrays

__all__ = ["GradientSamples", "gradient_samples"]



# ---------------------------------------------------------------------------
# kernels
# ---------------------------------------------------------------------------
@numba.njit(cache=True, nogil=True)
def _forward_layer(rng, x, n, K, weight_sd, bias_sd, row, x_out, w_sel):
    r"""One random maxout (or, for ``K = 1``, linear) layer; stores the selected rows in ``w_sel`` (n, n_prev).

    The draw order is that of :func:`maxbounds.simulate._kernels.dense_layer`:
    for each unit and piece the weights ``j = 0..n_prev-1``, then the bias
    when ``bias_sd > 0``; the first piece wins ties.  Stored weights include
    the factor ``weight_sd``.
    """
    n_prev = x.shape[0]
    for i in range(n):
        best_z = 0.0
        for k in range(K):
            z = 0.0
            for j in range(n_prev):
                g = weight_sd * _kernels.normal(rng)
                row[j] = g
                z += g * x[j]
            if bias_sd > 0.0:
                z += bias_sd * _kernels.normal(rng)
            if k == 0 or z > best_z:
                best_z = z
                for j in range(n_prev):
                    w_sel[i, j] = row[j]
        x_out[i] = best_z


@numba.njit(cache=True, parallel=True)
def _gradient_kernel(x0, widths, ranks, log_scale, log_beta, networks, seed, first, sq_x, delta_sq):
    """Fill ``sq_x[s, 0..L]`` with ``||x_l||^2`` and ``delta_sq[s, 0..L-1]`` with ``||delta_l||^2``, l = 1..L.

    Network ``s`` uses the random stream ``(seed, s)``.
    """
    L = ranks.shape[0]
    n_out = widths[L]
    width_max = 0
    offsets = np.zeros(L + 1, dtype=np.int64)
    for layer in range(L + 1):
        width_max = max(width_max, widths[layer])
    for layer in range(L):
        offsets[layer + 1] = offsets[layer] + widths[layer + 1] * widths[layer]
    for s in numba.prange(networks):
        rng = np.empty(4, dtype=np.uint64)
        _kernels.seed_stream(rng, seed, np.uint64(first + s))
        weights = np.empty(offsets[L])
        x = np.empty(width_max)
        x_new = np.empty(width_max)
        row = np.empty(width_max)
        n0 = widths[0]
        total = 0.0
        for j in range(n0):
            x[j] = x0[j]
            total += x0[j] * x0[j]
        sq_x[s, 0] = total
        # forward
        for layer in range(L):
            n_prev, n = widths[layer], widths[layer + 1]
            w_sel = weights[offsets[layer]:offsets[layer + 1]].reshape((n, n_prev))
            _forward_layer(rng, x[:n_prev], n, ranks[layer], math.exp(0.5 * log_scale[layer]),
                           math.exp(0.5 * log_beta[layer]), row, x_new[:n], w_sel)
            x, x_new = x_new, x
            total = 0.0
            for i in range(n):
                total += x[i] * x[i]
            sq_x[s, layer + 1] = total
        # backward: d[o, i] = dN_o / dx_{l,i}
        d = np.zeros((n_out, width_max))
        d_new = np.empty((n_out, width_max))
        for o in range(n_out):
            d[o, o] = 1.0
        delta_sq[s, L - 1] = float(n_out)
        for layer in range(L - 1, 0, -1):  # layer = l (0-based weight layer l gives delta at x_l)
            n_prev, n = widths[layer], widths[layer + 1]
            w_sel = weights[offsets[layer]:offsets[layer + 1]].reshape((n, n_prev))
            total = 0.0
            for o in range(n_out):
                for j in range(n_prev):
                    d_new[o, j] = 0.0
                for i in range(n):
                    coef = d[o, i]
                    if coef != 0.0:
                        for j in range(n_prev):
                            d_new[o, j] += coef * w_sel[i, j]
                for j in range(n_prev):
                    total += d_new[o, j] * d_new[o, j]
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
    def weight_per_k(self) -> np.ndarray:
        """Mean over ``(i, k, j)`` of the squared weight gradient: :attr:`weight_nonzero` over ``K_l``."""
        ranks = np.asarray(tuple(self.architecture.ranks) + (1,), dtype=float)
        return self.weight_nonzero / ranks

    @property
    def bias_nonzero(self) -> np.ndarray:
        r"""Mean over ``i`` of :math:`(\partial N/\partial b_{l,i,k^*})^2 = \lVert\delta_l\rVert^2/n_l`."""
        return self.delta_sq / np.asarray(self.architecture.widths[1:], dtype=float)

    @property
    def bias_per_k(self) -> np.ndarray:
        """Mean over ``(i, k)`` of the squared bias gradient: :attr:`bias_nonzero` over ``K_l``."""
        ranks = np.asarray(tuple(self.architecture.ranks) + (1,), dtype=float)
        return self.bias_nonzero / ranks

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
    widths, ranks, log_scale, log_beta = layer_arrays(arch)
    L = arch.depth
    sq_x = np.empty((networks, L + 1))
    delta_sq = np.empty((networks, L))
    first = check_first(first_sample, networks)
    _gradient_kernel(x, widths, ranks, log_scale, log_beta, networks, np.uint64(int(seed)), first, sq_x, delta_sq)
    return GradientSamples(arch, sq_x, delta_sq)
