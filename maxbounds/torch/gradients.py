r"""Per-layer statistics of the squared parameter gradients of a real PyTorch model.

For inputs :math:`x^{(1)}, \dots, x^{(B)}` and every weight layer ``l``,
:func:`gradient_statistics` computes with PyTorch's autograd (per input, by
``torch.func``) the paper's quantity

.. math:: g_{l,e}(x) = n_0 \sum_{o} \Big(\frac{\partial N_o(x)}{\partial W_{l,e}}\Big)^2

(summed over the outputs ``o``, or for one output with ``output=o``) over the
entries ``e`` of the layer.  For a dense maxout layer only the winning piece
of each unit has a non-zero derivative, and
:math:`\sum_k (\partial N/\partial W_{l,i,k,j})^2 = (\partial N/\partial W_{l,i,k^*,j})^2`,
so the entries ``e = (i, j)`` are the winning pieces' (the paper's non-zero
entries), without reading the winners; for other layers every entry counts.
The same for the biases.

Reported per layer: the mean over inputs of each input's average entry with
its standard error over inputs (``ddof = 1``), and the quartiles and median
of all entries pooled.  :func:`maxbounds.laws.gradients.gradient_bounds`
bounds the expected mean at initialisation (``weight_nonzero``, times
:math:`n_0`).
"""

from __future__ import annotations

import math

import numpy as np

from .._validate import MaxboundsValueError
from ._require import require_torch

torch = require_torch()

__all__ = ["gradient_statistics"]


def _summary(per_input):
    """``per_input``: list of 1-D arrays (the entries of one input)."""
    means = np.array([v.mean() for v in per_input])
    pooled = np.concatenate(per_input)
    q25, q50, q75 = np.quantile(pooled, [0.25, 0.5, 0.75])
    n = len(means)
    return {"mean": float(means.mean()),
            "stderr": float(means.std(ddof=1) / math.sqrt(n)) if n > 1 else None,
            "q25": float(q25), "median": float(q50), "q75": float(q75), "n": n, "inputs": n,
            "entries": int(pooled.size)}


def gradient_statistics(model, inputs, *, output=None, input_shape=None) -> list:
    """Per weight layer, the statistics of :math:`n_0(\\partial N/\\partial W)^2` over ``inputs`` (see module doc).

    ``inputs`` is an array or tensor ``(B, n_0)`` (or ``(B, C, H, W)``); ``output`` picks one output unit
    (default: the sum over outputs).  Returns ``[{"layer", "label", "entries", "weight", "bias"}, ...]``.
    """
    from torch.func import functional_call, jacrev, vmap

    from .convert import chain

    links = chain(model, input_shape, placeholder=True)
    x = torch.as_tensor(np.asarray(inputs) if not torch.is_tensor(inputs) else inputs)
    dtype = next(model.parameters()).dtype
    x = x.to(dtype)
    if x.ndim < 2 or x.shape[0] < 1:
        raise MaxboundsValueError("inputs", f"expected a batch (B, features...), got shape {tuple(x.shape)}")
    n0 = int(np.prod(tuple(x.shape[1:])))
    names = {id(p): name for name, p in model.named_parameters()}
    params = {name: p.detach() for name, p in model.named_parameters()}

    def f(p, xi):
        out = functional_call(model, p, (xi.unsqueeze(0),)).reshape(-1)
        if output is not None:
            if not 0 <= output < out.shape[0]:
                raise MaxboundsValueError("output", f"the model has {out.shape[0]} outputs, got {output}")
            out = out[output:output + 1]
        return out

    was_training = model.training
    model.eval()
    try:
        jac = vmap(jacrev(f), in_dims=(None, 0))(params, x)  # name -> (B, outputs, *shape)
    finally:
        model.train(was_training)
    rows = []
    for link in links:
        if link.module is None:
            continue
        row = {"layer": link.position, "label": link.layer.label}
        dense_maxout = link.layer.kind == "maxout"
        row["entries"] = "winning piece" if dense_maxout else "all"
        for part in ("weight", "bias"):
            tensor = getattr(link.module, part)
            if tensor is None:
                row[part] = None
                continue
            sq = n0 * (jac[names[id(tensor)]].detach().double() ** 2).sum(dim=1)  # (B, *shape)
            if dense_maxout:
                sq = sq.sum(dim=2)  # over the K pieces: the winning piece's square
            values = sq.reshape(sq.shape[0], -1).numpy()
            row[part] = _summary(list(values))
        rows.append(row)
    return rows
