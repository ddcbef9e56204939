r"""Measured cost of the simulators against depth, width, rank K and samples, with fitted exponents.

Run ``python -m benchmarks.scaling [--quick] [--plot PATH.png] [--out FILE.json]``.

Each sweep varies one of depth ``L``, width ``n``, rank ``K`` and the number of
samples around a base network (``n = 64, K = 3, L = 6``; 64 explicit samples,
6400 for the chain), times the explicit sampler and the Gram chain (best of
three after a warm-up call) and fits :math:`t = a\,x^b` by least squares on
:math:`\log t` against :math:`\log x`.  Expected exponents (MATH.md section 3):
the explicit sampler costs :math:`O(\sum_l K_l n_l n_{l-1})` per sample, so
``b = 1`` in depth, 2 in width, 1 in K and 1 in samples; the chain costs
:math:`O(\sum_l n_l)`, so 1, 1, 0 (the maximum of K normals is one uniform)
and 1.  Fixed per-call costs (thread start-up, argument checks) pull the
fitted exponents below these at the small end.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile

import numpy as np

from maxbounds.architecture import Architecture
from maxbounds.simulate import chain_samples, explicit_samples

from ._timing import best_seconds, machine, set_threads

BASE = {"depth": 6, "width": 64, "K": 3, "samples": 64}
CHAIN_FACTOR = 100
SWEEPS = {
    "depth": [2, 4, 8, 16, 32],
    "width": [16, 32, 64, 128, 256],
    "K": [2, 3, 5, 8, 12],
    "samples": [16, 32, 64, 128, 256],
}
QUICK = {"depth": [2, 8], "width": [16, 64], "K": [2, 8], "samples": [16, 64]}
SEED = 7


def _time(method, depth, width, K, samples, repeats):
    arch = Architecture.parse(f"{width},{width}x{depth - 1},1", rank=str(K), c="1/M")
    x = np.full(width, 1 / math.sqrt(width))
    u = np.zeros(width)
    u[0] = 1.0
    run = explicit_samples if method == "explicit" else chain_samples
    n = samples if method == "explicit" else samples * CHAIN_FACTOR
    best, _, _ = best_seconds(lambda: run(arch, x, u, n, SEED), repeats=repeats)
    return best


def fit_exponent(x, t) -> tuple[float, float]:
    """Least-squares slope ``b`` and intercept ``log a`` of ``log t = log a + b log x``."""
    A = np.vstack([np.log(x), np.ones(len(x))]).T
    (b, log_a), *_ = np.linalg.lstsq(A, np.log(t), rcond=None)
    return float(b), float(log_a)


def measure(sweeps=SWEEPS, repeats=3, log=lambda msg: None) -> dict:
    """``{variable: {"values", "explicit": {"seconds", "exponent"}, "chain": {...}}}``."""
    result = {}
    for variable, values in sweeps.items():
        entry = {"values": list(values)}
        for method in ("explicit", "chain"):
            seconds = []
            for value in values:
                params = {**BASE, variable: value}
                seconds.append(_time(method, params["depth"], params["width"], params["K"], params["samples"], repeats))
                log(f"{method:<8} {variable}={value:<6} {seconds[-1]:.4g} s")
            b, _ = fit_exponent(values, seconds)
            entry[method] = {"seconds": seconds, "exponent": b}
        result[variable] = entry
    return result


def plot(result, path):
    """Four log-log panels (one per variable), explicit and chain with their fitted lines; saved atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(result), figsize=(4 * len(result), 3.4), constrained_layout=True)
    for ax, (variable, entry) in zip(np.atleast_1d(axes), result.items()):
        x = np.asarray(entry["values"], float)
        for method, marker in (("explicit", "o"), ("chain", "s")):
            t = np.asarray(entry[method]["seconds"])
            b, log_a = fit_exponent(x, t)
            ax.loglog(x, t, marker, label=f"{method}: slope {b:.2f}")
            ax.loglog(x, np.exp(log_a) * x**b, "-", color=ax.lines[-1].get_color(), alpha=0.6)
        ax.minorticks_off()
        ax.set_xticks(x, [f"{v:g}" for v in x])
        ax.set_xlabel(variable + (" (chain: x100)" if variable == "samples" else ""))
        ax.set_ylabel("seconds")
        ax.legend(fontsize=8)
    fig.suptitle(f"cost around n={BASE['width']}, K={BASE['K']}, L={BASE['depth']}, "
                 f"{BASE['samples']} explicit / {BASE['samples'] * CHAIN_FACTOR} chain samples")
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".scaling-", suffix=".png")
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110, format="png")
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scaling", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two points per sweep")
    parser.add_argument("--plot", metavar="PATH.png", default=None,
                        help="where to save the plot (e.g. docs/_static/benchmarks/scaling.png)")
    parser.add_argument("--out", metavar="FILE.json", default=None, help="write the measurements as JSON")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error("argument --threads: must be at least 1")
    threads = set_threads(args.threads)
    result = measure(QUICK if args.quick else SWEEPS, log=lambda msg: print(msg, file=sys.stderr, flush=True))
    payload = {"machine": machine(), "threads": threads, "base": BASE, "chain_factor": CHAIN_FACTOR,
               "sweeps": result}
    if args.out:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(args.out)), suffix=".json")
        with os.fdopen(fd, "w") as fh:
            json.dump(payload, fh, indent=2)
        os.replace(tmp, args.out)
    if args.plot:
        plot(result, args.plot)
    print(f"{'variable':<9} {'explicit exponent':>18} {'chain exponent':>15}")
    for variable, entry in result.items():
        print(f"{variable:<9} {entry['explicit']['exponent']:>18.2f} {entry['chain']['exponent']:>15.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
