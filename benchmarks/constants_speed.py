"""Fast constants against plain mpmath quadrature, side by side in one process.

Run with ``python -m benchmarks.constants_speed``.  Prints the time to compute
M, S and L for every K = 1..10**4 with the vectorised double-precision path,
and the time per value of the same constants by a plain ``mpmath.quad`` of
the density at 20 digits (on a sample of ranks), with their ratio.  Use
``--json`` for machine-readable output.  ``python -m benchmarks.compare --case
constants`` runs the same comparison and also checks that both agree to 1e-12
(15 digits do not: plain quadrature is off by 2e-7 at ``K = 10**4``).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from maxbounds.constants import L, M, S

from .contenders import mpmath_quad


def fast_all(K_max: int) -> float:
    K = np.arange(1, K_max + 1)
    start = time.perf_counter()
    M(K), S(K), L(K)
    return time.perf_counter() - start


def plain_mpmath(K: int) -> None:
    """What a user would write: ``mpmath.quad`` of x^2 K phi Phi^(K-1) etc. at 20 digits."""
    mpmath_quad.constants(K, dps=20)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k-max", type=int, default=10**4)
    parser.add_argument("--sample", type=int, default=20, help="ranks timed with plain mpmath")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    fast_all(10)  # warm up imports
    fast_seconds = min(fast_all(args.k_max) for _ in range(3))
    ranks = np.unique(np.geomspace(1, args.k_max, args.sample).astype(int))
    start = time.perf_counter()
    for K in ranks:
        plain_mpmath(int(K))
    mp_per_rank = (time.perf_counter() - start) / ranks.size
    fast_per_rank = fast_seconds / args.k_max
    result = {
        "cases": [
            {"name": f"M,S,L for K=1..{args.k_max}", "contender": "maxbounds double path",
             "seconds": fast_seconds, "ratio": 1.0},
            {"name": f"M,S,L for K=1..{args.k_max}", "contender": "plain mpmath.quad, 20 digits (extrapolated)",
             "seconds": mp_per_rank * args.k_max, "ratio": mp_per_rank / fast_per_rank},
        ]
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for case in result["cases"]:
            print(f"{case['contender']:<48} {case['seconds']:10.3f} s   x{case['ratio']:.0f}")


if __name__ == "__main__":
    main()
