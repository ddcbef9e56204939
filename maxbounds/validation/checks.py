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


def validate(quantity: str | None = None, arch=None, *, suites=None, x=None, u=None, samples: int = 100_000,
             seed: int = 0, method: str | None = None, moments=(), curve: str = "segment", progress=None):
    """Validate maxbounds: the Python side of ``maxbounds validate``.

    Without ``quantity``, run the validation suites (``suites``: names from
    :func:`suite_names`, default all) and return their :class:`Check` records,
    as ``maxbounds validate [--suite NAME]`` does.  With ``quantity`` (one of
    ``jacobian``, ``activation``, ``cosine``, ``gradient``, ``ntk``, ``length``)
    and an :class:`~maxbounds.architecture.Architecture` ``arch``, run that
    estimator against its theory as ``maxbounds validate QUANTITY --widths ...``
    does and return its result dict with ``"passed"`` added.  Defaults follow
    the command: input ``x = (1, ..., 1)/sqrt(n_0)``, direction ``u = e_1``,
    method ``explicit`` for gradient, ntk and length and ``chain`` otherwise.
    ``progress(total)`` may return a callable advanced as work finishes.
    """
    from .._validate import MaxboundsValueError

    if quantity is None:
        if arch is not None:
            raise MaxboundsValueError("quantity", "an architecture is validated per quantity: give a quantity")
        known = suite_names()
        for name in [] if suites is None else list(suites):
            if name not in known:
                raise MaxboundsValueError("suites", f"unknown suite {name!r}; choose from {', '.join(known)}")
        return run_suite(suites, progress=progress)
    import numpy as np

    from . import single

    if quantity not in single.QUANTITIES:
        raise MaxboundsValueError("quantity", f"unknown quantity {quantity!r}; choose from {', '.join(single.QUANTITIES)}")
    if arch is None:
        raise MaxboundsValueError("arch", f"validating {quantity!r} needs an architecture")
    backward = quantity in ("gradient", "ntk", "length")
    if backward and method == "chain":
        raise MaxboundsValueError("method", f"{quantity!r} needs explicit networks: use method='explicit'")
    method = method or ("explicit" if backward else "chain")
    x = np.full(arch.n_in, 1 / np.sqrt(arch.n_in)) if x is None else np.asarray(x, dtype=float)
    u = np.eye(arch.n_in)[0] if u is None else np.asarray(u, dtype=float)
    advance = progress(single.work(quantity, samples)) if progress else None
    result = single.run(quantity, arch, x, u, samples, seed, method, moments=moments, curve=curve, advance=advance)
    return {**result, "passed": single.passed(result)}
