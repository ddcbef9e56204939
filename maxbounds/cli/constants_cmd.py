"""``maxbounds constants``: the order-statistic constants as a table."""

from __future__ import annotations

import sys

from ..constants.table import constants_table
from ..report import FORMATS, output, render
from ..report.formats import DOUBLE_DIGITS, _digits_text
from ._parse import add_digits_option, nonnegative_real, positive_int, rank_list

HELP = "Print S(K), L(K), M(K), their reciprocals and further moments."


def add_parser(commands):
    parser = commands.add_parser(
        "constants",
        help=HELP,
        description=HELP
        + " S and L are the means of the smallest and largest of K chi-squared(1) values,"
        " M the second moment of the largest of K standard normals; 1/M, 1/L, 1/S are the"
        " weight scales c of Tseran & Montufar (2023).",
    )
    parser.add_argument(
        "--rank", "-K", type=rank_list, default=rank_list("2-10"), metavar="K",
        help="one rank (5), a list (2,3,5) or a range (2-100); default 2-10",
    )
    parser.add_argument(
        "--moment", type=nonnegative_real, nargs="+", default=[], metavar="t",
        help="also print the moments S_t, L_t and M_t of these orders (M_t = E|Xi|^t for non-integer t)",
    )
    parser.add_argument(
        "--dps", type=positive_int, default=None, metavar="N",
        help="compute with N verified decimal digits (mpmath) instead of double precision",
    )
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    add_digits_option(parser)
    parser.set_defaults(run=run)
    return parser


#: Ranks computed and printed at a time: a range of 10^6 ranks streams in 100 pieces.
CHUNK = 10_000


def run(args) -> int:
    caption = "maxbounds constants" + (f", {args.dps} digits" if args.dps else ", double precision")
    ranks = args.rank
    pieces = [ranks[i:i + CHUNK] for i in range(0, len(ranks), CHUNK)]
    digits = args.digits or args.dps
    if len(pieces) == 1 and args.format != "json":
        rows = constants_table(ranks, moments=args.moment, dps=args.dps)
        sys.stdout.write(render(rows, args.format, digits=digits, caption=caption) + "\n")
        return 0
    # a LaTeX table in pieces decides its page-width note on its first piece and its last rank (the widest K, and
    # the smallest constants where they switch to exponent form), so that it has the note of the whole
    last = constants_table(ranks[-1:], moments=args.moment, dps=args.dps) if args.format == "latex" else []
    from ._progress import progress_bar

    with progress_bar("constants", enabled=len(pieces) > 1) as start:
        advance = start(len(ranks)) if start is not None else None
        if args.format == "json":
            sys.stdout.write(output.open_rows("constants", {"dps": args.dps, "digits": digits}))
        for index, piece in enumerate(pieces):
            rows = constants_table(piece, moments=args.moment, dps=args.dps)
            if args.format == "json":
                text = output.row_lines([json_row(row, digits) for row in rows], first=index == 0)
            else:
                text = _piece(render(rows, args.format, digits=digits, caption=caption, width_rows=last),
                              args.format, index == 0, index == len(pieces) - 1)
            sys.stdout.write(text)
            sys.stdout.flush()
            if advance is not None:
                advance(len(piece))
        if args.format == "json":
            sys.stdout.write(output.close_rows())
    return 0


def json_row(row: dict, digits: int | None) -> dict:
    """One row of ``constants --format json``: every value a number; beyond double precision also its digits.

    ``digits`` up to 15 (``DOUBLE_DIGITS``) rounds the numbers to that many significant digits;
    more (``--dps N`` or ``--digits N`` above 15) adds ``"decimal"``, the
    values as decimal strings of that many digits.
    """
    out = {"K": row["K"]}
    for key, value in row.items():
        if key != "K":
            out[key] = float(value) if digits is None or digits > DOUBLE_DIGITS else float(_digits_text(value, digits))
    if digits is not None and digits > DOUBLE_DIGITS:
        out["decimal"] = {key: _digits_text(value, digits) for key, value in row.items() if key != "K"}
    return out


def _piece(text: str, fmt: str, first: bool, last: bool) -> str:
    """One rendered chunk of a long table, without the header it repeats or the footer it does not end with."""
    lines = text.splitlines()
    if fmt == "latex":
        start = next(i for i, line in enumerate(lines) if line.startswith("\\midrule")) + 1
        end = next(i for i, line in enumerate(lines) if line.startswith("\\bottomrule"))
    else:
        start, end = {"table": 2, "markdown": 2, "csv": 1}[fmt], len(lines)
    body = lines[start:end]
    return "\n".join((lines[:start] if first else []) + body + (lines[end:] if last else [])) + "\n"
