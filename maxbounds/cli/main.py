"""Entry point of the ``maxbounds`` command.

Errors in the arguments (parsing or values rejected by the Python API) are
printed as one line, ``maxbounds <command>: error: argument --x: ...``, and
exit with status 2, without a traceback.

Imports are lazy: the top-level parser declares every command from
:data:`COMMANDS` (name and one-line help) without importing it, and only the
module of the command that runs (``maxbounds.cli.<name>_cmd``) is imported and
adds its options, so ``maxbounds --help`` and ``maxbounds constants`` do not
pay for Numba, SciPy's statistics or Dask.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys

from .. import __version__
from .._validate import MaxboundsValueError

#: Every command, in ``--help`` order: its name (module ``maxbounds.cli.<name>_cmd``) and its
#: one-line help, which equals the module's ``HELP`` (tests/test_startup.py checks it).
COMMANDS = {
    "constants": "Print S(K), L(K), M(K), their reciprocals and further moments.",
    "bounds": "Bounds and exact laws of gradients at initialisation for a maxout architecture.",
    "init": "Weight scale c (weights ~ N(0, c/fan_in)) and the standard deviation to give an initialiser.",
    "validate": "Check every computed quantity against an independent computation.",
    "regions": "Count activation regions and decision-boundary pieces exactly, beside the expected-complexity"
               " bounds.",
    "landscape": "Jacobian rank per activation region of a two-layer network on finite data, against the width.",
    "reproduce": "Reproduce a figure of the paper (PNG plus its data as JSON and CSV).",
    "sweep": "Run a grid of estimators on Dask into a resumable SQLite database, or summarise one"
             " ('sweep show DB').",
}


def command_module(name: str):
    """The module of command ``name`` (imported now, on first use)."""
    return importlib.import_module(f"{__package__}.{name}_cmd")

#: Command-line option of each Python argument name, for error messages.
OPTION_NAMES = {
    "K": "--rank", "rank": "--rank", "t": "--moment", "dps": "--dps", "widths": "--widths", "c": "--c",
    "c_out": "--c-out", "bias_var": "--bias-var", "input": "--input", "s": "--s", "fan_in": "--fan-in",
    "kernel_size": "--kernel-size", "sweep": "--sweep", "plot": "--plot", "curve": "--curve", "method": "--method", "direction": "--direction", "samples": "--samples", "seed": "--seed", "symbolic": "--symbolic", "relu": "--relu", "in_channels": "--in-channels", "scheme": "--scheme",
    "moment": "--moment", "list": "--list", "pool": "--pool", "activation": "--activation", "slopes": "--slopes",
    "slope": "--slope", "layers": "--layers", "eps": "--eps", "c_grad": "--c-grad", "workers": "--workers",
    "weights": "--weights", "networks": "--networks", "box": "--box", "line": "--line", "scheduler": "--scheduler",
    "suite": "--suite",
}


def _option_names(command: str) -> dict:
    """OPTION_NAMES, plus the ``OPTION_NAMES`` of the module of ``command`` (``regions`` -> ``regions_cmd``).

    Only the running command's own names apply, so one command's mapping of an
    argument never leaks into another command's error message.
    """
    names = dict(OPTION_NAMES)
    if command in COMMANDS:
        names.update(getattr(command_module(command), "OPTION_NAMES", {}))
    return names


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are a single line and exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _command_in(argv) -> str | None:
    """The command named in ``argv``: its first word that is not an option (``None`` if there is none)."""
    for word in argv:
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of ``maxbounds``; only ``command`` gets its options (``None``: every command does).

    Every other command is declared by name and help alone, so its module is
    not imported.
    """
    parser = _Parser(
        prog="maxbounds",
        description="Bounds, constants and Monte Carlo checks for randomly initialised maxout networks.",
    )
    parser.add_argument("--version", action="version", version=f"maxbounds {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    for name, help_text in COMMANDS.items():
        if command is None or name == command:
            command_module(name).add_parser(commands)
        else:
            commands.add_parser(name, help=help_text, description=help_text)
    return parser


#: Options whose values may start with '-' (``--box -3,3``); argparse would take them for options.
SIGNED_VALUE_OPTIONS = ("--box", "--input", "--direction", "--line", "--plane")


def _join_signed_values(argv: list) -> list:
    """Turn ``--box -3,3`` into ``--box=-3,3`` so that a value starting with '-' reaches its option."""
    out = []
    i = 0
    while i < len(argv):
        if argv[i] in SIGNED_VALUE_OPTIONS and i + 1 < len(argv) and argv[i + 1].startswith("-") \
                and not argv[i + 1].startswith("--"):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def main(argv=None) -> int:
    argv = _join_signed_values(list(sys.argv[1:] if argv is None else argv))
    # a command that is absent or misspelt builds the bare table: argparse then lists the choices
    parser = build_parser(_command_in(argv) or "")
    args = parser.parse_args(argv)
    try:
        status = args.run(args)
    except MaxboundsValueError as error:
        option = _option_names(args.command).get(error.argument, error.argument)
        prog = " ".join(["maxbounds", args.command] + ([args.action] if getattr(args, "action", None) else []))
        sys.stderr.write(f"{prog}: error: argument {option}: {error.problem}\n")
        return 2
    except ArithmeticError as error:
        # OutOfRangeError only (a value outside the double range that a command did not print in log form):
        # one line, not a traceback; every other ArithmeticError is a bug and keeps its traceback.  The class
        # is looked up, not imported, so that commands which never load it do not pay for the import.
        moments = sys.modules.get("maxbounds.constants.moments")
        if moments is None or not isinstance(error, moments.OutOfRangeError):
            raise
        prog = " ".join(["maxbounds", args.command] + ([args.action] if getattr(args, "action", None) else []))
        message = re.sub(r"; use [^;]*$", "", str(error))  # the remedy names Python API calls
        sys.stderr.write(f"{prog}: error: {message}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("maxbounds: interrupted\n")
        return 130
    except BrokenPipeError:
        # the reader went away (e.g. `maxbounds ... | head`): stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
