r"""Every squared weight gradient of random maxout networks, fully connected or convolutional (NumPy).

The paper's gradient figure pools the individual non-zero entries
:math:`(\partial N/\partial W)^2` of all weight layers (hidden maxout layers
and the linear output layer) and plots their quartiles.  The Numba sampler
:func:`maxbounds.simulate.gradient_samples` keeps only per-layer sums
(:math:`\lVert\delta_l\rVert^2\lVert x_{l-1}\rVert^2`), enough for means but not
for quantiles of single entries, so this module draws whole networks in
NumPy, vectorised over a batch of networks, and returns every entry.

Fully connected (scalar output).  Forward: :math:`\zeta_{l,i,k} = W_{l,i,k}\cdot x_{l-1}`,
:math:`x_{l,i} = \zeta_{l,i,k^*}`; backward :math:`\delta_{L-1} = W_L`,
:math:`\delta_{l-1} = \delta_l W_{l,\cdot,k^*}`; entries

.. math::

    \frac{\partial N}{\partial W_{l,i,k,j}} = 1[k = k^*_{l,i}]\,\delta_{l,i}\,x_{l-1,j},\qquad
    \frac{\partial N}{\partial W_{L,1,j}} = x_{L-1,j}.

Convolutional ('same' zero padding, stride 1, ``k x k`` kernels, weights shared
over positions ``p``): with the patch :math:`P_{l-1}(p)` of :math:`x_{l-1}` around
``p`` (``C_{l-1} k^2`` values),

.. math::

    \frac{\partial N}{\partial W_{l,c,\kappa}} = \sum_p 1[\kappa = k^*_{l,c,p}]\,\delta_{l,c,p}\,P_{l-1}(p),

and :math:`\delta_{l-1}` is the transposed convolution of the selected
pieces.  Weights :math:`N(0, c/\text{fan-in})` with fan-in ``n_{l-1}`` or
``k^2 C_{l-1}``; output weights :math:`N(0, c_L/n_{L-1})`; zero biases (the
paper's gradient experiments).  Entries that are exactly zero (pieces never
selected) are dropped, as in the paper.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["fc_entries", "conv_entries", "conv_forward_backward"]


def fc_entries(width: int, depth: int, K: int, c: float, x, networks: int, rng, c_out: float = 1.0):
    """Squared weight gradients of ``networks`` fully connected maxout networks at ``x``.

    ``depth`` maxout layers of ``width`` units (rank ``K``, scale ``c``) on the
    input ``x`` (length ``n_0``), then one linear output.  Returns an array of
    shape ``(networks, E)``, ``E = width * n_0 + (depth - 1) * width**2 + width``:
    per network, the non-zero entries of every layer (input layer first).
    """
    x = np.asarray(x, dtype=float)
    S, n0 = networks, x.shape[0]
    h = np.broadcast_to(x, (S, n0))
    inputs, rows = [], []
    n_prev = n0
    for _ in range(depth):
        W = rng.standard_normal((S, width, K, n_prev)) * math.sqrt(c / n_prev)
        z = np.einsum("sikj,sj->sik", W, h)
        k = z.argmax(axis=2)
        inputs.append(h)
        rows.append(np.take_along_axis(W, k[:, :, None, None], axis=2)[:, :, 0, :])
        h = np.take_along_axis(z, k[:, :, None], axis=2)[:, :, 0]
        n_prev = width
    w_out = rng.standard_normal((S, n_prev)) * math.sqrt(c_out / n_prev)
    entries = [h**2]  # output layer: dN/dW_{L,1,j} = x_{L-1,j}
    delta = w_out
    for layer in range(depth - 1, -1, -1):
        entries.append(((delta[:, :, None] * inputs[layer][:, None, :]) ** 2).reshape(S, -1))
        delta = np.einsum("si,sij->sj", delta, rows[layer])
    return np.concatenate(entries[::-1], axis=1)


def _patches(x, k: int):
    """``(S, C k^2, H W)``: the ``k x k`` zero-padded neighbourhoods of every position (C order ``(c, a, b)``)."""
    S, C, H, W = x.shape
    r = k // 2
    padded = np.zeros((S, C, H + 2 * r, W + 2 * r))
    padded[:, :, r:r + H, r:r + W] = x
    out = np.empty((S, C, k, k, H, W))
    for a in range(k):
        for b in range(k):
            out[:, :, a, b] = padded[:, :, a:a + H, b:b + W]
    return out.reshape(S, C * k * k, H * W)


def _unpatch(cols, C: int, H: int, W: int, k: int):
    """Adjoint of :func:`_patches`: add each patch entry back onto its pixel (the padding is dropped)."""
    S = cols.shape[0]
    r = k // 2
    cols = cols.reshape(S, C, k, k, H, W)
    padded = np.zeros((S, C, H + 2 * r, W + 2 * r))
    for a in range(k):
        for b in range(k):
            padded[:, :, a:a + H, b:b + W] += cols[:, :, a, b]
    return padded[:, :, r:r + H, r:r + W]


def conv_forward_backward(weights, w_out, x):
    """Output and weight gradients of a batch of convolutional maxout networks with given weights.

    ``weights[l]`` has shape ``(S, C_l, K, C_{l-1}, k, k)``, ``w_out`` shape
    ``(S, C_{L-1} H W)`` and ``x`` shape ``(C_0, H, W)``.  Returns
    ``(N, grads, grad_out)``: the outputs ``(S,)``, the gradients of every conv
    layer (shapes as ``weights``) and of the output weights.  Used by
    :func:`conv_entries` and, with finite differences, by the tests.
    """
    x = np.asarray(x, dtype=float)
    S = w_out.shape[0]
    C0, H, W = x.shape
    h = np.broadcast_to(x, (S, C0, H, W))
    saved = []
    for weight in weights:
        _, C, K, Cp, k, _ = weight.shape
        cols = _patches(h, k)
        z = np.einsum("sqd,sdp->sqp", weight.reshape(S, C * K, Cp * k * k), cols).reshape(S, C, K, H * W)
        choice = z.argmax(axis=2)
        saved.append((cols, choice, weight))
        h = np.take_along_axis(z, choice[:, :, None, :], axis=2)[:, :, 0, :].reshape(S, C, H, W)
    flat = h.reshape(S, -1)
    output = np.einsum("sj,sj->s", w_out, flat)
    grad_out = flat
    delta = w_out.reshape(h.shape)
    grads = []
    for cols, choice, weight in saved[::-1]:
        _, C, K, Cp, k, _ = weight.shape
        onehot = (choice[:, :, None, :] == np.arange(K)[None, None, :, None]) * delta.reshape(S, C, 1, H * W)
        grads.append(np.einsum("sckp,sdp->sckd", onehot, cols).reshape(weight.shape))
        back = np.einsum("sckp,sckd->sdp", onehot, weight.reshape(S, C, K, Cp * k * k))
        delta = _unpatch(back, Cp, H, W, k)
    return output, grads[::-1], grad_out


def conv_entries(channels: int, depth: int, K: int, c: float, x, networks: int, rng, kernel: int = 3,
                 c_out: float = 1.0):
    """Non-zero squared weight gradients of ``networks`` convolutional maxout networks at the image ``x``.

    ``depth`` conv maxout layers of ``channels`` channels (rank ``K``, ``kernel x
    kernel``, scale ``c`` over fan-in ``kernel^2 C_{l-1}``), then a linear
    output from the flattened map.  Returns ``(per_network_mean, entries)``:
    the mean of each network's non-zero entries, shape ``(networks,)``, and all
    non-zero entries pooled, a flat array.
    """
    x = np.asarray(x, dtype=float)
    C0, H, W = x.shape
    S = networks
    weights = []
    C_prev = C0
    for _ in range(depth):
        sd = math.sqrt(c / (kernel * kernel * C_prev))
        weights.append(rng.standard_normal((S, channels, K, C_prev, kernel, kernel)) * sd)
        C_prev = channels
    w_out = rng.standard_normal((S, C_prev * H * W)) * math.sqrt(c_out / (C_prev * H * W))
    _, grads, grad_out = conv_forward_backward(weights, w_out, x)
    squared = np.concatenate([g.reshape(S, -1) ** 2 for g in grads] + [grad_out**2], axis=1)
    nonzero = squared != 0.0
    means = squared.sum(axis=1) / np.maximum(nonzero.sum(axis=1), 1)
    return means, squared[nonzero]
