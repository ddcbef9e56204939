r"""Input gradients of every pre-activation feature of explicitly drawn networks.

For network ``s`` of ``seed`` (the weights of :func:`maxbounds.layers.draw.draw_parameters`,
the one draw of every simulator, so the same networks as the other explicit samplers) and each input point
:math:`x`, the forward pass carries the input Jacobian
:math:`J_{l-1}(x) = \partial x_{l-1}/\partial x \in \mathbb R^{n_{l-1}\times n_0}`
and evaluates, for every feature :math:`\zeta_{l,i,k} = W_{l,i,k}\cdot x_{l-1} + b_{l,i,k}`
(selected or not),

.. math:: \nabla_x\zeta_{l,i,k}(x) = J_{l-1}(x)^\top W_{l,i,k}^\top \in \mathbb R^{n_0},
          \qquad J_l(x)_{i,\cdot} = W_{l,i,k^*}J_{l-1}(x),\ k^* = \arg\max_k \zeta_{l,i,k}(x),

exactly (:math:`J_0 = I`).  The output layer ``L`` counts as one layer of
rank-1 features :math:`N_j = W_{L,j}\cdot x_{L-1} + b_{L,j}`.

:func:`feature_gradient_moments` returns, per network, point and layer, the
average over the layer's features of :math:`\|\nabla\zeta\|^t`: within a layer
all features have the same law at a given input (the units are exchangeable, and
so are the ranks), so the average is an unbiased estimate of
:math:`E\|\nabla\zeta_{l,i,k}(x)\|^t` and the networks are i.i.d. replicates of
it.  Vectorised NumPy: one network at a time, all points at once.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._validate import MaxboundsValueError, as_order, as_real_array
from ..architecture import Architecture
from ..layers.draw import draw_parameters
from .chain import check_count, check_seed

__all__ = ["FeatureGradientMoments", "feature_gradient_moments", "feature_gradients"]

_CHUNK_NUMBERS = 20_000_000


def _points(arch: Architecture, points) -> np.ndarray:
    x = as_real_array(points, "points")
    if x.ndim == 1:
        x = x.reshape(1, -1) if arch.n_in > 1 or x.size == 1 else x.reshape(-1, 1)
    if x.ndim != 2 or x.shape[1] != arch.n_in or x.shape[0] == 0:
        raise MaxboundsValueError("points", f"need an array of shape (P, n_0 = {arch.n_in}), got {x.shape}")
    return x


def feature_gradients(layers, points: np.ndarray) -> list:
    r"""Gradients of all features of one network (layers as from ``draw_parameters``) at ``points``.

    Returns one array per weight layer of shape ``(P, n_l, K_l, n_0)``: entry
    ``[p, i, k]`` is :math:`\nabla_x\zeta_{l,i,k}(x_p)`.
    """
    P, n0 = points.shape
    x = points
    J = np.broadcast_to(np.eye(n0), (P, n0, n0))
    out = []
    for depth, (W, b) in enumerate(layers):
        zeta = np.einsum("ikj,pj->pik", W, x) + b                  # (P, n, K)
        grads = np.einsum("ikj,pjm->pikm", W, J)                   # (P, n, K, n0)
        out.append(grads)
        if depth == len(layers) - 1:
            break
        best = np.argmax(zeta, axis=2)                             # (P, n)
        x = np.take_along_axis(zeta, best[:, :, None], axis=2)[:, :, 0]
        J = np.take_along_axis(grads, best[:, :, None, None], axis=2)[:, :, 0, :]
    return out


@dataclasses.dataclass(frozen=True)
class FeatureGradientMoments:
    r"""Per-network layer averages of :math:`\|\nabla\zeta\|^t`.

    ``values[s, p, l-1]`` is the average over the features of layer ``l``
    (``l = 1..L``, the output layer last) of :math:`\|\nabla\zeta(x_p)\|^t` in
    network ``s``; ``mean`` and ``stderr`` (shape ``(P, L)``) are the mean over
    networks and its standard error :math:`s/\sqrt{\text{networks}}`.
    """

    arch: Architecture
    points: np.ndarray
    order: float
    values: np.ndarray

    @property
    def mean(self) -> np.ndarray:
        return self.values.mean(axis=0)

    @property
    def stderr(self) -> np.ndarray:
        return self.values.std(axis=0, ddof=1) / np.sqrt(self.values.shape[0])


def feature_gradient_moments(arch: Architecture, points, networks: int = 100, seed: int = 0,
                             orders=(1.0,)) -> dict:
    r"""Estimates of :math:`E\|\nabla_x\zeta_{l,i,k}(x)\|^t` at each point, for each layer and order.

    Returns ``{t: FeatureGradientMoments}`` for each order in ``orders``.
    Network ``s`` is network ``s`` of ``seed``,
    ``maxbounds.layers.draw.draw_parameters(arch.network(), seed, s)``.
    """
    if not isinstance(arch, Architecture):
        raise MaxboundsValueError("arch", f"expected an Architecture, got {type(arch).__name__}")
    arch.require_fully_connected("the feature-gradient simulator")
    networks = check_count(networks, "networks")
    if networks < 2:
        raise MaxboundsValueError("networks", "need at least 2 networks for a standard error")
    seed = check_seed(seed)
    x = _points(arch, points)
    orders = [float(t) for t in np.atleast_1d(as_order(orders, "order"))]
    values = {t: np.empty((networks, x.shape[0], arch.depth)) for t in orders}
    # points per pass, so that one layer's gradients (P, n_l, K_l, n_0) stay below about 2e7 numbers
    widest = max(arch.widths[l] * (arch.ranks[l - 1] if l < arch.depth else 1) for l in range(1, arch.depth + 1))
    chunk = max(1, _CHUNK_NUMBERS // (widest * arch.n_in))
    net = arch.network()
    for s in range(networks):
        layers = draw_parameters(net, seed, s)
        for start in range(0, x.shape[0], chunk):
            part = slice(start, start + chunk)
            for l, g in enumerate(feature_gradients(layers, x[part])):
                norms = np.sqrt(np.einsum("pikm,pikm->pik", g, g)).reshape(g.shape[0], -1)
                for t in orders:
                    values[t][s, part, l] = (norms**t).mean(axis=1)
    return {t: FeatureGradientMoments(arch, x, t, v) for t, v in values.items()}
