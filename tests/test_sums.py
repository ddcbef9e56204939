"""Moments of sums of i.i.d. order statistics against independent computations.

References, none of which shares the Laplace-transform path under test:

* K = 1, where every summand is chi-squared(1) and the sum is chi-squared(n):
  the closed form, evaluated with mpmath at 40 digits;
* n = 1: the single-variable moments of :mod:`maxbounds.constants`;
* small n, integer t: the multinomial expansion in the moments;
* n = 2, real t: a nested adaptive quadrature (scipy's tanh-sinh, through
  ``quantile_expectation``) of E[(X1 + X2)^t];
* large n: the expansion of E[Ybar^t] in powers of 1/n through the third
  order, built from the cumulants of one summand;
* moderate n: Monte Carlo with the library's samplers.

All random draws use fixed seeds, so every test is deterministic; the
false-failure rates quoted are those of a fresh seed.
"""

import itertools
import math

import mpmath as mp
import numpy as np
import pytest
from scipy import special

from maxbounds import MaxboundsValueError
from maxbounds.constants import (
    OutOfRangeError,
    _double,
    _quantiles,
    chi2_max,
    chi2_max_moment,
    chi2_min,
    chi2_min_moment,
    gaussian_max,
    gaussian_max_moment,
)
from maxbounds.laws import sums
from maxbounds.laws.sums import chi2_log_moment, iid_sum_log_moment, iid_sum_moment

LAWS = ("chi2_min", "chi2_max", "gaussian_max_sq")
#: Tolerance on the logarithm, i.e. on the relative error of the moment.
TOL = 1e-12


def single_moment(law, K, t):
    """E[X^t] for one summand, from maxbounds.constants."""
    if law == "chi2_min":
        return chi2_min_moment(K, t)
    if law == "chi2_max":
        return chi2_max_moment(K, t)
    return gaussian_max_moment(K, 2 * t, absolute=not float(t).is_integer())


def chi2_reference(n, t):
    """log E[(chi2_n)^t] at 40 digits."""
    with mp.workdps(40):
        n, t = mp.mpf(int(n)), mp.mpf(float(t))
        return float(t * mp.log(2) + mp.loggamma(n / 2 + t) - mp.loggamma(n / 2))


# ----------------------------------------------------------------------------
# closed forms
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("law", LAWS)
def test_rank_one_is_chi_squared(law):
    # K = 1: chi2_min and chi2_max are chi2_1, and the largest of one normal is Z
    widths = np.array([1, 2, 7, 100, 10**4, 10**6])
    orders = np.array([0.5, 1.0, 2.5, 3.0, 8.0])
    got = iid_sum_log_moment(law, 1, widths[:, None], orders[None, :])
    assert got.shape == (6, 5)
    for (i, n), (j, t) in itertools.product(enumerate(widths), enumerate(orders)):
        assert abs(got[i, j] - chi2_reference(n, t)) <= TOL, (n, t)


def test_rank_one_extreme_widths_and_orders():
    widths = np.array([3, 35, 10**9, 2**50])
    orders = np.array([1e-9, 0.01, 0.999, 1.01, 17.3, 31.99, 32.0])
    got = iid_sum_log_moment("chi2_max", 1, widths[:, None], orders[None, :])
    for (i, n), (j, t) in itertools.product(enumerate(widths), enumerate(orders)):
        # the log is as large as 32 log(2**50) ~ 1100, whose last unit is 2.3e-13
        assert abs(got[i, j] - chi2_reference(n, t)) <= max(TOL, 4 * np.spacing(got[i, j])), (n, t)


def test_chi2_log_moment_matches_gamma_ratio():
    widths = np.array([1, 2, 3, 5, 19, 40, 41, 1000, 10**6, 10**9, 2**53])
    orders = np.array([0.0, 1e-12, 0.5, 1.0, 2.5, 19.9, 32.0])
    got = chi2_log_moment(widths[:, None], orders[None, :])
    for (i, n), (j, t) in itertools.product(enumerate(widths), enumerate(orders)):
        assert abs(got[i, j] - chi2_reference(n, t)) <= max(1e-14, 4 * np.spacing(got[i, j])), (n, t)
    assert chi2_log_moment(7, 0) == 0.0
    assert math.exp(chi2_log_moment(7, 1)) == pytest.approx(7.0, rel=1e-15)
    # E sqrt(chi2_n) = sqrt(2) Gamma((n+1)/2) / Gamma(n/2)   (MATH.md section 5)
    expected = 0.5 * math.log(2) + math.lgamma(3.0) - math.lgamma(2.5)
    assert chi2_log_moment(5, 0.5) == pytest.approx(expected, abs=1e-15)
    assert isinstance(chi2_log_moment(5, 0.5), float)


# ----------------------------------------------------------------------------
# one summand and integer orders
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("law", LAWS)
@pytest.mark.parametrize("K", [2, 3, 5, 100, 10**6])
def test_one_summand_is_the_single_moment(law, K):
    orders = np.array([0.5, 1.0, 1.7, 3.0, 8.0])
    got = iid_sum_log_moment(law, K, 1, orders)
    for t, value in zip(orders, got):
        assert abs(value - math.log(single_moment(law, K, t))) <= TOL, t


@pytest.mark.parametrize("law", LAWS)
@pytest.mark.parametrize("K", [2, 5, 50])
def test_integer_orders_match_the_multinomial_expansion(law, K):
    mu = [1.0] + [single_moment(law, K, j) for j in range(1, 6)]

    def m(n, k):
        return math.exp(iid_sum_log_moment(law, K, n, k))

    assert m(2, 2) == pytest.approx(2 * mu[2] + 2 * mu[1] ** 2, rel=TOL)
    assert m(3, 3) == pytest.approx(3 * mu[3] + 18 * mu[2] * mu[1] + 6 * mu[1] ** 3, rel=TOL)
    # n = 4, k = 5 by brute force over all 4**5 ordered index tuples
    total = 0.0
    for tup in itertools.product(range(4), repeat=5):
        total += math.prod(mu[tup.count(i)] for i in range(4))
    assert m(4, 5) == pytest.approx(total, rel=TOL)
    # the mean: E[sum] = n E[X], however wide
    assert m(10**6, 1) == pytest.approx(10**6 * mu[1], rel=TOL)


# ----------------------------------------------------------------------------
# real orders
# ----------------------------------------------------------------------------


def _square_gaussian_max_quantile(p, q, K):
    return _quantiles.gaussian_max_quantile(p, q, K) ** 2


QUANTILES = {
    "chi2_min": _quantiles.chi2_min_quantile,
    "chi2_max": _quantiles.chi2_max_quantile,
    "gaussian_max_sq": _square_gaussian_max_quantile,
}


def nested_two_sum_moment(law, K, t):
    """E[(X1 + X2)^t] by two nested adaptive quadratures in probability space."""
    quantile = QUANTILES[law]
    kink = 0.5**K if law == "gaussian_max_sq" else None  # where Xi crosses 0

    def inner(x1, t):
        return _double.quantile_expectation(quantile, lambda x2, x1, t: (x1 + x2) ** t, K, x1, t, kink=kink)

    return _double.quantile_expectation(quantile, inner, K, t, kink=kink)


@pytest.mark.parametrize(
    "law, K, t",
    [
        ("chi2_min", 2, 0.5),
        ("chi2_min", 20, 2.5),
        ("chi2_max", 3, 0.1),
        ("chi2_max", 1000, 15.5),
        ("gaussian_max_sq", 2, 0.5),
        ("gaussian_max_sq", 5, 7.3),
    ],
)
def test_two_summands_against_nested_quadrature(law, K, t):
    reference = math.log(nested_two_sum_moment(law, K, t))
    assert abs(iid_sum_log_moment(law, K, 2, t) - reference) <= TOL


@pytest.mark.parametrize("law", LAWS)
@pytest.mark.parametrize("K", [2, 5, 100])
def test_wide_layers_against_the_large_width_expansion(law, K):
    # Ybar = 1 + D, D the mean of n centred copies of X/E[X]:
    # E[(1+D)^t] = 1 + C(t,2) k2/n + (C(t,3) k3 + 3 C(t,4) k2^2)/n^2
    #              + (C(t,4) k4 + 10 C(t,5) k2 k3 + 15 C(t,6) k2^3)/n^3 + O(n^-4),
    # with k_j the cumulants of X/E[X]; at n = 10**6 the remainder is < 1e-20.
    raw = [1.0] + [single_moment(law, K, j) for j in range(1, 5)]
    m = [raw[j] / raw[1] ** j for j in range(5)]
    central = [sum(special.binom(j, i) * m[i] * (-1) ** (j - i) for i in range(j + 1)) for j in range(5)]
    k2, k3, k4 = central[2], central[3], central[4] - 3 * central[2] ** 2
    n = 10**6
    for t in (0.5, 2.5, 7.25):
        C = lambda j: special.binom(t, j)  # noqa: E731
        series = (
            1
            + C(2) * k2 / n
            + (C(3) * k3 + 3 * C(4) * k2**2) / n**2
            + (C(4) * k4 + 10 * C(5) * k2 * k3 + 15 * C(6) * k2**3) / n**3
        )
        expected = t * math.log(n * raw[1]) + math.log(series)
        assert abs(iid_sum_log_moment(law, K, n, t) - expected) <= TOL, t


@pytest.mark.parametrize("law", LAWS)
def test_laplace_path_reproduces_integer_orders(law):
    # the real-order formula holds for integer t too (a = 2); it must agree with
    # the moment recurrence, which shares nothing with it but the one-summand rule
    orders = np.array([1.0, 2.0, 3.0, 8.0, 30.0])
    for K, n in [(2, 3), (5, 17), (100, 10**4)]:
        rule = sums._summand_rule(law, K, sums._INNER_LEVELS[0])
        laplace = sums._laplace_checked(rule, n, orders) + orders * (math.log(n) + rule.log_mean)
        recurrence = iid_sum_log_moment(law, K, n, orders)
        assert np.max(np.abs(laplace - recurrence)) <= TOL, (K, n)


@pytest.mark.parametrize("law", LAWS)
def test_continuous_across_integer_orders(law):
    # t = 3 uses the recurrence; 3 -/+ 1e-6 use the Laplace path with m = 4 and m = 5.
    # The midpoint rule error is (eps^2/2) |d2/dt2 log E| ~ 1e-12 * (log n mu)^2 / 2 at most.
    eps = 1e-6
    for n in (2, 40, 10**5):
        below, at, above = iid_sum_log_moment(law, 3, n, [3 - eps, 3.0, 3 + eps])
        assert abs(at - (below + above) / 2) <= 1e-11, n


# (law, K, n, t, sampler); 200 000 sums each
MONTE_CARLO = [
    ("chi2_min", 3, 10, 0.5, lambda K: chi2_min(K=K)),
    ("chi2_max", 5, 4, 1.5, lambda K: chi2_max(K=K)),
    ("gaussian_max_sq", 4, 7, 2.5, lambda K: gaussian_max(K=K)),
]


@pytest.mark.parametrize("law, K, n, t, law_of", MONTE_CARLO)
def test_real_orders_against_monte_carlo(law, K, n, t, law_of):
    # |z| <= 4.5 for a normal z-score fails by chance with probability 6.8e-6
    # per case (the sample mean of 2e5 finite-variance terms is close to normal).
    rng = np.random.default_rng(20240611 + K + n)
    draws = law_of(K).rvs(size=(200_000, n), random_state=rng)
    if law == "gaussian_max_sq":
        draws = draws**2
    values = draws.sum(axis=1) ** t
    exact = iid_sum_moment(law, K, n, t)
    z = (values.mean() - exact) / (values.std(ddof=1) / math.sqrt(values.size))
    assert abs(z) <= 4.5


@pytest.mark.parametrize("K", [2, 5, 10**4])
def test_orderings_and_inequalities(K):
    widths = np.array([1, 2, 9, 1000])[:, None]
    orders = np.array([0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0])[None, :]
    logs = {law: iid_sum_log_moment(law, K, widths, orders) for law in LAWS}
    # every Xi^2 is one of the Z_k^2, so min_k Z_k^2 <= Xi^2 <= max_k Z_k^2
    assert np.all(logs["chi2_min"] <= logs["gaussian_max_sq"] + 1e-13)
    assert np.all(logs["gaussian_max_sq"] <= logs["chi2_max"] + 1e-13)
    for value in logs.values():
        # Jensen: E[Y^(1/2)] <= E[Y]^(1/2)
        assert np.all(value[:, 1] <= 0.5 * value[:, 2] + 1e-13)
        # Lyapunov: log E[Y^t] is convex in t (equally spaced orders from 1 to 3)
        second = value[:, 2:5] - 2 * value[:, 3:6] + value[:, 4:7]
        assert np.all(second >= -1e-12)


# ----------------------------------------------------------------------------
# interface
# ----------------------------------------------------------------------------


def test_broadcasting_and_scalars():
    value = iid_sum_log_moment("chi2_max", 3, 5, 0.5)
    assert isinstance(value, float)
    grid = iid_sum_log_moment("chi2_max", [[2], [3]], [5, 6, 7], 0.5)
    assert grid.shape == (2, 3)
    assert grid[1, 0] == pytest.approx(value, abs=1e-15)
    assert iid_sum_log_moment("chi2_min", 4, [1, 10], 0).tolist() == [0.0, 0.0]
    assert iid_sum_log_moment("chi2_min", 4, np.int64(10), np.float32(1.0)) == pytest.approx(
        math.log(10 * chi2_min_moment(4, 1)), abs=TOL
    )
    assert iid_sum_log_moment("chi2_min", 4, 10.0, 2) == iid_sum_log_moment("chi2_min", 4, 10, 2)


def test_moment_is_exp_and_refuses_to_overflow():
    assert iid_sum_moment("gaussian_max_sq", 2, 3, 0) == 1.0
    value = iid_sum_moment("gaussian_max_sq", 2, [3, 4], 1.5)
    logs = iid_sum_log_moment("gaussian_max_sq", 2, [3, 4], 1.5)
    assert np.allclose(np.log(value), logs, rtol=0, atol=1e-15)
    with pytest.raises(OutOfRangeError, match="double-precision range"):
        iid_sum_moment("chi2_max", 5, 2**50, 32)  # about 1e530
    with pytest.raises(OutOfRangeError):
        iid_sum_moment("chi2_min", 2**40, 1, 32)  # about 1e-765
    assert issubclass(OutOfRangeError, ArithmeticError)
    # the logarithm stays available
    assert iid_sum_log_moment("chi2_max", 5, 2**50, 32) > 1000


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda: iid_sum_log_moment("chi2", 2, 3, 1), "law"),
        (lambda: iid_sum_log_moment(None, 2, 3, 1), "law"),
        (lambda: iid_sum_log_moment("chi2_min", 0, 3, 1), "K"),
        (lambda: iid_sum_log_moment("chi2_min", 2.5, 3, 1), "K"),
        (lambda: iid_sum_log_moment("chi2_min", 2, 0, 1), "n"),
        (lambda: iid_sum_log_moment("chi2_min", 2, 2.5, 1), "n"),
        (lambda: iid_sum_log_moment("chi2_min", 2, True, 1), "n"),
        (lambda: iid_sum_log_moment("chi2_min", 2, [3, -1], 1), "n"),
        (lambda: iid_sum_log_moment("chi2_min", 2, 10**20, 1), "n"),
        (lambda: iid_sum_log_moment("chi2_min", 2, "three", 1), "n"),
        (lambda: iid_sum_log_moment("chi2_min", 2, float("nan"), 1), "n"),
        (lambda: iid_sum_log_moment("chi2_min", 2, 3, -0.5), "t"),
        (lambda: iid_sum_log_moment("chi2_min", 2, 3, 33), "t"),
        (lambda: iid_sum_moment("chi2_min", 2, 3, float("inf")), "t"),
        (lambda: chi2_log_moment(0, 1), "n"),
        (lambda: chi2_log_moment(3, -1), "t"),
    ],
)
def test_argument_errors_name_the_argument(call, argument):
    with pytest.raises(MaxboundsValueError) as info:
        call()
    assert info.value.argument == argument
    assert "\n" not in str(info.value)
