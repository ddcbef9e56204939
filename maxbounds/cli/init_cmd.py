r"""``maxbounds init``: the weight scale c of an initialisation scheme and the weight std it implies.

One layer (``--rank``, ``--fan-in``) or, with ``--widths``, every layer of an
architecture (:func:`maxbounds.laws.init.init_network`).  ``--scheme fractional --s S``
preserves :math:`E\lVert x_l\rVert^s` exactly for every ``--activation`` (maxout, relu,
leaky-relu with ``--slope``, rrelu with ``--slopes l,u``, linear): one layer from ``--fan-in`` and
``--width``, or every layer of ``--widths`` (``docs/fractional.md``).  ``--pool p`` gives
the scale of one maxout layer feeding a ``p x p`` max-pool, :math:`1/M(K p^2)`
(scheme ``maxout`` and one layer only: ``--widths`` networks have no pooling).
"""

from __future__ import annotations

import sys

from ..laws.init import SCHEMES, conv_fan_in, init_network, init_scale, weight_std
from ..report import output, render
from ._parse import positive_int

#: Error-message option of each Python argument name (see maxbounds.cli.main.OPTION_NAMES).
OPTION_NAMES = {"slope": "--slope", "activation": "--activation", "width": "--width", "pool": "--pool",
                "slopes": "--slopes"}

#: The hidden units --activation names (the spelling with a hyphen and with an underscore are one kind).
ACTIVATIONS = ("maxout", "relu", "leaky-relu", "leaky_relu", "rrelu", "linear")


def activation_kind(text: str) -> str:
    """The Architecture.network activation of an --activation value (``leaky-relu`` -> ``leaky_relu``)."""
    return text.replace("-", "_")


def add_activation_options(parser, default="maxout", help_suffix=""):
    """--activation, --slope and --slopes, shared by init, bounds lognorm and validate lognorm."""
    parser.add_argument("--activation", choices=ACTIVATIONS, default=default,
                        help="the hidden units: maxout (--rank), relu, leaky-relu (--slope), rrelu (--slopes), "
                             f"linear{help_suffix}")
    parser.add_argument("--slope", type=float, default=0.01, metavar="A",
                        help="with --activation leaky-relu: the slope a (default 0.01)")
    parser.add_argument("--slopes", default=None, metavar="L,U",
                        help="with --activation rrelu: negative slopes uniform on [L, U] (default 0.125,0.333333)")


def hidden_network(arch, args):
    """``arch.network`` for the --activation, --slope, --slopes options (one-line errors naming them)."""
    from .._validate import MaxboundsValueError

    activation = activation_kind(args.activation)
    slope = args.slope if activation == "leaky_relu" else 0.0
    if not 0.0 <= slope <= 1.0:
        raise MaxboundsValueError("slope", f"must be a number in [0, 1], got {slope:g}")
    if args.slopes is not None and activation != "rrelu":
        raise MaxboundsValueError("slopes", "applies to --activation rrelu")
    return arch.network(activation, slope=slope, slopes=args.slopes)

HELP = "Weight scale c (weights ~ N(0, c/fan_in)) and the standard deviation to give an initialiser."


def add_parser(commands):
    parser = commands.add_parser("init", help=HELP, description=HELP)
    parser.add_argument("--rank", "-K", default="2", metavar="K",
                        help="maxout rank (default 2); with --widths one per hidden layer allowed (3,5)")
    parser.add_argument("--widths", default=None, metavar="N0,N1,...,NL",
                        help="initialise every layer of this architecture (8x3 repeats a width); the output "
                             "layer is linear, c = 1")
    add_activation_options(parser, help_suffix=" (default maxout); other than maxout: with --widths, or "
                                                "one layer with --scheme fractional")
    parser.add_argument("--scheme", choices=SCHEMES, default=None,
                        help="maxout: c=1/M; upper: 1/L; lower: 1/S; he: 2/(1+a^2) (ReLU, leaky ReLU); fractional: "
                             "preserve E||x||^s exactly, any activation (default: maxout, or he otherwise)")
    parser.add_argument("--s", type=float, default=None, metavar="S", help="moment order for --scheme fractional, in (0, 2]")
    parser.add_argument("--fan-in", type=positive_int, default=None, metavar="N",
                        help="fan-in of the layer (for a convolution, computed from --kernel-size and --in-channels)")
    parser.add_argument("--width", type=positive_int, default=None, metavar="N",
                        help="units in the layer (fractional scheme; default: the fan-in)")
    parser.add_argument("--kernel-size", type=positive_int, default=None, metavar="k", help="convolution kernel size k")
    parser.add_argument("--in-channels", type=positive_int, default=None, metavar="C", help="convolution input channels")
    parser.add_argument("--pool", type=positive_int, default=None, metavar="P",
                        help="the layer feeds a P x P max-pool: c = 1/M(K P^2) (scheme maxout, one layer only)")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(run=run)
    return parser


def run(args) -> int:
    from .._validate import MaxboundsValueError

    if args.scheme is None:
        args.scheme = "maxout" if args.activation == "maxout" else "he"
    if args.s is not None and args.scheme != "fractional":
        raise MaxboundsValueError("s", f"is the moment order of --scheme fractional; --scheme {args.scheme} has none")
    if args.fan_in is not None and (args.kernel_size is not None or args.in_channels is not None):
        raise MaxboundsValueError("fan_in", "give either --fan-in or --kernel-size with --in-channels (a "
                                            "convolution's fan-in is k^2 C_in), not both")
    if args.pool is not None:
        if args.widths is not None:
            raise MaxboundsValueError("pool", "gives the scale of one maxout layer feeding a max-pool; --widths "
                                              "networks are fully connected and have no pooling layer (from "
                                              "Python: init_network(net, 'maxout', pool_aware=True))")
        if args.scheme != "maxout":
            raise MaxboundsValueError("pool", f"the pooled scale 1/M(K p^2) is derived for --scheme maxout, "
                                              f"got --scheme {args.scheme}")
    if args.activation != "maxout" and args.widths is None:
        if args.scheme != "fractional":
            raise MaxboundsValueError("activation", "applies to the layers of --widths, or to one layer with "
                                                    "--scheme fractional --fan-in N; give --widths")
        return _run_one_layer(args)
    if args.slopes is not None and args.activation != "rrelu":
        raise MaxboundsValueError("slopes", "applies to --activation rrelu")
    if args.widths is not None:
        return _run_network(args)
    rank = _single_rank(args.rank)
    fan_in = args.fan_in
    if args.kernel_size is not None or args.in_channels is not None:
        if args.kernel_size is None or args.in_channels is None:
            raise MaxboundsValueError("kernel_size", "give both --kernel-size and --in-channels for a convolution")
        fan_in = conv_fan_in(args.kernel_size, args.in_channels)
    c = init_scale(rank, args.scheme, s=args.s, fan_in=fan_in, width=args.width, pool=args.pool)
    row = {"scheme": args.scheme, "K": rank}
    if args.pool is not None:
        row.update({"pool": args.pool, "pieces": rank * args.pool**2})
    row["c"] = c
    if fan_in is not None:
        row.update({"fan_in": fan_in, "weight_std": weight_std(c, fan_in)})
    if args.format == "json":
        output.write(sys.stdout, "init", row)
    else:
        sys.stdout.write(render([row], "table") + "\n")
    return 0


def _run_one_layer(args) -> int:
    """``--scheme fractional`` for one layer of a kind other than maxout: its own fractional scale."""
    from .._validate import MaxboundsValueError
    from ..architecture import Architecture
    from ..layers.base import check_moment_order

    for option, value in (("kernel_size", args.kernel_size), ("in_channels", args.in_channels)):
        if value is not None:
            raise MaxboundsValueError(option, f"applies to maxout convolutions; --activation {args.activation} "
                                              "layers are dense")
    if args.fan_in is None:
        raise MaxboundsValueError("fan_in", "the fractional scale of one layer needs its --fan-in")
    s = check_moment_order(args.s)
    width = args.width if args.width is not None else args.fan_in
    layer = hidden_network(Architecture((args.fan_in, width, 1)), args)[0]
    c = layer.fractional_scale(s)
    row = {"scheme": "fractional", "activation": args.activation, "s": s, "fan_in": args.fan_in, "width": width}
    if args.activation in ("leaky-relu", "leaky_relu"):
        row["slope"] = layer.slope
    if args.activation == "rrelu":
        row["slopes"] = [layer.lower, layer.upper]
    row.update({"c": c, "weight_std": weight_std(c, args.fan_in), "c_s2": layer.fractional_scale(2.0)})
    if args.format == "json":
        output.write(sys.stdout, "init", row)
    else:
        sys.stdout.write(render([{**row, "slopes": ",".join(f"{v:g}" for v in row["slopes"])} if "slopes" in row
                                 else row], "table") + "\n")
    return 0


def _single_rank(text):
    from .._validate import MaxboundsValueError

    try:
        K = int(str(text).strip())
    except ValueError:
        raise MaxboundsValueError("rank", f"expected one integer >= 1 (per-layer ranks need --widths), "
                                          f"got {text!r}") from None
    if K < 1:
        raise MaxboundsValueError("rank", f"must be an integer >= 1, got {K}")
    return K


def _run_network(args) -> int:
    from .._validate import MaxboundsValueError
    from ..architecture import Architecture

    for option, value in (("fan_in", args.fan_in), ("width", args.width), ("kernel_size", args.kernel_size),
                          ("in_channels", args.in_channels)):
        if value is not None:
            raise MaxboundsValueError(option, "is read from --widths; give one or the other")
    arch = Architecture.parse(args.widths, args.rank)
    net = hidden_network(arch, args)
    result = init_network(net, args.scheme, s=args.s)
    rows = result.rows()
    if args.format == "json":  # the architecture without c: the scales are what init computes
        described = {"description": f"widths {'-'.join(map(str, arch.widths))}, "
                                    + (f"K={','.join(map(str, arch.ranks[:1] if len(set(arch.ranks)) == 1 else arch.ranks))}"
                                       if args.activation == "maxout"
                                       else args.activation),
                     "widths": list(arch.widths), "activation": args.activation}
        if args.activation == "maxout":
            described["ranks"] = list(arch.ranks)
        output.write(sys.stdout, "init", {"scheme": args.scheme, "layers": rows}, described)
    else:
        sys.stdout.write(render(rows, "table") + "\n")
    return 0
