"""``maxbounds validate``: run the validation suite and print a summary."""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from .._validate import MaxboundsValueError
from ..laws.sweep import point_label, sweep_point
from ..report import output, render
from ..report.plots import check_plot_path
from ..validation import run_suite, single, suite_names
from ..validation.checks import VALIDATION_POWER
from ._parse import nonnegative_int, nonnegative_real, positive_int
from ._progress import progress_bar
from .bounds_cmd import add_architecture_options, architecture_from, parse_vector

HELP = "Check every computed quantity against an independent computation."


def add_parser(commands):
    parser = commands.add_parser(
        "validate", help=HELP,
        description=HELP + " With no QUANTITY, runs the default suite; with one, checks that estimator "
        "against its theory for the architecture given.",
    )
    parser.add_argument("quantity", nargs="?", choices=single.QUANTITIES + ("lognorm",), default=None,
                        help="check one estimator for the architecture given (needs --widths); lognorm: simulated "
                             "log||x_l|| against its exact law (zero biases)")
    add_architecture_options(parser, required=False)
    parser.add_argument("--input", default=None, metavar="X",
                        help="input x, comma-separated (default: (1,...,1)/sqrt(n0))")
    parser.add_argument("--direction", default=None, metavar="U",
                        help="direction u, comma-separated, normalised (default: e_1)")
    parser.add_argument("--samples", type=positive_int, default=None, metavar="N",
                        help="number of random networks (default 100000; lognorm 2000)")
    parser.add_argument("--seed", type=nonnegative_int, default=0, metavar="S", help="random seed (default 0)")
    parser.add_argument("--method", choices=("chain", "explicit"), default=None,
                        help="the exact Gram chain (fast; default) or explicitly drawn networks "
                             "(the only choice, and the default, for gradient and ntk)")
    parser.add_argument("--moment", type=nonnegative_real, nargs="+", default=[], metavar="t",
                        help="jacobian: also check E||J u||^(2t) against its bounds for these orders")
    parser.add_argument("--curve", choices=("segment", "circle"), default=None,
                        help="length: the segment [x, x+u] or the unit circle centred at x through the "
                             "direction u (exact lengths in both cases)")
    parser.add_argument("--plot", default=None, metavar="FILE.png", help="draw the estimate against the theory")
    parser.add_argument("--sweep", default=None, metavar="depth=2-10 | c=0.5,1,1/M",
                        help="jacobian, ntk, length: repeat the check over depths (repeating the first hidden "
                             "layer) or hidden-layer scales; the plot shows estimates against the bounds")
    parser.add_argument(
        "--suite", choices=suite_names(), action="append", default=None,
        help="run only this suite (repeatable); default: all suites",
    )
    from .bounds_cmd import add_lognorm_options

    add_lognorm_options(parser.add_argument_group("lognorm", "options of 'validate lognorm' (zero biases)"),
                        quantiles=False)
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    parser.set_defaults(run=run, quantity_defaults={name: parser.get_default(name) for name in _QUANTITY_OPTIONS})
    return parser


#: What each suite checks, printed under the table so nobody reads more into a pass.
_SCOPE = {
    "constants": "the order-statistic constants (moments, laws, samplers)",
    "network": "on one default network (3-8-8-8-2, K=3, c=0.8, beta=0.3), the parameter draw, the exact "
               "activation law, the law of ||J u||^2 and the cosines across four independent samplers (Numba and "
               "NumPy chains, Numba explicit networks, the NumPy reference), per-network agreement of the Numba "
               "samplers with the reference, segment lengths, and every estimator against its bounds",
    "formulas": "every bound formula (Jacobian moments, gradients, NTK, lengths) against its bounding variables "
                "simulated from their definition, on a network that differs in every layer (4-6-10-5-3)",
    "regions": "exact region counts (known counts, LP and grid recounts) and mean counts of random networks "
               "below the expected-complexity bounds, across depth, width, K and c",
}
_NOT_YET = ("other architectures (run 'maxbounds validate QUANTITY --widths ...'), convolutional networks, "
            "curves other than segments")


def _detects(power: float) -> str:
    if math.isinf(power):
        return "-"
    if power == 0:
        return "exact"
    if power >= 1:
        return f"{100 * power:.0f}%"
    return f"{100 * power:.2g}%" if power >= 1e-4 else f"{power:.0e}"


def _row(check) -> dict:
    # the formulas suite compares a formula (the value) with a simulation (the reference, with the standard error)
    simulated_reference = check.stderr is not None and check.method.startswith("simulated factors")
    return {
        "suite": check.suite,
        "check": check.name,
        "K": check.K,
        "t": f"{check.t:g}",
        "value": check.value if check.stderr is None or simulated_reference
        else f"{check.value:.6g} +- {check.stderr:.2g}",
        "reference": (f"{check.reference:.6g} +- {check.stderr:.2g}" if simulated_reference else check.reference)
        if check.reference_upper is None
        else f"[{_g(None if math.isnan(check.reference) else check.reference)}, {_g(check.reference_upper)}]",
        "discrepancy": f"{check.discrepancy:.2e} ({ {'z': 'z', 'ks': 'KS', 'relative': 'rel'}[check.kind] })",
        "tolerance": f"{check.tolerance:.3g}",
        "detects": _detects(check.power),
        "verdict": "pass" if check.passed else "FAIL",
    }


def _median(values) -> float:
    import statistics

    return statistics.median(values) if values else math.nan


def _power_summary(results) -> str:
    """Counts of validation and consistency checks and the median detectable errors."""
    valid = [c for c in results if c.role == "validation"]
    simulated = [c.power for c in valid if c.kind != "relative"]
    text = (f"{len(valid)} validation checks (median detectable error {_detects(_median([c.power for c in valid]))}"
            f"; of the {len(simulated)} statistical ones {_detects(_median(simulated))})")
    consistency = len(results) - len(valid)
    if consistency:
        text += (f", {consistency} consistency checks (they cannot detect a {100 * VALIDATION_POWER:.0f}% error: "
                 "listed apart, not counted as validation)")
    return text


def _run_single(args) -> int:

    if args.widths is None:
        raise MaxboundsValueError("widths", f"'validate {args.quantity}' needs --widths, e.g. --widths 3,8,8,2")
    if args.plot is not None:
        check_plot_path(args.plot)
    arch = architecture_from(args)
    x = (np.full(arch.n_in, 1 / np.sqrt(arch.n_in)) if args.input is None
         else parse_vector(args.input, "input", arch.n_in))
    u = np.eye(arch.n_in)[0] if args.direction is None else parse_vector(args.direction, "direction", arch.n_in)
    if not np.any(u):
        raise MaxboundsValueError("direction", "the direction must not be zero")
    if args.sweep is not None:
        return _run_sweep(args, arch, x, u)
    if _refused(args.quantity, arch, x):
        return 2
    backward = args.quantity in ("gradient", "ntk", "length")
    if backward and args.method == "chain":
        raise MaxboundsValueError("method", f"'{args.quantity}' needs explicit networks: use --method explicit")
    method = args.method or ("explicit" if backward else "chain")
    with progress_bar(f"validate {args.quantity} ({method})", enabled=not args.quiet, compiles=True) as progress:
        advance = progress(single.work(args.quantity, args.samples)) if progress else None
        result = single.run(args.quantity, arch, x, u, args.samples, args.seed, method, moments=args.moment,
                            curve=args.curve, advance=advance)
    ok = single.passed(result)
    if args.format == "json":
        payload = {k: v for k, v in result.items() if k != "architecture"}
        output.write(sys.stdout, "validate", {**payload, "passed": ok}, arch)
    else:
        sys.stdout.write(f"validate {args.quantity}: {arch.describe()}; {method}, "
                         f"{args.samples} samples, seed {args.seed}\n")
        sys.stdout.write(render(_single_rows(result), "table") + "\n")
        sys.stdout.write(f"validate {args.quantity}: {'passed' if ok else 'FAILED'}\n")
    if args.plot is not None:
        from ..report.plots import plot_validation

        plot_validation(result, args.plot)
    return 0 if ok else 1


_SWEEPABLE = {"jacobian": "mean", "ntk": "ntk", "length": "mean"}


def _run_sweep(args, arch, x, u) -> int:
    from .bounds_cmd import sweep_architectures

    if args.quantity not in _SWEEPABLE:
        raise MaxboundsValueError("sweep", f"sweeps are available for {', '.join(_SWEEPABLE)}")
    if args.method == "chain" and args.quantity != "jacobian":
        raise MaxboundsValueError("method", f"'{args.quantity}' needs explicit networks: use --method explicit")
    method = args.method or ("chain" if args.quantity == "jacobian" else "explicit")
    key, archs = sweep_architectures(arch, args.sweep)
    if any(_refused(args.quantity, a, x) for _, a in archs):
        return 2
    rows = []
    with progress_bar(f"validate {args.quantity} over {args.sweep}", enabled=not args.quiet, compiles=True) as progress:
        advance = progress(len(archs)) if progress else None
        for value, a in archs:
            result = single.run(args.quantity, a, x, u, args.samples, args.seed, method)
            if advance:
                advance()
            r = result[_SWEEPABLE[args.quantity]]
            est = r["estimate"]
            rows.append({**sweep_point(key, value, a), "estimate": output.estimate_json(est["mean"], est["stderr"], est["n"]),
                         "lower": r["bounds"]["lower"], "upper": r["bounds"]["upper"], "z": r["z"],
                         "verdict": r["verdict"]})
    ok = all(row["verdict"] in ("inside", "agrees") for row in rows)
    if args.format == "json":
        output.write(sys.stdout, "validate", {"quantity": args.quantity, "sweep": args.sweep, "method": method,
                                              "samples": args.samples, "seed": args.seed, "rows": rows,
                                              "passed": ok}, arch)
    else:
        sys.stdout.write(f"validate {args.quantity} over {args.sweep}: {arch.describe()}; {method}, "
                         f"{args.samples} samples per point, seed {args.seed}\n")
        sys.stdout.write(render([_sweep_row(r) for r in rows], "table") + "\n")
        sys.stdout.write(f"validate {args.quantity}: {'passed' if ok else 'FAILED'}\n")
    if args.plot is not None:
        from ..report.plots import plot_sweep

        flat = [{**{k: v for k, v in r.items() if k != "estimate"}, "estimate": r["estimate"]["mean"],
                 "stderr": r["estimate"]["stderr"]} for r in rows]
        plot_sweep(flat, key, args.quantity, arch.describe(), args.plot)
    return 0 if ok else 1


def _sweep_row(row: dict) -> dict:
    """A table row of a validate sweep: the estimate beside its standard error, c by its rule where named."""
    return {("depth" if "depth" in row else "c"): point_label(row), "estimate": row["estimate"]["mean"], "stderr": row["estimate"]["stderr"],
            "lower": row["lower"], "upper": row["upper"], "z": f"{row['z']:.2f}", "verdict": row["verdict"]}


def _out_of_range(result, path=""):
    """``(name, log10)`` of the first value of a ``bounds`` result outside the double range, or ``None``."""
    from .bounds_cmd import LOG10_PREFIX

    items = result.items() if isinstance(result, dict) else enumerate(result) if isinstance(result, list) else ()
    for key, value in items:
        name = f"{path} {key}" if path else str(key)
        if isinstance(value, dict) and "layer" in value:
            name = f"layer {value['layer']}"
        if isinstance(key, str) and key.startswith(LOG10_PREFIX):
            return (f"{path} {key[len(LOG10_PREFIX):]}" if path else key[len(LOG10_PREFIX):]), value
        found = _out_of_range(value, name)
        if found:
            return found
    return None


def _refused(quantity, arch, x) -> bool:
    """Refuse, in one line on stderr, a check whose theory leaves the double range (depth 10^4, c = 1e-320).

    Simulated values of such a quantity underflow or overflow as doubles, so no
    Monte Carlo estimate can be compared with the theory; ``maxbounds bounds``
    prints the theory itself in log form.
    """
    from .bounds_cmd import compute, log10_text

    if quantity not in ("jacobian", "activation", "gradient", "ntk", "length"):
        return False
    found = _out_of_range(compute(quantity, arch, x))
    if found is None:
        return False
    name, log10 = found
    sys.stderr.write(f"maxbounds validate: error: the {quantity} theory ({name}) is about {log10_text(log10, 3)} for "
                     f"{'this architecture' if arch.depth < 20 else f'depth {arch.depth}'}, outside the "
                     f"double-precision range, so simulated networks cannot be compared with it; "
                     f"'maxbounds bounds {quantity}' prints it in log form\n")
    return True


def _g(value) -> str:
    return "-" if value is None else f"{value:.6g}"


def _single_rows(result: dict) -> list[dict]:
    def row(label, r):
        theory = (r["exact"] if r.get("exact") is not None else
                  f"[{_g(r['bounds']['lower'])}, {_g(r['bounds']['upper'])}]" if "bounds" in r else
                  f"{r['reference']['method']}: {r['reference']['mean']:.6g} +- {r['reference']['stderr']:.2g}")
        est = r["estimate"]
        check = r.get("check")
        return {"quantity": label, "estimate": est["mean"], "stderr": est["stderr"], "theory": theory,
                "z": f"{r['z']:.2f}", "detects": "-" if check is None else _detects(check.min_detectable),
                "verdict": r["verdict"]}

    extra = [row(f"{r['name']} = {result['independent']['method']} sampler" if "layer" not in r else r["name"], r)
             for r in result.get("independent", {}).get("rows", [])]
    return _main_rows(result, row) + extra


def _main_rows(result: dict, row) -> list[dict]:

    if result["quantity"] == "ntk":
        return [row("E[Theta(x,x)]", result["ntk"])]
    if result["quantity"] == "length":
        return [row("E[len(N o gamma)]/len(gamma)", result["mean"]),
                row("E[(len(N o gamma)/len(gamma))^2]", result["second_moment"])]
    if result["quantity"] == "gradient":
        return [row(f"{r['name']}, l={r['layer']}", r) for r in result["layers"]]
    if "layers" in result:
        name = {"activation": "E||x_l||^2", "cosine": "E|cos gamma_l|"}[result["quantity"]]
        return [row(f"{name}, l={r['layer']}", r) for r in result["layers"]]
    labels = {"mean": "E||Ju||^2", "second_moment": "E||Ju||^4"}
    return [row(labels.get(key, f"E||Ju||^(2t), t={key[7:]}"), r) for key, r in result.items()
            if isinstance(r, dict) and "verdict" in r]


def _run_lognorm(args) -> int:
    from ..validation.lognorm import validate_lognorm
    from .bounds_cmd import lognorm_layers, lognorm_network

    if args.widths is None:
        raise MaxboundsValueError("widths", "'validate lognorm' needs --widths, e.g. --widths 10,10x100,1")
    for option in ("sweep", "plot", "direction"):
        if getattr(args, option) is not None:
            raise MaxboundsValueError(option, "does not apply to 'validate lognorm'")
    if args.method == "chain":
        raise MaxboundsValueError("method", "'lognorm' draws explicit networks: use --method explicit (or none)")
    arch = architecture_from(args)
    net = lognorm_network(args, arch)
    x = (np.full(arch.n_in, 1 / np.sqrt(arch.n_in)) if args.input is None
         else parse_vector(args.input, "input", arch.n_in))
    samples = args.samples or 2000
    layers = lognorm_layers(args, net.depth)
    result = validate_lognorm(net, x, samples, args.seed, layers, s=args.s)
    ok = result["passed"]
    if args.format == "json":
        payload = {"quantity": "lognorm", **{k: v for k, v in result.items() if k != "network"}}
        output.write(sys.stdout, "validate", payload, output.architecture_json(
            net, description=result["network"], activation=args.activation or "maxout"))
        return 0 if ok else 1
    sys.stdout.write(f"validate lognorm: {result['network']}; {result['method']} networks, {samples} samples, "
                     f"seed {args.seed}\n")
    rows = []
    for r in result["rows"]:
        row = {"layer": r["layer"], "nonzero": r["nonzero"], "P(x=0)": r["p_zero"]["exact"],
               "P(x=0) sim": r["p_zero"]["estimate"]["mean"], "z": f"{r['p_zero']['z']:.2f}"}
        for key in ("mean", "variance"):
            if key in r:
                row.update({key: r[key]["exact"], f"{key} sim": r[key]["estimate"]["mean"], f"z {key}": f"{r[key]['z']:.2f}"})
        if "ks_gaussian" in r:
            row["KS gauss"] = f"{r['ks_gaussian']:.4f}"
        if "ks_exact" in r:
            row["KS exact"] = f"{r['ks_exact']:.4f} (<= {r['ks_critical']:.4f})"
        row["verdict"] = "pass" if r["passed"] else "FAIL"
        rows.append(row)
    sys.stdout.write(render(rows, "table") + "\n")
    if "fractional" in result:
        f = result["fractional"]
        p = f["per_layer_ratio"]
        sys.stdout.write(f"E||x_l||^s, s={f['s']:g}: per-layer ratio over {p['pairs']} (network, layer) pairs "
                         f"{p['estimate']['mean']:.6g} (exact 1, z {p['z']:.2f}); direct checks at layers 1-"
                         f"{f['deepest_direct_layer']} (where Var||x_l||^s/(E||x_l||^s)^2 <= 2): "
                         f"{'all pass' if all(d['passed'] for d in f['direct']) else 'FAIL'}\n")
    sys.stdout.write(f"validate lognorm: {'passed' if ok else 'FAILED'} (z-tests at 4.5 standard errors, "
                     "false-failure rate 6.8e-6 each)\n")
    return 0 if ok else 1


#: Options of ``validate QUANTITY``: given to the default suite, they would be ignored.
_QUANTITY_OPTIONS = ("widths", "rank", "c", "c_out", "bias_var", "input", "direction", "seed", "method", "moment",
                     "curve", "plot", "sweep")


def _refuse_network_options(args) -> None:
    """The default suite runs on its own networks: an architecture option without a QUANTITY is an error.

    An option counts as given when it differs from the parser's default (``args.quantity_defaults``).
    """
    for option, default in args.quantity_defaults.items():
        if getattr(args, option) != default:
            raise MaxboundsValueError(option, "applies to 'validate QUANTITY' (e.g. 'maxbounds validate jacobian "
                                              "--widths 3,8,8,2'); the default suite runs on its own networks")
    if args.samples != 100_000:
        raise MaxboundsValueError("samples", "applies to 'validate QUANTITY'; the default suite sets its own sizes")


def run(args) -> int:
    if args.quantity == "lognorm":
        return _run_lognorm(args)
    for option in ("activation", "s", "layers", "slopes"):
        if getattr(args, option) is not None:
            raise MaxboundsValueError(option, "applies to 'validate lognorm'")
    if args.samples is None:
        args.samples = 100_000
    if args.quantity is not None:
        if args.curve is not None and args.quantity != "length":
            raise MaxboundsValueError("curve", f"applies to 'validate length', not to 'validate {args.quantity}'")
        if args.moment and args.quantity != "jacobian":
            raise MaxboundsValueError("moment", f"applies to 'validate jacobian', not to 'validate {args.quantity}'")
        args.curve = args.curve or "segment"
        return _run_single(args)
    _refuse_network_options(args)
    names = args.suite or suite_names()
    start = time.perf_counter()
    with progress_bar("validating", enabled=not args.quiet, compiles=True) as progress:
        results = run_suite(names, progress=progress)
    seconds = time.perf_counter() - start
    failed = [c for c in results if not c.passed]
    if args.format == "json":
        payload = {
            "suites": names,
            "passed": not failed,
            "counts": {"checks": len(results), "passes": len(results) - len(failed), "failures": len(failed),
                       "validation": sum(c.role == "validation" for c in results),
                       "consistency": sum(c.role == "consistency" for c in results)},
            "median_detectable": _median([c.power for c in results if c.role == "validation"]),
            "seconds": seconds,
            "checks": [c.as_dict() for c in results],
        }
        output.write(sys.stdout, "validate", payload)
    else:
        for role, title in (("validation", "Validation checks"),
                            ("consistency", "Consistency checks (cannot detect a 10% error; not counted as validation)")):
            rows = [_row(c) for c in results if c.role == role]
            if rows:
                sys.stdout.write(f"{title}\n{render(rows, 'table')}\n\n")
        sys.stdout.write(
            f"validate: {len(results) - len(failed)} passed, {len(failed)} failed "
            f"({len(results)} checks, suites: {', '.join(names)}; {seconds:.1f} s)\n"
            f"Power: {_power_summary(results)}.\n"
        )
        sys.stdout.write("Checked: " + "; ".join(_SCOPE[n] for n in names) + f". Not checked: {_NOT_YET}.\n")
    return 1 if failed else 0
