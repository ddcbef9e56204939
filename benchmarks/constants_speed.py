"""Fast constants against plain mpmath quadrature, side by side in one process.

Run with ``python -m benchmarks.constants_speed``.  Prints the time to compute
M, S and L for every K = 1..10**4 with the vectorised double-precision path,
and the time per value of the same constants by a plain ``mpmath.quad`` of
the density at 15 digits (on a sample of ranks), with their ratio.  Use
``--json`` for machine-readable output.
"""

from __future__ import annotations

import argparse
import json
import time

import mpmath as mp
import numpy as np

from maxbounds.constants import L, M, S


def fast_all(K_max: int) -> float:
    K = np.arange(1, K_max + 1)
    start = time.perf_counter()
    M(K), S(K), L(K)
    return time.perf_counter() - start


def plain_mpmath(K: int) -> None:
    """What a user would write: ``mpmath.quad`` of x^2 K phi Phi^(K-1) etc. at 15 digits."""
    with mp.workdps(15):
        mp.quad(lambda x: x * x * K * mp.npdf(x) * mp.ncdf(x) ** (K - 1), [-mp.inf, 0, mp.inf])
        mp.quad(lambda x: x * x * 2 * K * mp.npdf(x) * mp.erfc(x / mp.sqrt(2)) ** (K - 1), [0, mp.inf])
        mp.quad(lambda x: x * x * 2 * K * mp.npdf(x) * mp.erf(x / mp.sqrt(2)) ** (K - 1), [0, mp.inf])


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
            {"name": f"M,S,L for K=1..{args.k_max}", "contender": "plain mpmath.quad, 15 digits (extrapolated)",
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
