r"""Monte Carlo estimates with standard errors, and their comparison with theory.

An :class:`Estimate` summarises i.i.d. samples: the mean, its standard error
:math:`s/\sqrt{n}`, quantiles and a normal-approximation confidence interval.
:func:`compare` sets an estimate beside an exact value or beside lower and
upper bounds and gives a verdict:

* exact value :math:`\mu`: agrees when :math:`|\bar X - \mu| \le k\,\mathrm{se}`;
* bounds :math:`[a, b]`: inside when :math:`a - k\,\mathrm{se} \le \bar X \le b + k\,\mathrm{se}`
  (the bounds are exact numbers; only the estimate is random), with the
  z-score of the nearest violated side (0 inside).

With the default :math:`k = 4.5` a correct check fails by chance with
probability at most :math:`6.8\times10^{-6}` (two-sided normal tail), the
rate used throughout maxbounds.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import stats

from ._validate import MaxboundsValueError

__all__ = ["Estimate", "estimate", "moment_estimate", "compare", "Z_TOLERANCE"]

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
    half = float(stats.norm.ppf(0.5 + level / 2)) * stderr
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
    """``{"estimate", "exact"|"bounds", "z", "verdict"}`` for an estimate against theory."""
    se = est.stderr
    out = {"estimate": {"mean": est.mean, "stderr": se}}
    if exact is not None:
        z = abs(est.mean - exact) / se if se > 0 else (0.0 if est.mean == exact else math.inf)
        out.update(exact=exact, z=z, verdict="agrees" if z <= k else "DISAGREES")
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
    out.update(bounds={"lower": lower, "upper": upper}, z=z, verdict="inside" if z <= k else "OUTSIDE")
    return out
