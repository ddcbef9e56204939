"""The validation suite: every computed quantity against an independent check.

A *check* compares one value of maxbounds with a reference computed another
way (high-precision quadrature, a closed form, an identity, a simulation)
and records the discrepancy, the tolerance it must meet and the verdict.
:func:`run_suite` runs the default suite; ``maxbounds validate`` prints it.
"""

from .checks import Check, run_suite, suite_names, validate

__all__ = ["Check", "run_suite", "suite_names", "validate"]
