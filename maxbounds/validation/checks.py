"""Check records and the registry of suites."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator


@dataclasses.dataclass(frozen=True)
class Check:
    """One comparison of a maxbounds value with an independent reference.

    ``kind`` is ``"relative"`` (``discrepancy`` = relative error), ``"z"``
    (``discrepancy`` = ``abs(estimate - exact)`` / standard error, or for
    bounds the number of standard errors outside ``[reference,
    reference_upper]``) or ``"ks"`` (two-sample Kolmogorov-Smirnov statistic
    against its critical value); in every case the check passes when
    ``discrepancy <= tolerance``.
    """

    suite: str
    name: str
    K: int
    t: float
    value: float
    reference: float
    method: str
    kind: str
    discrepancy: float
    tolerance: float
    reference_upper: float | None = None

    @property
    def passed(self) -> bool:
        return bool(self.discrepancy <= self.tolerance)

    def as_dict(self) -> dict:
        """The fields and the verdict, NaN (no reference) as ``None`` so that the JSON is valid."""
        fields = {key: (None if isinstance(value, float) and value != value else value)
                  for key, value in dataclasses.asdict(self).items()}
        return {**fields, "passed": self.passed}


def relative_error(value, reference) -> float:
    """``|value - reference| / |reference|`` (absolute error if the reference is 0)."""
    value, reference = float(value), float(reference)
    scale = abs(reference) if reference != 0 else 1.0
    return abs(value - reference) / scale


def _suites() -> dict[str, Callable[[], Iterator[Callable[[], Check]]]]:
    from . import constants, network, regions

    return {"constants": constants.checks, "network": network.checks, "regions": regions.checks}


def suite_names() -> list[str]:
    """Names of the suites in the default validation run."""
    return list(_suites())


def run_suite(names=None, progress=None) -> list[Check]:
    """Run the named suites (default: all) and return their checks.

    ``progress(total)`` may return a callable that is called once per
    finished check (used for progress bars).
    """
    suites = _suites()
    names = list(suites) if names is None else list(names)
    tasks = [task for name in names for task in suites[name]()]
    advance = progress(len(tasks)) if progress else None
    results = []
    for task in tasks:
        results.append(task())
        if advance:
            advance()
    return results
