"""Double-precision moments against independent computations.

References: the verified mpmath path (integration of densities in x, a
different method from the probability-space quadrature of the fast path),
closed forms for K = 1 and K = 2 written from the laws themselves, and exact
identities.
"""

import math

import mpmath as mp
import numpy as np
import pytest
from scipy import special

from maxbounds import MaxboundsValueError
from maxbounds.constants import (
    L,
    M,
    OutOfRangeError,
    S,
    chi2_max_moment,
    chi2_min_moment,
    gaussian_max_moment,
)

REL_TOL = 1e-12
SMALL, MEDIUM, LARGE = (1, 2, 3, 4, 5, 7), (10, 33, 100, 512), (10**4, 10**5, 10**6)
FUNCTIONS = {"M": gaussian_max_moment, "S": chi2_min_moment, "L": chi2_max_moment}


def rel(a, b):
    return abs(float(a) - float(b)) / abs(float(b))


@pytest.mark.parametrize("K", SMALL + MEDIUM + LARGE)
@pytest.mark.parametrize("name", ["M", "S", "L"])
def test_constants_against_high_precision(name, K):
    fast = {"M": M, "S": S, "L": L}[name](K)
    reference = {"M": M, "S": S, "L": L}[name](K, dps=20)
    assert rel(fast, reference) <= REL_TOL


@pytest.mark.parametrize("K", [1, 3, 100, 10**6])
@pytest.mark.parametrize("t", [0.25, 0.5, 3.0, 8.0])
def test_moments_against_high_precision(K, t):
    for name, function in FUNCTIONS.items():
        kwargs = {"absolute": True} if name == "M" and not t.is_integer() else {}
        if name == "M" and K == 1 and t % 2 == 1:
            assert function(K, t) == 0.0 and function(K, t, dps=20) == 0  # symmetric law
            continue
        assert rel(function(K, t, **kwargs), function(K, t, dps=20, **kwargs)) <= REL_TOL, name


def test_gaussian_moments_of_one_normal_are_double_factorials():
    for t in range(0, 9):
        exact = 0.0 if t % 2 else float(special.factorial2(t - 1)) if t else 1.0
        assert gaussian_max_moment(1, t) == pytest.approx(exact, rel=REL_TOL, abs=0.0)


@pytest.mark.parametrize("t", [0.0, 0.3, 1.0, 2.5, 8.0])
def test_chi2_moments_at_rank_one_are_chi2_moments(t):
    # E[(chi2_1)^t] = 2^t Gamma(t + 1/2) / Gamma(1/2)
    exact = 2**t * math.gamma(t + 0.5) / math.gamma(0.5)
    assert rel(chi2_min_moment(1, t), exact) <= REL_TOL
    assert rel(chi2_max_moment(1, t), exact) <= REL_TOL


@pytest.mark.parametrize("t", [0.3, 1.0, 2.5, 8.0])
def test_pair_identity(t):
    # {min, max} of two chi2_1 values is {Z1^2, Z2^2}: S_t(2) + L_t(2) = 2 E[(chi2_1)^t]
    exact = 2 * 2**t * math.gamma(t + 0.5) / math.gamma(0.5)
    assert rel(chi2_min_moment(2, t) + chi2_max_moment(2, t), exact) <= REL_TOL


def test_rank_two_closed_forms():
    assert rel(S(2), 1 - 2 / math.pi) <= REL_TOL
    assert rel(L(2), 1 + 2 / math.pi) <= REL_TOL
    assert rel(M(2), 1.0) <= REL_TOL
    assert rel(gaussian_max_moment(2, 1), 1 / math.sqrt(math.pi)) <= REL_TOL
    # min of two normals is minus the max of two: even moments equal E[Z^t]
    assert rel(gaussian_max_moment(2, 4), 3.0) <= REL_TOL


def test_precise_digits_match_closed_forms_far_beyond_double():
    with mp.workdps(60):
        m3 = 1 + mp.sqrt(3) / (2 * mp.pi)
        s2 = 1 - 2 / mp.pi
        l3 = 1 + 2 * mp.sqrt(3) / mp.pi
    assert abs(M(3, dps=50) - m3) <= mp.mpf(10) ** -50 * m3
    assert abs(S(2, dps=50) - s2) <= mp.mpf(10) ** -50 * s2
    assert abs(L(3, dps=50) - l3) <= mp.mpf(10) ** -50 * l3


def test_vectorised_over_ranks_and_orders():
    K = np.arange(1, 2001)
    values = M(K)
    assert values.shape == K.shape
    assert values[4] == M(5)
    assert np.all(np.diff(values[1:]) > 0)  # M(1) = M(2) = 1, then M grows with K
    grid = gaussian_max_moment(np.array([[2], [3]]), np.array([1.0, 2.0, 4.0]))
    assert grid.shape == (2, 3)
    assert grid[1, 1] == M(3)
    assert isinstance(M(5), float)
    precise = S(np.array([2, 3]), dps=20)
    assert precise.dtype == object and isinstance(precise[0], mp.mpf)


def test_min_moment_below_double_range_needs_log():
    with pytest.raises(OutOfRangeError, match="log=True"):
        chi2_min_moment(2**40, 30)
    log_value = chi2_min_moment(2**40, 30, log=True)
    reference = chi2_min_moment(2**40, 30, dps=20, log=True)
    assert rel(log_value, reference) <= REL_TOL
    assert log_value < math.log(np.finfo(float).tiny)


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda: M(0), "K"),
        (lambda: M(2.5), "K"),
        (lambda: M(-3), "K"),
        (lambda: M(True), "K"),
        (lambda: M("five"), "K"),
        (lambda: M(2**60), "K"),
        (lambda: S(3, dps=0), "dps"),
        (lambda: S(3, dps=10**6), "dps"),
        (lambda: S(3, dps=2.5), "dps"),
        (lambda: chi2_max_moment(3, -1), "t"),
        (lambda: chi2_max_moment(3, float("nan")), "t"),
        (lambda: chi2_max_moment(3, 1000), "t"),
        (lambda: gaussian_max_moment(3, 0.5), "t"),
        (lambda: gaussian_max_moment(1, 1, log=True), "log"),
    ],
)
def test_bad_arguments_name_the_argument(call, argument):
    with pytest.raises(MaxboundsValueError) as info:
        call()
    assert info.value.argument == argument
    assert "\n" not in str(info.value)


def test_all_ranks_to_ten_thousand_in_one_call():
    K = np.arange(1, 10**4 + 1)
    for function in (M, S, L):
        values = function(K)
        assert np.all(np.isfinite(values)) and np.all(values > 0)
    # spot-check the far end against high precision
    assert rel(M(K)[-1], M(10**4, dps=20)) <= REL_TOL
