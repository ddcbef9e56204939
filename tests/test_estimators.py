"""Estimates with standard errors and their verdicts."""

import math

import numpy as np
import pytest

from maxbounds import MaxboundsValueError
from maxbounds.estimators import compare, estimate, moment_estimate


def test_standard_error_and_interval_cover_at_the_stated_rate():
    # 2000 replications of a 95% interval for the mean of Exp(1) with n = 400:
    # coverage is Binomial(2000, ~0.95); |coverage - 0.95| <= 0.025 fails with
    # probability < 1e-6 even allowing the normal approximation's small bias.
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(2000):
        e = estimate(rng.exponential(size=400))
        hits += e.interval[0] <= 1.0 <= e.interval[1]
    assert abs(hits / 2000 - 0.95) <= 0.025


def test_moment_estimate_and_exact_comparison():
    rng = np.random.default_rng(1)
    x = rng.chisquare(3, size=100_000)
    e = moment_estimate(x, 2)  # E[(chi2_3)^2] = 3 * 5 = 15
    verdict = compare(e, exact=15.0)
    assert verdict["verdict"] == "agrees" and verdict["z"] < 4.5  # false-failure rate 6.8e-6
    assert compare(e, exact=16.0)["verdict"] == "DISAGREES"


def test_bounds_verdicts():
    e = estimate(np.random.default_rng(2).normal(1.0, 1.0, size=10_000))
    assert compare(e, lower=0.5, upper=2.0)["verdict"] == "inside"
    assert compare(e, lower=0.5, upper=2.0)["z"] == 0.0
    out = compare(e, lower=1.5, upper=2.0)
    assert out["verdict"] == "OUTSIDE" and math.isclose(out["z"], (1.5 - e.mean) / e.stderr)


@pytest.mark.parametrize("samples", [[1.0], [1.0, float("nan")], [1.0, float("inf")]])
def test_bad_samples(samples):
    with pytest.raises(MaxboundsValueError):
        estimate(samples)


def test_zero_standard_error_outside_the_bounds_is_infinitely_far_not_an_error():
    from maxbounds.estimators import Estimate, compare

    constant = Estimate(2.0, 0.0, 10, {}, (2.0, 2.0), 0.95)
    assert compare(constant, lower=0.0, upper=1.0)["z"] == float("inf")
    assert compare(constant, lower=3.0)["verdict"] == "OUTSIDE"
    assert compare(constant, lower=0.0, upper=3.0)["z"] == 0.0
    # a deterministic value equal to its bound up to rounding is inside
    assert compare(Estimate(1.0 + 1e-15, 0.0, 10, {}, (1.0, 1.0), 0.95), upper=1.0)["z"] == 0.0


def test_a_network_without_hidden_layers_validates():
    # every gradient is deterministic there: the verdicts must not hinge on rounding noise
    from maxbounds.cli.main import main

    assert main(["validate", "gradient", "--widths", "3,2", "--samples", "50", "--quiet"]) == 0
    assert main(["validate", "ntk", "--widths", "3,2", "--samples", "50", "--quiet"]) == 0
