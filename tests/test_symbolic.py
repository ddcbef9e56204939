"""Tests of maxbounds.constants.symbolic: generated closed forms against independent numerics."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
from scipy.stats import multivariate_normal

from maxbounds.constants import L, M, S, chi2_min_moment, gaussian_max_moment, symbolic
from maxbounds.constants.symbolic import (
    CLOSED_FORM_MAX_K,
    L_closed,
    M_closed,
    S_closed,
    closed_form,
    integral_form,
    orthant_probability,
)

pi, sqrt3, asin = sp.pi, sp.sqrt(3), sp.asin

# The independent numeric path of maxbounds.constants, by name.
NUMERIC = {
    "M": lambda K, **kw: M(K, **kw),
    "S": lambda K, **kw: S(K, **kw),
    "L": lambda K, **kw: L(K, **kw),
    "gaussian_max_mean": lambda K, **kw: gaussian_max_moment(K, 1, **kw),
}
ALL_CASES = [(name, K) for name in NUMERIC for K in range(1, CLOSED_FORM_MAX_K[name] + 1)]


def to_mp(value):
    """An mpmath number from a sympy number, at the current mpmath precision."""
    return mp.mpf(str(sp.N(value, mp.mp.dps + 10)))


def rel_err(a, b):
    a, b = mp.mpf(a), mp.mpf(b)
    return abs(a - b) / abs(b) if b != 0 else abs(a)


# ---------------------------------------------------------------------------
# Closed forms
# ---------------------------------------------------------------------------


def test_closed_form_ranks():
    assert CLOSED_FORM_MAX_K == {"M": 6, "S": 5, "L": 5, "gaussian_max_mean": 5}


@pytest.mark.parametrize("name, K", ALL_CASES)
def test_closed_form_is_exact_expression(name, K):
    value = closed_form(name, K)
    assert isinstance(value, sp.Expr)
    assert not value.free_symbols
    assert not value.has(sp.Integral)
    assert isinstance(sp.latex(value), str)


@pytest.mark.parametrize("name, K", ALL_CASES)
def test_closed_form_matches_double_path(name, K):
    exact = float(closed_form(name, K).evalf(30))
    numeric = NUMERIC[name](K)
    assert exact == pytest.approx(numeric, rel=1e-12, abs=1e-300)


KNOWN = [
    ("M", 1, sp.Integer(1)),
    ("M", 2, sp.Integer(1)),
    ("M", 3, 1 + sqrt3 / (2 * pi)),
    ("M", 4, 1 + sqrt3 / pi),
    ("S", 1, sp.Integer(1)),
    ("S", 2, 1 - 2 / pi),
    ("S", 3, 1 - (6 / pi) * (1 - 1 / sqrt3)),
    ("S", 4, 1 - 12 / pi + 16 / (pi * sqrt3)),
    ("L", 1, sp.Integer(1)),
    ("L", 2, 1 + 2 / pi),
    ("L", 3, 1 + 2 * sqrt3 / pi),
    ("L", 4, 1 + 8 / (pi * sqrt3)),
    ("gaussian_max_mean", 1, sp.Integer(0)),
    ("gaussian_max_mean", 2, 1 / sp.sqrt(pi)),
    ("gaussian_max_mean", 3, 3 / (2 * sp.sqrt(pi))),
    # classical (Bose & Gupta): E[max of 4 normals] = 3/(2 sqrt(pi)) + 3 asin(1/3) / pi^(3/2)
    ("gaussian_max_mean", 4, 3 / (2 * sp.sqrt(pi)) + 3 * asin(sp.Rational(1, 3)) / pi ** sp.Rational(3, 2)),
]


# Each 40-digit value of the numeric path costs about a second.  The default suite checks
# the closed forms that no exact identity above confirms (they carry asin(1/4) or asin(1/3));
# the slow marker adds the rest, so that every closed form is checked to 1e-35.
PRECISE_CASES = [
    pytest.param(name, K, marks=pytest.mark.slow if any(k[:2] == (name, K) for k in KNOWN) else ())
    for name, K in ALL_CASES
]


@pytest.mark.parametrize("name, K", PRECISE_CASES)
def test_closed_form_matches_precise_path(name, K):
    exact = closed_form(name, K).evalf(50)
    numeric = NUMERIC[name](K, dps=40)
    with mp.workdps(50):
        assert rel_err(to_mp(exact), numeric) < mp.mpf("1e-35")


@pytest.mark.parametrize("name, K, expected", KNOWN)
def test_known_closed_forms(name, K, expected):
    assert sp.simplify(closed_form(name, K) - expected) == 0


def test_asin_quarter_appears_from_rank_five():
    assert closed_form("M", 5).has(asin(sp.Rational(1, 4)))
    assert not closed_form("M", 4).has(sp.asin)
    assert closed_form("gaussian_max_mean", 5).has(asin(sp.Rational(1, 3)))


def test_convenience_functions():
    assert M_closed(5) == closed_form("M", 5)
    assert S_closed(3) == closed_form("S", 3)
    assert L_closed(4) == closed_form("L", 4)
    assert closed_form("M", sp.Integer(3)) == closed_form("M", np.int64(3)) == closed_form("M", 3.0)
    assert integral_form("L", 3.0) == integral_form("L", 3)


def test_closed_form_lambdify():
    f = sp.lambdify([], closed_form("S", 5), "mpmath")
    assert float(f()) == pytest.approx(S(5), rel=1e-12)


@pytest.mark.parametrize("name", sorted(CLOSED_FORM_MAX_K))
def test_no_closed_form_beyond_limit(name):
    largest = CLOSED_FORM_MAX_K[name]
    with pytest.raises(NotImplementedError, match=rf"largest K with a closed form is {largest}\b") as info:
        closed_form(name, largest + 1)
    assert "integral_form" in str(info.value)
    with pytest.raises(NotImplementedError, match="integral_form"):
        closed_form(name, 10**6)


def test_no_closed_form_for_symbolic_rank():
    with pytest.raises(NotImplementedError, match="integral_form"):
        closed_form("M", sp.Symbol("K", positive=True, integer=True))


@pytest.mark.parametrize("K", [0, -1, 2.5, True, sp.Rational(5, 2), sp.Integer(0), [2, 3]])
def test_closed_form_rejects_bad_rank(K):
    with pytest.raises(ValueError):
        closed_form("M", K)


def test_rejects_unknown_name():
    with pytest.raises(ValueError, match="unknown constant"):
        closed_form("Q", 2)
    with pytest.raises(ValueError, match="unknown constant"):
        integral_form("Q", 2)


# ---------------------------------------------------------------------------
# The integration-by-parts step, checked beyond the closed-form range
# ---------------------------------------------------------------------------


def _mp_quad(integral: sp.Integral):
    (x, lo, hi), = integral.limits
    f = sp.lambdify(x, integral.function, "mpmath")
    points = [lo, sp.Integer(0), hi] if lo == -sp.oo else [lo, hi]
    return mp.quad(f, [mp.mpf(int(p)) if p.is_finite else (mp.inf if p > 0 else -mp.inf) for p in points])


def _mp_value(expression):
    """Evaluate a combination of unevaluated Integrals with mpmath quadrature."""
    integrals = list(expression.atoms(sp.Integral))
    symbols = sp.symbols(f"I0:{len(integrals)}")
    linear = expression.subs(dict(zip(integrals, symbols)))
    f = sp.lambdify(symbols, linear, "mpmath")
    return f(*[_mp_quad(integral) for integral in integrals])


@pytest.mark.parametrize("name, K", [("M", 3), ("M", 8), ("S", 2), ("S", 7), ("L", 2), ("L", 7),
                                     ("gaussian_max_mean", 7)])
def test_integration_by_parts_identity(name, K):
    with mp.workdps(25):
        reduced = _mp_value(symbolic._reduced_form(name, K))
        direct = _mp_quad(integral_form(name, K))
        assert rel_err(reduced, direct) < mp.mpf("1e-18")


def test_pieces_match_their_integrals():
    """Each orthant reduction agrees with the integral it replaces."""
    pieces = [(2, 3, 0, False), (3, 2, 0, False), (3, 0, 2, True), (3, 1, 1, True), (2, 1, 1, False)]
    for p, a, b, half in pieces:
        piece = symbolic._Piece(p, a, b, half)
        with mp.workdps(25):
            exact = to_mp(symbolic._piece_closed_form(piece))
            assert rel_err(exact, _mp_quad(symbolic._piece_integral(piece))) < mp.mpf("1e-20")


# ---------------------------------------------------------------------------
# integral_form
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, K, expected",
    [("M", 3, lambda: M(3)), ("S", 3, lambda: S(3)), ("L", 2, lambda: L(2))],
)
def test_integral_form_evalf(name, K, expected):
    # sympy's own quadrature evaluates the integrand through sympy, about a second a call;
    # the other checks of integral_form use mpmath on the lambdified integrand
    integral = integral_form(name, K)
    assert isinstance(integral, sp.Integral)
    assert float(integral.evalf(12)) == pytest.approx(expected(), rel=1e-10)


def test_integral_form_symbolic_rank_and_order():
    K = sp.Symbol("K", positive=True, integer=True)
    t = sp.Symbol("t", positive=True)
    integral = integral_form("L", K)
    assert K in integral.free_symbols
    assert float(integral.subs(K, 4).evalf(15)) == pytest.approx(L(4), rel=1e-12)
    general = integral_form("S", K, t)
    assert {K, t} <= general.free_symbols
    with mp.workdps(20):
        assert float(_mp_quad(general.subs({K: 3, t: sp.Rational(3, 2)}))) == pytest.approx(
            chi2_min_moment(3, 1.5), rel=1e-12
        )
        assert float(_mp_quad(integral_form("M", K, t).subs({K: 5, t: 4}))) == pytest.approx(
            gaussian_max_moment(5, 4), rel=1e-12
        )


@pytest.mark.parametrize("K", [1, 4, 9])
def test_integral_form_defaults_and_orders(K):
    with mp.workdps(20):
        assert float(_mp_quad(integral_form("M", K, 1))) == pytest.approx(
            float(_mp_quad(integral_form("gaussian_max_mean", K))), abs=1e-15
        )
        third = gaussian_max_moment(K, 3)
        assert float(_mp_quad(integral_form("M", K, 3))) == pytest.approx(third, rel=1e-12)
        assert float(_mp_quad(integral_form("L", K, 2))) == pytest.approx(
            float(_mp_quad(integral_form("L", K, sp.Integer(2)))), rel=1e-15
        )
        assert float(_mp_quad(integral_form("M", K, 0))) == pytest.approx(1.0, rel=1e-15)


@pytest.mark.parametrize(
    "name, t", [("M", 1.5), ("M", -2), ("S", -1), ("gaussian_max_mean", 2), ("L", True), ("S", "x")]
)
def test_integral_form_rejects_bad_order(name, t):
    with pytest.raises(ValueError):
        integral_form(name, 3, t)


# ---------------------------------------------------------------------------
# Orthant probabilities
# ---------------------------------------------------------------------------


def test_orthant_small_dimensions():
    rho = sp.Symbol("rho")
    assert orthant_probability([]) == 1
    assert orthant_probability([[1]]) == sp.Rational(1, 2)
    sheppard = sp.Rational(1, 4) + asin(rho) / (2 * pi)
    assert sp.simplify(orthant_probability([[1, rho], [rho, 1]]) - sheppard) == 0
    a, b, c = sp.symbols("a b c")
    generated = orthant_probability([[1, a, b], [a, 1, c], [b, c, 1]])
    assert sp.simplify(generated - (sp.Rational(1, 8) + (asin(a) + asin(b) + asin(c)) / (4 * pi))) == 0
    assert orthant_probability(sp.eye(3)) == sp.Rational(1, 8)
    # rho = -1/2 gives 1/6 exactly; a covariance matrix is scaled to correlations
    assert orthant_probability([[1, -sp.Rational(1, 2)], [-sp.Rational(1, 2), 1]]) == sp.Rational(1, 6)
    assert orthant_probability([[4, 2], [2, 4]]) == sp.Rational(1, 3)


@pytest.mark.parametrize(
    "R",
    [
        [[1, 0.3, -0.5], [0.3, 1, 0.6], [-0.5, 0.6, 1]],
        [[1, 0.25, 0.25], [0.25, 1, 0.25], [0.25, 0.25, 1]],
        [[2.0, -0.7, 0.4], [-0.7, 1.0, -0.2], [0.4, -0.2, 0.5]],
        [[1, 0.9], [0.9, 1]],
    ],
)
def test_orthant_against_scipy(R):
    R = np.asarray(R, dtype=float)
    n = len(R)
    exact = sp.Rational  # keep entries exact so that asin is evaluated only at the end
    matrix = sp.Matrix(n, n, lambda i, j: exact(str(R[i, j])))
    reference = multivariate_normal.cdf(
        np.zeros(n), mean=np.zeros(n), cov=R, abseps=1e-10, releps=1e-10, maxpts=10**6, rng=1
    )
    assert float(orthant_probability(matrix)) == pytest.approx(reference, abs=1e-6)


def test_orthant_rejects():
    with pytest.raises(NotImplementedError, match="at most 3"):
        orthant_probability(sp.eye(4))
    with pytest.raises(ValueError):
        orthant_probability([[1, 0.5, 0.2], [0.5, 1, 0.1]])  # not square
    with pytest.raises(ValueError):
        orthant_probability([[1, 0.5], [0.4, 1]])  # not symmetric
    with pytest.raises(ValueError):
        orthant_probability([[1, 2], [2, 1]])  # not a correlation matrix
    with pytest.raises(ValueError):
        orthant_probability([[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]])  # not PSD
    with pytest.raises(ValueError):
        orthant_probability([[-1]])
