"""The expected-complexity bounds that ``regions count`` prints beside its counts."""

from __future__ import annotations


def bounds_for_count(model, box, method, plane, measure) -> dict:
    """Bounds on the expected counts for the domain counted (filled in when the bounds land)."""
    return {"notes": ["the expected-complexity bounds are not available yet"]}
