r"""Sweeps of an architecture over depth or over the hidden layers' weight scale.

:func:`depth_sweep` follows one rule for a per-layer spec (the widths, ranks,
scales and bias variances of the hidden layers):

* at the architecture's own depth the architecture is used **as is**, so the
  sweep's row at that depth is exactly the result without a sweep;
* at another depth every per-layer list of the hidden layers must be
  **constant**; it is then repeated to the new number of hidden layers, and
  the output layer keeps its width, scale ``c_L`` and bias variance;
* otherwise the depth is ambiguous and the sweep is refused with a one-line
  :class:`~maxbounds.MaxboundsValueError` naming the option (``--widths``,
  ``--rank``, ``--c`` or ``--bias-var``).

For example ``--widths 3,8,8,2 --rank 3,5`` sweeps to ``depth=3`` only; with
``--rank 3`` it sweeps to any depth.  A named scale (``1/M``) stays symbolic,
so each layer evaluates it at its own rank.  Depths count the weight layers
(the output included), so they are at least 2.

:func:`scale_sweep` sets the scale of every hidden layer to each value in
turn (numbers or named scales); the output scale is unchanged.
:func:`parse_sweep` reads the command line's ``depth=2-10``, ``depth=2,4,8``
or ``c=0.5,1,1/M``.
"""

from __future__ import annotations

import re

from .._validate import MaxboundsValueError
from ..architecture import Architecture

__all__ = ["depth_sweep", "scale_sweep", "parse_sweep", "sweep_point", "point_label", "MAX_SWEEP"]

#: Most architectures one sweep may hold.
MAX_SWEEP = 10_000

_RANGE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")
_INT = re.compile(r"^\s*(\d+)\s*$")


def _check_arch(arch):
    if not isinstance(arch, Architecture):
        raise MaxboundsValueError("arch", f"expected an Architecture, got {type(arch).__name__}")
    return arch


def _constant(values, argument, depth, given):
    """The one value of a constant per-layer list, or the refusal naming ``argument``."""
    values = tuple(values)
    if len(set(values)) == 1:
        return values[0]
    shown = ",".join(v if isinstance(v, str) else f"{v:g}" for v in values)
    raise MaxboundsValueError(
        argument, f"the per-layer values {shown} fit depth {given} only; a sweep to depth {depth} repeats a "
                  f"single value over the hidden layers, so give one (or sweep to depth {given} only)")


def depth_sweep(arch: Architecture, depths) -> list:
    """One architecture per depth in ``depths``, by the rule of the module docstring."""
    arch = _check_arch(arch)
    depths = list(depths)
    if not depths or len(depths) > MAX_SWEEP:
        raise MaxboundsValueError("sweep", f"give between 1 and {MAX_SWEEP} depths")
    for d in depths:
        if isinstance(d, bool) or not isinstance(d, int) or d < 2:
            raise MaxboundsValueError(
                "sweep", f"a depth counts the output layer, so it must be an integer >= 2, got {d!r}")
    if arch.depth < 2:
        raise MaxboundsValueError("sweep", "a depth sweep needs a hidden layer to repeat")
    if arch.conv is not None and any(d != arch.depth for d in depths):
        raise MaxboundsValueError("sweep", "a depth sweep of a convolutional architecture is not defined")
    out = []
    for d in depths:
        if d == arch.depth:
            out.append(arch)
            continue
        given = arch.depth
        width = _constant(arch.hidden_widths, "widths", d, given)
        rank = _constant(arch.ranks, "rank", d, given)
        scale = _constant(arch.c_spec, "c", d, given)
        beta = _constant(arch.bias_var[:-1], "bias_var", d, given)
        out.append(Architecture((arch.n_in, *[width] * (d - 1), arch.n_out), ranks=rank, c=scale,
                                c_out=arch.c_out, bias_var=(*[beta] * (d - 1), arch.bias_var[-1])))
    return out


def scale_sweep(arch: Architecture, scales) -> list:
    """One architecture per hidden-layer scale in ``scales`` (numbers > 0 or ``1/M``, ``1/L``, ``1/S``)."""
    arch = _check_arch(arch)
    scales = list(scales)
    if not scales or len(scales) > MAX_SWEEP:
        raise MaxboundsValueError("sweep", f"give between 1 and {MAX_SWEEP} scales")
    try:
        return [arch.with_(c=value) for value in scales]
    except MaxboundsValueError as error:
        raise MaxboundsValueError("sweep", error.problem) from None


def _depths(text, spec):
    depths = []
    for part in text.split(","):
        match = _RANGE.match(part)
        if match:
            lo, hi = int(match.group(1)), int(match.group(2))
            if hi < lo or hi - lo + 1 + len(depths) > MAX_SWEEP:
                raise MaxboundsValueError("sweep", f"expected depth=2-10 or depth=2,4,8, got {spec!r}")
            depths.extend(range(lo, hi + 1))
        elif _INT.match(part):
            depths.append(int(part))
        else:
            raise MaxboundsValueError("sweep", f"expected depth=2-10 or depth=2,4,8, got {spec!r}")
    return depths


def parse_sweep(arch: Architecture, spec: str) -> tuple:
    """``(key, [(value, Architecture), ...])`` for ``depth=2-10``, ``depth=2,4,8`` or ``c=0.5,1,1/M``."""
    key, _, values = str(spec).partition("=")
    key = key.strip()
    if key == "depth":
        depths = _depths(values, spec)
        return "depth", list(zip(depths, depth_sweep(arch, depths)))
    if key == "c":
        items = [v.strip() for v in values.split(",") if v.strip()]
        if not items:
            raise MaxboundsValueError("sweep", f"expected c=0.5,1,1/M, got {spec!r}")
        return "c", list(zip(items, scale_sweep(arch, items)))
    raise MaxboundsValueError("sweep", f"expected depth=... or c=..., got {spec!r}")


def sweep_point(key: str, value, arch: Architecture) -> dict:
    """Where one architecture of a sweep lies: ``{"depth": L}``, or ``{"c": c_1, "c_rule": "1/M" or None}``."""
    if key == "depth":
        return {"depth": value}
    return {"c": arch.c[0], "c_rule": arch.c_rules[0]}


def point_label(point: dict):
    """The table cell of a :func:`sweep_point`: the depth, or the scale (``0.5``; ``1/M (0.784)`` where named)."""
    if "depth" in point:
        return point["depth"]
    return f"{point['c_rule']} ({point['c']:.6g})" if point["c_rule"] else f"{point['c']:.6g}"
