r"""The slow half of the command-line harness: legal but large inputs, each run as a user would run it.

Run ``python -m benchmarks.cli_harness [--timeout S] [--json OUT]`` from the repository root
(not run by CI: a few minutes).  Every case runs ``maxbounds ...`` in a fresh empty folder
and must end in one of two ways:

* **refused**: exit status 2, one line on standard error naming the option the case is
  about, nothing on standard output and nothing written in the folder; or
* **answered**: exit status 0 and a finite answer (no ``inf`` or ``nan`` in the output).

Anything else (a traceback, a hang past the timeout, a half-written file) is a failure.
The fast cases are in ``tests/test_cli_harness.py``.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: (command line, option a refusal must name, or None where a finite answer is expected)
CASES = [
    (["validate", "jacobian", "--widths", "3,1000000000,2"], "--samples"),
    (["validate", "jacobian", "--widths", "3,100000,2", "--samples", "1000000000"], "--samples"),
    (["validate", "ntk", "--widths", "3,20000,20000,2"], "--widths"),
    (["regions", "count", "--widths", "2,5,1", "--networks", "1000000000"], "--networks"),
    (["regions", "count", "--widths", "2,5,1", "--networks", "100000000", "--method", "grid"], "--networks"),
    (["sweep", str(ROOT / "docs/examples/sweep.toml"), "--db", "r.sqlite", "--workers", "1000"], "--workers"),
    (["bounds", "jacobian", "--widths", "10,10x10000,10", "--rank", "3"], None),
    (["bounds", "gradient", "--widths", "10,10x4000,10", "--rank", "3"], None),
    (["bounds", "jacobian", "--widths", "3,8,2", "--c", "1e-320"], None),
    (["constants", "--rank", "2-200000", "--format", "csv"], None),
    (["validate", "jacobian", "--widths", "3,1000,1000,2", "--samples", "20000"], None),
    (["regions", "count", "--widths", "2,30,30,2", "--rank", "3", "--networks", "50"], None),
]


def run_case(argv, option, timeout: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="maxbounds-harness-") as folder:
        start = time.monotonic()
        try:
            proc = subprocess.run([sys.executable, "-m", "maxbounds", *argv, *(["--quiet"] if argv[0] in (
                "validate", "regions", "sweep") else [])], cwd=folder, capture_output=True, text=True,
                timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return {"argv": argv, "outcome": "FAIL", "why": f"no answer in {timeout:g} s",
                    "seconds": round(time.monotonic() - start, 1)}
        seconds = round(time.monotonic() - start, 1)
        written = sorted(p.name for p in Path(folder).iterdir())
    err_lines = [line for line in proc.stderr.splitlines() if line.strip()]
    if option is not None:
        ok = (proc.returncode == 2 and len(err_lines) == 1 and option in err_lines[0] and proc.stdout == ""
              and not written)
        why = err_lines[0] if err_lines else f"exit status {proc.returncode}"
        return {"argv": argv, "outcome": "refused" if ok else "FAIL", "why": why, "seconds": seconds}
    finite = proc.returncode == 0 and not re.search(r"\b(inf|nan)\b", proc.stdout, re.IGNORECASE)
    why = f"{len(proc.stdout.splitlines())} lines out" if finite else (err_lines[-1] if err_lines else
                                                                         f"exit status {proc.returncode}")
    return {"argv": argv, "outcome": "answered" if finite else "FAIL", "why": why, "seconds": seconds}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cli_harness", description=__doc__.split("\n")[0])
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per case (default 300)")
    parser.add_argument("--json", metavar="OUT", help="write the records to this file")
    args = parser.parse_args(argv)
    records = []
    for case, option in CASES:
        record = run_case(case, option, args.timeout)
        records.append(record)
        print(f"{record['outcome']:9s} {record['seconds']:7.1f} s  maxbounds {' '.join(case)}\n"
              f"{'':20s}{record['why'][:160]}", flush=True)
    failed = sum(r["outcome"] == "FAIL" for r in records)
    counts = {k: sum(r["outcome"] == k for r in records) for k in ("refused", "answered", "FAIL")}
    print(f"\n{len(records)} cases: {counts['refused']} refused in one line, {counts['answered']} answered, "
          f"{failed} failed")
    if args.json:
        Path(args.json).write_text(json.dumps(records, indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
