"""Check records and the registry of suites."""

from __future__ import annotations

import dataclasses
import math
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
    detectable: float | None = None

    @property
    def passed(self) -> bool:
        return bool(self.discrepancy <= self.tolerance)

    @property
    def stderr(self) -> float | None:
        """The standard error of a Monte Carlo value, as its ``method`` states it (``None`` for the others)."""
        import re

        found = re.search(r"stderr ([0-9.]+(?:e[-+]?[0-9]+)?)", self.method)
        return float(found.group(1)) if found else None

    @property
    def power(self) -> float:
        """:attr:`detectable`, or the tolerance of a relative check that gives none."""
        if self.detectable is not None:
            return float(self.detectable)
        return float(self.tolerance) if self.kind == "relative" else math.inf

    @property
    def role(self) -> str:
        """``"validation"`` when the check detects a relative error of 10% or less, else ``"consistency"``."""
        return "validation" if self.power <= VALIDATION_POWER else "consistency"

    def as_dict(self) -> dict:
        """The fields and the verdict, NaN (no reference) as ``None`` so that the JSON is valid."""
        fields = {key: (None if isinstance(value, float) and value != value else value)
                  for key, value in dataclasses.asdict(self).items()}
        power = self.power
        return {**fields, "detectable": None if math.isinf(power) else power, "role": self.role,
                "passed": self.passed}


#: A check counts as validation when it detects a relative error of this size.
VALIDATION_POWER = 0.10


def z_detectable(stderr: float, reference: float, tolerance: float) -> float:
    """Power of a z-check: ``tolerance * stderr / |reference|`` (``inf`` for a zero reference)."""
    return abs(tolerance * stderr / reference) if reference != 0 else math.inf


def bounds_detectable(value: float, stderr: float, lower, upper, tolerance: float) -> float:
    """Power of a bound check: the relative distance from the estimate to the nearer bound plus its resolution.

    A quantity whose estimate is ``value`` must move by more than the
    distance to the nearer bound, and by ``tolerance`` standard errors beyond
    it, before the check fails.
    """
    if value == 0:
        return math.inf
    sides = [b for b in (lower, upper) if b is not None and not (isinstance(b, float) and math.isnan(b))]
    nearest = min(abs(value - b) for b in sides)
    return (nearest + tolerance * stderr) / abs(value)


#: Quantiles of the reference sample the KS power is computed on.
_KS_POWER_POINTS = 2_000


def ks_detectable(reference_sample, critical: float) -> float:
    r"""Power of a two-sample KS check: the smallest relative scale error ``d`` it would see.

    The KS distance between the law ``F`` of the reference sample and the law
    of the same variable multiplied by ``1 + d`` is
    :math:`\sup_x |F(x) - F(x/(1+d))|`; this is the ``d`` at which that
    distance, computed on the empirical ``F`` of the reference sample,
    reaches the critical value (a multiplicative error is the commonest
    effect of a wrong variance or a wrong constant).  ``F`` is interpolated
    between :data:`_KS_POWER_POINTS` quantiles of the sample.
    """
    import numpy as np

    # F as the piecewise-linear interpolation of the sample's quantiles: smooth, so the sup below
    # measures the law's change and not the sample's noise
    probabilities = np.linspace(0.0, 1.0, _KS_POWER_POINTS + 1)
    quantiles = np.quantile(np.asarray(reference_sample, float).ravel(), probabilities)

    def distance(d):
        return float(np.max(np.abs(probabilities - np.interp(quantiles / (1 + d), quantiles, probabilities))))

    low, high = 0.0, 1.0
    if distance(high) < critical:
        return math.inf
    for _ in range(24):  # to 1e-7 relative: far below what the power is used for
        mid = 0.5 * (low + high)
        low, high = (mid, high) if distance(mid) < critical else (low, mid)
    return high


def relative_error(value, reference) -> float:
    """``|value - reference| / |reference|`` (absolute error if the reference is 0)."""
    value, reference = float(value), float(reference)
    scale = abs(reference) if reference != 0 else 1.0
    return abs(value - reference) / scale


def _suites() -> dict[str, Callable[[], Iterator[Callable[[], Check]]]]:
    from . import constants, formulas, network, regions

    return {"constants": constants.checks, "network": network.checks, "formulas": formulas.checks,
            "regions": regions.checks}


def suite_names() -> list[str]:
    """Names of the suites in the default validation run."""
    return list(_suites())


#: Suites whose checks share cached samples: their checks run together, in one process.
_SHARED = ("network", "formulas")


def _fork_available() -> bool:
    import multiprocessing
    import os

    return "fork" in multiprocessing.get_all_start_methods() and (os.cpu_count() or 1) >= 2


def _units(tasks) -> list[list[int]]:
    """Positions of ``tasks`` grouped into units of work: a whole suite of :data:`_SHARED`, else one check.

    The shared suites, the largest units, go last: the second process, which takes units from
    the back, starts with them, and the single checks of the other suites fill in around them.
    """
    singles, by_suite = [], {}
    for i, (name, _) in enumerate(tasks):
        if name in _SHARED:
            by_suite.setdefault(name, []).append(i)
        else:
            singles.append([i])
    return singles + [by_suite[name] for name in reversed(_SHARED) if name in by_suite]


def _take(counters, lock, from_front: bool):
    """The index of the next unit for this process, or ``None`` when the two ends have met."""
    with lock:
        front, back = counters[0], counters[1]
        if front > back:
            return None
        if from_front:
            counters[0] = front + 1
            return front
        counters[1] = back - 1
        return back


def _run_from_back(tasks, units, counters, lock, connection):
    """In the child: take units from the back and send ``(position, check)`` for each check (or an error)."""
    import traceback

    try:
        while (unit := _take(counters, lock, from_front=False)) is not None:
            for position in units[unit]:
                connection.send((position, tasks[position][1]()))
    except BaseException:  # reported to the parent, which raises it
        connection.send((None, traceback.format_exc()))
    finally:
        connection.close()


def run_suite(names=None, progress=None, jobs=None) -> list[Check]:
    """Run the named suites (default: all) and return their checks, in suite order.

    ``progress(total)`` may return a callable that is called once per
    finished check (used for progress bars).  With ``jobs=2`` (the default
    where the machine has two or more cores and can fork) a forked process
    takes units of work from the end of the list while this one takes them
    from the start, until they meet; ``jobs=1`` runs everything here.  The
    checks are the same either way: every one of them seeds its own draws.
    """
    suites = _suites()
    names = list(suites) if names is None else list(names)
    tasks = [(name, task) for name in names for task in suites[name]()]
    advance = progress(len(tasks)) if progress else None
    units = _units(tasks)
    jobs = (2 if _fork_available() else 1) if jobs is None else int(jobs)
    results: dict[int, Check] = {}
    if jobs < 2 or len(units) < 2:
        for i, (_, task) in enumerate(tasks):
            results[i] = task()
            if advance:
                advance()
        return [results[i] for i in range(len(tasks))]
    import multiprocessing

    context = multiprocessing.get_context("fork")
    counters, lock = context.Array("q", [0, len(units) - 1], lock=False), context.Lock()
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_run_from_back, args=(tasks, units, counters, lock, sender), daemon=True)
    child.start()
    sender.close()
    open_ = True
    try:
        while (unit := _take(counters, lock, from_front=True)) is not None:
            for position in units[unit]:
                results[position] = tasks[position][1]()
                if advance:
                    advance()
                while open_ and receiver.poll():
                    open_ = _receive(receiver, results, advance)
        while open_ and len(results) < len(tasks):
            open_ = _receive(receiver, results, advance)
    finally:
        child.join(timeout=5)
        if child.is_alive():
            child.terminate()
    if len(results) < len(tasks):
        raise RuntimeError(f"the second validation process ended without the results of "
                           f"{len(tasks) - len(results)} checks (exit code {child.exitcode})")
    return [results[i] for i in range(len(tasks))]


def _receive(receiver, results, advance) -> bool:
    """Store one message of the child; ``False`` once its end of the pipe is closed."""
    try:
        position, item = receiver.recv()
    except EOFError:
        return False
    if position is None:
        raise RuntimeError(f"a check raised in the second validation process:\n{item}")
    results[position] = item
    if advance:
        advance()
    return True


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
