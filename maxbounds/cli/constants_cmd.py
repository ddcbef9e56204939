"""``maxbounds constants``: the order-statistic constants as a table."""

from __future__ import annotations

import sys

from ..constants.table import constants_table
from ..report import FORMATS, render
from ._parse import nonnegative_real, positive_int, rank_list

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
    parser.set_defaults(run=run)
    return parser


def run(args) -> int:
    rows = constants_table(args.rank, moments=args.moment, dps=args.dps)
    caption = "maxbounds constants" + (f", {args.dps} digits" if args.dps else ", double precision")
    sys.stdout.write(render(rows, args.format, digits=args.dps, caption=caption) + "\n")
    return 0
