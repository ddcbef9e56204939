"""``maxbounds validate``: run the validation suite and print a summary."""

from __future__ import annotations

import json
import sys
import time

from ..report import render
from ..validation import run_suite, suite_names
from ._progress import progress_bar

HELP = "Check every computed quantity against an independent computation."


def add_parser(commands):
    parser = commands.add_parser("validate", help=HELP, description=HELP)
    parser.add_argument(
        "--suite", choices=suite_names(), action="append", default=None,
        help="run only this suite (repeatable); default: all suites",
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)
    return parser


#: What each suite checks, printed under the table so nobody reads more into a pass.
_SCOPE = {
    "constants": "the order-statistic constants (moments, laws, samplers)",
    "network": "on one default network (3-8-8-8-2, K=3, c=0.8, beta=0.3), the Jacobian bounds and the exact "
               "laws by simulation (NumPy Gram chain and explicit networks)",
}
_NOT_YET = "the gradient, NTK and curve-length estimators are not yet part of the suite"


def _row(check) -> dict:
    return {
        "suite": check.suite,
        "check": check.name,
        "method": check.method.split(",")[0],
        "K": check.K,
        "t": f"{check.t:g}",
        "value": check.value,
        "reference": check.reference if check.reference_upper is None
        else f"[{check.reference:.6g}, {check.reference_upper:.6g}]",
        "discrepancy": f"{check.discrepancy:.2e} ({ {'z': 'z', 'ks': 'KS', 'relative': 'rel'}[check.kind] })",
        "tolerance": f"{check.tolerance:g}",
        "verdict": "pass" if check.passed else "FAIL",
    }


def run(args) -> int:
    names = args.suite or suite_names()
    start = time.perf_counter()
    with progress_bar("validating", enabled=not args.quiet) as progress:
        results = run_suite(names, progress=progress)
    seconds = time.perf_counter() - start
    failed = [c for c in results if not c.passed]
    if args.format == "json":
        payload = {
            "suites": names,
            "checks": [c.as_dict() for c in results],
            "passed": len(results) - len(failed),
            "failed": len(failed),
            "seconds": seconds,
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        sys.stdout.write(render([_row(c) for c in results], "table") + "\n\n")
        sys.stdout.write(
            f"validate: {len(results) - len(failed)} passed, {len(failed)} failed "
            f"({len(results)} checks, suites: {', '.join(names)}; {seconds:.1f} s)\n"
        )
        sys.stdout.write("Checked: " + "; ".join(_SCOPE[n] for n in names) + f". Not checked: {_NOT_YET}.\n")
    return 1 if failed else 0
