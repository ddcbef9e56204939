"""``maxbounds regions count``: exact counts of activation regions and decision-boundary pieces, beside the bounds."""

from __future__ import annotations

import math
import sys

from .._validate import MaxboundsValueError
from ..regions import Network
from ..regions.bounds_link import bounds_for_count
from ..regions.network import finite_box
from ..regions.summary import METHODS, count_regions
from ..report import output, render
from ..report.plots import check_plot_path
from ._parse import add_digits_option, nonnegative_int, positive_int
from ._progress import progress_bar
from .bounds_cmd import add_architecture_options, architecture_from

HELP = "Count activation regions and decision-boundary pieces exactly, beside the expected-complexity bounds."

#: Command-line option of each Python argument name of this command, for error messages.
OPTION_NAMES = {"box": "--box", "plane": "--plane", "line": "--line", "networks": "--networks",
                "resolution": "--resolution", "weights": "--weights", "layers": "--weights", "net": "--weights",
                "model": "--widths", "a": "--line", "b": "--line"}

#: Default bias variance of ``regions count``: zero biases make every region a cone through the origin.
DEFAULT_BIAS_VAR = "1"


def add_parser(commands):
    parser = commands.add_parser("regions", help=HELP, description=HELP)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    actions.required = True
    count = actions.add_parser(
        "count", help="count regions (exact 2-D splitting, a grid, or along a line)",
        description="Count the activation regions of random networks drawn from an architecture (or of one "
                    "network read from --weights) in a 2-D slice or along a segment. With several networks the "
                    "means carry standard errors; the expected-complexity bounds are printed beside them.")
    add_architecture_options(count, required=False)
    count.set_defaults(bias_var=DEFAULT_BIAS_VAR)
    for action in count._actions:
        if action.dest == "bias_var":
            action.help = "bias variance of every layer, or one per layer (output included); default 1 here"
    count.add_argument("--weights", default=None, metavar="FILE.npz",
                       help="count one given network instead (arrays W1, b1, W2, b2, ...; see Network.save)")
    count.add_argument("--relu", action="store_true", help="ReLU hidden units (max(0, w.x + b)) instead of maxout")
    count.add_argument("--box", default="-1,1", metavar="LO,HI",
                       help="the square [LO,HI]^2 of the slice (or LO,HI,LO2,HI2 for a rectangle); for --method "
                            "line, the interval (one input) or the diagonal from (LO,...,LO) to (HI,...,HI)")
    count.add_argument("--method", choices=METHODS, default="exact",
                       help="exact polygon splitting (default), distinct patterns on a grid, or exact pieces along "
                            "a segment")
    count.add_argument("--plane", default=None, metavar="P0;P1;P2",
                       help="with more than two inputs: the slice through three points (comma-separated "
                            "coordinates, points separated by ';'), with orthonormal coordinates from P0")
    count.add_argument("--line", default=None, metavar="A;B", help="--method line: the segment from A to B")
    count.add_argument("--resolution", type=positive_int, default=200, metavar="R",
                       help="--method grid: R x R points (default 200)")
    count.add_argument("--networks", type=positive_int, default=1, metavar="N",
                       help="number of random networks (default 1)")
    count.add_argument("--seed", type=nonnegative_int, default=0, metavar="S", help="random seed (default 0)")
    count.add_argument("--plot", default=None, metavar="FILE.png",
                       help="draw the regions (coloured) and the decision boundary of the (last) network")
    count.add_argument("--format", choices=("table", "json", "latex", "markdown", "csv"), default="table")
    add_digits_option(count)
    count.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    count.set_defaults(run=run)
    return parser


def _points(text, argument, count, n_in):
    parts = [p for p in text.split(";")]
    if len(parts) != count:
        raise MaxboundsValueError(argument, f"expected {count} points separated by ';', got {text!r}")
    points = []
    for part in parts:
        try:
            values = [float(v) for v in part.split(",")]
        except ValueError:
            raise MaxboundsValueError(argument, f"expected comma-separated numbers, got {part!r}") from None
        if len(values) != n_in or not all(math.isfinite(v) for v in values):
            raise MaxboundsValueError(argument, f"each point needs {n_in} finite coordinates (the input width)")
        points.append(values)
    return points


def _box(text):
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise MaxboundsValueError("box", f"expected LO,HI or LO,HI,LO2,HI2, got {text!r}") from None
    if len(values) == 2:
        return finite_box(values)
    if len(values) == 4:
        return finite_box(values[:2]), finite_box(values[2:])
    raise MaxboundsValueError("box", f"expected LO,HI or LO,HI,LO2,HI2, got {text!r}")


def _model(args):
    if args.weights is not None:
        if args.widths is not None:
            raise MaxboundsValueError("weights", "give either --weights or --widths, not both")
        if args.networks != 1:
            raise MaxboundsValueError("networks", "--weights counts one given network")
        return Network.load(args.weights)
    if args.widths is None:
        raise MaxboundsValueError("widths", "give the architecture (--widths ...) or a network (--weights FILE.npz)")
    return architecture_from(args)


def run(args) -> int:
    model = _model(args)
    box = _box(args.box)
    n_in = model.n_in
    plane = _points(args.plane, "plane", 3, n_in) if args.plane is not None else None
    line = _points(args.line, "line", 2, n_in) if args.line is not None else None
    if line is not None and args.method != "line":
        from .._validate import MaxboundsValueError

        raise MaxboundsValueError("line", f"applies to --method line (got --method {args.method}); add --method line "
                                          f"to count the breakpoints along the segment")
    if args.plot is not None:
        check_plot_path(args.plot)
    with progress_bar("networks", enabled=not args.quiet and args.networks > 1, compiles=True) as start:
        advance = start(args.networks) if start is not None else None
        result = count_regions(model, box, method=args.method, networks=args.networks, seed=args.seed,
                               plane=plane, line=line, resolution=args.resolution, relu=args.relu, advance=advance)
    bounds = bounds_for_count(model, box, args.method, plane, result["measure"], relu=args.relu)
    if args.plot is not None:
        _plot(model, args, box, plane, line, result)
    if args.format == "json":
        output.write(sys.stdout, "regions count", _json_payload(result, args, box, bounds),
                     _architecture(model, args))
        return 0
    rows = [_row("regions" if args.method != "line" else "regions crossed", result["regions"], result["regions_se"],
                 bounds.get("regions")),
            _row("decision-boundary pieces" if args.method != "line" else "decision-boundary points",
                 result["pieces"], result["pieces_se"], bounds.get("pieces"))]
    density_name = "breakpoints per unit length" if args.method == "line" else "regions per unit area"
    rows.append(_row(density_name, result["density"], math.nan, bounds.get("density")))
    header = (f"{_describe(model, args)}; method {args.method}; {result['networks']} network(s), seed "
              f"{args.seed}; measure {result['measure']:g}")
    notes = [f"note: {note}" for note in bounds.get("notes", [])]
    if args.format == "table":
        sys.stdout.write("\n".join([header, render(rows, "table", digits=args.digits), *notes]) + "\n")
    elif args.format == "latex":  # the caption and the notes as LaTeX comments: the output stays compilable
        sys.stdout.write(render(rows, "latex", digits=args.digits, caption=header) + "\n")
        sys.stdout.write("".join(f"% {note}\n" for note in notes))
    else:  # csv and markdown hold only the table; the rest goes to standard error
        sys.stdout.write(render(rows, args.format, digits=args.digits) + "\n")
        sys.stderr.write("\n".join([header, *notes]) + "\n")
    return 0


def _row(name, value, se, bound):
    if isinstance(value, float) and math.isnan(value):
        value = "not counted"
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    return {"quantity": name, "count": value, "stderr": "-" if se is None or math.isnan(se) else se,
            "upper bound": "-" if bound is None else bound}


def _json_payload(result: dict, args, box, bounds) -> dict:
    """``regions count --format json`` without its envelope: the counts as estimates ``{mean, stderr, n}``.

    With one network a count is exact: an integer mean and a ``null``
    standard error.  ``pieces`` is ``null`` when no pieces were counted
    (the line method counts no decision-boundary pieces of a single output).
    """
    n = int(result["networks"])

    def count(key):
        value = float(result[key])
        if math.isnan(value):
            return None
        mean = int(value) if n == 1 else value
        return output.estimate_json(mean, None if n == 1 else float(result[key + "_se"]), n)

    return {"method": args.method, "networks": n, "seed": args.seed if args.weights is None else None,
            "box": list(box), "regions": count("regions"), "pieces": count("pieces"),
            "measure": float(result["measure"]), "density": float(result["density"]), "bounds": bounds}


def _architecture(model, args) -> dict:
    if isinstance(model, Network):
        return output.architecture_json(model, description=_describe(model, args), source=str(args.weights))
    return output.architecture_json(model, description=_describe(model, args),
                                    activation="relu" if args.relu else "maxout")


def _describe(model, args):
    if isinstance(model, Network):
        return f"network {args.weights} ({'-'.join(map(str, model.widths))}, K={model.ranks})"
    return model.describe() + (", ReLU" if args.relu else "")


def _plot(model, args, box, plane, line, result):
    """Draw the last network counted: the kept result for one network, counted again otherwise."""
    from ..regions import grid_count, line_regions, plane_partition
    from ..regions.summary import _segment
    from ..report.regions_plot import plot_line, plot_partition

    last = result["last"]
    heading = _describe(model, args) + ("" if isinstance(model, Network) else
                                        f"; network {args.networks - 1} of seed {args.seed}")
    net = model if isinstance(model, Network) else Network.random(model, args.seed, args.networks - 1,
                                                                  relu=args.relu)
    if args.method == "line":
        plot_line(last if last is not None else line_regions(net, *_segment(net.n_in, box, line)), args.plot,
                  architecture=heading)
    elif args.method == "grid":
        grid = last if last is not None else grid_count(net, box, plane, args.resolution)
        plot_partition(plane_partition(net, box, plane), args.plot, grid=grid, architecture=heading)
    else:
        plot_partition(last if last is not None else plane_partition(net, box, plane), args.plot,
                       architecture=heading)
