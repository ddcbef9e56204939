r"""The Jacobian bounds as sympy expressions.

The constants appear as undefined functions :math:`S(K)`, :math:`L(K)` (means)
and :math:`S_2(K)`, :math:`L_2(K)` (second moments), or as their closed forms
(:mod:`maxbounds.constants.symbolic`) when a numeric rank has one.  Without an
architecture the network is the generic one: input width :math:`n_0`, ``L - 1``
hidden layers of width :math:`n`, rank :math:`K` and scale :math:`c`, output
width :math:`n_L` and scale :math:`c_L`; then

.. math::

    E[B_{\mathrm{lo}}] = \frac{c_L n_L}{n_0}\,(c\,S(K))^{L-1}, \qquad
    E[B_{\mathrm{lo}}^2] = \frac{c_L^2 n_L(n_L+2)}{n^2}\Big(\frac{c^2}{n^2}
        \big(n S_2(K) + n(n-1) S(K)^2\big)\Big)^{L-2}\frac{c^2}{n_0^2}\big(nS_2(K)+n(n-1)S(K)^2\big)

(and the same with :math:`L`), using :math:`E[(\chi^2_m)^2] = m(m+2)` and
:math:`E[(\sum_{i\le n}\xi_i)^2] = nS_2 + n(n-1)S^2`.  The expressions can be
simplified, printed with :func:`sympy.latex` and turned into functions with
:func:`sympy.lambdify`.
"""

from __future__ import annotations

import sympy as sp

from ..architecture import Architecture

__all__ = ["jacobian_mean_bounds", "generic_symbols", "S", "L", "S2", "L2"]

S, L = sp.Function("S"), sp.Function("L")
S2, L2 = sp.Function("S_2"), sp.Function("L_2")


def generic_symbols() -> dict:
    """The symbols of the generic network."""
    names = "n_0 n n_L L K c c_L"
    return dict(zip(names.split(), sp.symbols(names, positive=True)))


def _constant(function, K):
    from ..constants.symbolic import CLOSED_FORM_MAX_K, closed_form

    name = {S: "S", L: "L"}.get(function)
    if name is not None and isinstance(K, int) and K <= CLOSED_FORM_MAX_K[name]:
        return closed_form(name, K)
    return function(K)


def _number(value: float):
    """A short decimal (0.8) as an exact rational, anything else as a float."""
    text = repr(float(value))
    return sp.Rational(text) if len(text) <= 8 else sp.Float(value)


def _second(mean_function, second_function, n, K):
    m1 = _constant(mean_function, K)
    return n * second_function(K) + n * (n - 1) * m1**2


def jacobian_mean_bounds(arch: Architecture | None = None) -> dict:
    r"""``{"mean_lower", "mean_upper", "second_moment_lower", "second_moment_upper"}`` as sympy expressions.

    With ``arch=None``, expressions in the symbols of :func:`generic_symbols`
    (valid for ``L >= 2``); otherwise exact expressions for that architecture
    (or :class:`~maxbounds.layers.Serial` of maxout and linear layers), the
    product of the layers' factors :math:`(c/n)\,w\,C(K)` (and
    :math:`(c/n)^2(w C_2 + w(w-1)C^2)`, linear: :math:`(c/n)^2 w(w+2)`), with
    short decimal scales as exact rationals (``0.8`` becomes ``4/5``).  Any
    other kind (a convolution) raises :class:`~maxbounds.layers.NoLawError`.
    """
    if arch is None:
        g = generic_symbols()
        n0, n, nL, depth, K, c, cL = (g[k] for k in "n_0 n n_L L K c c_L".split())
        out = {}
        for side, f, f2 in (("lower", S, S2), ("upper", L, L2)):
            out[f"mean_{side}"] = cL * nL / n0 * (c * f(K)) ** (depth - 1)
            layer2 = (c / n) ** 2 * (n * f2(K) + n * (n - 1) * f(K) ** 2)
            first2 = (c / n0) ** 2 * (n * f2(K) + n * (n - 1) * f(K) ** 2)
            out[f"second_moment_{side}"] = (cL / n) ** 2 * nL * (nL + 2) * first2 * layer2 ** (depth - 2)
        return out
    from ..layers import NoLawError
    from ..layers.draw import as_serial

    net = as_serial(arch, "arch")
    for layer in net:
        if layer.kind not in ("maxout", "linear"):
            layer.jacobian_log_mean("lower")  # a kind without any law raises its own NoLawError
            raise NoLawError(layer, "the symbolic Jacobian bound", "it is written for maxout and linear layers")
    # the output layer's factor first, then the hidden layers in order (the means telescope to n_L/n_0)
    order = [net[-1], *net[:-1]]
    linear_scale = sp.Integer(1)
    for layer in order:
        if layer.kind == "linear":
            linear_scale *= _number(layer.scale)
    out = {}
    for side, f, f2 in (("lower", S, S2), ("upper", L, L2)):
        mean = linear_scale * sp.Integer(net.n_out) / sp.Integer(net.n_in)
        second = sp.Integer(1)
        for layer in order:
            n, w, c = sp.Integer(layer.fan_in), sp.Integer(layer.width), _number(layer.scale)
            if layer.kind == "maxout":
                mean *= c * _constant(f, layer.rank)
                second *= (c / n) ** 2 * _second(f, f2, w, layer.rank)
            else:
                second *= (c / n) ** 2 * w * (w + 2)
        out[f"mean_{side}"] = mean
        out[f"second_moment_{side}"] = second
    return out
