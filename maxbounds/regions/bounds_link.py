"""The expected-complexity bounds that ``regions count`` prints beside its counts.

The bounds (:mod:`maxbounds.laws.regions`) are statements about the expected
counts of *random* maxout networks with Gaussian biases, so they are given
only when the counts are of networks drawn from an architecture:

* exact or grid counts in the square ``[lo, hi]^2`` of a two-input network:
  the bounds on the expected number of regions and of decision-boundary
  pieces in that cube (flagged when the side is below ``delta_0``);
* counts along a segment of length ``T``: ``1 + rho_1 T`` pieces.

Slices of networks with more than two inputs, rectangles, ReLU networks and
given weights get no bound, and the notes say why.
"""

from __future__ import annotations

import math

from .._validate import MaxboundsValueError
from ..architecture import Architecture


def bounds_for_count(model, box, method, plane, measure, *, relu: bool = False) -> dict:
    """``{"regions": ..., "pieces": ..., "density": ..., "notes": [...]}`` for the domain counted."""
    from ..laws.regions import region_bounds

    if not isinstance(model, Architecture):
        return {"notes": ["the bounds are on expected counts of random networks; none for a given network"]}
    if relu:
        return {"notes": ["the bounds are derived for maxout units with Gaussian biases on every feature; "
                          "none for ReLU"]}
    try:
        bounds = region_bounds(model)
    except MaxboundsValueError as error:
        return {"notes": [f"no bound: {error.problem}"]}
    if method == "line":
        return {"regions": bounds.breakpoints.pieces_on_segment(measure),
                "density": bounds.breakpoints.density,
                "notes": ["bound on the expected pieces along the segment: 1 + rho_1 * length (docs: regions_bounds)"]}
    if model.n_in != 2 or plane is not None:
        return {"notes": ["the region bounds are per unit volume of R^n0; a 2-D slice of a network with "
                          f"{model.n_in} inputs gets none"]}
    if isinstance(box[0], tuple):
        return {"notes": ["the region bounds are stated for cubes; give a square --box LO,HI"]}
    lo, hi = box
    notes = ["bounds on the expected counts in the cube (Tseran & Montufar 2021 as evaluated in the authors' code; "
             "assumptions in docs: regions_bounds)"]
    if not bounds.regions.side_ok(lo, hi):
        notes.append(f"the box side {hi - lo:g} is below delta_0 = {bounds.regions.delta0:.4g}: "
                     "the cube statement is not guaranteed there; shown anyway")
    out = {"regions": _value(bounds.regions, lo, hi), "pieces": _value(bounds.pieces, lo, hi),
           "density": _finite(bounds.regions.log_density)}
    if model.n_out not in (1, 2):
        out.pop("pieces")
    out["notes"] = notes
    return out


def _value(bound, lo, hi):
    return _finite(bound.log_in_box(lo, hi, strict=False))


def _finite(log_value):
    """The value, or a string ``'1e<log10>'`` past the double range (never a silent inf)."""
    if log_value < 700:
        return math.exp(log_value)
    return f"1e{log_value / math.log(10):.2f}"
