"""Exact predicates against the area threshold: the 2-D region kernel before and after, side by side.

``python -m benchmarks.regions_exact_speed [--repeats R] [--networks N] [--quick]``

For each network the frozen copy of the old kernel (:mod:`benchmarks._plane_kernel_old`, cells of area at
most ``1e-12`` of the box dropped) and the current kernel (:mod:`maxbounds.regions._plane_kernel`, exact
predicates) count the regions of the same network in the same box, in one process, alternating calls; the
time of each is the best of ``R`` calls (CPU time of the calling thread, so that other processes on a
shared machine disturb it less), summed over ``N`` networks.  The cases are the asv/compare region
cases (``2,6x3,2`` and ``2,20x3,2``, no biases, ``c = 1``, seed 2021, box ``[-3, 3]^2``) and the networks of
the speed table of docs/regions.md (bias variance 1).  Prints a Markdown table: counts of both kernels,
CPU seconds per network of both, and the ratio new/old.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from maxbounds.architecture import Architecture
from maxbounds.regions import Network
from maxbounds.regions import _plane_kernel as new
from maxbounds.regions.plane import make_slice

from . import _plane_kernel_old as old

CASES = [("2,6x3,2", 2, "0", 2021), ("2,6x3,2", 5, "0", 2021), ("2,20x3,2", 2, "0", 2021),
         ("2,20x3,2", 5, "0", 2021), ("2,20,20,20,2", 2, "1", 0), ("2,20,20,20,2", 3, "1", 0),
         ("2,20,20,20,2", 5, "1", 0), ("2,40,40,40,2", 2, "1", 0), ("2,40,40,40,2", 5, "1", 0)]


def _callers(net, box):
    sl = make_slice(net.n_in, box)
    widths, ranks, w_off, b_off, weights, biases = net.flat()
    out_rows = net.n_out if net.n_out in (1, 2) else 0
    A0, corners = sl.affine(), sl.corners()

    def run_old():
        lists = new.new_lists()
        return old.partition(widths, ranks, w_off, b_off, weights, biases, A0, corners, 1e-12 * sl.area, False,
                             out_rows, *lists)[0]

    def run_new():
        lists = new.new_lists()
        return new.partition(widths, ranks, w_off, b_off, weights, biases, A0, corners, False, out_rows,
                             *lists)[0]

    return run_old, run_new


def _best(fn, repeats):
    best = np.inf
    for _ in range(repeats):
        start = time.thread_time()
        fn()
        best = min(best, time.thread_time() - start)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--networks", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="only the four asv/compare cases, 2 networks")
    args = parser.parse_args(argv)
    cases = CASES[:4] if args.quick else CASES
    networks = 2 if args.quick else args.networks
    print("| widths | K | bias var | networks | regions old | regions new | old s/net | new s/net | new/old |")
    print("|---|---|---|---|---|---|---|---|---|")
    total_old = total_new = 0.0
    for widths, K, beta, seed in cases:
        arch = Architecture.parse(widths, rank=str(K), bias_var=beta)
        t_old = t_new = 0.0
        r_old = r_new = 0
        for index in range(networks):
            run_old, run_new = _callers(Network.random(arch, seed, index), (-3.0, 3.0))
            r_old += run_old()  # compiles / warms the caches
            r_new += run_new()
            a = b = np.inf
            for _ in range(args.repeats):  # alternate, so that load changes hit both alike
                a = min(a, _best(run_old, 1))
                b = min(b, _best(run_new, 1))
            t_old += a
            t_new += b
        total_old += t_old
        total_new += t_new
        print(f"| {widths} | {K} | {beta} | {networks} | {r_old / networks:g} | {r_new / networks:g} | "
              f"{t_old / networks:.4g} | {t_new / networks:.4g} | {t_new / t_old:.2f} |", flush=True)
    print(f"\nall cases: new/old = {total_new / total_old:.2f} (sum of the best times)")


if __name__ == "__main__":
    main()
