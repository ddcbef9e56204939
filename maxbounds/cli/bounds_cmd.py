"""``maxbounds bounds``: the analytic bounds and exact laws for an architecture."""

from __future__ import annotations

import math
import sys

import numpy as np

from ..architecture import Architecture
from ..laws import exact, gradients, jacobian
from ..laws.sweep import point_label, sweep_point
from ..report import output, render
from ._parse import add_digits_option, nonnegative_real

HELP = "Bounds and exact laws of gradients at initialisation for a maxout architecture."
QUANTITIES = ("jacobian", "activation", "gradient", "ntk", "length", "regions", "lognorm")

#: Command-line options of the Python arguments of ``bounds regions``, for error messages.
OPTION_NAMES = {"box": "--box", "c_grad": "--c-grad", "networks": "--networks", "order": "--order",
                "points": "--box", "slope": "--slope", "slopes": "--slopes", "activation": "--activation",
                "quantiles": "--quantiles", "eps": "--eps", "layers": "--layers", "q": "--quantiles"}


def add_architecture_options(parser, required: bool = True):
    """The options that describe an :class:`~maxbounds.architecture.Architecture`."""
    parser.add_argument("--widths", required=required, metavar="N0,N1,...,NL",
                        help="layer widths, input first, output last; 8x3 repeats a width (3,8x3,2)")
    parser.add_argument("--rank", "-K", default="2", metavar="K",
                        help="rank of every hidden layer, or one per hidden layer (2,3,5); default 2")
    parser.add_argument("--c", default="1", metavar="C",
                        help="weight scale of the hidden layers: a number or 1/M, 1/L, 1/S (one or per layer)")
    parser.add_argument("--c-out", default="1", metavar="C_L", help="weight scale of the linear output layer")
    parser.add_argument("--bias-var", default="0", metavar="B",
                        help="bias variance of every layer, or one per layer (output included); default 0")


def architecture_from(args) -> Architecture:
    return Architecture.parse(args.widths, args.rank, args.c, args.c_out, args.bias_var)


def parse_vector(text: str, argument: str, length: int) -> np.ndarray:
    """A comma-separated vector of ``length`` finite numbers."""
    from .._validate import MaxboundsValueError

    try:
        values = np.array([float(v) for v in text.split(",")])
    except ValueError:
        raise MaxboundsValueError(argument, f"expected comma-separated numbers, got {text!r}") from None
    if values.size != length:
        raise MaxboundsValueError(argument, f"expected {length} numbers (the input width), got {values.size}")
    if not np.all(np.isfinite(values)):
        raise MaxboundsValueError(argument, "the entries must be finite")
    return values


def add_parser(commands):
    parser = commands.add_parser("bounds", help=HELP, description=HELP)
    parser.add_argument("quantity", choices=QUANTITIES, help="which result to print")
    add_architecture_options(parser)
    parser.add_argument("--moment", type=nonnegative_real, nargs="+", default=[], metavar="t",
                        help="jacobian: also bound E||J u||^(2t) for these orders")
    parser.add_argument("--input", default=None, metavar="X",
                        help="input x as comma-separated numbers (default: the unit vector (1,...,1)/sqrt(n0))")
    parser.add_argument("--symbolic", action="store_true",
                        help="jacobian: print the mean bounds as sympy expressions (LaTeX with --format latex)")
    parser.add_argument("--relu", action="store_true",
                        help="jacobian: also print the exact law of a ReLU network of the same widths and scales")
    parser.add_argument("--sweep", default=None, metavar="depth=2-10 | c=0.5,1,1/M",
                        help="jacobian: a table of the bounds over depths or over hidden-layer scales c; a "
                             "per-layer --widths/--rank/--c/--bias-var is used as given at its own depth and "
                             "repeated at other depths only when constant (otherwise refused)")
    regions = parser.add_argument_group("regions", "options of 'bounds regions'")
    regions.add_argument("--box", default="-1,1", metavar="LO,HI",
                         help="regions: the cube [LO,HI]^n0 in which to bound the expected counts (default -1,1)")
    regions.add_argument("--c-grad", default="analytic", metavar="analytic|simulated|VALUE",
                         help="regions: C_grad from the Jacobian bounds (default), simulated from random networks "
                              "on a grid in the box, or a given number")
    regions.add_argument("--order", default=None, metavar="t",
                         help="regions: moment order t of C_grad (default n0)")
    regions.add_argument("--networks", type=int, default=100, metavar="N",
                         help="regions: networks for --c-grad simulated (default 100)")
    regions.add_argument("--seed", type=int, default=0, help="regions: seed for --c-grad simulated (default 0)")
    add_lognorm_options(parser.add_argument_group("lognorm", "options of 'bounds lognorm' (zero biases)"))
    parser.add_argument("--format", choices=("table", "json", "latex"), default="table")
    add_digits_option(parser)
    # "--box -3,3" reaches --box through maxbounds.cli.main._join_signed_values
    parser.set_defaults(run=run)
    return parser


def add_lognorm_options(group, quantiles=True):
    """--activation, --slope, --slopes, --s, --layers (and --quantiles, --eps) of the log-norm law."""
    from .init_cmd import add_activation_options

    add_activation_options(group, default=None, help_suffix=" (lognorm; default maxout)")
    group.add_argument("--s", type=float, default=None, metavar="S",
                       help="lognorm: initialise every hidden layer with the fractional scheme of order S in (0, 2] "
                            "(otherwise the scales are --c)")
    group.add_argument("--layers", default=None, metavar="L1,L2,...",
                       help="lognorm: the layers to report (default 1, 10, 100, 1000 within the depth, and the last)")
    if quantiles:
        group.add_argument("--quantiles", default="0.01,0.1,0.5,0.9,0.99", metavar="Q1,Q2,...",
                           help="lognorm: quantile levels of log||x_l|| given x_l != 0")
        group.add_argument("--eps", default=None, metavar="E1,E2,...",
                           help="lognorm: also P(||x_l|| <= eps ||x_0||), the atom at zero included")


def _number_list(text, argument, low=None, high=None, integer=False):
    from .._validate import MaxboundsValueError

    try:
        values = [int(v) if integer else float(v) for v in str(text).split(",")]
    except ValueError:
        raise MaxboundsValueError(argument, f"expected comma-separated {'integers' if integer else 'numbers'}, "
                                            f"got {text!r}") from None
    for v in values:
        if not math.isfinite(v) or (low is not None and v <= low) or (high is not None and v >= high):
            bounds = f"in ({low:g}, {high:g})" if high is not None else f"> {low:g}"
            raise MaxboundsValueError(argument, f"every value must be {bounds}, got {v:g}")
    return values


def lognorm_network(args, arch):
    """The Serial of ``bounds/validate lognorm``: --activation hidden layers (fractional with --s), linear output."""
    from .._validate import MaxboundsValueError
    from ..laws.init import init_network
    from .init_cmd import hidden_network

    if args.activation is None:
        args.activation = "maxout"
    net = hidden_network(arch, args)
    if args.s is not None:
        from ..layers.base import check_moment_order

        check_moment_order(args.s)
        net = init_network(net, "fractional", s=args.s).network
    for layer in net:
        if layer.bias_var > 0:
            raise MaxboundsValueError("bias_var", "the log-norm law is derived for zero biases; give --bias-var 0")
    return net


def lognorm_layers(args, depth):
    from .._validate import MaxboundsValueError

    if args.layers is None:
        return sorted({l for l in (1, 10, 100, 1000) if l <= depth} | {depth})
    layers = _number_list(args.layers, "layers", integer=True)
    for l in layers:
        if not 1 <= l <= depth:
            raise MaxboundsValueError("layers", f"every layer must lie in 1..{depth}, got {l}")
    return layers


def lognorm_result(args, arch, net) -> dict:
    """The JSON-ready result of ``maxbounds bounds lognorm`` for ``net = lognorm_network(args, arch)``."""
    from ..laws.lognorm import LogNormLaw

    x = _input(args, arch)
    law = LogNormLaw(net, x0_norm=float(np.sqrt(x @ x)))
    levels = _number_list(args.quantiles, "quantiles", 0.0, 1.0)
    eps = [] if args.eps is None else _number_list(args.eps, "eps", 0.0)
    rows = []
    for l in lognorm_layers(args, net.depth):
        method = "exact" if law.has_exact_cdf(l) else "gaussian"
        row = {"layer": l, "p_zero": law.p_zero(l), "mean": law.mean(l), "variance": law.var(l), "std": law.std(l),
               "quantile_method": method,
               "quantiles": {f"{q:g}": float(v) for q, v in zip(levels, np.atleast_1d(law.ppf(levels, l, method)))}}
        if method == "exact":
            row["quantiles_gaussian"] = {f"{q:g}": float(v) for q, v in
                                         zip(levels, np.atleast_1d(law.ppf(levels, l, "gaussian")))}
        if eps:
            row["p_small"] = {f"{e:g}": law.small_output_probability(e, l, method) for e in eps}
        rows.append(row)
    from ..laws.lognorm import describe_layers

    return {"quantity": "lognorm", "network": describe_layers(net), "activation": args.activation, "s": args.s,
            "input_norm": law.x0_norm, "depth": net.depth, "layers": rows,
            "note": "log||x_l|| (natural log) given x_l != 0; p_zero = P(x_l = 0) = 1 - prod(1 - P(Y_m = 0)); "
                    "p_small includes the atom at zero"}


def _lognorm_rows(result) -> list:
    rows = []
    for r in result["layers"]:
        row = {"layer": r["layer"], "P(x=0)": r["p_zero"], "mean": r["mean"], "variance": r["variance"]}
        row.update({f"q{q}": v for q, v in r["quantiles"].items()})
        row["quantiles"] = r["quantile_method"]
        row.update({f"P(<= {e} |x0|)": v for e, v in r.get("p_small", {}).items()})
        rows.append(row)
    return rows


def _input(args, arch):
    if args.input is None:
        return np.full(arch.n_in, 1.0 / math.sqrt(arch.n_in))
    return parse_vector(args.input, "input", arch.n_in)


#: Natural logs of the smallest normal and the largest double: a value outside is printed in log form.
_LOG_TINY, _LOG_HUGE = math.log(np.finfo(float).tiny), math.log(np.finfo(float).max)
#: Prefix of the JSON key that carries the base-10 log of a value outside the double range.
LOG10_PREFIX = "log10_"


def _from_logs(obj):
    """``obj`` (nested dicts and lists of natural logs) as values, log form where a double cannot hold them.

    A log of ``-inf`` is the exact value ``0.0``; a log within the double
    range (normal numbers) its ``exp``, exactly as the non-log API computes it;
    any other log makes the value ``None`` and adds ``log10_<key>`` (finite)
    right after it.  Integers (layer numbers) and strings pass unchanged.
    """
    if isinstance(obj, list):
        return [_from_logs(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    out = {}
    for key, value in obj.items():
        if isinstance(value, (dict, list)):
            out[key] = _from_logs(value)
        elif isinstance(value, (float, np.floating)):
            value = float(value)
            if value == -math.inf:
                out[key] = 0.0
            elif _LOG_TINY <= value <= _LOG_HUGE:
                out[key] = math.exp(value)
            else:
                out[key] = None
                out[LOG10_PREFIX + key] = value / math.log(10)
        else:
            out[key] = value
    return out


def log10_text(log10: float, digits: int = 6) -> str:
    """A decimal mantissa-exponent string (``1.3e-7149``) of the number whose base-10 log is ``log10``."""
    exponent = math.floor(log10)
    mantissa = round(10 ** (log10 - exponent), digits - 1)
    if mantissa >= 10:
        mantissa, exponent = mantissa / 10, exponent + 1
    return f"{mantissa:.{digits}g}e{exponent}"


def _cell(entry: dict, key: str, missing="-"):
    """The table cell of ``entry[key]``: the number, its log form, or ``missing`` when absent."""
    if LOG10_PREFIX + key in entry:
        return log10_text(entry[LOG10_PREFIX + key])
    return entry.get(key, missing)


def _log_diff_or_inf(log_a: float, log_b: float) -> float:
    """``log(exp(log_a) - exp(log_b))``, ``-inf`` when it is not positive."""
    if not log_a > log_b:
        return -math.inf
    return log_a + math.log1p(-math.exp(log_b - log_a))


def compute(quantity: str, arch: Architecture, x=None, moments=(), relu: bool = False) -> dict:
    """The result printed by ``maxbounds bounds QUANTITY`` as a JSON-ready dict.

    Every value is computed in log space (the ``log=True`` API) and written as a
    number when a double holds it; otherwise the number is ``None`` and
    ``log10_<key>`` carries its (finite) base-10 logarithm, so depth ``10^4`` or
    ``--c 1e-320`` never overflow.  An exact zero is ``0.0``.
    """
    header = {"quantity": quantity}
    if quantity == "jacobian":
        logs = jacobian.jacobian_moment_bounds(arch, moments=moments, log=True)
        if relu:
            law = jacobian.ReLUJacobianLaw(arch)
            log_mean, log_second = law.log_mean(), law.log_moment(2)
            logs["relu_reference"] = {"mean": log_mean, "second_moment": log_second,
                                      "variance": _log_diff_or_inf(log_second, 2 * log_mean)}
        return {**header, **_from_logs(logs)}
    if quantity == "length":
        return {**header, **_from_logs(gradients.length_bounds(arch, log=True))}
    if quantity == "gradient":
        return {**header, "input_sq_norm": float(x @ x),
                "layers": _from_logs(gradients.gradient_bounds(arch, x, log=True))}
    if quantity == "ntk":
        return {**header, "input_sq_norm": float(x @ x), **_from_logs(gradients.ntk_bounds(arch, x, log=True))}
    log_mean, log_var = exact.activation_length_mean_var(arch, x, log=True)
    return {**header, "input_sq_norm": float(x @ x), "layers": _from_logs([
        {"layer": l, "mean": float(m), "variance": float(v)} for l, (m, v) in enumerate(zip(log_mean, log_var))
    ])}


def _rows(result: dict) -> list[dict]:
    q = result["quantity"]
    if q in ("jacobian", "length"):
        rows = [{"quantity": k, "lower": _cell(v, "lower"), "upper": _cell(v, "upper")}
                for k, v in result.items() if isinstance(v, dict) and "upper" in v]
        relu = result.get("relu_reference", {})
        return rows + [{"quantity": f"relu_{k} (exact)", "lower": _cell(relu, k), "upper": _cell(relu, k)}
                       for k in relu if not k.startswith(LOG10_PREFIX)]
    if q == "ntk":
        rows = [{"layer": r["layer"], "lower": _cell(r, "lower"), "upper": _cell(r, "upper")} for r in result["layers"]]
        return rows + [{"layer": "total", "lower": _cell(result, "lower"), "upper": _cell(result, "upper")}]
    if q == "gradient":
        rows = []
        for r in result["layers"]:
            for key in ("weight_nonzero", "weight_per_k", "weight_layer_sum", "bias_nonzero", "bias_per_k"):
                rows.append({"layer": r["layer"], "quantity": key, "lower": _cell(r[key], "lower"),
                             "upper": _cell(r[key], "upper")})
        return rows
    return [{"layer": r["layer"], "mean_sq_norm": _cell(r, "mean"), "var_sq_norm": _cell(r, "variance")}
            for r in result["layers"]]


def sweep_architectures(arch: Architecture, spec: str) -> tuple[str, list]:
    """``(key, [(value, Architecture), ...])`` for ``depth=2-10`` or ``c=0.5,1,1/M`` (see laws.sweep)."""
    from ..laws.sweep import parse_sweep

    return parse_sweep(arch, spec)


def sweep_rows(arch: Architecture, spec: str) -> list[dict]:
    """Rows of mean and second-moment bounds of ``||J u||^2`` over a sweep."""
    key, archs = sweep_architectures(arch, spec)
    rows = []
    for value, a in archs:
        b = jacobian.jacobian_moment_bounds(a, log=True)
        rows.append({**sweep_point(key, value, a), **_from_logs({
                                "mean_lower": b["mean"]["lower"], "mean_upper": b["mean"]["upper"],
                                "second_lower": b["second_moment"]["lower"],
                                "second_upper": b["second_moment"]["upper"]})})
    return rows


def _sweep_table_rows(rows: list[dict]) -> list[dict]:
    """Sweep rows for a table: a value outside the double range in log form, no ``log10_`` columns."""
    return [{k: _cell(r, k) for k in r if not k.startswith(LOG10_PREFIX)} for r in rows]


def _parse_box(text: str) -> tuple:
    from .._validate import MaxboundsValueError

    parts = text.split(",")
    try:
        lo, hi = (float(p) for p in parts)
    except ValueError:
        raise MaxboundsValueError("box", f"expected LO,HI (two numbers), got {text!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or not hi > lo:
        raise MaxboundsValueError("box", f"expected finite LO < HI, got {text!r}")
    return lo, hi


def _c_grad_option(text: str):
    if text in ("analytic", "simulated"):
        return text
    from .._validate import MaxboundsValueError

    try:
        value = float(text)
    except ValueError:
        raise MaxboundsValueError("c_grad", f"expected analytic, simulated or a number > 0, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise MaxboundsValueError("c_grad", f"expected analytic, simulated or a number > 0, got {text!r}")
    return value


def regions_result(args, arch: Architecture) -> dict:
    """The JSON-ready result of ``maxbounds bounds regions``."""
    from ..laws.regions import asymptotic_forms, region_bounds

    box = _parse_box(args.box)
    order = None if args.order is None else _parse_order(args.order)
    bounds = region_bounds(arch, c_grad=_c_grad_option(args.c_grad), order=order, box=box,
                           networks=args.networks, seed=args.seed)
    result = {"quantity": "regions", **bounds.as_dict(box=box), "asymptotic": asymptotic_forms(bounds)}
    del result["architecture"]  # the envelope's structured architecture replaces the summary line
    result["assumptions"] = {
        "N": "number of hidden maxout units; K: the largest rank",
        "biases": "independent N(0, beta_l), beta_l > 0, independent of the weights; C_bias = max_l 1/sqrt(2 pi beta_l)",
        "c_grad": f"sup over inputs and features of E||grad zeta||^t, t = {bounds.order:g} "
                  + ("(an upper bound)" if bounds.c_grad_method == "analytic" else
                     "(a simulated estimate on a grid in the box, not a bound)" if bounds.c_grad_method == "simulated"
                     else "(given)"),
        "side_length": box[1] - box[0],
        "delta0": "regions and pieces are stated for cubes with side >= 1/(2 C_grad C_bias); "
                  "breakpoints hold on every segment",
        "side_condition_met": bool(result["regions"]["side_condition_met"] and result["pieces"]["side_condition_met"]),
    }
    return result


def _parse_order(text):
    from .._validate import MaxboundsValueError

    try:
        return float(text)
    except ValueError:
        raise MaxboundsValueError("order", f"expected a number >= 1, got {text!r}") from None


def _regions_rows(result: dict) -> list[dict]:
    rows = []
    for key, label in (("regions", "regions"), ("pieces", "decision-boundary pieces"),
                       ("breakpoints_per_length", "breakpoints per unit length")):
        entry = result[key]
        rows.append({"quantity": label, "per unit volume": _num(entry["per_unit_volume"], entry["log10_per_unit_volume"]),
                     "in the box": _num(entry["in_box"], entry["log10_in_box"]),
                     "min side (delta0)": "-" if entry["delta0"] is None else entry["delta0"]})
    rows.append({"quantity": "pieces on an edge of the box", "per unit volume": "-",
                 "in the box": _num(result["breakpoints_per_length"]["pieces_on_edge"], None), "min side (delta0)": "-"})
    cg, cb = result["c_grad"], result["c_bias"]
    rows.append({"quantity": f"C_grad ({cg['method']}, t={cg['order']:g})", "per unit volume": cg["hidden"],
                 "in the box": "-", "min side (delta0)": "-"})
    rows.append({"quantity": "C_bias", "per unit volume": cb["hidden"], "in the box": "-", "min side (delta0)": "-"})
    return rows


def _num(value, log10):
    if value is None:
        return f"1e{log10:.2f}" if log10 is not None else "overflow"
    return value


def run(args) -> int:
    arch = architecture_from(args)
    from .._validate import MaxboundsValueError

    if args.quantity == "lognorm":
        net = lognorm_network(args, arch)
        result = lognorm_result(args, arch, net)
        if args.format == "json":
            payload = {k: v for k, v in result.items() if k != "network"}
            output.write(sys.stdout, "bounds", payload, output.architecture_json(
                net, description=result["network"], activation=args.activation))
            return 0
        caption = (f"maxbounds bounds lognorm: law of log||x_l|| given x_l != 0 (zero biases), {args.activation}"
                   + (f", fractional s={args.s:g}" if args.s is not None else "") + f"; {result['network']}")
        if args.format == "table":
            sys.stdout.write(caption + "\n")
        sys.stdout.write(render(_lognorm_rows(result), args.format, digits=args.digits, caption=caption) + "\n")
        return 0
    for option in ("activation", "s", "layers", "eps", "slopes"):
        if getattr(args, option) is not None:
            raise MaxboundsValueError(option, "applies to 'bounds lognorm'")

    if args.quantity == "regions":
        result = regions_result(args, arch)
        if args.format == "json":
            output.write(sys.stdout, "bounds", result, arch)
            return 0
        caption = f"maxbounds bounds regions: {arch.describe()}, box [{args.box}]^{arch.n_in}"
        if args.format == "table":
            sys.stdout.write(caption + "\n")
        sys.stdout.write(render(_regions_rows(result), args.format, digits=args.digits, caption=caption) + "\n")
        if not result["assumptions"]["side_condition_met"]:
            sys.stderr.write("warning: the box is smaller than delta0 = 1/(2 C_grad C_bias); the region and "
                             "decision-boundary statements are not guaranteed for it\n")
        return 0

    if args.symbolic and args.quantity != "jacobian":
        raise MaxboundsValueError("symbolic", "symbolic output is available for 'bounds jacobian'")
    if args.moment and args.quantity != "jacobian":
        raise MaxboundsValueError("moment", f"applies to 'bounds jacobian' (moments of ||J u||^2), not to "
                                            f"'bounds {args.quantity}'")
    if args.relu and args.quantity != "jacobian":
        raise MaxboundsValueError("relu", "the ReLU reference law is printed by 'bounds jacobian --relu'")
    if args.sweep is not None:
        from .._validate import MaxboundsValueError

        if args.quantity != "jacobian":
            raise MaxboundsValueError("sweep", "sweeps are available for 'bounds jacobian'")
        rows = sweep_rows(arch, args.sweep)
        if args.format == "json":
            output.write(sys.stdout, "bounds", {"quantity": "jacobian", "sweep": args.sweep, "rows": rows}, arch)
            return 0
        caption = f"bounds on E||J u||^2 and E||J u||^4 over {args.sweep}: {arch.describe()}"
        rows = [{k: point_label(r) if k == "c" else v for k, v in r.items() if k != "c_rule"} for r in rows]
        sys.stdout.write(render(_sweep_table_rows(rows), args.format, digits=args.digits, caption=caption) + "\n")
        return 0
    if args.symbolic:
        from ..laws import symbolic

        expressions = symbolic.jacobian_mean_bounds(arch)
        if args.format == "latex":
            import sympy

            from ..report.formats import latex_equations

            text = latex_equations({k: sympy.latex(v) for k, v in expressions.items()},
                                   caption=f"maxbounds bounds jacobian --symbolic: {arch.describe()}")
        elif args.format == "json":
            output.write(sys.stdout, "bounds", {"quantity": "jacobian",
                                                "expressions": {k: str(v) for k, v in expressions.items()}}, arch)
            return 0
        else:
            text = "\n".join(f"{k}: {v}" for k, v in expressions.items())
        sys.stdout.write(text + "\n")
        return 0
    x = _input(args, arch)
    result = compute(args.quantity, arch, x, args.moment, relu=args.relu)
    if args.format == "json":
        output.write(sys.stdout, "bounds", result, arch)
    else:
        caption = f"maxbounds bounds {args.quantity}: {arch.describe()}"
        if args.format == "table":
            sys.stdout.write(caption + "\n")
        sys.stdout.write(render(_rows(result), args.format, digits=args.digits, caption=caption) + "\n")
    return 0
