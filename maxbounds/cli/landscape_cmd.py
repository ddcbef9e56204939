"""``maxbounds landscape rank``: the rank of the parametrisation's Jacobian per activation region, against the width.

A thin layer over :func:`maxbounds.landscape.transition`; ``--format json`` is
that function's result (through :func:`maxbounds.report.json.dumps`) with the
data's source added.
"""

from __future__ import annotations

import argparse
import math
import sys

from .._validate import MaxboundsValueError
from ._parse import integer_list, nonnegative_int, positive_int
from ._progress import progress_bar

HELP = "Jacobian rank per activation region of a two-layer network on finite data, against the width."

#: Command-line option of each Python argument name of this command, for error messages.
OPTION_NAMES = {"data": "--data", "X": "--data", "points": "--points", "dim": "--dim", "width": "--width",
                "widths": "--width", "activation": "--activation", "rank": "--rank", "slope": "--slope",
                "samples": "--samples", "mode": "--modes", "exact": "--exact", "plot": "--plot"}

#: Most widths one ``--width`` may list.
MAX_WIDTHS = 1000

def width_list(text: str) -> list[int]:
    """Parse ``5``, ``5,10,20`` or ``1-40`` (mixed: ``1-10,20,40``) into widths ``>= 1``."""
    widths = integer_list(text, noun="widths", most=MAX_WIDTHS, expected="a width m, a list 5,10,20 or a range 1-40")
    if any(m < 1 for m in widths):
        raise argparse.ArgumentTypeError("every width must be >= 1")
    return sorted(set(widths))


def real(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a real number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite real number, got {text!r}")
    return value


def mode_list(text: str) -> list[str]:
    from ..landscape import MODES

    modes = [m.strip() for m in text.split(",") if m.strip()]
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        raise argparse.ArgumentTypeError(f"expected modes from {', '.join(MODES)} (comma-separated), got {text!r}")
    return modes


def add_parser(commands):
    parser = commands.add_parser("landscape", help=HELP, description=HELP)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    actions.required = True
    rank = actions.add_parser(
        "rank", help="the fraction of activation regions whose Jacobian has full rank N, per width",
        description="For a data set (random Gaussian or a .npy file) and a two-layer network of width m: the "
                    "fraction of sampled activation patterns whose N x P Jacobian of theta -> (f(x_1..x_N)) has rank "
                    "N (binomial standard errors), for patterns of random parameters and uniformly drawn patterns "
                    "(and, for 1-D data, uniformly drawn realisable regions and their exact count). A range or "
                    "list of widths is a sweep of the transition (see docs/landscape.md).")
    rank.add_argument("--data", default="random", metavar="FILE.npy|random",
                      help="an (N, d) .npy array of data points, or 'random' (N(0, I_d) points; default)")
    rank.add_argument("--points", type=positive_int, default=None, metavar="N",
                      help="number of data points (needed with --data random; checked against a file)")
    rank.add_argument("--dim", type=positive_int, default=None, metavar="d",
                      help="input dimension (needed with --data random; checked against a file)")
    rank.add_argument("--width", type=width_list, required=True, metavar="M",
                      help="hidden width m: one, a list 5,10,20 or a range 1-40 (a sweep)")
    rank.add_argument("--activation", choices=("relu", "leaky-relu", "maxout"), default="relu")
    rank.add_argument("--rank", type=positive_int, default=2, metavar="K", help="maxout rank K (default 2)")
    rank.add_argument("--slope", type=real, default=0.01, metavar="A", help="leaky ReLU slope a (default 0.01)")
    rank.add_argument("--samples", type=positive_int, default=200, metavar="S",
                      help="patterns sampled per width and mode (default 200)")
    rank.add_argument("--modes", type=mode_list, default=None, metavar="LIST",
                      help="pattern distributions, from parameters,uniform,regions (default parameters,uniform; "
                           "plus regions for 1-D data)")
    rank.add_argument("--exact", type=nonnegative_int, default=0, metavar="E",
                      help="confirm the ranks of the first E samples of every width and mode in exact rational "
                           "arithmetic (slow; default 0)")
    rank.add_argument("--seed", type=nonnegative_int, default=0, metavar="S", help="random seed (default 0)")
    rank.add_argument("--format", choices=("table", "json"), default="table")
    rank.add_argument("--plot", default=None, metavar="FILE.png",
                      help="the transition against the width (several widths) or the rank counts (one width)")
    rank.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    rank.set_defaults(run=run)
    return parser


def _data(args):
    from ..landscape import load_data, random_data

    if args.data == "random":
        if args.points is None:
            raise MaxboundsValueError("points", "give the number of data points (--points N) with --data random")
        if args.dim is None:
            raise MaxboundsValueError("dim", "give the input dimension (--dim d) with --data random")
        return random_data(args.points, args.dim, args.seed), {"source": "random", "law": "N(0, I_d)",
                                                               "seed": args.seed}
    X = load_data(args.data)
    if args.points is not None and args.points != X.shape[0]:
        raise MaxboundsValueError("points", f"{args.data} holds {X.shape[0]} points, not {args.points}")
    if args.dim is not None and args.dim != X.shape[1]:
        raise MaxboundsValueError("dim", f"{args.data} holds points in R^{X.shape[1]}, not R^{args.dim}")
    return X, {"source": args.data}


def run(args) -> int:
    from ..landscape import transition
    from ..report import output

    if args.plot is not None:
        from ..report.plots import check_plot_path

        check_plot_path(args.plot)
    X, source = _data(args)
    with progress_bar("landscape rank", enabled=not args.quiet) as start:
        result = transition(X, args.width, args.activation, rank=args.rank, slope=args.slope, samples=args.samples,
                            seed=args.seed, modes=args.modes, exact=args.exact, progress=start)
    if args.plot is not None:
        _plot(result, args.plot)
    if args.format == "json":
        output.write(sys.stdout, "landscape rank", {"data": source, **result})
        return 0
    _table(result, source)
    return 0


def _describe(result) -> str:
    if result["activation"] == "leaky-relu":
        return f"two-layer leaky ReLU (slope {result['slope']:g})"
    return f"two-layer maxout (K={result['rank']})" if result["activation"] == "maxout" else "two-layer ReLU"


def _table(result, source):
    from ..report import render

    data = "random N(0, I_d) data" if source["source"] == "random" else f"data {source['source']}"
    sys.stdout.write(f"{_describe(result)}; {data}, N = {result['points']}, d = {result['dim']}; "
                     f"{result['samples']} samples per width and mode, seed {result['seed']}\n")
    rows = []
    for row in result["widths"]:
        out = {"width": row["width"], "P": row["parameter_count"], "max rank": row["max_rank"]}
        for mode in result["modes"]:
            cell = row[mode]
            out[f"full rank ({mode})"] = f"{cell['full_rank'].fraction:.3f} \u00b1 {cell['full_rank'].stderr:.3f}"
            out[f"mean rank ({mode})"] = round(cell["mean_rank"], 2)
            if "exact_check" in cell:
                out[f"exact ({mode})"] = f"{cell['exact_check']['agree']}/{cell['exact_check']['checked']}"
        if "exact_regions" in row:
            e = row["exact_regions"]
            out["regions (exact)"] = e["regions"] if e["regions"] < 10**12 else f"{float(e['regions']):.4g}"
            out["full-rank fraction (exact)"] = round(e["fraction"], 6)
        out["dim of minima"] = "-" if row["minima_dimension"] is None else row["minima_dimension"]
        rows.append(out)
    sys.stdout.write(render(rows, "table") + "\n")
    sys.stdout.write(f"note: {result['tolerance']}\n")
    sys.stdout.write("note: dim of minima = P - N, the dimension of the zero-loss set in a full-rank region "
                     "(where the target is in the region's image); '-' where rank N is impossible\n")
    if result.get("exact_regions_note") and result["dim"] == 1:
        sys.stdout.write(f"note: exact region counts {result['exact_regions_note']}\n")


def _plot(result, path):
    import matplotlib.ticker
    import numpy as np

    from ..report.plots import _save, legend_outside
    from ..reproduce._common import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.2, 4.2), layout="constrained")
    rows = result["widths"]
    N = result["points"]
    if len(rows) == 1:
        row = rows[0]
        ranks = np.arange(N + 1)
        step = 0.8 / max(1, len(result["modes"]))
        for i, mode in enumerate(result["modes"]):
            ax.bar(ranks + (i - (len(result["modes"]) - 1) / 2) * step, row[mode]["rank_counts"], width=step,
                   label=mode)  # the bars of each rank centred on its tick
        ax.set_xlabel("rank of the Jacobian")
        ax.set_ylabel("samples")
        ax.set_title(f"{_describe(result)}, N = {N}, d = {result['dim']}, m = {row['width']}", fontsize=9)
    else:
        m = np.array([row["width"] for row in rows], dtype=float)
        for i, mode in enumerate(result["modes"]):
            f = np.array([row[mode]["full_rank"].fraction for row in rows])
            se = np.array([row[mode]["full_rank"].stderr for row in rows])
            ax.plot(m, f, "-o", ms=2.5, color=f"C{i}", label=mode)
            ax.fill_between(m, np.clip(f - 1.96 * se, 0, 1), np.clip(f + 1.96 * se, 0, 1), color=f"C{i}",
                            alpha=0.2, lw=0)
        if "exact_regions" in rows[0]:
            ax.plot(m, [row["exact_regions"]["fraction"] for row in rows], "k:", lw=1.2,
                    label="realisable regions (exact)")
        ax.set_xlabel("width m")
        ax.set_ylabel("fraction with Jacobian rank N")
        ax.set_ylim(-0.03, 1.03)
        ax.set_title(f"{_describe(result)}, N = {N}, d = {result['dim']} (bands: 95%)", fontsize=9)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))  # ranks and widths are integers
    legend_outside(ax)
    _save(fig, path)
    plt.close(fig)
