"""Checks of the order-statistic constants.

* double-precision moments against the verified mpmath path, which
  integrates in ``x`` instead of in probability space (relative error
  ``<= 1e-12``);
* exact identities: ``S(2) + L(2) = 2`` (the two order statistics of a pair
  add up to the pair), ``M(2) = 1`` (``max^2`` and ``min^2`` of a pair are
  exchangeable by symmetry and add up to ``Z_1^2 + Z_2^2``), ``E[Xi_2] = 1/sqrt(pi)``;
* closed forms: every sympy closed form that
  :mod:`maxbounds.constants.symbolic` derives, evaluated to 30 digits;
* asymptotics: the large-K expansions within their documented error
  envelopes (:func:`maxbounds.constants.asymptotic_error_bound`);
* Monte Carlo: the sample mean of ``rvs`` against the exact mean, within
  ``Z_TOL`` standard errors.
"""

from __future__ import annotations

import math
from functools import lru_cache, partial

import numpy as np

from ..constants import (
    asymptotic_error_bound,
    asymptotic_moment,
    chi2_max,
    chi2_max_moment,
    chi2_min,
    chi2_min_moment,
    gaussian_max,
    gaussian_max_moment,
)
from .checks import Check, relative_error, z_detectable

SUITE = "constants"
#: Tolerance on relative errors of deterministic computations.
REL_TOL = 1e-12
#: Tolerance on z-scores.  A two-sided normal tail beyond 4.5 has probability
#: 6.8e-6, the false-failure rate of each Monte Carlo check.
Z_TOL = 4.5
#: Ranks checked against high precision: small, medium and very large (ranks 2 to 5 are checked
#: against the independent sympy closed forms below).
RANKS = (1, 10, 100, 10**4, 10**6)
#: Digits of the reference values.
REFERENCE_DPS = 17
MC_SAMPLES = 200_000
MC_SEED = 20230125

_MOMENTS = {
    "M_t = E[Xi^t]": (gaussian_max_moment, {}),
    "S_t = E[xi^t]": (chi2_min_moment, {}),
    "L_t = E[Xi_chi2^t]": (chi2_max_moment, {}),
}


def _against_precise(name: str, K: int, t: float, **kwargs) -> Check:
    function, _ = _MOMENTS[name]
    value = function(K, t, **kwargs)
    reference = function(K, t, dps=REFERENCE_DPS, **kwargs)
    return Check(
        SUITE, name, K, t, float(value), float(reference), f"mpmath x-space, {REFERENCE_DPS} verified digits",
        "relative", relative_error(value, reference), REL_TOL,
    )


def _identity(name: str, K: int, t: float, value: float, reference: float, method: str) -> Check:
    return Check(SUITE, name, K, t, value, reference, method, "relative", relative_error(value, reference), REL_TOL)


def _sample_mean(name: str, K: int, t: float, sample: np.ndarray, exact: float, what: str) -> Check:
    """The mean of ``sample`` against ``exact``, within :data:`Z_TOL` standard errors."""
    return _mean_check(name, K, t, float(sample.mean()), float(sample.std(ddof=1)), sample.size, exact, what)


def _mean_check(name: str, K: int, t: float, mean: float, sd: float, size: int, exact: float, what: str) -> Check:
    """A sample mean of ``size`` draws with standard deviation ``sd`` against ``exact``, within :data:`Z_TOL`
    standard errors."""
    stderr = sd / math.sqrt(size)
    z = abs(mean - exact) / stderr
    return Check(
        SUITE, name, K, t, float(mean), float(exact),
        f"Monte Carlo, {size} draws{what}, stderr {stderr:.2g}", "z", float(z), Z_TOL,
        detectable=z_detectable(stderr, exact, Z_TOL),
    )


def _monte_carlo(law, name: str, K: int, exact_mean: float) -> Check:
    rng = np.random.default_rng([MC_SEED, K])
    return _sample_mean(name, K, 1.0, law(K=K).rvs(size=MC_SAMPLES, random_state=rng), exact_mean, " of rvs")


#: Draws of the chain's ziggurat per rank (summed in Numba, about 0.2 s): enough to see an error of 3e-4
#: in the mean, as a ziggurat that accepts the whole left sliver of each of its 1024 layers makes.
ZIGGURAT_SAMPLES = 64_000_000


@lru_cache(maxsize=None)
def _ziggurat_sums(K: int) -> tuple[float, float, float, float]:
    from ..simulate.chain import ziggurat_moments

    return ziggurat_moments(K, ZIGGURAT_SAMPLES, MC_SEED + K)


def _ziggurat(K: int, t: int) -> Check:
    """The chain's own maxima (its ziggurat, not ``rvs``): sample moment ``E[Xi^t]`` against the exact one."""
    n = ZIGGURAT_SAMPLES
    sums = _ziggurat_sums(K)
    mean, second = sums[t - 1] / n, sums[2 * t - 1] / n  # the sample's E[Xi^t] and E[Xi^2t]
    sd = math.sqrt(max(second - mean * mean, 0.0) * n / (n - 1))
    return _mean_check("E[Xi^t] of the chain's ziggurat maxima", K, float(t), mean, sd, n,
                       gaussian_max_moment(K, t), "")


def _closed_form(name: str, K: int) -> Check:
    from ..constants import symbolic

    function, t = {
        "M": (gaussian_max_moment, 2.0),
        "S": (chi2_min_moment, 1.0),
        "L": (chi2_max_moment, 1.0),
        "gaussian_max_mean": (gaussian_max_moment, 1.0),
    }[name]
    exact = float(symbolic.closed_form(name, K).evalf(30))
    value = function(K, t)
    return Check(
        SUITE, f"closed form of {name}", K, t, float(value), exact, "sympy closed form (orthant probabilities)",
        "relative", relative_error(value, exact), REL_TOL,
    )


def _asymptotic(name: str, K: int) -> Check:
    t = {"M": 2.0, "S": 1.0, "L": 1.0}[name]
    function = {"M": gaussian_max_moment, "S": chi2_min_moment, "L": chi2_max_moment}[name]
    approx, exact = float(asymptotic_moment(name, K)), function(K, t)
    return Check(
        SUITE, f"large-K expansion of {name}", K, t, approx, exact, "documented error envelope",
        "relative", relative_error(approx, exact), float(asymptotic_error_bound(name, K)),
    )


def checks():
    """Yield the checks of the constants suite as zero-argument callables."""
    for K in RANKS:
        yield partial(_against_precise, "M_t = E[Xi^t]", K, 2.0)
        yield partial(_against_precise, "S_t = E[xi^t]", K, 1.0)
        yield partial(_against_precise, "L_t = E[Xi_chi2^t]", K, 1.0)
    for name in _MOMENTS:  # a high order, where the quadrature is hardest
        yield partial(_against_precise, name, 3, 8.0)
    yield partial(_against_precise, "M_t = E[Xi^t]", 7, 1.0)
    yield partial(_against_precise, "S_t = E[xi^t]", 7, 0.5)
    yield partial(_against_precise, "L_t = E[Xi_chi2^t]", 7, 0.5)
    yield partial(_against_precise, "M_t = E[Xi^t]", 7, 0.5, absolute=True)
    yield lambda: _identity(
        "S(2) + L(2) = 2", 2, 1.0, chi2_min_moment(2, 1) + chi2_max_moment(2, 1), 2.0, "identity"
    )
    yield lambda: _identity("M(2) = 1", 2, 2.0, gaussian_max_moment(2, 2), 1.0, "identity")
    yield lambda: _identity(
        "E[Xi_2] = 1/sqrt(pi)", 2, 1.0, gaussian_max_moment(2, 1), 1 / math.sqrt(math.pi), "closed form"
    )
    from ..constants.symbolic import CLOSED_FORM_MAX_K

    for name, top in CLOSED_FORM_MAX_K.items():
        for K in range(2, top + 1):
            yield partial(_closed_form, name, K)
    for name in ("M", "S", "L"):
        for K in (100, 10**4, 10**6):
            yield partial(_asymptotic, name, K)
    for law, name, moment in (
        (gaussian_max, "mean of gaussian_max.rvs", lambda K: gaussian_max_moment(K, 1)),
        (chi2_min, "mean of chi2_min.rvs", lambda K: chi2_min_moment(K, 1)),
        (chi2_max, "mean of chi2_max.rvs", lambda K: chi2_max_moment(K, 1)),
    ):
        for K in (5, 1000):
            yield partial(lambda law, name, K, moment: _monte_carlo(law, name, K, moment(K)), law, name, K, moment)
    for K in (2, 5, 64):
        for t in (1, 2):
            yield partial(_ziggurat, K, t)
