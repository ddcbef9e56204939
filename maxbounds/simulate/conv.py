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
Sample ``s`` is network ``s`` of ``seed`` on the plan of ``arch.network()``
(:class:`~maxbounds.layers.MaxoutConv2d` layers, then the
:class:`~maxbounds.layers.Linear` output), drawn and evaluated by the layers'
kernels through :func:`maxbounds.simulate._kernels.explicit_kernel`; it
depends only on ``(seed, s)`` (not on the thread count).  Draw order per
sample: for each conv layer, its weights in C order of
``(C_l, K_l, C_{l-1}, k, k)``, then (when ``beta_l > 0``) its biases in C
order of ``(C_l, K_l)``; then the output layer in the dense kinds' order (for
each output unit its ``n_{L-1}`` weights, then its bias when ``beta_L > 0``).
:func:`network_weights` returns the weights of one sample
(:func:`maxbounds.layers.draw.draw_parameters`), and :func:`conv_forward`
evaluates a network given explicit weights with the same compiled layer
(:func:`maxbounds.layers._conv_kernels.conv_forward`); both exist for testing.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._parallel import run_chunks
from .._validate import MaxboundsValueError, as_real_array
from ..architecture import Architecture
from ..estimators import summarise
from ..laws.exact import _exp_checked
from ..layers import _conv_kernels
from ..layers.draw import draw_parameters
from . import _kernels
from .chain import check_run_args

__all__ = ["ConvJacobianSamples", "conv_forward", "conv_jacobian_samples", "network_weights"]


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
# Python API
# ---------------------------------------------------------------------------
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
    plan = arch.network().plan()
    rows = arch.depth + 1 if per_layer else 1
    out = np.empty((6, rows, samples))
    run_chunks(_kernels.explicit_kernel, samples, x, u, plan.ispec, plan.fspec, plan.n_params, plan.n_select,
               plan.width_max, np.uint64(seed), 0, per_layer, out)
    sq_u = _exp_checked(out[1], "||u_l||^2", "a smaller network or scale")
    if per_layer:
        sq_x = _exp_checked(out[0], "||x_l||^2", "a smaller network or scale")
        return ConvJacobianSamples(arch, sq_u[-1].copy(), sq_x, sq_u)
    return ConvJacobianSamples(arch, sq_u[0], None, None)


def network_weights(arch, seed, sample):
    """The weights of sample ``sample`` of a call with ``seed``: ``(weights, biases)`` lists, output layer last.

    Conv weights have shape ``(C_l, K_l, C_{l-1}, k, k)``, biases ``(C_l, K_l)``;
    the output layer's ``(n_out, C_{L-1} H W)`` and ``(n_out,)``
    (:func:`maxbounds.layers.draw.draw_parameters` of ``arch.network()``).
    """
    arch = _check_arch(arch)
    layers = draw_parameters(arch.network(), seed, sample)
    weights = [W for W, _ in layers[:-1]]
    biases = [b for _, b in layers[:-1]]
    W, b = layers[-1]
    weights.append(W.reshape(W.shape[0], W.shape[2]))
    biases.append(b.reshape(b.shape[0]))
    return weights, biases


def conv_forward(weights, biases, x, u):
    """Evaluate a network with explicit weights: ``(x_L, J u, [x_0..x_{L-1}], [u_0..u_{L-1}])``.

    ``x`` and ``u`` have shape (C_0, H, W); the conv layers run the layers' kernel
    (:func:`maxbounds.layers._conv_kernels.conv_forward`, flat C-order maps), the output layer is
    ``weights[-1] @ x + biases[-1]``.
    """
    x = np.ascontiguousarray(x, dtype=float)
    v = np.ascontiguousarray(u, dtype=float)
    xs, vs = [x], [v]
    H, W = x.shape[1], x.shape[2]
    for weight, bias in zip(weights[:-1], biases[:-1]):
        C, K, Cp, k = weight.shape[:4]
        x_new, v_new = np.empty(C * H * W), np.empty(C * H * W)
        sel = np.empty(C * H * W, dtype=np.int64)
        _conv_kernels.conv_forward(x.reshape(-1), v.reshape(-1), Cp, C, H, W, k, K,
                                   np.ascontiguousarray(weight, dtype=float).reshape(-1),
                                   np.ascontiguousarray(bias, dtype=float).reshape(-1), x_new, v_new, sel, True)
        x, v = x_new.reshape(C, H, W), v_new.reshape(C, H, W)
        xs.append(x)
        vs.append(v)
    return weights[-1] @ x.reshape(-1) + biases[-1], weights[-1] @ v.reshape(-1), xs, vs
