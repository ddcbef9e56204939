"""Fault injection: does ``maxbounds validate`` notice a plausible bug?

Usage, from the repository root::

    python -m benchmarks.faults [--source REF] [--only NAME ...] [--json OUT] [--timeout S] [--list]

How a run works
---------------
1. ``git archive REF maxbounds`` is unpacked into a fresh directory under
   ``/tmp``: every fault is applied to that snapshot, so editing the working
   tree while a run goes on changes nothing.
2. The untouched snapshot is validated first.  If it does not pass, the run
   stops: a broken baseline says nothing about the faults.
3. For each fault the snapshot's ``maxbounds/`` is copied to the fixed slot
   :data:`SLOT` (``shutil.copytree`` keeps the modification times), one exact
   text substitution ``(file, old, new)`` is made, and
   ``python -m maxbounds.cli.main validate --format json --quiet`` runs in a
   child process whose ``PYTHONPATH`` and working directory are the slot, so
   the copy, not the installed package, is imported (checked once per run).
   ``old`` must occur exactly once in the snapshot's file, otherwise the run
   fails at once: a fault whose text has gone stale must be rewritten, not
   silently skipped.
4. A fault is *caught* when the child exits non-zero or reports a failed
   check.  A child that dies without its JSON report is recorded as
   *crashed* (with the last line of its error output), one that exceeds the
   timeout as *timeout*; both count as detected, but are listed apart from
   the faults caught by a failing check.

Numba's on-disk cache lives in the fixed directory :data:`CACHE`, reused from
one fault to the next for the files a fault does not touch.  Numba checks a
cached function against its own source file only, not against the files of
the functions it calls, so a fault in a file with compiled kernels gets a
fresh, empty cache of its own (every kernel compiles again, about a minute):
reusing the shared cache would run stale callers of the faulty kernel and
could hide the fault.

:data:`FAULTS` are the faults that change what the code computes.
:data:`EQUIVALENT` are faults that change the code but not the law of anything
the package computes; they are documented (each with its reason) and never
run, since no statistical check can or should catch them.
``tests/test_faults.py`` checks that every ``old`` text still occurs exactly
once in the working tree.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = Path("/tmp/maxbounds-faults")
SLOT = WORK / "slot"
CACHE = WORK / "numba-cache"
TIMEOUT = 600
VALIDATE = ("-m", "maxbounds.cli.main", "validate", "--format", "json", "--quiet")


class StaleFault(RuntimeError):
    """A fault's ``old`` text does not occur exactly once in its file."""


@dataclasses.dataclass(frozen=True)
class Fault:
    name: str
    file: str  # relative to the repository root
    old: str
    new: str
    description: str
    why: str = ""  # equivalent faults: why no law changes

    def apply(self, text: str) -> str:
        count = text.count(self.old)
        if count != 1:
            raise StaleFault(f"fault {self.name!r}: the old text occurs {count} times in {self.file} "
                             f"(expected exactly once): {self.old!r}")
        return text.replace(self.old, self.new)


F = Fault
FAULTS = (
    # -- the parameter draw and the layers ------------------------------------------------------------
    F("bias_sd_x1.1", "maxbounds/layers/_dense_kernels.py",
      "b *= bias_sd\n",
      "b *= 1.1 * bias_sd\n",
      "the Numba draw of every dense bias has sd 1.1*sqrt(beta) (variance +21%)"),
    F("weight_var_c_over_n_plus_1", "maxbounds/layers/base.py",
      "math.sqrt(self.scale / self.fan_in) if self.has_parameters",
      "math.sqrt(self.scale / (self.fan_in + 1)) if self.has_parameters",
      "weight_sd = sqrt(c/(n+1)) instead of sqrt(c/n): off-by-one fan-in"),
    F("backward_first_piece", "maxbounds/layers/_dense_kernels.py",
      "k = 0 if leaky else sel[i]",
      "k = 0",
      "the backward pass (VJP) uses piece k=0 of every maxout unit instead of the winner"),
    F("jvp_last_piece", "maxbounds/layers/_dense_kernels.py",
      "v_out[i] = best_t",
      "v_out[i] = t",
      "the fused draw+forward pass returns the JVP of the last piece, not of the winning one"),
    F("forward_argmax_of_jvp", "maxbounds/layers/_dense_kernels.py",
      "if k == 0 or z > best_z:\n                best_z, best_t, best_k",
      "if k == 0 or t > best_t:\n                best_z, best_t, best_k",
      "the fused draw+forward pass selects the piece with the largest JVP value instead of the largest z"),
    # -- the Numba Gram chain ----------------------------------------------------------------------
    F("chain_drop_rho", "maxbounds/simulate/_kernels.py",
      "t = rho * math.sqrt(A) + r * g",
      "t = r * g",
      "Gram chain: the correlated term rho*sqrt(A) of the new <x, v> is dropped"),
    F("chain_sqrt_1_minus_rho", "maxbounds/simulate/_kernels.py",
      "r = math.sqrt(r2)",
      "r = math.sqrt(1.0 - rho)",
      "Gram chain: sqrt(1 - rho) instead of sqrt(1 - rho^2)"),
    F("chain_bias_twice", "maxbounds/simulate/_kernels.py",
      "log_q = logaddexp(log_scale + log_xx, log_beta)",
      "log_q = logaddexp(log_scale + log_xx, log_beta + math.log(2.0))",
      "Gram chain: the bias variance is added to q twice"),
    # -- bounds on gradients, NTK, Jacobian, length --------------------------------------------------
    F("ntk_no_bias_term", "maxbounds/laws/gradients.py",
      "float(np.logaddexp(log_x[layer - 1], 0.0))",
      "float(log_x[layer - 1])",
      "NTK bound: the +1 of the bias gradients is missing (||x||^2 instead of ||x||^2 + 1)"),
    F("grad_per_k_no_1_over_K", "maxbounds/laws/gradients.py",
      "_pair(entry[0] - math.log(K), entry[1] - math.log(K), log)",
      "_pair(*entry, log)",
      "gradient bound per fixed k: the factor 1/K is missing"),
    F("delta_sq_suffix_off_by_one", "maxbounds/laws/gradients.py",
      "np.cumsum(log_hi[::-1])[::-1][1:]",
      "np.cumsum(log_hi[::-1])[::-1][:-1]",
      "upper bound on E||delta_l||^2: the product of gains runs over layers l..L-1 instead of l+1..L"),
    F("jacobian_output_chi2_dof", "maxbounds/layers/linear.py",
      "+ float(chi2_log_moment(self.width, t))",
      "+ float(chi2_log_moment(self.width - 1, t))",
      "Jacobian bounds: the output factor chi^2 has n_L - 1 degrees of freedom"),
    F("jacobian_lower_moment_uses_max", "maxbounds/layers/maxout.py",
      "law = _SIDE_LAW[side_check(side)][0]",
      "law = _SIDE_LAW['upper'][0]",
      "Jacobian bounds: the moments of the lower variable use the largest chi^2_1 (chi2_max)"),
    F("jacobian_lower_mean_uses_L", "maxbounds/layers/maxout.py",
      "name = _SIDE_LAW[side_check(side)][1]",
      "name = _SIDE_LAW['upper'][1]",
      "Jacobian/gradient gains: the lower mean uses the constant L(K) instead of S(K)"),
    F("length_mean_t1", "maxbounds/laws/gradients.py",
      "_pair(lower.log_moment(0.5), upper.log_moment(0.5), log)",
      "_pair(lower.log_moment(1.0), upper.log_moment(1.0), log)",
      "length bounds: E[B] instead of E[sqrt(B)] (t = 1 instead of 0.5)"),
    F("length_second_moment_lower", "maxbounds/laws/gradients.py",
      "second = upper.log_mean()",
      "second = lower.log_mean()",
      "length bounds: the second-moment bound uses the lower variable"),
    # -- exact laws -----------------------------------------------------------------------------------
    F("exact_activation_no_bias", "maxbounds/laws/exact.py",
      "log_eq = np.logaddexp(log_scale + log_mean[layer - 1], _log(beta))",
      "log_eq = log_scale + log_mean[layer - 1]",
      "exact E||x_l||^2: the bias variance beta is missing from q"),
    F("exact_activation_M_of_K_plus_1", "maxbounds/laws/exact.py",
      "M, var_xi_sq = _activation_gain(arch, layer), _xi_sq_mean_var(K)[1]",
      "M, var_xi_sq = _xi_sq_mean_var(K + 1)[0], _xi_sq_mean_var(K)[1]",
      "exact E||x_l||^2: uses M(K+1) instead of M(K)"),
    F("cosine_no_abs", "maxbounds/laws/exact.py",
      "return np.abs(self.rho)",
      "return self.rho",
      "the |cos gamma| estimator returns the signed cosine rho"),
    # -- constants ------------------------------------------------------------------------------------
    F("constant_S_of_K_plus_1", "maxbounds/constants/moments.py",
      "return chi2_min_moment(K, 1, dps=dps)",
      "return chi2_min_moment(K + 1, 1, dps=dps)",
      "S(K) in double precision computed for K + 1"),
    F("constant_M_weight_1.01", "maxbounds/constants/moments.py",
      "values = _double.quantile_expectation(_quantiles.gaussian_max_quantile",
      "values = 1.01 * _double.quantile_expectation(_quantiles.gaussian_max_quantile",
      "M_t(K) in double precision: quadrature weight off by a factor 1.01"),
    F("rvs_K_minus_1", "maxbounds/constants/laws.py",
      "return type(self)._quantile(u, 1.0 - u, K)",
      "return type(self)._quantile(u, 1.0 - u, K - 1)",
      "rvs of gaussian_max, chi2_min, chi2_max draws the order statistic of K - 1 values"),
    # -- simulators of lengths and regions ----------------------------------------------------------
    F("length_sim_no_norm", "maxbounds/simulate/length.py",
      "total += math.sqrt(np.sum(S[p] * S[p])) * (T[p + 1] - T[p])",
      "total += np.sum(S[p] * S[p]) * (T[p + 1] - T[p])",
      "exact segment length: sums squared speeds instead of speeds (norm forgotten)"),
    F("length_sim_drop_last_piece", "maxbounds/simulate/length.py",
      "for p in range(S.shape[0]):",
      "for p in range(S.shape[0] - 1):",
      "exact segment length: the last linear piece is left out"),
    F("line_pieces_eq_breakpoints", "maxbounds/regions/line.py",
      "return int(self.t.size - 1)",
      "return int(self.t.size - 2)",
      "1-D regions: pieces = interior breakpoints instead of breakpoints + 1"),
    F("plane_drop_first_child", "maxbounds/regions/_plane_kernel.py",
      "for k in range(K):\n                tied = False",
      "for k in range(1, K):\n                tied = False",
      "2-D regions: splitting a cell drops the child cell where piece 0 wins"),
    F("c_out_ignored", "maxbounds/architecture.py",
      "hidden.append(_layers.Linear(self.widths[-2], self.widths[-1], c=self.c_out,",
      "hidden.append(_layers.Linear(self.widths[-2], self.widths[-1], c=1.0,",
      "the output layer is built with c_L = 1 whatever the architecture says"),
    F("zig_accept_left_edge", "maxbounds/_streams.py",
      "if tables[slot, row + 2] <= position <= tables[slot, row + 3]:\n                x = tables[slot, row]",
      "if position <= tables[slot, row + 3]:\n                x = tables[slot, row]",
      "ziggurat of the maximum: the immediate-accept test drops its left end (accepts points above the density)"),
)

EQUIVALENT = (
    F("forward_min_instead_of_max", "maxbounds/layers/_dense_kernels.py",
      "if k == 0 or z > best_z:\n                best_z, best_t, best_k",
      "if k == 0 or z < best_z:\n                best_z, best_t, best_k",
      "maxout units output the smallest piece instead of the largest (fused draw+forward pass)",
      "min_k(W_k y + b_k) = -max_k((-W_k) y + (-b_k)). By induction over the layers, the min-network with "
      "parameters (W_l, b_l) outputs y_l = -x_l, where x_l is the max-network with parameters W'_l = -s W_l, "
      "b'_l = -b_l (s = -1 after the first layer, +1 on the input), and the output layer gets W'_L = -W_L, "
      "b'_L = b_L; the selected pieces, and so the Jacobian rows, correspond one to one (y-Jacobian = minus the "
      "x'-Jacobian). The weights and biases are independent, centred Gaussians, so the sign flips preserve their "
      "joint law: every law of an even or absolute quantity (norms, |cos|, squared gradients, NTK, lengths, "
      "region counts) is unchanged, biases included. Only per-network values change, so in the code it is "
      "equivalent only if every implementation (Numba and NumPy reference) is changed alike; changed in one, "
      "the suite's per-network agreement check would see it."),
    F("chain_noise_sign", "maxbounds/simulate/_kernels.py",
      "t = rho * math.sqrt(A) + r * g",
      "t = rho * math.sqrt(A) - r * g",
      "Gram chain: the fresh Gaussian g enters with a minus sign",
      "g is a standard normal independent of A, chi and the past, and -g has the same law jointly with them, "
      "so every sample path's law (all six recorded rows) is the same; only which numbers a seed gives changes."),
    F("bias_sign", "maxbounds/layers/_dense_kernels.py",
      "b *= bias_sd\n",
      "b *= -bias_sd\n",
      "the Numba draw of every dense bias is negated",
      "b ~ N(0, beta) and -b ~ N(0, beta), independent of everything else: every network is as likely as before. "
      "The NumPy reference is evaluated on the very parameters of the Numba draw (draw_many), so even the "
      "per-network agreement is kept."),
)
del F


def by_name(names) -> list:
    known = {fault.name: fault for fault in FAULTS}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SystemExit(f"unknown fault(s): {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[name] for name in names]


def export(ref: str) -> tuple[Path, str]:
    """Unpack ``maxbounds/`` at ``ref`` into a new directory under /tmp; return it and the commit hash."""
    commit = subprocess.run(["git", "rev-parse", "--verify", f"{ref}^{{commit}}"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.strip()
    dest = Path(tempfile.mkdtemp(prefix="snapshot-", dir=WORK))
    archive = subprocess.Popen(["git", "archive", commit, "maxbounds"], cwd=ROOT, stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(dest)], stdin=archive.stdout, check=True)
    archive.stdout.close()
    if archive.wait() != 0:
        raise SystemExit(f"git archive {commit} failed")
    return dest, commit


def fill_slot(snapshot: Path, fault: Fault | None) -> None:
    """The snapshot's package in :data:`SLOT`, with ``fault`` applied."""
    target = SLOT / "maxbounds"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(snapshot / "maxbounds", target)
    if fault is not None:
        path = SLOT / fault.file
        path.write_text(fault.apply(path.read_text()))


def child_env(cache: Path) -> dict:
    env = dict(os.environ)
    env.update(PYTHONPATH=str(SLOT), NUMBA_CACHE_DIR=str(cache), MPLBACKEND="Agg")
    return env


def check_import() -> None:
    """The child imports the slot's package, not the installed one."""
    out = subprocess.run([sys.executable, "-c", "import maxbounds; print(maxbounds.__file__)"], cwd=SLOT,
                         env=child_env(CACHE), check=True, capture_output=True, text=True).stdout.strip()
    if not Path(out).resolve().is_relative_to(SLOT.resolve()):
        raise SystemExit(f"the child imports {out}, not the copy in {SLOT}")


def _labels(checks) -> list:
    """Names of checks, made unique by the method where a name repeats (chain/reference, per K)."""
    names = [c["name"] for c in checks]
    out = []
    for c in checks:
        label = c["name"]
        if names.count(label) > 1:
            label += f" [K={c['K']}]" if c["suite"] == "constants" else f" [{c['method'].split(',')[0]}]"
        out.append(label)
    return out


def validate(cache: Path, timeout: float) -> dict:
    """Run validate on the slot; return ``status`` (passed/caught/crashed/timeout), ``failed`` and ``seconds``."""
    start = time.monotonic()
    # its own process group: validate starts a helper process, and a timeout must end both
    proc = subprocess.Popen([sys.executable, *VALIDATE], cwd=SLOT, env=child_env(cache), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {"status": "timeout", "failed": [], "detail": f"no answer in {timeout:g} s",
                "seconds": round(time.monotonic() - start, 1)}
    seconds = round(time.monotonic() - start, 1)
    try:
        report = json.loads(stdout)
        checks = report["checks"]
    except (ValueError, KeyError, TypeError):
        lines = [line for line in stderr.splitlines() if line.strip()]
        return {"status": "crashed", "failed": [], "detail": lines[-1] if lines else f"exit status {proc.returncode}",
                "seconds": seconds}
    failed = [label for label, c in zip(_labels(checks), checks) if not c["passed"]]
    status = "caught" if failed or proc.returncode != 0 else "passed"
    detail = f"{len(failed)} of {len(checks)} checks failed" if failed else f"exit status {proc.returncode}"
    return {"status": status, "failed": failed, "detail": detail, "seconds": seconds}


def run(faults, snapshot: Path, timeout: float) -> list:
    records = []
    for fault in faults:
        try:
            fill_slot(snapshot, fault)
        except (StaleFault, FileNotFoundError) as error:  # an older --source may lack the code a fault edits
            records.append({"name": fault.name, "file": fault.file, "description": fault.description,
                            "outcome": "n/a", "failed_checks": [], "failed_count": 0, "detail": str(error),
                            "seconds": 0.0, "cold_cache": False})
            print(f"  {fault.name:32s} n/a      (its text is not in this snapshot)", flush=True)
            continue
        text = (SLOT / fault.file).read_text()
        cold = "numba" in text
        cache = Path(tempfile.mkdtemp(prefix="cache-", dir=WORK)) if cold else CACHE
        try:
            result = validate(cache, timeout)
        finally:
            if cold:
                shutil.rmtree(cache, ignore_errors=True)
        outcome = {"passed": "missed"}.get(result["status"], result["status"])
        record = {"name": fault.name, "file": fault.file, "description": fault.description, "outcome": outcome,
                  "failed_checks": result["failed"][:5], "failed_count": len(result["failed"]),
                  "detail": result["detail"], "seconds": result["seconds"], "cold_cache": cold}
        records.append(record)
        print(f"  {fault.name:32s} {outcome:8s} {result['seconds']:6.1f} s  {', '.join(result['failed'][:3])}"
              f"{'' if result['failed'] else result['detail']}", flush=True)
    return records


def table(records) -> str:
    rows = ["| fault | file | outcome | failed checks (first 5 of n) | s |", "|---|---|---|---|---|"]
    for r in records:
        checks = "; ".join(r["failed_checks"]) if r["failed_checks"] else r["detail"]
        if r["failed_count"] > 5:
            checks += f" (… {r['failed_count']} in all)"
        rows.append(f"| `{r['name']}` | {r['file'].removeprefix('maxbounds/')} | {r['outcome']} | "
                    f"{checks.replace('|', chr(92) + '|')} | {r['seconds']:.0f} |")
    return "\n".join(rows)


def listing() -> str:
    rows = ["| fault | file | what it breaks |", "|---|---|---|"]
    rows += [f"| `{f.name}` | {f.file.removeprefix('maxbounds/')} | {f.description} |" for f in FAULTS]
    rows += ["", "Equivalent faults (not run):", "", "| fault | file | change | why no law changes |",
             "|---|---|---|---|"]
    rows += [f"| `{f.name}` | {f.file.removeprefix('maxbounds/')} | {f.description} | {f.why} |" for f in EQUIVALENT]
    return "\n".join(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.faults", description=__doc__.split("\n")[0])
    parser.add_argument("--source", default="HEAD", help="git ref of the snapshot (default HEAD)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these faults")
    parser.add_argument("--json", metavar="OUT", help="write the records to this file")
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds per validate run (default 600)")
    parser.add_argument("--list", action="store_true", help="print the faults as a Markdown table and exit")
    args = parser.parse_args(argv)
    if args.list:
        print(listing())
        return 0
    faults = by_name(args.only) if args.only else list(FAULTS)
    WORK.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    snapshot, commit = export(args.source)
    try:
        for fault in faults if args.source == "HEAD" else ():  # fail loudly, before any run, on a stale fault
            fault.apply((snapshot / fault.file).read_text())
        fill_slot(snapshot, None)
        check_import()
        print(f"snapshot of {args.source} = {commit} in {snapshot}; baseline ...", flush=True)
        baseline = validate(CACHE, args.timeout)
        if baseline["status"] != "passed":
            print(f"baseline does not pass ({baseline['status']}: {baseline['detail']}; "
                  f"{', '.join(baseline['failed'][:5])}): aborting", file=sys.stderr)
            return 2
        print(f"baseline passed in {baseline['seconds']:.0f} s; {len(faults)} faults", flush=True)
        records = run(faults, snapshot, args.timeout)
    finally:
        shutil.rmtree(snapshot, ignore_errors=True)
    total = time.monotonic() - started
    applicable = [r for r in records if r["outcome"] != "n/a"]
    detected = [r for r in applicable if r["outcome"] != "missed"]
    abnormal = sum(r["outcome"] in ("crashed", "timeout") for r in records)
    print()
    print(table(records))
    skipped = len(records) - len(applicable)
    print(f"\ncaught {len(detected)} of {len(applicable)} non-equivalent faults "
          f"({abnormal} of them by a crash or timeout{f'; {skipped} not applicable at this commit' if skipped else ''}); "
          f"{len(EQUIVALENT)} equivalent faults not run; commit {commit}, {total / 60:.1f} min")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "source": args.source, "commit": commit,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "command": " ".join(["python -m benchmarks.faults", *(argv if argv is not None else sys.argv[1:])]),
            "baseline_seconds": baseline["seconds"], "total_seconds": round(total, 1),
            "caught": len(detected), "applicable": len(applicable), "faults": records,
            "equivalent": [dataclasses.asdict(f) for f in EQUIVALENT],
        }, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
