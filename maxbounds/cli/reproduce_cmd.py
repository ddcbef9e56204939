"""``maxbounds reproduce``: redraw the paper's figures (docs/reproduce.md) with their data.

A thin layer over :func:`maxbounds.reproduce.reproduce`: ``FIGURE`` (or
``all``) is computed and written as ``FIGURE.png``, ``FIGURE.json`` and
``FIGURE.csv`` (and ``FIGURE.md``, ``FIGURE.tex`` for a figure with a table)
into ``--out``, created if missing; ``--list`` names the figures.  ``all``
skips, with a note on stderr, the figures that need PyTorch when it is not
installed.
"""

from __future__ import annotations

import sys

from ..report import output, render
from ..reproduce import FIGURES, figure, reproduce
from ..reproduce.registry import TORCH_HINT, available, check_out_dir
from ._parse import nonnegative_int
from ._progress import progress_bar

#: Command-line option of each Python argument name of this command, for error messages.
OPTION_NAMES: dict = {"figure": "FIGURE", "out_dir": "--out", "seed": "--seed"}

HELP = "Reproduce a figure of the paper (PNG plus its data as JSON and CSV)."


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "reproduce", help=HELP,
        description=HELP + " --quick (the default) finishes in well under a minute per figure; --full uses "
        "large sample sizes and the paper's full input sizes (minutes).",
    )
    parser.add_argument("figure", nargs="?", default=None, metavar="FIGURE",
                        help=f"one of {', '.join(FIGURES)}, or all")
    parser.add_argument("--list", action="store_true", help="name the figures and exit")
    parser.add_argument("--out", default=".", metavar="DIR",
                        help="folder for the files, created if missing (default .)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", dest="full", action="store_false", help="small sample sizes (default)")
    size.add_argument("--full", dest="full", action="store_true", help="large sample sizes (slow)")
    parser.add_argument("--seed", type=nonnegative_int, default=0, metavar="S", help="random seed (default 0)")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    parser.set_defaults(run=_run, full=False)


def _list(args) -> int:
    rows = [{"figure": f.name, "paper": f.paper, "needs": "torch" if f.torch else "", "description": f.description}
            for f in FIGURES.values()]
    if args.format == "json":
        output.write(sys.stdout, "reproduce", {"figures": rows})
    else:
        sys.stdout.write(render(rows, "table") + "\n")
    return 0


def _run(args) -> int:
    if args.list:
        if args.figure is not None:
            from .._validate import MaxboundsValueError

            raise MaxboundsValueError("list", f"lists every figure; give it without a figure (got {args.figure!r})")
        return _list(args)
    if args.figure is None:
        from .._validate import MaxboundsValueError

        raise MaxboundsValueError("figure", f"name a figure ({', '.join(FIGURES)}, or all), or use --list")
    if args.figure == "all":
        names = []
        for name in FIGURES:
            if available(name):
                names.append(name)
            else:
                sys.stderr.write(f"reproduce: skipping {name} (needs PyTorch; {TORCH_HINT})\n")
    else:
        names = [figure(args.figure).name]
    check_out_dir(args.out)
    results = []
    for name in names:
        with progress_bar(f"reproduce {name}", enabled=not args.quiet, compiles=True) as start:
            result = reproduce(name, args.out, full=args.full, seed=args.seed, progress=start)
        results.append(result)
        if args.format == "table":
            files = ", ".join(result[ext] for ext in ("png", "json", "csv", "md", "tex") if ext in result)
            sys.stdout.write(f"{name}: {result['seconds']:.1f} s -> {files}\n")
            if "md" in result and len(names) == 1:  # a figure with a table: show it (the verdicts of 'training')
                with open(result["md"], encoding="utf-8") as handle:
                    sys.stdout.write("\n" + handle.read())
            sys.stdout.flush()
    if args.format == "json":
        output.write(sys.stdout, "reproduce", {"results": results})
    elif len(results) > 1:
        total = sum(r["seconds"] for r in results)
        sys.stdout.write(f"reproduce: {len(results)} figures in {total:.1f} s\n")
    return 0
