r"""Side-by-side comparison of maxbounds with what a user would otherwise write, in one process.

Run ``python -m benchmarks.compare [--case NAME ...] [--quick] [--format table|json] [--out FILE.json]``.

For each case every contender computes the same quantity with the same number
of samples (random networks) on the same number of threads, except the Gram
chain and its random-number limit, which run ``chain_factor`` (100) times as
many networks so that their time is not lost in scheduling noise.  After one
untimed warm-up call (JIT compilation, torch's first call) each is timed
``repeats`` times (short calls more often) and the best wall-clock time is
kept.  ``ratio`` is the contender's seconds per network over the case's
reference's (maxbounds' explicit sampler, exact region splitting, or the
fast constants), so a ratio above 1 means maxbounds is faster.  Contenders that produce samples of :math:`\lVert J_N(x)u\rVert^2` are
checked against the reference: ``z = |mean_a - mean_ref| / sqrt(se_a^2 + se_ref^2)``
must be at most 4.5 (``agrees``; a warning column shows ``NO`` otherwise).
Region counts must be equal; plain mpmath constants must agree with the fast
path to 1e-12 relative.  The ``targets`` of issue 6 are evaluated at the end.

JSON: ``{"machine": {...}, "threads": {...}, "cases": [{"name", "contender",
"seconds", "ratio", "samples", "agrees", "z", "mean", "stderr", "note"}],
"targets": [{"name", "value", "required", "met"}]}``.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import sys
import tempfile
import time

import numpy as np

from . import cases as _cases
from ._timing import machine, set_threads
from .contenders import numpy_loop, projected, rng_limit

SEED = 20240601
Z_TOL = 4.5  # two-sided normal false-failure rate 6.8e-6 per comparison


def _timed(fn, warm, repeats, budget=2.0):
    """Warm up with ``warm()``, then the best of up to ``repeats`` timed calls (fewer once ``budget`` s is spent).

    Calls under 0.1 s are repeated up to ``5 * repeats`` times, since scheduling noise dominates them.
    """
    return _timed_together([(fn, warm)], repeats, budget)[0]


def _timed_together(calls, repeats, budget=2.0):
    """:func:`_timed` for several ``(fn, warm)`` pairs at once, their timed calls interleaved round by round.

    The machine's speed drifts (a shared virtual machine: up to 1.5 times within a minute), so contenders
    timed one after another can see different machines; timed in turns, every contender's best call comes
    from the same stretch of time, and their ratios are what the comparison reports.  Returns
    ``[(seconds, result), ...]`` in the order of ``calls``.
    """
    for _, warm in calls:
        warm()
    times = [[] for _ in calls]
    results = [None] * len(calls)
    spent = [0.0] * len(calls)
    for i in range(5 * repeats):
        active = [j for j in range(len(calls))
                  if i < repeats or not (spent[j] > budget or min(times[j]) > 0.1)]
        if not active:
            break
        for j in active:
            start = time.perf_counter()
            results[j] = calls[j][0]()
            times[j].append(time.perf_counter() - start)
            spent[j] += times[j][-1]
    return [(min(t), r) for t, r in zip(times, results)]


def _row(name, contender, seconds, samples, *, values=None, note="", threads=None):
    row = {"name": name, "contender": contender, "seconds": seconds, "ratio": None, "samples": samples,
           "threads": threads, "mean": None, "stderr": None, "z": None, "agrees": None, "note": note}
    if values is not None:
        v = np.asarray(values, float)
        row["mean"] = float(v.mean())
        row["stderr"] = float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else math.inf
    return row


def _finish(rows, ref_index=0):
    """Fill ``ratio`` (seconds per sample / the reference's) and, for rows with samples, ``z`` and ``agrees``."""
    ref = rows[ref_index]
    for row in rows:
        if row["seconds"] is not None and ref["seconds"]:
            row["ratio"] = (row["seconds"] / row["samples"]) / (ref["seconds"] / ref["samples"])
        if row["mean"] is not None and row is not ref and ref["mean"] is not None:
            se = math.hypot(row["stderr"], ref["stderr"])
            row["z"] = abs(row["mean"] - ref["mean"]) / se if se > 0 else 0.0
            row["agrees"] = bool(row["z"] <= Z_TOL)
    return rows


# ---------------------------------------------------------------------------
# Jacobian cases (dense and convolutional)
# ---------------------------------------------------------------------------
def _jacobian_contenders(case, threads):
    from maxbounds.simulate import chain_samples, conv_jacobian_samples, explicit_samples

    arch = case.arch
    if case.kind == "conv":
        x, u = _cases.conv_inputs(arch)
        out = [("maxbounds explicit (Numba conv)", threads,
                lambda n: conv_jacobian_samples(arch, x, u, n, SEED).jacobian_sq_norm),
               ("NumPy loop (per network)", 1, lambda n: numpy_loop.conv_samples(arch, x, u, n, SEED))]
    else:
        x, u = case.inputs()
        out = [("maxbounds explicit", threads, lambda n: explicit_samples(arch, x, u, n, SEED).jacobian_sq_norm),
               ("maxbounds chain", threads, lambda n: chain_samples(arch, x, u, n, SEED).jacobian_sq_norm),
               ("NumPy loop (per network)", 1, lambda n: numpy_loop.dense_samples(arch, x, u, n, SEED)),
               ("prototype: 2 normals per piece (Numba, not in maxbounds)", threads,
                lambda n: projected.dense_samples(arch, x, u, n, SEED))]
    try:
        import torch

        from .contenders import torch_batched
    except ImportError:
        return out, None
    run = torch_batched.conv_samples if case.kind == "conv" else torch_batched.dense_samples
    out.append(("PyTorch batched float64", threads, lambda n: run(arch, x, u, n, SEED)))
    out.append(("PyTorch batched float32", threads, lambda n: run(arch, x, u, n, SEED, dtype=torch.float32)))
    return out, torch


def _limit_contenders(case, threads):
    normals = rng_limit.explicit_count(case.arch)
    out = [(f"limit: xoshiro256** normals, Numba ({normals}/net)", threads,
            lambda n: rng_limit.numba_xoshiro(normals, n)),
           (f"limit: Numba np.random normals ({normals}/net)", threads,
            lambda n: rng_limit.numba_builtin(normals, n)),
           (f"limit: NumPy SFC64 normals ({normals}/net)", threads,
            lambda n: rng_limit.numpy_sfc64(normals, n, threads=threads))]
    if case.kind == "conv":
        return out
    uniforms = rng_limit.chain_count(case.arch)
    out += [(f"chain limit: xoshiro256** uniforms, Numba ({uniforms}/net)", threads,
             lambda n: rng_limit.numba_xoshiro(uniforms, n, kind="uniform")),
            (f"chain limit: Numba np.random uniforms ({uniforms}/net)", threads,
             lambda n: rng_limit.numba_builtin(uniforms, n, kind="uniform")),
            (f"chain limit: NumPy SFC64 uniforms ({uniforms}/net)", threads,
             lambda n: rng_limit.numpy_sfc64(uniforms, n, kind="uniform", threads=threads))]
    return out


def run_jacobian(name, case, quick, threads, repeats, log):
    n = case.quick_samples if quick else case.samples
    contenders, _ = _jacobian_contenders(case, threads)
    everything = contenders + _limit_contenders(case, threads)
    log("  " + ", ".join(label for label, _, _ in everything) + " (timed in turns) ...")
    sizes = [n * case.chain_factor if "chain" in label else n for label, _, _ in everything]
    calls = [((lambda fn=fn, m=m: fn(m)), (lambda fn=fn, m=m: fn(min(2, m)))) for (_, _, fn), m in zip(everything, sizes)]
    rows = []
    for (label, used, _), m, (seconds, values) in zip(everything, sizes, _timed_together(calls, repeats)):
        is_samples = not label.startswith(("limit", "chain limit"))
        rows.append(_row(name, label, seconds, m, values=values if is_samples else None, threads=used))
    return _finish(rows)


# ---------------------------------------------------------------------------
# regions
# ---------------------------------------------------------------------------
def _lp_child(widths, rank, seed, queue):
    from maxbounds.architecture import Architecture
    from maxbounds.regions import Network, lp_count_plane_regions

    net = Network.random(Architecture.parse(widths, rank=str(rank)), seed, index=0)
    start = time.perf_counter()
    count = lp_count_plane_regions(net, box=(-3.0, 3.0))
    queue.put((time.perf_counter() - start, count))


def run_regions(name, case, quick, threads, repeats, log, lp_budget):
    try:
        from maxbounds.architecture import Architecture
        from maxbounds.regions import Network, count_plane_regions
    except ImportError as exc:
        return [_row(name, "maxbounds exact 2-D splitting", None, 1, note=f"unavailable: {exc}")]
    net = Network.random(Architecture.parse(case.widths, rank=str(case.rank)), case.seed, index=0)
    log("  exact splitting ...")
    seconds, count = _timed(lambda: count_plane_regions(net, box=(-3.0, 3.0)),
                            lambda: count_plane_regions(net, box=(-3.0, 3.0)), repeats)
    rows = [_row(name, "maxbounds exact 2-D splitting", seconds, 1, note=f"{count} regions")]
    log(f"  one LP per region (budget {lp_budget:g} s) ...")
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_lp_child, args=(case.widths, case.rank, case.seed, queue))
    child.start()
    child.join(lp_budget)
    if child.is_alive():
        child.kill()
        child.join()
        rows.append(_row(name, "one LP per candidate region (HiGHS)", lp_budget, 1,
                         note=f"did not finish in {lp_budget:g} s: seconds and ratio are lower bounds"))
        rows[-1]["agrees"] = None
    else:
        lp_seconds, lp_count = queue.get()
        rows.append(_row(name, "one LP per candidate region (HiGHS)", lp_seconds, 1,
                         note=f"{lp_count} regions (one run, separate process)"))
        rows[-1]["agrees"] = bool(lp_count == count)
    return _finish(rows)


# ---------------------------------------------------------------------------
# constants
# ---------------------------------------------------------------------------
def run_constants(name, case, quick, threads, repeats, log):
    from maxbounds.constants import L, M, S

    from .contenders import mpmath_quad

    K = np.arange(1, case.k_max + 1)
    log("  fast path ...")
    fast, values = _timed(lambda: np.array([M(K), S(K), L(K)]), lambda: (M(K[:10]), S(K[:10]), L(K[:10])), repeats)
    ranks = np.unique(np.geomspace(1, case.k_max, case.quick_sample if quick else case.sample).astype(int))
    log(f"  plain mpmath.quad on {ranks.size} ranks ...")
    start = time.perf_counter()
    plain = np.array([mpmath_quad.constants(int(k), dps=case.dps) for k in ranks]).T
    per_value = (time.perf_counter() - start) / ranks.size
    error = float(np.max(np.abs(plain / values[:, ranks - 1] - 1)))
    rows = [_row(name, f"maxbounds fast M,S,L for K=1..{case.k_max}", fast, case.k_max, threads=1),
            _row(name, f"plain mpmath.quad, {case.dps} digits (extrapolated from {ranks.size} ranks)",
                 per_value * case.k_max, case.k_max, threads=1,
                 note=f"max relative difference {error:.1e} on K={','.join(map(str, ranks))}")]
    rows[1]["agrees"] = bool(error <= 1e-12)
    return _finish(rows)


def run_suite(name, case, quick, threads, repeats, log):
    """``maxbounds validate`` in a new process (as a user starts it), after one untimed run that fills the cache.

    Two times per run: the wall clock of the whole command (interpreter start, imports, the suite, output) and
    the suite's own ``seconds`` from its JSON.  The best of ``repeats`` runs (1 with ``quick``) is kept.
    """
    import subprocess

    command = [sys.executable, "-m", "maxbounds.cli.main", "validate", *case.argv, "--format", "json"]
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}

    def once():
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tempfile.gettempdir(),
                              timeout=1800)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()[-300:]}")
        report = json.loads(done.stdout)
        return wall, report["seconds"], report["counts"]

    log("  warm-up run (compiles what the cache lacks) ...")
    once()
    runs = [once() for _ in range(1 if quick else repeats)]
    wall, suite, counts = min(runs, key=lambda r: r[1])
    label = "maxbounds validate" + (" " + " ".join(case.argv) if case.argv else " (default suite)")
    note = f"{counts['checks']} checks, {counts['failures']} failed; the suite's own time {suite:.3g} s"
    rows = [_row(name, f"{label}, whole command", wall, 1, threads=threads, note=note),
            _row(name, f"{label}, the suite alone", suite, 1, threads=threads)]
    rows[1]["target_seconds"] = case.target_seconds
    return _finish(rows)


# ---------------------------------------------------------------------------
# targets and output
# ---------------------------------------------------------------------------
def _seconds(rows, name, prefix):
    found = [r["seconds"] / r["samples"] for r in rows if r["name"] == name and r["contender"].startswith(prefix)
             and r["seconds"] is not None]
    return min(found) if found else None


def targets(rows) -> list:
    """Issue 6's targets, from the measured rows (``value`` and ``required`` are ratios of seconds per network)."""
    out = []

    def add(label, value, required, at_least):
        if value is not None:
            out.append({"name": label, "value": value, "required": required, "at_least": at_least,
                        "met": bool(value >= required if at_least else value <= required)})

    case = "jacobian-w100-K5-L10"
    explicit = _seconds(rows, case, "maxbounds explicit")
    chain = _seconds(rows, case, "maxbounds chain")
    limit = _seconds(rows, case, "limit:")
    chain_limit = _seconds(rows, case, "chain limit:")
    users = [s for s in (_seconds(rows, case, "NumPy loop"), _seconds(rows, case, "PyTorch")) if s is not None]
    if explicit:
        add("explicit / its random-number limit (w100 K5 L10)", explicit / limit if limit else None, 1.5, False)
        add("best of NumPy loop, PyTorch / explicit (w100 K5 L10)", min(users) / explicit if users else None, 3.0,
            True)
        add("explicit / chain (w100 K5 L10)", explicit / chain if chain else None, 100.0, True)
    if chain and chain_limit:
        add("chain / its random-number limit (w100 K5 L10)", chain / chain_limit, 3.0, False)  # issue 15
    for row in rows:
        if row.get("target_seconds") is not None:
            add(f"{row['contender']} (seconds, {row['name']})", row["seconds"], row["target_seconds"], False)
        if row["contender"].startswith("one LP") and row["ratio"] is not None and row["agrees"] is not False:
            bound = " (lower bound)" if "lower bounds" in row["note"] else ""
            add(f"one LP per region / exact ({row['name']}){bound}", row["ratio"], 100.0, True)
        if row["contender"].startswith("plain mpmath") and row["ratio"] is not None:
            add("plain mpmath / fast constants (per value, 1e-12)", row["ratio"], 1000.0, True)
    return out


def _format_table(result) -> str:
    lines = [f"machine: {result['machine']['cpu']}, {result['machine']['cores']} cores, "
             f"load {', '.join(f'{v:.2f}' for v in result['machine']['load_average'])}; threads {result['threads']}"]
    header = f"{'case':<22} {'contender':<58} {'thr':>3} {'n':>5} {'seconds':>10} {'ratio':>9}  {'agrees':<12} note"
    lines += [header, "-" * len(header)]
    for r in result["cases"]:
        seconds = "-" if r["seconds"] is None else f"{r['seconds']:.4g}"
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.3g}"
        agrees = "" if r["agrees"] is None else ("yes" if r["agrees"] else "NO")
        if r["z"] is not None:
            agrees += f" z={r['z']:.1f}"
        thr = "-" if r["threads"] is None else str(r["threads"])
        lines.append(f"{r['name']:<22} {r['contender']:<58} {thr:>3} {r['samples']:>5} {seconds:>10} {ratio:>9}  "
                     f"{agrees:<12} {r['note']}")
    lines += ["", "targets:"]
    for t in result["targets"]:
        lines.append(f"  {t['name']:<62} {t['value']:>10.3g}  (need {'>=' if t['at_least'] else '<='} "
                     f"{t['required']:g})  {'met' if t['met'] else 'MISSED'}")
    return "\n".join(lines)


def _format_markdown(result) -> str:
    """The rows and targets as two Markdown tables (for docs/benchmarks.md)."""
    lines = ["| case | contender | threads | networks | seconds | ratio | agrees |", "|---|---|---|---|---|---|---|"]
    for r in result["cases"]:
        seconds = "-" if r["seconds"] is None else f"{r['seconds']:.4g}"
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.3g}"
        agrees = "" if r["agrees"] is None else ("yes" if r["agrees"] else "**NO**")
        if r["z"] is not None:
            agrees += f" (z={r['z']:.1f})"
        if r["note"]:
            agrees += ("; " if agrees else "") + r["note"]
        thr = "-" if r["threads"] is None else str(r["threads"])
        lines.append(f"| {r['name']} | {r['contender']} | {thr} | {r['samples']} | {seconds} | {ratio} | {agrees} |")
    lines += ["", "| target | measured | required | |", "|---|---|---|---|"]
    for t in result["targets"]:
        sign = ">=" if t["at_least"] else "<="
        lines.append(f"| {t['name']} | {t['value']:.3g} | {sign} {t['required']:g} | "
                     f"{'met' if t['met'] else '**missed**'} |")
    return "\n".join(lines)


def _write_atomic(path, text):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".compare-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def run(names, quick=False, threads=2, repeats=3, lp_budget=60.0, log=lambda msg: None) -> dict:
    """Run the named cases; return ``{"machine", "threads", "cases", "targets"}``."""
    used = set_threads(threads)
    available = {**_cases.CASES, **_cases.TINY}
    rows = []
    for name in names:
        case = available[name]
        log(f"{name}:")
        if case.kind in ("dense", "conv"):
            rows += run_jacobian(name, case, quick, threads, repeats, log)
        elif case.kind == "regions":
            rows += run_regions(name, case, quick, threads, repeats, log, lp_budget)
        elif case.kind == "suite":
            rows += run_suite(name, case, quick, threads, repeats, log)
        else:
            rows += run_constants(name, case, quick, threads, repeats, log)
    return {"machine": machine(), "threads": used, "cases": rows, "targets": targets(rows)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compare", description=__doc__.splitlines()[0])
    all_names = list(_cases.CASES) + list(_cases.TINY)
    parser.add_argument("--case", action="append", choices=all_names, metavar="NAME",
                        help=f"a case to run (repeatable; default: all of {', '.join(_cases.CASES)}; "
                             f"also {', '.join(_cases.TINY)})")
    parser.add_argument("--quick", action="store_true", help="fewer samples and ranks")
    parser.add_argument("--format", choices=("table", "json", "markdown"), default="table")
    parser.add_argument("--out", metavar="FILE.json", help="also write the JSON result here (atomically)")
    parser.add_argument("--threads", type=int, default=2, help="threads for Numba, PyTorch and NumPy SFC64")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per contender (best kept)")
    parser.add_argument("--lp-budget", type=float, default=None,
                        help="seconds the LP baseline may run per network (default 60, 10 with --quick)")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error("argument --threads: must be at least 1")
    if args.repeats < 1:
        parser.error("argument --repeats: must be at least 1")
    if args.out and not os.path.isdir(os.path.dirname(os.path.abspath(args.out))):
        parser.error(f"argument --out: directory of {args.out!r} does not exist")
    budget = args.lp_budget if args.lp_budget is not None else (10.0 if args.quick else 60.0)
    result = run(args.case or list(_cases.CASES), quick=args.quick, threads=args.threads, repeats=args.repeats,
                 lp_budget=budget, log=lambda msg: print(msg, file=sys.stderr, flush=True))
    text = json.dumps(result, indent=2)
    if args.out:
        _write_atomic(args.out, text + "\n")
    formats = {"json": lambda r: text, "table": _format_table, "markdown": _format_markdown}
    print(formats[args.format](result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
