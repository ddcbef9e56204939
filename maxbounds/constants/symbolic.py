r"""Exact closed forms of the order-statistic constants, generated with sympy.

Nothing in this module is a final formula typed in by hand.  Each closed form
is produced in three mechanical steps (written out in ``docs/closed_forms.md``):

1. **Integration by parts.**  With :math:`x\varphi = -\varphi'` and
   :math:`x\varphi^2 = -\tfrac12(\varphi^2)'`, each constant becomes a
   rational multiple of one-dimensional integrals

   .. math:: J(p; a, b; D) = \int_D \varphi(x)^p\,\Phi(x)^a\,\bar\Phi(x)^b\,dx,
             \qquad D = \mathbb{R} \text{ or } (0, \infty),

   plus a constant (:func:`_ibp_terms`).
2. **Orthant reduction.**  Since :math:`\varphi(x)^p = c_p\,\varphi(\sqrt p\,x)`
   (sympy computes :math:`c_p`), the substitution :math:`y = \sqrt p\,x` turns
   :math:`J` into :math:`c_p p^{-1/2}\,E[1_D(Y)\,\Phi(Y/\sqrt p)^a\,
   \bar\Phi(Y/\sqrt p)^b]`, and :math:`\Phi(Y/\sqrt p) = P(Z > -Y/\sqrt p \mid Y)`
   makes the expectation the probability that ``a + b (+1)`` jointly normal
   linear forms in independent :math:`Y, Z_1, Z_2, \dots` are all positive.
   The covariance of those forms is computed from their coefficients
   (:func:`_piece_closed_form`).
3. **Orthant probabilities** in dimension at most three have elementary closed
   forms (:func:`orthant_probability`).

The dimension needed grows with ``K``, so a closed form exists only up to the
rank recorded in :data:`CLOSED_FORM_MAX_K`, which is computed at import from
the orthant dimensions that step 1 asks for.  For any ``K``,
:func:`integral_form` gives the defining integral as an unevaluated
:class:`sympy.Integral`.

Notation (docs/constants.md): :math:`\Xi_K` is the largest of ``K`` i.i.d.
standard normals, :math:`M_t(K) = E[\Xi_K^t]`, :math:`M = M_2`;
:math:`S(K) = E[\min_k Z_k^2]` and :math:`L(K) = E[\max_k Z_k^2]`.
"""

from __future__ import annotations

import functools
import itertools
from typing import NamedTuple

import sympy as sp

from .. import _validate

__all__ = [
    "CLOSED_FORM_MAX_K",
    "ORTHANT_MAX_DIMENSION",
    "closed_form",
    "integral_form",
    "orthant_probability",
    "M_closed",
    "S_closed",
    "L_closed",
]

#: Largest dimension for which :func:`orthant_probability` knows a closed form.
ORTHANT_MAX_DIMENSION = 3

#: Names understood by :func:`closed_form` and :func:`integral_form`, with the
#: default moment order ``t`` of :func:`integral_form` and the numeric function
#: of :mod:`maxbounds.constants` that computes the same quantity.
_NAMES = {
    "M": (2, "M(K, dps=...) or gaussian_max_moment(K, t, dps=...)"),
    "S": (1, "S(K, dps=...) or chi2_min_moment(K, t, dps=...)"),
    "L": (1, "L(K, dps=...) or chi2_max_moment(K, t, dps=...)"),
    "gaussian_max_mean": (1, "gaussian_max_moment(K, 1, dps=...)"),
}

# The integration variable of every integral this module builds.
_x = sp.Symbol("x", real=True)
_SQRT2 = sp.sqrt(2)


def _phi(z):
    """Standard normal density as a sympy expression."""
    return sp.exp(-z**2 / 2) / sp.sqrt(2 * sp.pi)


def _Phi(z):
    r"""Standard normal cdf :math:`\Phi(z) = \tfrac12\operatorname{erfc}(-z/\sqrt2)`.

    The argument of ``erfc`` is kept unevaluated: sympy would otherwise
    rewrite ``erfc(-u)`` as ``2 - erfc(u)``, whose cancellation for
    ``z -> -oo`` makes :meth:`sympy.Integral.evalf` several times slower.
    """
    return sp.erfc(-z / _SQRT2, evaluate=False) / 2


def _Phibar(z):
    r"""Standard normal survival function :math:`\bar\Phi(z) = \tfrac12\operatorname{erfc}(z/\sqrt2)`."""
    return sp.erfc(z / _SQRT2) / 2


# ---------------------------------------------------------------------------
# Orthant probabilities
# ---------------------------------------------------------------------------


def _as_square_matrix(R) -> sp.Matrix:
    try:
        matrix = sp.Matrix(R)
    except (TypeError, ValueError, sp.SympifyError):
        raise _validate.MaxboundsValueError("R", f"expected a square matrix, got {R!r}") from None
    if matrix.rows != matrix.cols:
        if matrix.rows * matrix.cols == 0:  # sp.Matrix([]) is 0 x 0 but [[]] is 1 x 0
            return sp.zeros(0, 0)
        raise _validate.MaxboundsValueError("R", f"expected a square matrix, got shape {matrix.shape}")
    return matrix


def _to_correlation(matrix: sp.Matrix) -> sp.Matrix:
    """Scale a covariance matrix to a correlation matrix, checking what can be checked."""
    n = matrix.rows
    for i in range(n):
        if matrix[i, i].is_positive is False:
            raise _validate.MaxboundsValueError("R", f"diagonal entry {i} is {matrix[i, i]}, not positive")
        for j in range(i):
            if sp.simplify(matrix[i, j] - matrix[j, i]) != 0:
                raise _validate.MaxboundsValueError("R", f"the matrix is not symmetric (entries {i},{j})")
    if all(matrix[i, i] == 1 for i in range(n)):
        corr = matrix
    else:
        scale = [1 / sp.sqrt(matrix[i, i]) for i in range(n)]
        corr = sp.Matrix(n, n, lambda i, j: 1 if i == j else sp.simplify(matrix[i, j] * scale[i] * scale[j]))
    if not corr.free_symbols:
        # numeric matrix: every principal minor of a correlation matrix is >= 0
        for size in range(2, n + 1):
            for index in itertools.combinations(range(n), size):
                minor = corr.extract(list(index), list(index)).det()
                if sp.N(minor, 30) < -1e-12:
                    raise _validate.MaxboundsValueError(
                        "R", "the matrix is not positive semidefinite, so it is no covariance matrix"
                    )
    return corr


def _orthant(corr: sp.Matrix):
    """Orthant probability of a correlation matrix of dimension <= ORTHANT_MAX_DIMENSION."""
    n = corr.rows
    if n == 0:
        return sp.Integer(1)
    if n == 1:
        return sp.Rational(1, 2)
    if n == 2:
        # Sheppard's formula
        return sp.Rational(1, 4) + sp.asin(corr[0, 1]) / (2 * sp.pi)
    if n % 2 == 1:
        # Odd dimension.  Inclusion-exclusion over the complements, together
        # with P(all < 0) = P(all > 0) for every sub-vector (symmetry X -> -X),
        # gives 2 P_n = sum over proper subsets S of (-1)^|S| P_S.
        total = sp.Integer(0)
        for size in range(n):
            for index in itertools.combinations(range(n), size):
                total += (-1) ** size * _orthant(corr.extract(list(index), list(index)))
        return sp.expand(total / 2, deep=False)
    raise NotImplementedError(f"no elementary closed form for a {n}-dimensional orthant probability")


def orthant_probability(R):
    r"""Probability that centred jointly normal variables are all positive.

    For :math:`X \sim N(0, R)` in dimension :math:`n`, returns the exact
    :math:`P_n(R) = P(X_1 > 0, \dots, X_n > 0)` (which equals
    :math:`P(X_1 < 0, \dots, X_n < 0)` by symmetry):

    .. math::

        P_0 = 1, \qquad P_1 = \tfrac12, \qquad
        P_2 = \tfrac14 + \frac{\arcsin\rho_{12}}{2\pi}, \qquad
        P_3 = \tfrac18 + \frac{\arcsin\rho_{12} + \arcsin\rho_{13}
              + \arcsin\rho_{23}}{4\pi} .

    :math:`P_2` is Sheppard's formula.  :math:`P_3` is not stored: it is
    generated from the identity, valid for odd :math:`n`,

    .. math:: 2P_n(R) = \sum_{S \subsetneq \{1..n\}} (-1)^{|S|} P_{|S|}(R_{SS}),

    obtained from inclusion-exclusion over the events :math:`\{X_i < 0\}` and
    the symmetry :math:`X \to -X`.

    Parameters
    ----------
    R : array_like or sympy.Matrix, shape (n, n)
        Correlation matrix, entries numbers or sympy expressions (symbols are
        allowed).  A covariance matrix is accepted too and scaled to a
        correlation matrix first.

    Returns
    -------
    sympy.Expr
        The exact probability.

    Raises
    ------
    NotImplementedError
        If ``n > 3`` (:data:`ORTHANT_MAX_DIMENSION`): in dimension four and
        above orthant probabilities are not elementary in general.
    ValueError
        If ``R`` is not square and symmetric, has a non-positive diagonal, or
        (numeric ``R``) is not positive semidefinite.

    Examples
    --------
    >>> import sympy
    >>> rho = sympy.Symbol("rho")
    >>> orthant_probability([[1, rho], [rho, 1]])
    asin(rho)/(2*pi) + 1/4
    >>> orthant_probability([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    1/8
    """
    matrix = _as_square_matrix(R)
    n = matrix.rows
    if n > ORTHANT_MAX_DIMENSION:
        raise NotImplementedError(
            f"orthant_probability: closed forms are implemented for at most {ORTHANT_MAX_DIMENSION} "
            f"dimensions, got {n}"
        )
    return _orthant(_to_correlation(matrix))


# ---------------------------------------------------------------------------
# Step 1: integration by parts
# ---------------------------------------------------------------------------


class _Piece(NamedTuple):
    r""":math:`\int_D \varphi(x)^p \Phi(x)^a \bar\Phi(x)^b\,dx`.

    ``D = (0, oo)`` if ``half`` else the real line.
    """

    p: int
    a: int
    b: int
    half: bool

    @property
    def dimension(self) -> int:
        """Dimension of the orthant probability the piece reduces to."""
        return self.a + self.b + int(self.half)


def _ibp_terms(name: str, K: int):
    r"""Write a constant as ``constant + sum(coefficient * piece)`` after integration by parts.

    The identities (``K >= 1``; a term whose coefficient vanishes is left out,
    so no negative power ever appears):

    * :math:`M(K) = 1 + \binom K3\,3\,J(3; K-3, 0; \mathbb R)`;
    * :math:`E[\Xi_K] = K(K-1)\,J(2; K-2, 0; \mathbb R)`;
    * :math:`S(K) = 1 - 4K(K-1)\big[\varphi(0)^2/2 - (K-2)\,2^{K-3} J(3; 0, K-3; (0,\infty))\big]`;
    * :math:`L(K) = 1 + 4K(K-1)\big[\varphi(0)^2/2\cdot 1[K=2]
      + (K-2)\sum_j \binom{K-3}{j}(-2)^j J(3; 0, j; (0,\infty))\big]`,
      from :math:`2\Phi - 1 = 1 - 2\bar\Phi`.
    """
    K = sp.Integer(K)
    half_phi0_sq = _phi(sp.Integer(0)) ** 2 / 2
    if name == "M":
        if K < 3:
            return sp.Integer(1), []
        return sp.Integer(1), [(K * (K - 1) * (K - 2) / 2, _Piece(3, int(K) - 3, 0, False))]
    if name == "gaussian_max_mean":
        if K < 2:
            return sp.Integer(0), []
        return sp.Integer(0), [(K * (K - 1), _Piece(2, int(K) - 2, 0, False))]
    if name == "S":
        if K < 2:
            return sp.Integer(1), []
        outer = -4 * K * (K - 1)
        terms = []
        if K > 2:
            terms.append((-outer * (K - 2) * 2 ** (K - 3), _Piece(3, 0, int(K) - 3, True)))
        return 1 + outer * half_phi0_sq, terms
    if name == "L":
        if K < 2:
            return sp.Integer(1), []
        outer = 4 * K * (K - 1)
        if K == 2:
            return 1 + outer * half_phi0_sq, []
        m = int(K) - 3
        terms = [
            (outer * (K - 2) * sp.binomial(m, j) * (-2) ** j, _Piece(3, 0, j, True)) for j in range(m + 1)
        ]
        return sp.Integer(1), terms
    raise _unknown_name(name)


# ---------------------------------------------------------------------------
# Step 2: from a piece to an orthant probability
# ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _density_power_scale(p: int):
    r""":math:`c_p` with :math:`\varphi(x)^p = c_p\,\varphi(\sqrt p\,x)`, computed by sympy."""
    scale = sp.simplify(_phi(_x) ** p / _phi(sp.sqrt(p) * _x))
    if scale.has(_x):  # pragma: no cover - a guard on the algebra, not on user input
        raise ArithmeticError(f"phi(x)^{p} is not a multiple of phi(sqrt({p}) x)")
    return scale


@functools.lru_cache(maxsize=None)
def _piece_closed_form(piece: _Piece):
    r"""Exact value of a piece via an orthant probability.

    With :math:`y = \sqrt p\,x` and :math:`Y, Z_1, Z_2, \dots` independent
    standard normals, the piece equals :math:`c_p p^{-1/2}` times the
    probability that the following linear forms are all positive:
    :math:`Y/\sqrt p + Z_i` for each :math:`\Phi` factor
    (:math:`\Phi(y/\sqrt p) = P(Z > -y/\sqrt p)`), :math:`Z_i - Y/\sqrt p` for
    each :math:`\bar\Phi` factor, and :math:`Y` itself on the half line.
    """
    p, a, b, half = piece
    m = a + b
    shift = 1 / sp.sqrt(p)
    rows = []
    for i in range(m):
        row = [shift if i < a else -shift] + [0] * m
        row[1 + i] = 1
        rows.append(row)
    if half:
        rows.append([1] + [0] * m)
    coefficients = sp.Matrix(rows) if rows else sp.zeros(0, m + 1)
    covariance = coefficients * coefficients.T
    scale = _density_power_scale(p) / sp.sqrt(p)
    return scale * orthant_probability(covariance)


def _piece_integral(piece: _Piece):
    """A piece as an unevaluated :class:`sympy.Integral`."""
    p, a, b, half = piece
    integrand = _phi(_x) ** p * _Phi(_x) ** a * _Phibar(_x) ** b
    return sp.Integral(integrand, (_x, 0 if half else -sp.oo, sp.oo))


def _reduced_form(name: str, K: int):
    """The constant after integration by parts, with the remaining integrals unevaluated."""
    constant, terms = _ibp_terms(name, K)
    return constant + sum((c * _piece_integral(piece) for c, piece in terms), sp.Integer(0))


def _needed_dimension(name: str, K: int) -> int:
    _, terms = _ibp_terms(name, K)
    return max((piece.dimension for _, piece in terms), default=0)


def _largest_rank(name: str, limit: int = 10_000) -> int:
    """Largest ``K`` such that every rank up to ``K`` needs orthants of dimension <= 3."""
    K = 1
    while K < limit and _needed_dimension(name, K + 1) <= ORTHANT_MAX_DIMENSION:
        K += 1
    return K


#: Largest rank ``K`` with a closed form, per name; computed from the orthant
#: dimensions that the integration-by-parts identities require.
CLOSED_FORM_MAX_K = {name: _largest_rank(name) for name in _NAMES}


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def _unknown_name(name):
    return _validate.MaxboundsValueError(
        "name", f"unknown constant {name!r}; expected one of {', '.join(repr(n) for n in _NAMES)}"
    )


def _check_name(name):
    if not isinstance(name, str) or name not in _NAMES:
        raise _unknown_name(name)
    return name


def _concrete_rank(K):
    """Return ``K`` as a Python int if it is a concrete rank, ``None`` if it is symbolic."""
    if isinstance(K, bool):
        raise _validate.MaxboundsValueError("K", "the rank must be an integer >= 1, not a boolean")
    if isinstance(K, sp.Basic):
        if K.free_symbols:
            return None
        if not K.is_Integer:
            raise _validate.MaxboundsValueError("K", f"the rank must be an integer >= 1, got {K}")
        K = int(K)
        if K < 1:
            raise _validate.MaxboundsValueError("K", f"the rank must be >= 1, got {K}")
        return K
    # the numeric API's rules: integers and integral floats, 1 <= K <= 2**53
    rank = _validate.as_rank(K)
    if rank.ndim != 0:
        raise _validate.MaxboundsValueError("K", "expected a single rank, not an array")
    return int(rank)


def closed_form(name: str, K):
    r"""Exact closed form of an order-statistic constant, as a sympy expression.

    ``name`` selects the constant (notation of docs/constants.md):

    ========================  ==============================================  ==========
    name                      quantity                                        ranks
    ========================  ==============================================  ==========
    ``"M"``                   :math:`M(K) = E[\Xi_K^2]`                        ``K <= 6``
    ``"gaussian_max_mean"``   :math:`E[\Xi_K]`                                 ``K <= 5``
    ``"S"``                   :math:`S(K) = E[\min_k Z_k^2]`                   ``K <= 5``
    ``"L"``                   :math:`L(K) = E[\max_k Z_k^2]`                   ``K <= 5``
    ========================  ==============================================  ==========

    (the ranks are those of :data:`CLOSED_FORM_MAX_K`).  The expression is
    derived, not looked up: integration by parts, e.g.

    .. math:: M(K) = 1 + \frac{K(K-1)(K-2)}{2}\int_{\mathbb R}\varphi^3\,\Phi^{K-3}\,dx,

    then the reduction of each remaining integral to a Gaussian orthant
    probability (:func:`orthant_probability`); see ``docs/closed_forms.md``.
    For example :math:`M(3) = 1 + \sqrt3/(2\pi)`,
    :math:`S(2) = 1 - 2/\pi`, :math:`L(5) = 1 + 40\sqrt3\arcsin(1/4)/\pi^2`.

    Parameters
    ----------
    name : {"M", "S", "L", "gaussian_max_mean"}
        The constant.
    K : int
        Rank, ``K >= 1``.

    Returns
    -------
    sympy.Expr
        An exact expression without free symbols, simplified and expanded
        into a sum of terms (use ``.evalf(n)`` for ``n`` digits,
        :func:`sympy.latex` to typeset it).

    Raises
    ------
    NotImplementedError
        If no closed form is known for this ``K`` (``K`` above
        ``CLOSED_FORM_MAX_K[name]``, or a symbolic ``K``); use
        :func:`integral_form` instead.
    ValueError
        For an unknown ``name`` or a rank that is not an integer >= 1.

    Examples
    --------
    >>> closed_form("M", 4)
    sqrt(3)/pi + 1
    >>> closed_form("L", 2)
    2/pi + 1
    """
    name = _check_name(name)
    rank = _concrete_rank(K)
    largest = CLOSED_FORM_MAX_K[name]
    if rank is None or rank > largest:
        what = f"symbolic K = {K}" if rank is None else f"K = {rank}"
        reason = (
            ""
            if rank is None
            else f": its reduction needs Gaussian orthant probabilities in more than {ORTHANT_MAX_DIMENSION} "
            "dimensions, which have no elementary closed form"
        )
        raise NotImplementedError(
            f"no closed form of {name} for {what}{reason}. The largest K with a closed form is {largest}. "
            f"Use integral_form({name!r}, K) for the exact integral, or maxbounds.constants."
            f"{_NAMES[name][1]} for verified digits."
        )
    return _closed_form(name, rank)


@functools.lru_cache(maxsize=None)
def _closed_form(name: str, K: int):
    constant, terms = _ibp_terms(name, K)
    value = constant + sum((c * _piece_closed_form(piece) for c, piece in terms), sp.Integer(0))
    return sp.expand(sp.simplify(value))


def M_closed(K):
    r"""Closed form of :math:`M(K) = E[\Xi_K^2]` for ``1 <= K <= 6``; see :func:`closed_form`."""
    return closed_form("M", K)


def S_closed(K):
    r"""Closed form of :math:`S(K) = E[\min_k Z_k^2]` for ``1 <= K <= 5``; see :func:`closed_form`."""
    return closed_form("S", K)


def L_closed(K):
    r"""Closed form of :math:`L(K) = E[\max_k Z_k^2]` for ``1 <= K <= 5``; see :func:`closed_form`."""
    return closed_form("L", K)


def _order(name: str, t):
    default = _NAMES[name][0]
    if t is None:
        return sp.Integer(default)
    if isinstance(t, bool):
        raise _validate.MaxboundsValueError("t", "the moment order must be a number >= 0 or a sympy Symbol")
    try:
        t = sp.sympify(t, strict=True)
    except sp.SympifyError:
        raise _validate.MaxboundsValueError(
            "t", f"the moment order must be a number >= 0, got {t!r}"
        ) from None
    if name == "gaussian_max_mean":
        if t != 1:
            raise _validate.MaxboundsValueError(
                "t", "gaussian_max_mean is the first moment; use name='M' for other orders"
            )
        return t
    if t.free_symbols:
        return t
    if not t.is_real or t.is_negative:
        raise _validate.MaxboundsValueError("t", f"the moment order must be a real number >= 0, got {t}")
    if name == "M" and not t.is_integer:
        raise _validate.MaxboundsValueError(
            "t", "E[Xi^t] is not real for non-integer t (the largest of K normals can be negative)"
        )
    if isinstance(t, sp.Float) and t == int(t):
        t = sp.Integer(int(t))
    return t


def integral_form(name: str, K, t=None):
    r"""The defining integral of a constant, unevaluated, for any rank.

    .. math::

        M_t(K) &= \int_{-\infty}^{\infty} x^t\,K\varphi(x)\,\Phi(x)^{K-1}\,dx, \\
        S_t(K) &= E\big[(\min_k Z_k^2)^t\big]
               = \int_0^\infty x^{2t}\,2K\varphi(x)\,\operatorname{erfc}(x/\sqrt2)^{K-1}\,dx, \\
        L_t(K) &= E\big[(\max_k Z_k^2)^t\big]
               = \int_0^\infty x^{2t}\,2K\varphi(x)\,\operatorname{erf}(x/\sqrt2)^{K-1}\,dx,

    with :math:`\varphi(x) = e^{-x^2/2}/\sqrt{2\pi}` and
    :math:`\Phi(x) = \tfrac12\operatorname{erfc}(-x/\sqrt2)`; the last two use
    that :math:`|Z|` has density :math:`2\varphi` and cdf
    :math:`\operatorname{erf}(x/\sqrt2) = 2\Phi(x) - 1` on :math:`x > 0`.
    ``"gaussian_max_mean"`` is :math:`M_1(K) = E[\Xi_K]`.

    Parameters
    ----------
    name : {"M", "S", "L", "gaussian_max_mean"}
        The constant.
    K : int or sympy.Symbol
        Rank: an integer ``>= 1`` or a symbol such as
        ``sympy.Symbol("K", positive=True, integer=True)``.
    t : number or sympy.Symbol, optional
        Moment order; default 2 for ``"M"`` and 1 for the others.  For
        ``"M"`` a numeric ``t`` must be an integer (a symbolic ``t`` is taken
        to be one); ``"gaussian_max_mean"`` accepts only ``t = 1``.

    Returns
    -------
    sympy.Integral
        Unevaluated; ``.evalf(n)`` integrates numerically (for an integer
        ``K``; ``.subs(K, k)`` first for a symbolic one), ``.doit()`` lets
        sympy try a symbolic integration.  Mathematically equal rewritings
        such as ``erfc(-u) = 2 - erfc(u)`` may appear after ``.doit()`` or
        :func:`sympy.simplify`.

    Examples
    --------
    >>> integral_form("L", 2).evalf(10)
    1.636619772
    """
    name = _check_name(name)
    rank = _concrete_rank(K)
    Kx = sp.Integer(rank) if rank is not None else K
    t = _order(name, t)
    if name in ("M", "gaussian_max_mean"):
        integrand = _x**t * Kx * _phi(_x) * _Phi(_x) ** (Kx - 1)
        return sp.Integral(integrand, (_x, -sp.oo, sp.oo))
    tail = sp.erfc(_x / _SQRT2) if name == "S" else sp.erf(_x / _SQRT2)
    integrand = _x ** (2 * t) * 2 * Kx * _phi(_x) * tail ** (Kx - 1)
    return sp.Integral(integrand, (_x, 0, sp.oo))
