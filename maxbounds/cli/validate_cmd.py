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


def _row(check) -> dict:
    return {
        "suite": check.suite,
        "check": check.name,
        "K": check.K,
        "t": f"{check.t:g}",
        "value": check.value,
        "reference": check.reference,
        "discrepancy": f"{check.discrepancy:.2e}" + (" (z)" if check.kind == "z" else " (rel)"),
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
        sys.stdout.write(
            "Checked: the order-statistic constants (moments, laws, samplers) only; "
            "bounds and network simulators are not part of this release's suite.\n"
        )
    return 1 if failed else 0
