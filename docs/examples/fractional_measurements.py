"""The measurements quoted in docs/fractional.md: ``python docs/examples/fractional_measurements.py [quick] [heavy]``.

Prints one JSON object.  Networks are drawn by the layers' one draw (``network_samples``) with fixed
seeds, zero biases, input ``(1, ..., 1)/sqrt(n)``.  Part ``ks``: the Kolmogorov distance of the Gaussian
limit to the exact law (deterministic, from the inverted characteristic function) and to simulation, at
depths 1, 10, 100, 1000, with the exact mean and variance against the simulated ones.  Part ``small``:
P(||x_L|| <= eps ||x_0||) and P(||x_L|| >= ||x_0|| / eps) under the s-scheme, from the law and by
simulation.  Part ``heavy``: per-layer moment ratios with heavy-tailed weights (NumPy/SciPy draws).
``quick`` runs a smaller version (minutes become seconds); ``heavy`` runs only the last part.
"""

from __future__ import annotations

import json
import math
import sys
import time

import numpy as np

import maxbounds as mb
from maxbounds.architecture import Architecture
from maxbounds.laws.init import init_network
from maxbounds.laws.lognorm import LogNormLaw, kolmogorov_distance, lognorm_samples

QUICK = "quick" in sys.argv[1:]


def stack(make, n, depth):
    return mb.serial(*[make(n) for _ in range(depth)])


def ks_part():
    rows = []
    cases = [("relu", 2, (1, 10, 20), 100_000), ("relu", 10, (1, 10, 100, 1000), 10_000),
             ("relu", 100, (1, 10, 100), 2000), ("relu", 100, (1000,), 400),
             ("leaky_relu a=0.2", 10, (1, 10, 100, 1000), 4000), ("maxout K=3", 10, (1, 10, 100, 1000), 2000)]
    makers = {"relu": lambda n: mb.relu(n, n), "leaky_relu a=0.2": lambda n: mb.leaky_relu(n, n, slope=0.2),
              "maxout K=3": lambda n: mb.maxout(n, n, K=3)}
    for kind, n, depths, networks in cases:
        if QUICK:
            networks = max(200, networks // 20)
        net = init_network(stack(makers[kind], n, max(depths)), "fractional", s=2.0).network
        law = LogNormLaw(net)
        start = time.perf_counter()
        sims = lognorm_samples(net, np.ones(n) / math.sqrt(n), networks, 17, layers=depths)
        seconds = time.perf_counter() - start
        for l in depths:
            w = sims[l][np.isfinite(sims[l])]
            row = {"kind": kind, "width": n, "depth": l, "networks": networks, "nonzero": int(w.size),
                   "seconds": round(seconds, 1), "p_zero": law.p_zero(l), "p_zero_sim": 1 - w.size / networks}
            if w.size >= 20:
                gauss = lambda z: law.cdf(z, l, "gaussian")  # noqa: E731
                row.update({"mean": law.mean(l), "mean_sim": float(w.mean()),
                            "z_mean": float((w.mean() - law.mean(l)) / math.sqrt(law.var(l) / w.size)),
                            "var": law.var(l), "var_sim": float(w.var(ddof=1)),
                            "ks_gaussian_sim": kolmogorov_distance(w, gauss),
                            "ks_noise": 0.87 / math.sqrt(w.size)})  # the median of sqrt(N) KS is 0.83-0.87
                if law.has_exact_cdf(l):
                    grid = law.mean(l) + law.std(l) * np.linspace(-8, 6, 1401)
                    row["ks_gaussian_exact"] = float(np.max(np.abs(law.cdf(grid, l) - gauss(grid))))
                    row["ks_exact_sim"] = kolmogorov_distance(w, lambda z: law.cdf(z, l))
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
    return rows


def small_part():
    rows = []
    for n, L, networks in ((2, 50, 200_000), (10, 50, 20_000), (100, 50, 2000)):
        if QUICK:
            networks //= 20
        arch = Architecture((n,) * (L + 1) + (1,))
        for s in (0.25, 0.5, 1.0, 1.5, 2.0):
            net = mb.serial(*init_network(arch.network("relu"), "fractional", s=s).network.layers[:L])
            law = LogNormLaw(net)
            sims = lognorm_samples(net, np.ones(n) / math.sqrt(n), networks, 100 + int(10 * s))[L]
            row = {"width": n, "depth": L, "s": s, "c": net[0].scale, "networks": networks,
                   "mean_log_norm": law.mean(), "p_zero": law.p_zero()}
            for eps in (1e-1, 1e-2, 1e-3):
                small = law.small_output_probability(eps)
                large = 1.0 - law.small_output_probability(1 / eps)  # P(||x|| > ||x_0||/eps) = P(>=) a.s.
                row[f"P(<= {eps:g})"] = small
                row[f"P(<= {eps:g}) sim"] = float(np.mean(sims <= math.log(eps)))
                row[f"P(>= 1/{eps:g})"] = large
                row[f"P(>= 1/{eps:g}) sim"] = float(np.mean(sims >= -math.log(eps)))
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
    return rows


def heavy_part():
    """Per-layer ratios (||x_l||_p / ||x_{l-1}||_p)^s over 50 layers: the stable scheme (p = alpha, exact) and the
    Student-t stable-limit scheme (p = nu, an approximation), at widths 2, 10, 100."""
    from maxbounds.laws import heavy_tails as ht

    rows = []
    rng = np.random.default_rng(2024)
    s = 0.5
    for law, index in (("stable", 1.5), ("t", 1.5)):
        for n, networks in ((2, 20_000), (10, 4000), (100, 300)):
            if QUICK:
                networks //= 20
            sigma = ht.stable_scale(index, s, n) if law == "stable" else ht.student_t_gclt_scale(index, s, n)
            logs = ht.simulate_norms(law, index, sigma, (n,) * 51, networks, rng)
            first, later = [], []
            for l in range(1, 51):
                alive = np.isfinite(logs[l - 1])
                (first if l == 1 else later).append(np.exp(s * (logs[l][alive] - logs[l - 1][alive])))
            first, later = np.concatenate(first), np.concatenate(later)
            row = {"law": law, "index": index, "s": s, "width": n, "networks": networks, "sigma": sigma,
                   "ratio_layer1": float(first.mean()), "ratio_layers2_50": float(later.mean()),
                   "stderr_layers2_50": float(later.std() / math.sqrt(later.size))}
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
    return rows


if __name__ == "__main__":
    if "heavy" in sys.argv[1:]:
        print(json.dumps({"heavy": heavy_part()}, indent=1))
    else:
        print(json.dumps({"ks": ks_part(), "small": small_part(), "heavy": heavy_part()}, indent=1))
