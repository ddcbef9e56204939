"""``maxbounds reproduce``: placeholder until the command lands."""

from __future__ import annotations

#: Command-line option of each Python argument name of this command, for error messages.
OPTION_NAMES: dict = {}


def add_parser(commands) -> None:
    parser = commands.add_parser("reproduce", help="(not yet available)")
    parser.set_defaults(run=_run)


def _run(args) -> int:
    raise SystemExit("maxbounds reproduce: not yet available")
