r"""Bounds on parameter gradients, the NTK diagonal and curve-length distortion (docs/bounds.md).

Write :math:`\delta_{l,i} = \partial N/\partial x_{l,i}`; for a network with
several outputs, :math:`\delta_{l,i}^2` denotes :math:`\sum_o (\partial N_o/\partial x_{l,i})^2`
(and likewise every squared derivative below is summed over outputs; with one
output it is the plain square).  Then

.. math::

    \frac{\partial N}{\partial W_{l,i,k,j}} = 1[k = k^*_{l,i}]\,\delta_{l,i}\,x_{l-1,j},
    \qquad
    \frac{\partial N}{\partial b_{l,i,k}} = 1[k = k^*_{l,i}]\,\delta_{l,i}.

Given the layers up to ``l``, :math:`\|\delta_l\|` is the Jacobian of the
sub-network above layer ``l`` applied to unit vectors, so the stochastic-order
bounds of :mod:`maxbounds.laws.jacobian` hold for it almost surely:

.. math::

    E[\delta_{l,i}^2 \mid x_{\le l}] \in \frac{c_L n_L}{n_l}
        \prod_{m=l+1}^{L-1} c_m\,[S(K_m),\, L(K_m)],

and multiplying by the exact :math:`E[x_{l-1,j}^2] = E\|x_{l-1}\|^2/n_{l-1}` of
:mod:`maxbounds.laws.exact` (exchangeable units; for ``l = 1`` this is the
average over input coordinates) bounds the non-zero weight-gradient entries.
A fixed ``k`` is the selected piece with probability :math:`1/K_l`, by symmetry
over the pieces, so the per-``k`` average carries a factor :math:`1/K_l`.  The
output layer is linear: :math:`\partial N_o/\partial W_{L,o,j} = x_{L-1,j}`
exactly.

NTK diagonal (trained weights and biases):
:math:`\Theta(x,x) = \sum_{l=1}^{L}\|\delta_l\|^2(\|x_{l-1}\|^2 + 1)` with
:math:`\|\delta_L\|^2 = n_L`, bounded term by term.

Curve length: for a curve :math:`\gamma`,
:math:`\mathrm{len}(N\circ\gamma) = \int \|J_N(\gamma(s))\gamma'(s)\|\,ds`, and the
almost-sure bounds give
:math:`E[\mathrm{len}(N\circ\gamma)]/\mathrm{len}(\gamma) \in
[E\sqrt{B_{\mathrm{lo}}}, E\sqrt{B_{\mathrm{up}}}]` and, by Cauchy-Schwarz,
:math:`E[\mathrm{len}^2]/\mathrm{len}(\gamma)^2 \le E[B_{\mathrm{up}}]`.
"""

from __future__ import annotations

import math

import numpy as np

from ..architecture import Architecture
from ..layers.draw import as_serial
from .exact import activation_length_moments
from .jacobian import exp_checked, jacobian_bounds

__all__ = ["gradient_bounds", "ntk_bounds", "length_bounds", "log_delta_sq_bounds"]


def log_delta_sq_bounds(arch) -> tuple[np.ndarray, np.ndarray]:
    r"""Logs of the bounds on :math:`E[\|\delta_l\|^2]` (summed over units and outputs), ``l = 1..L``.

    :math:`n_L \prod_{m=l+1}^{L} g_m`, with :math:`g_m` the layer's
    :meth:`~maxbounds.layers.Layer.gradient_gain` (``c S(K)`` or ``c L(K)``
    for maxout, ``c`` for the linear output): :math:`c_L n_L \prod_{m=l+1}^{L-1}
    c_m [S(K_m), L(K_m)]`; for ``l = L``, :math:`n_L` exactly.  Returned as two
    arrays indexed by ``l - 1`` (suffix sums, so any depth costs O(L)).
    ``arch`` is an Architecture or a :class:`~maxbounds.layers.Serial`; a
    layer kind without the law raises its :class:`~maxbounds.layers.NoLawError`.
    """
    net = as_serial(arch, "arch")
    gains = {}
    log_lo, log_hi = np.empty(net.depth), np.empty(net.depth)
    for row, layer in enumerate(net):
        key = layer.replace(index=None)
        if key not in gains:
            gains[key] = (math.log(layer.gradient_gain("lower")), math.log(layer.gradient_gain("upper")))
        log_lo[row], log_hi[row] = gains[key]
    # layer l (1-based) collects the gains of layers m = l+1 .. L, i.e. indices l .. L-1
    base = math.log(net.n_out)
    lo = base + np.concatenate([np.cumsum(log_lo[::-1])[::-1][1:], [0.0]])
    hi = base + np.concatenate([np.cumsum(log_hi[::-1])[::-1][1:], [0.0]])
    return lo, hi


def _log_sq_norms(arch, x):
    """``log E||x_l||^2`` for ``l = 0..L``."""
    return activation_length_moments(arch, x, order=1, log=True)[:, 1]


def _pair(lo, hi, log):
    if log:
        return {"lower": lo, "upper": hi}
    return {"lower": exp_checked(lo, "a gradient bound"), "upper": exp_checked(hi, "a gradient bound")}


def gradient_bounds(arch: Architecture, x, *, log: bool = False) -> list[dict]:
    r"""Per-layer bounds on expected squared parameter gradients at input ``x``.

    Returns one dict per weight layer ``l = 1..L`` with ``"layer"`` and the
    lower/upper bounds of

    * ``"weight_nonzero"``: :math:`E[(\partial N/\partial W_{l,i,k^*,j})^2]`,
      averaged over ``j`` (units ``i`` are exchangeable);
    * ``"weight_per_k"``: :math:`E[(\partial N/\partial W_{l,i,k,j})^2]` for a
      fixed ``k`` (the above over :math:`K_l`);
    * ``"weight_layer_sum"``: :math:`E\sum_{i,k,j}(\partial N/\partial W_{l,i,k,j})^2
      = E[\|\delta_l\|^2\|x_{l-1}\|^2]`;
    * ``"bias_nonzero"`` and ``"bias_per_k"``: the same for :math:`\partial N/\partial b_{l,i,k}`.

    The output layer has equal lower and upper values (it is exact).
    """
    all_lo, all_hi = log_delta_sq_bounds(arch)
    log_x = _log_sq_norms(arch, x)
    out = []
    for layer, unit in enumerate(as_serial(arch, "arch"), start=1):
        n_prev, n, K = unit.n_in, unit.width, unit.rank
        lo, hi = float(all_lo[layer - 1]), float(all_hi[layer - 1])
        per_unit = (lo - math.log(n), hi - math.log(n))  # E[delta_{l,i}^2]
        x_entry = log_x[layer - 1] - math.log(n_prev)  # E[x_{l-1,j}^2]
        entry = (per_unit[0] + x_entry, per_unit[1] + x_entry)
        out.append({
            "layer": layer,
            "weight_nonzero": _pair(*entry, log),
            "weight_per_k": _pair(entry[0] - math.log(K), entry[1] - math.log(K), log),
            "weight_layer_sum": _pair(lo + log_x[layer - 1], hi + log_x[layer - 1], log),
            "bias_nonzero": _pair(*per_unit, log),
            "bias_per_k": _pair(per_unit[0] - math.log(K), per_unit[1] - math.log(K), log),
        })
    return out


def ntk_bounds(arch: Architecture, x, *, log: bool = False) -> dict:
    r"""Bounds on :math:`E[\Theta(x,x)] = \sum_l E[\|\delta_l\|^2(\|x_{l-1}\|^2 + 1)]`.

    Returns ``{"lower", "upper", "layers": [...]}`` with the per-layer terms.
    """
    all_lo, all_hi = log_delta_sq_bounds(arch)
    log_x = _log_sq_norms(arch, x)
    lows, highs, layers = [], [], []
    for layer in range(1, len(all_lo) + 1):
        lo, hi = float(all_lo[layer - 1]), float(all_hi[layer - 1])
        log_factor = float(np.logaddexp(log_x[layer - 1], 0.0))  # log(E||x||^2 + 1)
        lows.append(lo + log_factor)
        highs.append(hi + log_factor)
        layers.append({"layer": layer, **_pair(lows[-1], highs[-1], log)})
    total = (float(np.logaddexp.reduce(lows)), float(np.logaddexp.reduce(highs)))
    return {**_pair(*total, log), "layers": layers}


def length_bounds(arch: Architecture, *, log: bool = False) -> dict:
    r"""Bounds on the expected curve-length distortion :math:`E[\mathrm{len}(N\circ\gamma)]/\mathrm{len}(\gamma)`.

    Returns ``{"mean": {"lower", "upper"}, "second_moment": {"upper"}}``; the
    mean bounds are :math:`E\sqrt{B_{\mathrm{lo}}}` and :math:`E\sqrt{B_{\mathrm{up}}}`,
    the second-moment bound :math:`E[B_{\mathrm{up}}]`.  They hold for every
    curve, whatever its shape.
    """
    lower, upper = jacobian_bounds(arch)
    mean = _pair(lower.log_moment(0.5), upper.log_moment(0.5), log)
    second = upper.log_mean()
    return {
        "mean": mean,
        "second_moment": {"upper": second if log else exp_checked(second, "E[len^2] bound")},
    }
