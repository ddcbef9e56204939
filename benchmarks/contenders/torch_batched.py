r"""Random maxout networks drawn and evaluated in batches with PyTorch on the CPU.

A batch of ``B`` networks is one tensor of weights ``(B, n_l K_l, n_{l-1})``
per layer (``torch.randn``); ``x`` and ``u`` of every network go through one
batched matrix product (``torch.bmm``), the argmax over pieces picks each
unit's piece (``gather``).  Convolutional layers run as one grouped
``conv2d`` over the batch (``groups=B``).  ``dtype`` is ``torch.float64`` by
default (the precision of maxbounds); ``torch.float32`` is the fast choice a
user might make.  Batches are sized to keep a layer's weights under
``max_bytes``.  Requires ``torch``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

MAX_BYTES = 64 * 2**20


def _sds(arch):
    scales = arch.scales()
    return ([math.sqrt(scales[l - 1] / arch.fan_in(l)) for l in range(1, arch.depth + 1)],
            [math.sqrt(b) for b in arch.bias_var])


def _batch(per_network: int, samples: int, dtype, max_bytes: int) -> int:
    size = torch.tensor([], dtype=dtype).element_size()
    return max(1, min(samples, max_bytes // max(1, per_network * size)))


def dense_samples(arch, x, u, samples: int, seed: int, dtype=torch.float64, max_bytes: int = MAX_BYTES):
    r""":math:`\lVert J_N(x)u\rVert^2` of ``samples`` fully connected networks (``u`` scaled to unit length)."""
    gen = torch.Generator().manual_seed(seed)
    weight_sd, bias_sd = _sds(arch)
    ranks = tuple(arch.ranks) + (1,)
    largest = max(arch.widths[l + 1] * ranks[l] * arch.widths[l] for l in range(arch.depth))
    batch = _batch(largest, samples, dtype, max_bytes)
    u = np.asarray(u, float) / np.linalg.norm(u)
    x0 = torch.stack([torch.as_tensor(np.asarray(x, float)), torch.as_tensor(u)], dim=1).to(dtype)
    out = []
    with torch.no_grad():
        for start in range(0, samples, batch):
            B = min(batch, samples - start)
            xv = x0.expand(B, -1, -1)  # (B, n_prev, 2)
            for l in range(arch.depth):
                n, K, n_prev = arch.widths[l + 1], ranks[l], arch.widths[l]
                W = torch.randn((B, n * K, n_prev), generator=gen, dtype=dtype)
                zw = torch.bmm(W, xv).mul_(weight_sd[l]).view(B, n, K, 2)
                if bias_sd[l] > 0:
                    zw[..., 0] += bias_sd[l] * torch.randn((B, n, K), generator=gen, dtype=dtype)
                best = zw[..., 0].argmax(dim=2, keepdim=True)  # (B, n, 1)
                xv = torch.gather(zw, 2, best.unsqueeze(-1).expand(B, n, 1, 2)).squeeze(2)
            out.append((xv[..., 1] ** 2).sum(dim=1))
    return torch.cat(out).double().numpy()


def conv_samples(arch, x, u, samples: int, seed: int, dtype=torch.float64, max_bytes: int = 8 * 2**20):
    r""":math:`\lVert J_N(x)u\rVert^2` of ``samples`` convolutional networks (zero biases; ``u`` as given)."""
    if any(b > 0 for b in arch.bias_var):
        raise ValueError("the torch conv contender draws no biases; use bias_var=0")
    gen = torch.Generator().manual_seed(seed)
    conv = arch.conv
    weight_sd, _ = _sds(arch)
    H, Wd = conv.image
    C0 = conv.channels[0]
    largest = max(conv.channels) * max(arch.ranks) * H * Wd * 2
    batch = _batch(largest, samples, dtype, max_bytes)
    x0 = torch.stack([torch.as_tensor(np.reshape(x, (C0, H, Wd))), torch.as_tensor(np.reshape(u, (C0, H, Wd)))])
    x0 = x0.to(dtype)
    out = []
    with torch.no_grad():
        for start in range(0, samples, batch):
            B = min(batch, samples - start)
            xv = x0.unsqueeze(1).expand(2, B, C0, H, Wd).reshape(2, B * C0, H, Wd)
            for l in range(arch.depth - 1):
                C, K, Cp, k = conv.channels[l + 1], arch.ranks[l], conv.channels[l], conv.kernel_size[l]
                weight = torch.randn((B * C * K, Cp, k, k), generator=gen, dtype=dtype).mul_(weight_sd[l])
                zw = F.conv2d(xv, weight, padding=k // 2, groups=B).view(2, B, C, K, H, Wd)
                best = zw[0].argmax(dim=2, keepdim=True)  # (B, C, 1, H, W)
                xv = torch.gather(zw, 3, best.unsqueeze(0).expand(2, B, C, 1, H, Wd)).reshape(2, B * C, H, Wd)
            flat = xv[1].reshape(B, -1, 1)
            W = torch.randn((B, arch.n_out, flat.shape[1]), generator=gen, dtype=dtype).mul_(weight_sd[-1])
            out.append((torch.bmm(W, flat) ** 2).sum(dim=(1, 2)))
    return torch.cat(out).double().numpy()
