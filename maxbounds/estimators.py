r"""Monte Carlo estimates with standard errors, and their comparison with theory.

An :class:`Estimate` summarises i.i.d. samples: the mean, its standard error
:math:`s/\sqrt{n}`, quantiles and a normal-approximation confidence interval.
:func:`compare` sets an estimate beside an exact value or beside lower and
upper bounds and gives a :class:`Verdict`:

* exact value :math:`\mu`: agrees when :math:`|\bar X - \mu| \le k\,\mathrm{se}`;
* bounds :math:`[a, b]`: inside when :math:`a - k\,\mathrm{se} \le \bar X \le b + k\,\mathrm{se}`
  (the bounds are exact numbers; only the estimate is random), with the
  z-score of the nearest violated side (0 inside).

With the default :math:`k = 4.5` a correct check fails by chance with
probability at most :math:`6.8\times10^{-6}` (two-sided normal tail), the
rate used throughout maxbounds.

A :class:`Verdict` also carries ``min_detectable``, the smallest relative
error of the checked quantity that the check would detect at its tolerance:

* exact value: :math:`k\,\mathrm{se}/|\mu|` (an estimate off by more than
  that fraction of :math:`\mu` lies beyond :math:`k` standard errors);
* bounds: :math:`\min(|\bar X - a|, |b - \bar X|)/|\bar X| + k\,\mathrm{se}/|\bar X|`,
  the relative move of the quantity that takes it to the nearer bound, plus
  the statistical resolution (a bound wrong by less than the distance from
  the estimate to it cannot be seen).

It is :math:`\infty` where no relative error is defined (a reference or
estimate of 0); the JSON serialiser writes that as ``null``.

:func:`summarise` is the one summary of every samples object: each of them
(:class:`~maxbounds.laws.exact.GramChainSamples`,
:class:`~maxbounds.simulate.GradientSamples`, ...) has a ``summary()`` method
calling it.
"""

from __future__ import annotations

import dataclasses
import math
from statistics import NormalDist

import numpy as np

from ._validate import MaxboundsValueError

__all__ = ["Z_TOLERANCE", "Estimate", "Verdict", "compare", "estimate", "moment_estimate", "summarise"]

#: Default number of standard errors a check may be off.
Z_TOLERANCE = 4.5


@dataclasses.dataclass(frozen=True)
class Estimate:
    """Mean of ``n`` i.i.d. samples with its standard error, quantiles and interval."""

    mean: float
    stderr: float
    n: int
    quantiles: dict
    interval: tuple
    level: float

    def as_dict(self) -> dict:
        return {
            "mean": self.mean, "stderr": self.stderr, "n": self.n,
            "quantiles": {f"{q:g}": v for q, v in self.quantiles.items()},
            "interval": list(self.interval), "level": self.level,
        }

    def summary(self) -> str:
        """One line: ``mean ± stderr (n = ..., 95% interval [a, b])``."""
        lo, hi = self.interval
        return (f"{self.mean:.6g} \u00b1 {self.stderr:.2g} (n = {self.n}, "
                f"{100 * self.level:g}% interval [{lo:.6g}, {hi:.6g}])")

    def __str__(self) -> str:
        return self.summary()


#: The words of a verdict, by kind and outcome (the strings of ``compare(...)["verdict"]``).
_WORDS = {("exact", True): "agrees", ("exact", False): "DISAGREES",
          ("bounds", True): "inside", ("bounds", False): "OUTSIDE"}


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The outcome of one check of an estimate against theory.

    ``passed`` is ``z <= tolerance``; ``kind`` is ``"exact"`` (``z`` is
    ``|estimate - exact| / stderr``) or ``"bounds"`` (``z`` is the number of
    standard errors outside the bounds, 0 inside); ``min_detectable`` is the
    smallest relative error of the quantity the check would detect (see the
    module docstring).  ``str(verdict)`` is the word ``agrees``, ``DISAGREES``,
    ``inside`` or ``OUTSIDE``, and ``bool(verdict)`` is ``passed``.
    """

    passed: bool
    z: float
    tolerance: float
    kind: str
    min_detectable: float

    def __post_init__(self):
        if self.kind not in ("exact", "bounds"):
            raise MaxboundsValueError("kind", f"must be 'exact' or 'bounds', got {self.kind!r}")

    @classmethod
    def from_z(cls, z: float, kind: str, min_detectable: float, tolerance: float | None = None) -> Verdict:
        """The verdict of a z-score ``z`` at ``tolerance`` (default :data:`Z_TOLERANCE`)."""
        tolerance = Z_TOLERANCE if tolerance is None else float(tolerance)
        return cls(bool(z <= tolerance), float(z), tolerance, kind, float(min_detectable))

    @property
    def word(self) -> str:
        """``agrees``/``DISAGREES`` (exact) or ``inside``/``OUTSIDE`` (bounds)."""
        return _WORDS[self.kind, self.passed]

    def __str__(self) -> str:
        return self.word

    def __bool__(self) -> bool:
        return self.passed

    def summary(self) -> str:
        """One line: the word, z against the tolerance and the smallest detectable relative error."""
        return (f"{self.word}: z = {self.z:.3g} (tolerance {self.tolerance:g}), "
                f"detects relative errors above {self.min_detectable:.2g}")

    def as_dict(self) -> dict:
        return {"passed": self.passed, "verdict": self.word, "z": self.z, "tolerance": self.tolerance,
                "kind": self.kind, "min_detectable": self.min_detectable}


def _relative(numerator: float, scale: float) -> float:
    r"""``numerator / |scale|``, :math:`\infty` when the scale is 0 (no relative error is defined)."""
    return abs(numerator) / abs(scale) if scale != 0 else math.inf


def estimate(samples, level: float = 0.95, quantiles=(0.25, 0.5, 0.75)) -> Estimate:
    """Summarise ``samples`` (1-D, finite, at least two)."""
    x = np.asarray(samples, dtype=float).ravel()
    if x.size < 2:
        raise MaxboundsValueError("samples", f"need at least 2 samples, got {x.size}")
    if not np.all(np.isfinite(x)):
        raise MaxboundsValueError("samples", "the samples contain inf or NaN")
    if not 0 < level < 1:
        raise MaxboundsValueError("level", f"must be in (0, 1), got {level}")
    mean = float(x.mean())
    stderr = float(x.std(ddof=1) / math.sqrt(x.size))
    half = NormalDist().inv_cdf(0.5 + level / 2) * stderr
    qs = {float(q): float(v) for q, v in zip(quantiles, np.quantile(x, quantiles))}
    return Estimate(mean, stderr, int(x.size), qs, (mean - half, mean + half), level)


def moment_estimate(samples, t: float, **kwargs) -> Estimate:
    """Estimate of ``E[X^t]`` from non-negative ``samples``."""
    x = np.asarray(samples, dtype=float)
    if np.any(x < 0) and not float(t).is_integer():
        raise MaxboundsValueError("samples", "real-order moments need non-negative samples")
    return estimate(x**t, **kwargs)


#: Relative slack of a bound for rounding (far below any statistical resolution).
ROUNDING = 1e-12


def compare(est: Estimate, *, exact=None, lower=None, upper=None, k: float = Z_TOLERANCE) -> dict:
    """``{"estimate", "exact"|"bounds", "z", "verdict", "check"}`` for an estimate against theory.

    ``"check"`` is the :class:`Verdict`; ``"verdict"`` is its word
    (``str(check)``) and ``"z"`` its z-score, kept for callers that read them.
    """
    se = est.stderr
    out = {"estimate": {"mean": est.mean, "stderr": se}}
    if exact is not None:
        z = abs(est.mean - exact) / se if se > 0 else (0.0 if est.mean == exact else math.inf)
        check = Verdict.from_z(z, "exact", _relative(k * se, exact), k)
        out.update(exact=exact, z=z, verdict=check.word, check=check)
        return out
    if lower is None and upper is None:
        raise MaxboundsValueError("exact", "give an exact value or bounds to compare with")
    # bounds widened by a relative 1e-12: a deterministic quantity equal to its bound up to rounding
    # (standard error 0 or ~1e-17) is inside, not "20 standard errors" outside
    lower_eff = None if lower is None else lower - ROUNDING * abs(lower)
    upper_eff = None if upper is None else upper + ROUNDING * abs(upper)
    outside_below = lower_eff is not None and est.mean < lower_eff
    outside_above = upper_eff is not None and est.mean > upper_eff
    if se > 0:
        below = (lower_eff - est.mean) / se if outside_below else 0.0
        above = (est.mean - upper_eff) / se if outside_above else 0.0
        z = max(below, above)
    else:
        z = math.inf if outside_below or outside_above else 0.0
    nearest = min(abs(est.mean - b) for b in (lower, upper) if b is not None)
    detectable = _relative(nearest, est.mean) + _relative(k * se, est.mean)
    check = Verdict.from_z(z, "bounds", detectable, k)
    out.update(bounds={"lower": lower, "upper": upper}, z=z, verdict=check.word, check=check)
    return out


def two_sample_z(a: Estimate, b: Estimate) -> tuple[float, float]:
    r"""``(z, se)`` of two estimates from independent samples: :math:`|\bar a - \bar b| / se`, :math:`se = \sqrt{se_a^2 + se_b^2}`.

    With both standard errors 0, ``z`` is 0 for equal means and :math:`\infty` otherwise.
    """
    se = math.hypot(a.stderr, b.stderr)
    z = abs(a.mean - b.mean) / se if se > 0 else (0.0 if a.mean == b.mean else math.inf)
    return z, se


def z_verdict(z: float, reference: float, stderr: float, k: float = Z_TOLERANCE) -> Verdict:
    """The :class:`Verdict` of a z-check already computed (``z = |difference| / stderr``) against ``reference``."""
    return Verdict.from_z(z, "exact", _relative(k * stderr, reference), k)


def summarise(source, fields, *, sample_axis: int = -1, level: float = 0.95) -> dict:
    """``{field: Estimate}`` of the samples ``getattr(source, field)`` for each name in ``fields``.

    The one summary of every samples object.  A 1-D field gives one
    :class:`Estimate`; a 2-D field gives a tuple of them, one per index of the
    axis that is not ``sample_axis`` (a layer, as the samples object orders
    them).  A field that is ``None`` (not recorded) is left out.
    """
    out = {}
    for name in fields:
        values = getattr(source, name)
        if values is None:
            continue
        values = np.asarray(values, dtype=float)
        if values.ndim == 1:
            out[name] = estimate(values, level=level)
        elif values.ndim == 2:
            rows = np.moveaxis(values, sample_axis, -1)
            out[name] = tuple(estimate(row, level=level) for row in rows)
        else:
            raise MaxboundsValueError(name, f"expected 1-D or 2-D samples, got shape {values.shape}")
    return out
