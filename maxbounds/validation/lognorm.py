r"""Simulation against the law of :math:`\log\lVert x_l\rVert` and the fractional scheme: ``maxbounds validate lognorm``.

Networks are drawn by the layers' one draw (:func:`maxbounds.simulate.explicit.network_samples`)
or, for kinds without Numba kernels (randomised leaky ReLU), by the NumPy reference with a
``numpy.random.Generator`` (:func:`maxbounds.laws.lognorm.lognorm_samples`).  Every check is a
z-test at ``k`` standard errors (default :data:`~maxbounds.estimators.Z_TOLERANCE` = 4.5: a
correct check fails by chance with probability :math:`6.8\times10^{-6}`), with the standard
error taken from the exact law wherever the law gives it:

* :math:`P(x_l = 0)`: binomial, :math:`\sqrt{p(1-p)/N}`;
* the mean of :math:`\log\lVert x_l\rVert` given :math:`x_l\ne0`: :math:`\sigma_l/\sqrt{N_{\ne0}}`
  with the exact :math:`\sigma_l`;
* its variance: the sample variance against the exact one, standard error
  :math:`\sqrt{(m_4 - s^4)/N_{\ne0}}` from the sample fourth central moment;
* Kolmogorov distances to the exact law (where it is inverted) and to its Gaussian limit; the
  exact one passes below :math:`\sqrt{\log(2/\alpha)/2}/\sqrt{N}`, :math:`\alpha = 6.8\times10^{-6}`
  (asymptotic Kolmogorov critical value); the Gaussian one is reported, not judged;
* fractional moments (``s`` given): :math:`E\lVert x_l\rVert^s` against the law's
  :math:`\lVert x_0\rVert^s\prod_m (c_m/n_{m-1})^{s/2}E[Y_m^{s/2}]` (1 under the s-scheme) with the
  exact relative variance :math:`E\lVert x_l\rVert^{2s}/(E\lVert x_l\rVert^s)^2 - 1`, at the layers
  where that variance is at most :data:`DIRECT_MAX_RELATIVE_VARIANCE` (it grows geometrically in
  depth, and beyond it no feasible number of networks resolves the moment, which is carried by rare
  networks); and at every layer the per-layer ratio
  :math:`R_l = \lVert x_l\rVert^s/\lVert x_{l-1}\rVert^s` over the networks with
  :math:`x_{l-1}\ne0`, whose law is independent of the past with mean
  :math:`(c_l/n_{l-1})^{s/2}E[Y_l^{s/2}]` (1 under the s-scheme) and exact relative variance
  :math:`E[Y^s]/E[Y^{s/2}]^2 - 1`, pooled over the layers.
"""

from __future__ import annotations

import math

import numpy as np

from ..estimators import Z_TOLERANCE
from ..laws.lognorm import LogNormLaw, kolmogorov_distance, lognorm_samples

__all__ = ["validate_lognorm", "check_fractional", "simulate_lognorms", "DIRECT_MAX_RELATIVE_VARIANCE"]

#: Largest exact relative variance of ||x_l||^s at which E||x_l||^s is checked directly.
DIRECT_MAX_RELATIVE_VARIANCE = 2.0
#: Family false-failure rate behind the Kolmogorov critical value (the rate of a 4.5-sigma z-test).
KS_ALPHA = 6.8e-6


def _method(net):
    return "explicit" if all(layer.has_kernels for layer in net) else "reference"


def simulate_lognorms(net, x, samples: int, seed: int, method=None) -> np.ndarray:
    r""":math:`\log\lVert x_l\rVert`, ``l = 0..L``, of ``samples`` networks: an array ``(L + 1, samples)``."""
    from ..layers.draw import as_serial

    net = as_serial(net)
    method = method or _method(net)
    sims = lognorm_samples(net, x, samples, seed, layers=range(1, net.depth + 1), method=method)
    x = np.asarray(x, dtype=float)
    first = np.full(samples, 0.5 * math.log(float(x @ x)))
    return np.vstack([first] + [sims[l] for l in range(1, net.depth + 1)])


def _z(estimate, reference, stderr):
    return (estimate - reference) / stderr if stderr > 0 else (0.0 if estimate == reference else math.inf)


def check_fractional(net, s: float, logs: np.ndarray, k: float = Z_TOLERANCE, law=None) -> dict:
    r"""The fractional-moment checks of the module docstring on simulated log-norms ``logs`` (``(L+1, N)``)."""
    law = law or LogNormLaw(net, x0_norm=math.exp(float(logs[0, 0])))
    depth, N = logs.shape[0] - 1, logs.shape[1]
    direct = []
    for l in range(1, depth + 1):
        V = law.norm_moment_relative_variance(s, l)
        if V > DIRECT_MAX_RELATIVE_VARIANCE:
            continue
        reference = math.exp(law.norm_log_moment(s, l))
        values = np.exp(s * logs[l])  # 0 where x_l = 0
        mean = float(values.mean())
        se = reference * math.sqrt(V / N)
        z = _z(mean, reference, se)
        direct.append({"layer": l, "estimate": {"mean": mean, "stderr": se, "n": int(N)}, "reference": reference,
                       "relative_variance": V, "z": z, "passed": bool(abs(z) <= k)})
    # per-layer ratios, pooled: R_l / E R_l over networks alive at l - 1
    ratios, variances = [], []
    for l in range(1, depth + 1):
        layer = law.network[l - 1]
        alive = np.isfinite(logs[l - 1])
        if not np.any(alive):
            break
        half, full = law.gain_log_moment(layer, s / 2.0), law.gain_log_moment(layer, s)
        log_mean = s / 2.0 * math.log(layer.scale / layer.fan_in) + half
        r = np.exp(s * (logs[l][alive] - logs[l - 1][alive]) - log_mean)
        ratios.append(r)
        variances.append(np.full(r.size, math.expm1(full - 2.0 * half)))
    r, v = np.concatenate(ratios), np.concatenate(variances)
    se = math.sqrt(float(v.sum())) / r.size
    z = _z(float(r.mean()), 1.0, se)
    pooled = {"pairs": int(r.size), "layers": len(ratios),
              "estimate": {"mean": float(r.mean()), "stderr": se, "n": int(r.size)}, "reference": 1.0,
              "z": z, "passed": bool(abs(z) <= k)}
    deepest = max((row["layer"] for row in direct), default=0)
    return {"s": s, "direct": direct, "deepest_direct_layer": deepest, "per_layer_ratio": pooled,
            "passed": bool(pooled["passed"] and all(row["passed"] for row in direct))}


def validate_lognorm(net, x=None, samples: int = 2000, seed: int = 0, layers=None, s=None,
                     k: float = Z_TOLERANCE, method=None, logs=None) -> dict:
    r"""Simulated :math:`\log\lVert x_l\rVert` against :class:`~maxbounds.laws.lognorm.LogNormLaw` at ``layers``.

    ``x`` defaults to :math:`(1, \dots, 1)/\sqrt{n_0}`; ``layers`` to 1, 10, 100, 1000 (those within the
    depth) and the last layer.  With ``s``, also the fractional-moment checks (:func:`check_fractional`).
    Returns a JSON-ready dict with ``rows`` (one per layer), ``fractional`` and ``passed``.
    """
    from ..layers.draw import as_serial

    net = as_serial(net)
    x = np.full(net.n_in, 1.0 / math.sqrt(net.n_in)) if x is None else np.asarray(x, dtype=float)
    law = LogNormLaw(net, x0_norm=math.sqrt(float(x @ x)))
    if layers is None:
        layers = sorted({l for l in (1, 10, 100, 1000) if l <= net.depth} | {net.depth})
    method = method or _method(net)
    if logs is None:
        logs = simulate_lognorms(net, x, samples, seed, method)
    N = logs.shape[1]
    ks_critical = math.sqrt(math.log(2.0 / KS_ALPHA) / 2.0)
    rows = []
    for l in layers:
        values = logs[l]
        alive = np.isfinite(values)
        w = values[alive]
        p0 = law.p_zero(l)
        row = {"layer": int(l), "networks": N, "nonzero": int(w.size)}
        p_hat = 1.0 - w.size / N
        se0 = math.sqrt(p0 * (1 - p0) / N)
        row["p_zero"] = {"exact": p0, "estimate": {"mean": p_hat, "stderr": se0, "n": int(N)}, "z": _z(p_hat, p0, se0)}
        if w.size >= 10:
            mu, var = law.mean(l), law.var(l)
            se = math.sqrt(var / w.size)
            row["mean"] = {"exact": mu, "estimate": {"mean": float(w.mean()), "stderr": se, "n": int(w.size)},
                           "z": _z(float(w.mean()), mu, se)}
            centred = w - w.mean()
            s2 = float(centred @ centred / (w.size - 1))
            m4 = float(np.mean(centred**4))
            se = math.sqrt(max(m4 - s2 * s2, 0.0) / w.size)
            row["variance"] = {"exact": var, "estimate": {"mean": s2, "stderr": se, "n": int(w.size)},
                               "z": _z(s2, var, se)}
            row["ks_gaussian"] = kolmogorov_distance(w, lambda z: law.cdf(z, l, "gaussian"))
            if law.has_exact_cdf(l):
                row["ks_exact"] = kolmogorov_distance(w, lambda z: law.cdf(z, l, "exact"))
                row["ks_critical"] = ks_critical / math.sqrt(w.size)
        zs = [row[key]["z"] for key in ("p_zero", "mean", "variance") if key in row]
        row["passed"] = bool(all(abs(z) <= k for z in zs) and row.get("ks_exact", 0.0) <= row.get("ks_critical", 1.0))
        rows.append(row)
    from ..laws.lognorm import describe_layers

    result = {"network": describe_layers(net), "method": method, "samples": N, "seed": seed, "rows": rows}
    if s is not None:
        result["fractional"] = check_fractional(net, float(s), logs, k, law)
    result["passed"] = bool(all(r["passed"] for r in rows) and result.get("fractional", {}).get("passed", True))
    return result
