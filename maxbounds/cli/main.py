"""Entry point of the ``maxbounds`` command.

Errors in the arguments (parsing or values rejected by the Python API) are
printed as one line, ``maxbounds <command>: error: argument --x: ...``, and
exit with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys

from .. import __version__
from .._validate import MaxboundsValueError
from . import bounds_cmd, constants_cmd, init_cmd, regions_cmd, reproduce_cmd, sweep_cmd, validate_cmd

COMMANDS = (constants_cmd, bounds_cmd, init_cmd, validate_cmd, regions_cmd, reproduce_cmd, sweep_cmd)

#: Command-line option of each Python argument name, for error messages.
OPTION_NAMES = {
    "K": "--rank", "rank": "--rank", "t": "--moment", "dps": "--dps", "widths": "--widths", "c": "--c",
    "c_out": "--c-out", "bias_var": "--bias-var", "input": "--input", "s": "--s", "fan_in": "--fan-in",
    "kernel_size": "--kernel-size", "sweep": "--sweep", "plot": "--plot", "curve": "--curve", "method": "--method", "direction": "--direction", "samples": "--samples", "seed": "--seed", "symbolic": "--symbolic", "relu": "--relu", "in_channels": "--in-channels", "scheme": "--scheme",
}


def _option_names(command: str) -> dict:
    """OPTION_NAMES, plus the ``OPTION_NAMES`` of the module of ``command`` (``regions`` -> ``regions_cmd``).

    Only the running command's own names apply, so one command's mapping of an
    argument never leaks into another command's error message.
    """
    names = dict(OPTION_NAMES)
    for module in COMMANDS:
        if module.__name__.rsplit(".", 1)[-1] == f"{command}_cmd":
            names.update(getattr(module, "OPTION_NAMES", {}))
    return names


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are a single line and exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="maxbounds",
        description="Bounds, constants and Monte Carlo checks for randomly initialised maxout networks.",
    )
    parser.add_argument("--version", action="version", version=f"maxbounds {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    for module in COMMANDS:
        module.add_parser(commands)
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
    parser = build_parser()
    argv = _join_signed_values(list(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    try:
        status = args.run(args)
    except MaxboundsValueError as error:
        option = _option_names(args.command).get(error.argument, error.argument)
        prog = " ".join(["maxbounds", args.command] + ([args.action] if getattr(args, "action", None) else []))
        sys.stderr.write(f"{prog}: error: argument {option}: {error.problem}\n")
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
