r"""The bounds checked as formulas: their bounding variables simulated from the definition.

The stochastic-order bounds (docs/bounds.md, docs/simulate_gradients.md) are
moments of explicit products of independent factors.  This suite draws those
factors here, in plain NumPy, from their definition and nothing else (no
constant, law or sampler of maxbounds is used), and compares every moment
formula of :mod:`maxbounds.laws.jacobian` and :mod:`maxbounds.laws.gradients`
with the simulated value:

* hidden layer ``l``: :math:`G_l = \frac{c_l}{n_{l-1}}\sum_{i\le n_l} \min_k Z_{l,i,k}^2`
  (lower) or :math:`\max_k` (upper), :math:`Z` i.i.d. standard normal;
  output layer: :math:`G_L = \frac{c_L}{n_{L-1}}\chi^2_{n_L}`, a sum of
  :math:`n_L` squared normals;
* Jacobian bounds :math:`E[B^t] = \prod_l E[G_l^t]` for ``t`` in 0.5, 1, 2, 3;
* the activation lengths of the exact law, simulated as the chain
  :math:`\|x_l\|^2 = (\frac{c_l}{n_{l-1}}\|x_{l-1}\|^2 + \beta_l)\sum_{i\le n_l}
  (\max_k Z_{l,i,k})^2`;
* :math:`E\|\delta_l\|^2 \in n_l \prod_{m>l} E[G_m]` (``n_L`` at the output),
  and from it every per-layer gradient bound, the NTK bounds
  :math:`\sum_l E\|\delta_l\|^2 (E\|x_{l-1}\|^2 + 1)` and the length bounds
  :math:`E\sqrt{B}`, :math:`E[B_{\mathrm{up}}]`.

Each factor is estimated from its own independent draws, so the product of
the estimates is an unbiased estimate of the product of the means.  Standard
errors come from :data:`BATCHES` independent batches (the whole formula
evaluated per batch); the tolerance is the Student-t quantile with
``BATCHES - 1`` degrees of freedom at the two-sided rate 6.8e-6 of the other
z-checks.  Checks that cover several layers take the largest z over them
(a Bonferroni bound: false-failure rate at most the number of layers times
6.8e-6).

The architecture differs in every layer (widths, ranks, scales, bias
variances and an output scale ``c_L != 1``), so that a factor taken from the
wrong layer, a dropped output scale or an off-by-one product changes the
numbers.
"""

from __future__ import annotations

import math
from functools import lru_cache, partial

import numpy as np

from ..architecture import Architecture
from .checks import Check, z_detectable

SUITE = "formulas"
WIDTHS = (4, 6, 10, 5, 3)
RANKS = (2, 4, 3)
C = (0.9, 0.6, 1.3)
C_OUT = 0.7
BIAS_VAR = (0.2, 0.1, 0.4, 0.3)
#: The input (its squared norm is what the activation law sees).
X_SQ_NORM = 1.7
#: Draws of each factor (split into BATCHES batches).
SAMPLES = 400_000
BATCHES = 50
SEED = 20240917
#: Two-sided false-failure rate of one z-check (that of :data:`~maxbounds.estimators.Z_TOLERANCE`).
RATE = 6.8e-6
MOMENTS = (0.5, 1.0, 2.0, 3.0)


def architecture() -> Architecture:
    return Architecture(widths=WIDTHS, ranks=RANKS, c=C, c_out=C_OUT, bias_var=BIAS_VAR)


def _input() -> np.ndarray:
    return np.full(WIDTHS[0], math.sqrt(X_SQ_NORM / WIDTHS[0]))


def _tolerance() -> float:
    from scipy import stats

    return float(stats.t.ppf(1 - RATE / 2, BATCHES - 1))


@lru_cache(maxsize=1)
def _draws():
    r"""``(factors, x_sq)``: ``factors[side][l - 1]`` holds draws of :math:`G_l`, ``x_sq[l]`` of :math:`\|x_l\|^2`.

    Every array has shape ``(BATCHES, SAMPLES // BATCHES)``; a batch is drawn at a time to bound the memory.
    """
    rng = np.random.default_rng(SEED)
    depth = len(WIDTHS) - 1
    per_batch = SAMPLES // BATCHES
    scales = list(C) + [C_OUT]
    factors = {side: np.empty((depth, BATCHES, per_batch)) for side in ("lower", "upper")}
    x_sq = np.empty((depth, BATCHES, per_batch))
    for batch in range(BATCHES):
        for l in range(1, depth + 1):
            n_prev, n = WIDTHS[l - 1], WIDTHS[l]
            if l < depth:
                z_sq = rng.standard_normal((per_batch, n, RANKS[l - 1])) ** 2
                lower, upper = z_sq.min(axis=2).sum(axis=1), z_sq.max(axis=2).sum(axis=1)
            else:
                lower = upper = (rng.standard_normal((per_batch, n)) ** 2).sum(axis=1)
            factors["lower"][l - 1, batch] = scales[l - 1] / n_prev * lower
            factors["upper"][l - 1, batch] = scales[l - 1] / n_prev * upper
        x_sq[0, batch] = X_SQ_NORM
        for l in range(1, depth):
            q = scales[l - 1] / WIDTHS[l - 1] * x_sq[l - 1, batch] + BIAS_VAR[l - 1]
            xi = rng.standard_normal((per_batch, WIDTHS[l], RANKS[l - 1])).max(axis=2)
            x_sq[l, batch] = q * (xi**2).sum(axis=1)
    return factors, x_sq


def _moments(t: float, side: str) -> list:
    """``E[G_l^t]`` per layer, per batch (arrays of shape ``(BATCHES,)``)."""
    return [(g**t).mean(axis=1) for g in _draws()[0][side]]


def _delta_sq(side: str) -> list:
    """``E||delta_l||^2`` bound per layer ``l = 1..L``, per batch."""
    means = _moments(1.0, side)
    depth = len(means)
    out = []
    for l in range(1, depth + 1):
        product = np.prod(means[l:], axis=0) if l < depth else np.ones(BATCHES)
        out.append(WIDTHS[l] * product)
    return out


def _x_sq_means() -> list:
    """``E||x_l||^2`` for ``l = 0..L-1``, per batch."""
    return [v.mean(axis=1) for v in _draws()[1]]


def _gradient(key: str, side: str) -> list:
    delta, x_sq = _delta_sq(side), _x_sq_means()
    out = []
    for l in range(1, len(WIDTHS)):
        n_prev, n = WIDTHS[l - 1], WIDTHS[l]
        K = RANKS[l - 1] if l <= len(RANKS) else 1
        value = {
            "weight_layer_sum": delta[l - 1] * x_sq[l - 1],
            "weight_nonzero": delta[l - 1] / n * x_sq[l - 1] / n_prev,
            "weight_per_k": delta[l - 1] / n * x_sq[l - 1] / n_prev / K,
            "bias_nonzero": delta[l - 1] / n,
            "bias_per_k": delta[l - 1] / n / K,
        }[key]
        out.append(value)
    return out


def _ntk(side: str) -> np.ndarray:
    delta, x_sq = _delta_sq(side), _x_sq_means()
    return sum(d * (x + 1.0) for d, x in zip(delta, x_sq))


def _check(name: str, t: float, formulas, simulated) -> Check:
    """One check over several values: the largest z of ``formulas[i]`` against the batches ``simulated[i]``.

    ``detectable`` is the largest of the values' (the weakest of them).
    """
    tolerance = _tolerance()
    rows = []
    for formula, batches in zip(formulas, simulated):
        batches = np.asarray(batches, float)
        mean, se = float(batches.mean()), float(batches.std(ddof=1) / math.sqrt(batches.size))
        z = abs(formula - mean) / se if se > 0 else (0.0 if math.isclose(formula, mean, rel_tol=1e-12) else math.inf)
        rows.append((z, formula, mean, se, z_detectable(se, formula, tolerance)))
    z, formula, mean, se, _ = max(rows, key=lambda row: row[0])
    layers = f", {len(rows)} layers (largest z)" if len(rows) > 1 else ""
    return Check(SUITE, name, 0, t, formula, mean,
                 f"simulated factors, {SAMPLES} draws in {BATCHES} batches, stderr {se:.2g}{layers}",
                 "z", z, tolerance, detectable=max(row[4] for row in rows))


def _jacobian_check(t: float, side: str) -> Check:
    from ..laws.jacobian import JacobianBound

    formula = JacobianBound(architecture(), side).moment(t)
    simulated = np.prod(_moments(t, side), axis=0)
    return _check(f"E[B_{side[:2]}^{t:g}] (Jacobian bound)", t, [formula], [simulated])


def _gradient_check(key: str, side: str) -> Check:
    from ..laws.gradients import gradient_bounds

    formulas = [row[key][side] for row in gradient_bounds(architecture(), _input())]
    return _check(f"{key} bound ({side}), per layer", 1.0, formulas, _gradient(key, side))


def _ntk_check(side: str) -> Check:
    from ..laws.gradients import ntk_bounds

    bounds = ntk_bounds(architecture(), _input())
    return _check(f"NTK bound ({side})", 1.0, [bounds[side]], [_ntk(side)])


def _length_check(which: str, side: str) -> Check:
    from ..laws.gradients import length_bounds

    bounds = length_bounds(architecture())
    if which == "mean":
        simulated, t = np.prod(_moments(0.5, side), axis=0), 0.5
    else:
        simulated, t = np.prod(_moments(1.0, side), axis=0), 1.0
    return _check(f"length {which.replace('_', ' ')} bound ({side})", t, [bounds[which][side]], [simulated])


def _activation_check() -> Check:
    from ..laws.exact import activation_length_mean_var

    means = activation_length_mean_var(architecture(), _input())[0]
    x_sq = _x_sq_means()
    return _check("E||x_l||^2 exact law, per layer", 1.0, [float(means[l]) for l in range(1, len(x_sq))], x_sq[1:])


def checks():
    """Yield the checks of the formulas suite as zero-argument callables."""
    for side in ("lower", "upper"):
        for t in MOMENTS:
            yield partial(_jacobian_check, t, side)
    yield _activation_check
    for key in ("weight_layer_sum", "weight_nonzero", "weight_per_k", "bias_nonzero", "bias_per_k"):
        for side in ("lower", "upper"):
            yield partial(_gradient_check, key, side)
    for side in ("lower", "upper"):
        yield partial(_ntk_check, side)
        yield partial(_length_check, "mean", side)
    yield partial(_length_check, "second_moment", "upper")
