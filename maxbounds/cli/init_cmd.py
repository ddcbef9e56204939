"""``maxbounds init``: the weight scale c of an initialisation scheme and the weight std it implies."""

from __future__ import annotations

import json
import sys

from ..laws.init import SCHEMES, conv_fan_in, init_scale, weight_std
from ..report import render
from ._parse import positive_int

HELP = "Weight scale c (weights ~ N(0, c/fan_in)) and the standard deviation to give an initialiser."


def add_parser(commands):
    parser = commands.add_parser("init", help=HELP, description=HELP)
    parser.add_argument("--rank", "-K", type=positive_int, default=2, metavar="K", help="maxout rank (default 2)")
    parser.add_argument("--scheme", choices=SCHEMES, default="maxout",
                        help="maxout: c=1/M; upper: 1/L; lower: 1/S; he: 2 (ReLU); fractional: preserve E||x||^s")
    parser.add_argument("--s", type=float, default=None, metavar="S", help="moment order for --scheme fractional, in (0, 2]")
    parser.add_argument("--fan-in", type=positive_int, default=None, metavar="N",
                        help="fan-in of the layer (for a convolution, computed from --kernel-size and --in-channels)")
    parser.add_argument("--width", type=positive_int, default=None, metavar="N",
                        help="units in the layer (fractional scheme; default: the fan-in)")
    parser.add_argument("--kernel-size", type=positive_int, default=None, metavar="k", help="convolution kernel size k")
    parser.add_argument("--in-channels", type=positive_int, default=None, metavar="C", help="convolution input channels")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(run=run)
    return parser


def run(args) -> int:
    from .._validate import MaxboundsValueError

    fan_in = args.fan_in
    if args.kernel_size is not None or args.in_channels is not None:
        if args.kernel_size is None or args.in_channels is None:
            raise MaxboundsValueError("kernel_size", "give both --kernel-size and --in-channels for a convolution")
        fan_in = conv_fan_in(args.kernel_size, args.in_channels)
    c = init_scale(args.rank, args.scheme, s=args.s, fan_in=fan_in, width=args.width)
    row = {"scheme": args.scheme, "K": args.rank, "c": c}
    if fan_in is not None:
        row.update({"fan_in": fan_in, "weight_std": weight_std(c, fan_in)})
    if args.format == "json":
        sys.stdout.write(json.dumps(row, indent=2) + "\n")
    else:
        sys.stdout.write(render([row], "table") + "\n")
    return 0
