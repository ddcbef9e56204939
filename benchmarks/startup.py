r"""Start-up time of the ``maxbounds`` command against ``python -c "import numpy"``.

Run ``python -m benchmarks.startup [--repeats N] [--check] [--format table|json]``.

Three commands are started as fresh processes the same way, with
``sys.executable`` (so one interpreter and one environment for all three):

* ``python -c "import numpy"`` (the reference),
* ``python -m maxbounds.cli.main --help``,
* ``python -m maxbounds.cli.main constants --rank 5``.

The three are run in turn ``repeats`` times (interleaved, so a change of load
on the machine touches all three alike) after one untimed warm-up round (the
file-system cache, Python's bytecode cache); the median wall-clock time of
each is reported with the ratios ``help / numpy`` and ``constants / numpy``.
The targets of issue 11 are 3 and 6; with ``--check`` the exit status is 1
when a ratio exceeds its target.  ``PYTHONPATH`` is passed through, so
``PYTHONPATH=/path/to/other/checkout python -m benchmarks.startup`` times
another version of maxbounds with the same interpreter.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

#: Name -> the arguments after ``sys.executable``.
COMMANDS = {
    "numpy": ["-c", "import numpy"],
    "help": ["-m", "maxbounds.cli.main", "--help"],
    "constants": ["-m", "maxbounds.cli.main", "constants", "--rank", "5"],
}
#: Largest ratio to ``import numpy`` allowed by issue 11.
TARGETS = {"help": 3.0, "constants": 6.0}


def time_once(arguments: list) -> float:
    """Wall-clock seconds of one run of ``sys.executable *arguments`` (output discarded; it must succeed)."""
    start = time.perf_counter()
    # from a neutral folder: ``-m`` puts the working directory first on sys.path, which would
    # shadow the maxbounds chosen by PYTHONPATH or the installation
    subprocess.run([sys.executable, *arguments], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   env=dict(os.environ, MPLBACKEND="Agg"), cwd=tempfile.gettempdir())
    return time.perf_counter() - start


def measure(repeats: int = 7) -> dict:
    """``{"seconds": {name: median}, "ratios": {name: median / numpy's}, "targets", "met", "repeats"}``."""
    for arguments in COMMANDS.values():  # warm-up round, untimed
        time_once(arguments)
    runs = {name: [] for name in COMMANDS}
    for _ in range(repeats):
        for name, arguments in COMMANDS.items():
            runs[name].append(time_once(arguments))
    seconds = {name: statistics.median(values) for name, values in runs.items()}
    ratios = {name: seconds[name] / seconds["numpy"] for name in TARGETS}
    where = subprocess.run([sys.executable, "-c", "import maxbounds, os; print(os.path.dirname(maxbounds.__file__))"],
                           check=True, capture_output=True, text=True, cwd=tempfile.gettempdir()).stdout.strip()
    return {"seconds": seconds, "maxbounds": where, "ratios": ratios, "targets": dict(TARGETS),
            "met": {name: ratios[name] <= TARGETS[name] for name in TARGETS}, "repeats": repeats,
            "python": sys.executable, "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None}


def _table(result: dict) -> str:
    lines = [f"{'command':<50} {'median s':>9} {'ratio':>7} {'target':>7}"]
    for name, arguments in COMMANDS.items():
        ratio = result["ratios"].get(name)
        target = result["targets"].get(name)
        lines.append(f"{'python ' + ' '.join(arguments):<50} {result['seconds'][name]:9.3f} "
                     f"{'' if ratio is None else f'{ratio:7.2f}'} {'' if target is None else f'{target:7g}'}")
    lines.append(f"medians of {result['repeats']} runs; load average {result['load_average']:.2f}; "
                 f"maxbounds from {result['maxbounds']}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.startup", description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed rounds (default 7)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a ratio exceeds its target")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    result = measure(args.repeats)
    sys.stdout.write((json.dumps(result, indent=2) if args.format == "json" else _table(result)) + "\n")
    if args.check and not all(result["met"].values()):
        sys.stderr.write("startup: a ratio exceeds its target: "
                         + ", ".join(f"{n} {result['ratios'][n]:.2f} > {TARGETS[n]:g}"
                                     for n, ok in result["met"].items() if not ok) + "\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
