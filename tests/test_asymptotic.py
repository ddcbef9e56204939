"""Large-K asymptotic approximations: formulas, convergence and measured error envelopes."""

from __future__ import annotations

import math
from functools import lru_cache

import mpmath as mp
import numpy as np
import pytest
from scipy import special, stats

from maxbounds._validate import MaxboundsValueError
from maxbounds.constants import L, M, S, chi2_max_moment, chi2_min_moment, gaussian_max_moment
from maxbounds.constants import asymptotic as asy
from maxbounds.constants.asymptotic import (
    L_asymptotic,
    M_asymptotic,
    S_asymptotic,
    asymptotic_error_bound,
    asymptotic_moment,
    measure_asymptotic_error,
)
from maxbounds.constants.moments import OutOfRangeError

GAMMA = 0.5772156649015329
DECADES = np.array([10, 100, 1000, 10**4, 10**5, 10**6])
BIG = np.array([10**7, 10**9, 10**11, 10**13, 10**15, 2**50, 2**52])
ORDERS = (1.0, 2.0, 3.0, 4.0)


# --------------------------------------------------------------------------
# reference values, computed once per (name, t, grid)


def _grid(kind: str, name: str) -> np.ndarray:
    if kind == "default":
        K = asy.default_grid()
    elif kind == "random":
        K = np.unique(np.random.default_rng(20240611).integers(1, 10**6, 200))
    else:
        K = BIG
    return K[K >= 2] if name == "M" else K


@lru_cache(maxsize=None)
def _reference(name: str, t: float, kind: str) -> np.ndarray:
    """Accurate values; for S scaled by K^(2t), as the module compares them."""
    return asy._reference(name, _grid(kind, name), t)


def _rel_error(name, t, terms, form, kind):
    K = _grid(kind, name)
    approx = asy._approximate(name, K, t, terms, form)[-1]
    return K, approx / _reference(name, t, kind) - 1.0


def _all_entries():
    return sorted(asy._ENVELOPES)


# --------------------------------------------------------------------------
# the formulas


def test_s_series_coefficients_match_the_hand_derivation():
    # S(K) ~ (pi / K^2) (1 - 3/K + (7 + 2 pi)/K^2 - ...)
    e = asy.s_series_coefficients(1.0, 3)
    np.testing.assert_allclose(e, [1.0, -3.0, 7.0 + 2.0 * math.pi], rtol=1e-14)
    # e_1(s) = -s (s + 1) / 2, i.e. -t (2t + 1): the correction -(2t Gamma(2t+2)/(pi K)) lambda^(-2t-2)
    t = np.array([0.5, 1.0, 1.5, 2.0, 4.0])
    np.testing.assert_allclose(asy.s_series_coefficients(t, 2)[1], -t * (2 * t + 1), rtol=1e-14)
    # t = 0: the moment is 1 whatever the number of terms
    np.testing.assert_allclose(asy.s_series_coefficients(0.0, 6), [1, 0, 0, 0, 0, 0], atol=1e-15)


def test_s_closed_forms():
    K = np.array([10, 1000, 10**6])
    np.testing.assert_allclose(S_asymptotic(K, 1), math.pi / K**2.0, rtol=1e-15)
    np.testing.assert_allclose(S_asymptotic(K, 2), math.pi / K**2.0 * (1 - 3 / K), rtol=1e-15)
    np.testing.assert_allclose(
        S_asymptotic(K), math.pi / K**2.0 * (1 - 3 / K + (7 + 2 * math.pi) / K**2.0), rtol=1e-14
    )
    # general t, leading term: Gamma(2t+1) lambda^(-2t) K^(-2t)
    lam = math.sqrt(2 / math.pi)
    leading = math.gamma(6) * lam**-5 * 100.0**-5
    assert asymptotic_moment("S", 100, 2.5, 1) == pytest.approx(leading, rel=1e-14)


def test_gumbel_moments():
    mu = asy.gumbel_raw_moments(3)
    zeta3 = float(special.zeta(3))
    np.testing.assert_allclose(
        mu, [1, GAMMA, GAMMA**2 + math.pi**2 / 6, GAMMA**3 + GAMMA * math.pi**2 / 2 + 2 * zeta3], rtol=1e-14
    )


def _tail(N):
    b = stats.norm.isf(1.0 / N)
    return b, N * stats.norm.pdf(b)


def test_three_term_gumbel_form_is_the_textbook_formula():
    K = np.array([10, 1000, 10**6])
    b, a = _tail(K.astype(float))
    mu2 = GAMMA**2 + math.pi**2 / 6
    for t in (1, 2, 3, 4):
        expected = b**t + t * b ** (t - 1) * GAMMA / a + t * (t - 1) / 2 * b ** (t - 2) * mu2 / a**2
        np.testing.assert_allclose(asymptotic_moment("M", K, t, 3, form="gumbel"), expected, rtol=1e-12)


def test_three_term_series_formula_for_M():
    # M(K) ~ b^2 + 2 gamma b / a + (gamma^2 + pi^2/6)(1 - b(a - b))/a^2
    K = np.array([10, 1000, 10**6])
    b, a = _tail(K.astype(float))
    mu2 = GAMMA**2 + math.pi**2 / 6
    expected = b**2 + 2 * GAMMA * b / a + mu2 * (1 - b * (a - b)) / a**2
    np.testing.assert_allclose(M_asymptotic(K), expected, rtol=1e-10)
    # one and two terms: b^2 and b^2 + 2 gamma b / a
    np.testing.assert_allclose(M_asymptotic(K, 1), b**2, rtol=1e-13)
    np.testing.assert_allclose(M_asymptotic(K, 2), b**2 + 2 * GAMMA * b / a, rtol=1e-13)


def test_quantile_taylor_coefficients_against_mpmath():
    mp.mp.dps = 40
    try:
        for N in (3, 10**6):
            Nm = mp.mpf(N)

            def z(s):
                return mp.findroot(
                    lambda x: mp.log(mp.erfc(x / mp.sqrt(2)) / 2) + s + mp.log(Nm), mp.sqrt(2 * mp.log(Nm))
                )

            b, a = asy._tail_point(np.array(float(N)))
            coefficients = asy._quantile_taylor_coefficients(b, a, 4)
            for n, value in enumerate(coefficients, start=1):
                exact = mp.diff(z, 0, n) / mp.factorial(n)
                assert float(value) == pytest.approx(float(exact), rel=1e-10)
    finally:
        mp.mp.dps = 15


def test_L_is_M_over_2K_in_the_expansion():
    K = np.array([1, 5, 1000, 10**6, 2**52])
    for terms in (1, 3, 5):
        np.testing.assert_allclose(L_asymptotic(K, terms), M_asymptotic(2 * K, terms), rtol=1e-15)
    np.testing.assert_allclose(L_asymptotic(K, form="classical"), 2 * np.log(2.0 * K), rtol=1e-15)
    np.testing.assert_allclose(
        asymptotic_moment("L", K, 2, 4), asymptotic_moment("M", 2 * K, 4, 4), rtol=1e-15
    )


# --------------------------------------------------------------------------
# known limits of the accurate values


def test_K2_S_tends_to_pi():
    ratio = DECADES**2.0 * S(DECADES) / math.pi
    assert np.all(np.diff(ratio) > 0) and np.all(ratio < 1)
    # 1 - K^2 S/pi ~ 3/K
    np.testing.assert_allclose((1 - ratio[2:]) * DECADES[2:], 3.0, rtol=0.01)


def test_M_over_2logK_tends_to_one_slowly():
    ratio = M(DECADES) / (2 * np.log(DECADES))
    assert np.all(np.diff(ratio) > 0) and np.all(ratio < 1)
    assert 0.85 < ratio[-1] < 0.87  # still 14% short at K = 10^6
    # the classical form is exactly 2 log K, and its error decays like log(4 pi log K) / log K
    np.testing.assert_allclose(M_asymptotic(DECADES, form="classical"), 2 * np.log(DECADES), rtol=1e-15)
    err = np.abs(M_asymptotic(DECADES, form="classical") / M(DECADES) - 1)
    ell = np.log(DECADES)
    scaled = err / (np.log(4 * math.pi * ell) / ell)
    assert np.all((0.3 < scaled) & (scaled < 0.5))


def test_L_of_K_against_M_of_2K():
    rel = np.abs(M(2 * DECADES) / L(DECADES) - 1)
    assert np.all(np.diff(rel) < 0)
    assert rel[-1] < 5e-8  # the two maxima differ by O(log K / K)
    assert np.all(rel * DECADES < 0.1 * np.log(DECADES))


# --------------------------------------------------------------------------
# convergence


@pytest.mark.parametrize("name", ["S", "M", "L"])
@pytest.mark.parametrize("terms", [1, 2, 3, 4])
def test_error_decreases_with_K(name, terms):
    """The largest error in each decade of K shrinks from one decade to the next."""
    t = asy._DEFAULT_ORDER[name]
    K, rel = _rel_error(name, t, terms, "series", "default")
    worst = [np.max(np.abs(rel[(K >= 10**k) & (K < 10 ** (k + 1))])) for k in range(1, 6)]
    worst = [w for w in worst if w > 1e-12]  # S sinks into the reference's rounding
    assert len(worst) >= 2
    assert np.all(np.diff(worst) < 0), worst


@pytest.mark.parametrize("name", ["S", "M", "L"])
def test_more_terms_help_at_large_K(name):
    t = asy._DEFAULT_ORDER[name]
    K = 10**4 if name == "S" else 10**6
    best = asymptotic_moment(name, K, t, 6)
    errors = [abs(asymptotic_moment(name, K, t, n) / best - 1) for n in range(1, 5)]
    exact = chi2_min_moment(K, t) if name == "S" else (M(K) if name == "M" else L(K))
    true_errors = [abs(asymptotic_moment(name, K, t, n) / exact - 1) for n in range(1, 6)]
    assert np.all(np.diff(true_errors[: 4 if name == "S" else 5]) < 0), true_errors
    assert np.all(np.diff(errors) < 0)


def test_series_beats_the_textbook_gumbel_form_for_M():
    """The three-term Gumbel formula keeps a 1/a^2 term but drops the z'' term of the same size."""
    for t in (2.0, 4.0):
        K, series = _rel_error("M", t, 3, "series", "default")
        _, gumbel = _rel_error("M", t, 3, "gumbel", "default")
        large = K >= 100
        assert np.all(np.abs(series[large]) < np.abs(gumbel[large]))
    # for M = E[Xi^2], adding the textbook third term makes the two-term form worse
    K, two = _rel_error("M", 2.0, 2, "gumbel", "default")
    _, three = _rel_error("M", 2.0, 3, "gumbel", "default")
    assert np.all(np.abs(two[K >= 10]) < np.abs(three[K >= 10]))


# --------------------------------------------------------------------------
# measured envelopes


@pytest.mark.parametrize("kind", ["default", "random", "big"])
def test_errors_below_the_envelope(kind):
    """Every stored envelope holds on the measurement grid, off it, and up to K = 2**52."""
    failures = []
    for name, form, terms, t in _all_entries():
        K, rel = _rel_error(name, t, terms, form, kind)
        bound = asymptotic_error_bound(name, K, t, terms, form=form)
        bad = np.abs(rel) > bound
        if np.any(bad):
            failures.append((name, form, terms, t, K[bad][:3], rel[bad][:3], bound[bad][:3]))
    assert not failures, failures


def test_envelope_at_the_decades():
    """Defaults at K = 10^3, 10^4, 10^6: measured error below the bound, and the bound is not loose."""
    K = np.array([1000, 10**4, 10**6])
    for name, exact in (("M", M(K)), ("L", L(K))):
        rel = np.abs(asymptotic_moment(name, K) / exact - 1)
        bound = asymptotic_error_bound(name, K)
        assert np.all(rel <= bound) and np.all(bound < 3 * rel)
    rel = np.abs(S_asymptotic(K[:2]) / S(K[:2]) - 1)
    bound = asymptotic_error_bound("S", K[:2])
    assert np.all(rel <= bound) and np.all(bound < 1.5 * rel)
    # the documented examples
    assert asymptotic_error_bound("S", 10**3) == pytest.approx(98e-9 + asy.BOUND_FLOOR)
    assert asymptotic_error_bound("M", 10**6) == pytest.approx(1.3 / math.log(1e6) ** 4 + asy.BOUND_FLOOR)
    assert asymptotic_error_bound("L", 10**6) == pytest.approx(1.3 / math.log(2e6) ** 4 + asy.BOUND_FLOOR)


def test_stored_envelopes_are_current():
    """Re-measuring gives the stored constants (up to the last rounded digit)."""
    table = asy._envelope_table()
    assert set(table) == set(asy._ENVELOPES)
    for key, (K0, C, C0) in table.items():
        stored = asy._ENVELOPES[key]
        assert stored[0] == K0, key
        assert stored[1] == pytest.approx(C, rel=0.02), key
        assert stored[2] == pytest.approx(C0, rel=0.02), key


def test_measurement_result():
    m = measure_asymptotic_error("M")
    assert (m.name, m.t, m.terms, m.form) == ("M", 2.0, 3, "series")
    assert m.K[0] == 2 and m.K[-1] == 10**6
    np.testing.assert_allclose(m.exact, M(m.K), rtol=1e-15)
    assert np.all(np.abs(m.rel_error) <= m.envelope())
    assert m.K_extension.size and np.all(np.abs(m.rel_error_extension) < 1e-5)
    custom = measure_asymptotic_error("S", 2, 2, K=[10, 100])
    assert custom.K_extension.size == 0 and custom.K.tolist() == [10, 100]


def test_rate_powers():
    assert asy.rate_power("S", 1.0, 3) == 3
    assert asy.rate_power("M", 2.0, 3) == 4  # second moment: one order better
    assert asy.rate_power("L", 1.0, 3) == 4
    assert asy.rate_power("M", 4.0, 3) == 3
    assert asy.rate_power("M", 2.0, 2, "gumbel") == 3
    assert asy.rate_power("M", 2.0, 3, "gumbel") == 2
    assert asy.rate_power("L", 2.0, 1, "classical") == 1


# --------------------------------------------------------------------------
# API: shapes, scalars, logs, validation


def test_shapes_and_scalars():
    assert isinstance(M_asymptotic(10), float)
    assert isinstance(asymptotic_error_bound("S", 10), float)
    K = np.arange(1, 10001)
    assert S_asymptotic(K).shape == (10000,)
    out = asymptotic_moment("L", np.array([[10], [100]]), np.array([1, 2, 3]))
    assert out.shape == (2, 3)
    assert asymptotic_error_bound("L", np.array([[10], [100]]), np.array([1, 2, 3])).shape == (2, 3)
    assert asymptotic_moment("M", 100, 0) == 1.0 and asymptotic_moment("S", 100, 0) == 1.0


def test_small_K_and_non_integer_orders():
    # K = 2 for M: expansion point b = 0, integer orders are multiplied out
    assert np.isfinite(asymptotic_moment("M", 2, np.array([1, 2, 3]))).all()
    with pytest.raises(MaxboundsValueError, match="^t: .*K >= 3"):
        asymptotic_moment("M", 2, 2.5)
    # a non-integer order approximates E|Xi|^t
    K = 10**4
    exact = gaussian_max_moment(K, 2.5, absolute=True)
    assert asymptotic_moment("M", K, 2.5) == pytest.approx(exact, rel=1e-3)
    assert asymptotic_moment("L", K, 1.5) == pytest.approx(chi2_max_moment(K, 1.5), rel=1e-3)


def test_log_and_range():
    K = 2**53
    with pytest.raises(OutOfRangeError):
        asymptotic_moment("S", K, 32)
    value = asymptotic_moment("S", K, 32, log=True)
    assert value == pytest.approx(chi2_min_moment(K, 32, log=True), rel=1e-14)
    assert asymptotic_moment("M", 1000, log=True) == pytest.approx(math.log(M_asymptotic(1000)), rel=1e-15)
    with pytest.raises(MaxboundsValueError, match="^log: "):
        asymptotic_moment("S", 2, 1, 2, log=True)  # 1 - 3/2 < 0


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda: asymptotic_moment("Q", 10), "name"),
        (lambda: asymptotic_moment(2, 10), "name"),
        (lambda: asymptotic_moment("M", 0), "K"),
        (lambda: asymptotic_moment("M", 1), "K"),
        (lambda: asymptotic_moment("S", 2.5), "K"),
        (lambda: asymptotic_moment("S", True), "K"),
        (lambda: asymptotic_moment("S", 2**54), "K"),
        (lambda: asymptotic_moment("S", 10, -1), "t"),
        (lambda: asymptotic_moment("S", 10, 40), "t"),
        (lambda: asymptotic_moment("S", 10, 1, 0), "terms"),
        (lambda: asymptotic_moment("S", 10, 1, 7), "terms"),
        (lambda: asymptotic_moment("S", 10, 1, 2.5), "terms"),
        (lambda: asymptotic_moment("S", 10, 1, True), "terms"),
        (lambda: asymptotic_moment("M", 10, 2, 2, form="classical"), "terms"),
        (lambda: asymptotic_moment("M", 10, form="weibull"), "form"),
        (lambda: asymptotic_moment("S", 10, form="gumbel"), "form"),
        (lambda: asymptotic_error_bound("M", 10, 1.5), "t"),
        (lambda: asymptotic_error_bound("M", 1), "K"),
        (lambda: asymptotic_error_bound("L", 10, 1, 9), "terms"),
        (lambda: measure_asymptotic_error("S", [1, 2]), "t"),
        (lambda: M_asymptotic([10, 0]), "K"),
    ],
)
def test_argument_validation(call, argument):
    with pytest.raises(MaxboundsValueError) as info:
        call()
    assert info.value.argument == argument
    assert "\n" not in str(info.value) and str(info.value).startswith(f"{argument}: ")
