r"""Explicit random convolutional maxout networks, compiled with Numba.

:func:`conv_jacobian_samples` draws, for each sample, a fresh network of an
architecture made by :meth:`maxbounds.architecture.Architecture.convolutional`
and returns :math:`\lVert J_N(x)u\rVert^2` (optionally :math:`\lVert x_l\rVert^2`
and :math:`\lVert u_l\rVert^2` per layer).

Network
-------
Conv layer ``l = 1..L-1`` has weights ``W_l`` of shape ``(C_l, K_l, C_{l-1}, k, k)``,
i.i.d. :math:`N(0, c_l/(k^2 C_{l-1}))`, and biases of shape ``(C_l, K_l)``,
i.i.d. :math:`N(0, \beta_l)`, shared over positions; stride 1, 'same' zero
padding (odd ``k`` only).  Unit ``(c, h, w)`` outputs
:math:`\max_k \zeta_{c,k,h,w}` (the first piece on ties) and passes the
Jacobian vector through the same piece.  The output layer is fully connected
from the flattened last feature map (``C_{L-1} H W`` entries, C order
``(c, h, w)``) to ``n_out``, weights :math:`N(0, c_L/n_{L-1})`, biases
:math:`N(0, \beta_L)`.

Random streams
--------------
Sample ``s`` uses the stream ``_kernels.seed_stream(seed, s)``, so it depends
only on ``(seed, s)`` (not on the thread count).  Draw order per sample: for
each conv layer, its weights in C order of ``(C_l, K_l, C_{l-1}, k, k)``, then
(when ``beta_l > 0``) its biases in C order of ``(C_l, K_l)``; then the output
layer as :func:`maxbounds.simulate._kernels.dense_layer` draws it (for each
output unit its ``n_{L-1}`` weights, then its bias when ``beta_L > 0``).
:func:`network_weights` replays this order and returns the weights of one
sample, and :func:`conv_forward` evaluates a network given explicit weights
with the same compiled layer; both exist for testing.
"""

from __future__ import annotations

import dataclasses
import math

import numba
import numpy as np

from .._validate import MaxboundsValueError, as_real_array
from ..architecture import Architecture
from ..estimators import summarise
from . import _kernels
from .chain import check_run_args

__all__ = ["ConvJacobianSamples", "conv_forward", "conv_jacobian_samples", "network_weights"]

_jit = numba.njit(cache=True, nogil=True, fastmath=False)


@dataclasses.dataclass(frozen=True, eq=False)
class ConvJacobianSamples:
    r"""Samples of a convolutional network's Jacobian-vector product.

    Attributes
    ----------
    architecture : Architecture
    jacobian_sq_norm : ndarray, shape (samples,)
        :math:`\lVert J_N(x)u\rVert^2` for the ``u`` given (not normalised).
    sq_norm_x, sq_norm_u : ndarray, shape (L + 1, samples), or None
        :math:`\lVert x_l\rVert^2` and :math:`\lVert u_l\rVert^2` for
        ``l = 0..L`` (row 0 the input), when ``per_layer=True``.
    method : str
        ``"numba-conv"``.
    """

    architecture: Architecture
    jacobian_sq_norm: np.ndarray
    sq_norm_x: np.ndarray | None
    sq_norm_u: np.ndarray | None
    method: str = "numba-conv"

    @property
    def samples(self) -> int:
        return self.jacobian_sq_norm.shape[0]

    def summary(self, level: float = 0.95) -> dict:
        """Estimates of ``||J u||^2`` and, when recorded, of the squared norms per layer."""
        return summarise(self, ("jacobian_sq_norm", "sq_norm_x", "sq_norm_u"), sample_axis=-1, level=level)


# ---------------------------------------------------------------------------
# compiled kernels
# ---------------------------------------------------------------------------
@_jit
def conv_maxout_layer(x, v, weight, bias, x_out, v_out):
    r"""One maxout conv layer: ``x``, ``v`` of shape (C', H, W), ``weight`` (C, K, C', k, k), ``bias`` (C, K).

    Writes :math:`x_{out}[c,h,w] = \zeta_{c,k^*,h,w}` and
    :math:`v_{out}[c,h,w] = \sum W_{c,k^*}\,v` (the same window), with
    :math:`k^*` the first maximising piece; zero padding of width ``k // 2``.
    """
    C, K, Cp, k = weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3]
    H, Wd = x.shape[1], x.shape[2]
    pad = k // 2
    for c in range(C):
        for h in range(H):
            dy_lo, dy_hi = max(0, pad - h), min(k, H + pad - h)
            for w in range(Wd):
                dx_lo, dx_hi = max(0, pad - w), min(k, Wd + pad - w)
                best_z, best_v = 0.0, 0.0
                for piece in range(K):
                    z, t = 0.0, 0.0
                    for ci in range(Cp):
                        for dy in range(dy_lo, dy_hi):
                            row = h + dy - pad
                            for dx in range(dx_lo, dx_hi):
                                col = w + dx - pad
                                g = weight[c, piece, ci, dy, dx]
                                z += g * x[ci, row, col]
                                t += g * v[ci, row, col]
                    z += bias[c, piece]
                    if piece == 0 or z > best_z:
                        best_z, best_v = z, t
                x_out[c, h, w] = best_z
                v_out[c, h, w] = best_v


@_jit
def _fill_normal(rng, flat, sd):
    for i in range(flat.shape[0]):
        flat[i] = sd * _kernels.normal(rng)


@_jit
def draw_conv_layer(rng, weight, bias, weight_sd, bias_sd):
    """Draw one conv layer's weights (C order), then its biases when ``bias_sd > 0`` (zeros otherwise)."""
    _fill_normal(rng, weight.reshape(weight.size), weight_sd)
    if bias_sd > 0.0:
        _fill_normal(rng, bias.reshape(bias.size), bias_sd)
    else:
        bias[:] = 0.0


@_jit
def draw_dense_layer(rng, weight, bias, weight_sd, bias_sd):
    """The output layer's weights (n, n') and biases (n,) in the order of ``_kernels.dense_layer``."""
    for i in range(weight.shape[0]):
        for j in range(weight.shape[1]):
            weight[i, j] = weight_sd * _kernels.normal(rng)
        bias[i] = bias_sd * _kernels.normal(rng) if bias_sd > 0.0 else 0.0


@_jit
def _sq(a):
    total = 0.0
    for value in a.reshape(a.size):
        total += value * value
    return total


@numba.njit(cache=True, parallel=True)
def conv_kernel(x0, u0, channels, ranks, kernels, H, Wd, n_out, weight_sd, bias_sd, samples, seed,
                record_all, out_x, out_u):
    """Fill ``out_u[L or 0, s]`` (and with ``record_all`` every row of ``out_x``, ``out_u``) for each sample.

    ``channels`` has ``L`` entries (``C_0..C_{L-1}``), ``ranks`` and ``kernels``
    ``L - 1``; ``weight_sd``, ``bias_sd`` ``L`` (output layer last).
    """
    L = channels.shape[0]
    c_max, w_max, b_max = 0, 0, 0
    for l in range(L):
        c_max = max(c_max, channels[l])
    for l in range(L - 1):
        k = kernels[l]
        w_max = max(w_max, channels[l + 1] * ranks[l] * channels[l] * k * k)
        b_max = max(b_max, channels[l + 1] * ranks[l])
    n_last = channels[L - 1] * H * Wd
    for s in numba.prange(samples):
        rng = np.empty(4, dtype=np.uint64)
        _kernels.seed_stream(rng, seed, np.uint64(s))
        x = np.empty(c_max * H * Wd)
        v = np.empty(c_max * H * Wd)
        x_new = np.empty(c_max * H * Wd)
        v_new = np.empty(c_max * H * Wd)
        wbuf = np.empty(w_max)
        bbuf = np.empty(b_max)
        n0 = channels[0] * H * Wd
        x[:n0] = x0
        v[:n0] = u0
        if record_all:
            out_x[0, s] = _sq(x[:n0])
            out_u[0, s] = _sq(v[:n0])
        for l in range(L - 1):
            Cp, C, K, k = channels[l], channels[l + 1], ranks[l], kernels[l]
            weight = wbuf[:C * K * Cp * k * k].reshape((C, K, Cp, k, k))
            bias = bbuf[:C * K].reshape((C, K))
            draw_conv_layer(rng, weight, bias, weight_sd[l], bias_sd[l])
            conv_maxout_layer(x[:Cp * H * Wd].reshape((Cp, H, Wd)), v[:Cp * H * Wd].reshape((Cp, H, Wd)),
                              weight, bias,
                              x_new[:C * H * Wd].reshape((C, H, Wd)), v_new[:C * H * Wd].reshape((C, H, Wd)))
            x, x_new = x_new, x
            v, v_new = v_new, v
            if record_all:
                out_x[l + 1, s] = _sq(x[:C * H * Wd])
                out_u[l + 1, s] = _sq(v[:C * H * Wd])
        xo = np.empty(n_out)
        vo = np.empty(n_out)
        _kernels.dense_layer(rng, x[:n_last], v[:n_last], n_out, 1, weight_sd[L - 1], bias_sd[L - 1], False,
                             xo, vo)
        row = L if record_all else 0
        out_x[row, s] = _sq(xo)
        out_u[row, s] = _sq(vo)


# ---------------------------------------------------------------------------
# Python API
# ---------------------------------------------------------------------------
def _layer_sds(arch):
    scales = arch.scales()
    weight_sd = np.array([math.sqrt(scales[l - 1] / arch.fan_in(l)) for l in range(1, arch.depth + 1)])
    bias_sd = np.sqrt(np.asarray(arch.bias_var, dtype=float))
    return weight_sd, bias_sd


def _check_arch(arch):
    if not isinstance(arch, Architecture):
        raise MaxboundsValueError("arch", f"expected an Architecture, got {type(arch).__name__}")
    if arch.conv is None:
        raise MaxboundsValueError("arch", "expected a convolutional architecture (Architecture.convolutional)")
    for k in arch.conv.kernel_size:
        if k % 2 == 0:
            raise MaxboundsValueError("kernel_size", f"'same' padding needs odd kernel sizes, got {k}")
    return arch


def _image(value, argument, arch):
    C0 = arch.conv.channels[0]
    H, W = arch.conv.image
    arr = as_real_array(value, argument)
    if arr.shape not in ((C0, H, W), (C0 * H * W,)):
        raise MaxboundsValueError(argument, f"need shape ({C0}, {H}, {W}) or ({C0 * H * W},), got {arr.shape}")
    return np.ascontiguousarray(arr.reshape(C0 * H * W))


def _check_args(arch, x, u, samples, seed, per_layer):
    arch = _check_arch(arch)
    x = _image(x, "x", arch)
    u = _image(u, "u", arch)
    if not np.any(u != 0.0):
        raise MaxboundsValueError("u", "the direction must be non-zero")
    return (arch, x, u, *check_run_args(samples, seed, per_layer))


def conv_jacobian_samples(arch, x, u, samples, seed, *, per_layer=False) -> ConvJacobianSamples:
    r"""Sample :math:`\lVert J_N(x)u\rVert^2` over random convolutional maxout networks.

    Parameters
    ----------
    arch : Architecture
        From :meth:`Architecture.convolutional`, odd kernel sizes.
    x, u : array_like, shape (C_0, H, W) or (C_0 H W,)
        The input and the direction (non-zero; used as given, not normalised).
    samples : int
        Number of independent networks, ``1..10**9``.
    seed : int
        In ``0..2**64-1``; sample ``s`` depends only on ``(seed, s)``.
    per_layer : bool
        Also return :math:`\lVert x_l\rVert^2` and :math:`\lVert u_l\rVert^2`, ``l = 0..L``.
    """
    arch, x, u, samples, seed, per_layer = _check_args(arch, x, u, samples, seed, per_layer)
    conv = arch.conv
    weight_sd, bias_sd = _layer_sds(arch)
    rows = arch.depth + 1 if per_layer else 1
    out_x = np.empty((rows, samples))
    out_u = np.empty((rows, samples))
    conv_kernel(x, u, np.asarray(conv.channels, dtype=np.int64), np.asarray(arch.ranks, dtype=np.int64),
                np.asarray(conv.kernel_size, dtype=np.int64), conv.image[0], conv.image[1], arch.n_out,
                weight_sd, bias_sd, samples, np.uint64(seed), per_layer, out_x, out_u)
    if per_layer:
        return ConvJacobianSamples(arch, out_u[-1].copy(), out_x, out_u)
    return ConvJacobianSamples(arch, out_u[0], None, None)


def network_weights(arch, seed, sample):
    """The weights of sample ``sample`` of a call with ``seed``: ``(weights, biases)`` lists, output layer last.

    Conv weights have shape ``(C_l, K_l, C_{l-1}, k, k)``, biases ``(C_l, K_l)``;
    the output layer's ``(n_out, C_{L-1} H W)`` and ``(n_out,)``.
    """
    arch = _check_arch(arch)
    conv = arch.conv
    weight_sd, bias_sd = _layer_sds(arch)
    rng = np.empty(4, dtype=np.uint64)
    _kernels.seed_stream(rng, np.uint64(seed), np.uint64(sample))
    weights, biases = [], []
    for l in range(arch.depth - 1):
        Cp, C, K, k = conv.channels[l], conv.channels[l + 1], arch.ranks[l], conv.kernel_size[l]
        weight, bias = np.empty((C, K, Cp, k, k)), np.empty((C, K))
        draw_conv_layer(rng, weight, bias, weight_sd[l], bias_sd[l])
        weights.append(weight)
        biases.append(bias)
    weight, bias = np.empty((arch.n_out, arch.widths[-2])), np.empty(arch.n_out)
    draw_dense_layer(rng, weight, bias, weight_sd[-1], bias_sd[-1])
    weights.append(weight)
    biases.append(bias)
    return weights, biases


def conv_forward(weights, biases, x, u):
    """Evaluate a network with explicit weights: ``(x_L, J u, [x_0..x_{L-1}], [u_0..u_{L-1}])``.

    ``x`` and ``u`` have shape (C_0, H, W); the layers are those of the sampler.
    """
    x = np.ascontiguousarray(x, dtype=float)
    v = np.ascontiguousarray(u, dtype=float)
    xs, vs = [x], [v]
    H, W = x.shape[1], x.shape[2]
    for weight, bias in zip(weights[:-1], biases[:-1]):
        x_new, v_new = np.empty((weight.shape[0], H, W)), np.empty((weight.shape[0], H, W))
        conv_maxout_layer(x, v, np.ascontiguousarray(weight, dtype=float), np.ascontiguousarray(bias, dtype=float),
                          x_new, v_new)
        x, v = x_new, v_new
        xs.append(x)
        vs.append(v)
    return weights[-1] @ x.reshape(-1) + biases[-1], weights[-1] @ v.reshape(-1), xs, vs
