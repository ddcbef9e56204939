"""Checks of the simulators and the exact laws on a default network, by simulation.

Default network: widths 3-8-8-8-2, rank 3, ``c = 0.8``, ``c_L = 1``, bias
variance 0.3 in every layer, input ``(1, 1, 1)/sqrt 3``, direction ``e_1``.
Four samplers that share no sampling code take part: the Numba Gram chain
(:func:`maxbounds.simulate.chain_samples`), the NumPy Gram chain
(:func:`maxbounds.laws.exact.gram_chain_samples`), Numba explicit networks
(:func:`maxbounds.simulate.explicit_samples`) and the NumPy reference, which
draws its own networks (:func:`maxbounds.reference.samples`).  Every check is
a z-test at :data:`~maxbounds.estimators.Z_TOLERANCE` (false-failure rate
6.8e-6 each) unless it says otherwise, and reports the smallest relative error
it would detect (:attr:`~maxbounds.validation.checks.Check.detectable`).

Validation (each detects an error of a few per cent or less):

* the parameter draw: the mean square of every layer's weights and biases, as
  drawn for the Numba samplers and by the reference, against ``c_l/n_{l-1}``
  and ``beta_l`` computed here from the architecture's numbers (not from the
  layer objects), and the standardised weights against ``N(0, 1)`` (KS);
* the exact law of activations: ``E||x_l||^2`` against three samplers and
  ``E||x_l||^4`` against two;
* the law of ``||J u||^2``: ``E||J u||`` and ``E||J u||^2`` of each chain
  against explicit networks and of the two chains against each other
  (two-sample z), and the law itself (two-sample KS);
* ``|cos gamma_l|``: the chain against explicit networks and against the
  reference's own cosines (two-sample z);
* rank 1: the chain's ``E||J u||^2`` equals the common value of the bounds;
* per network: the Numba explicit and gradient samplers reproduce the
  reference on their own networks to a relative ``1e-10``;
* per network: the exact segment length and its pieces add up over the two
  halves of the segment; and a segment of length 1e-7 is stretched by
  ``||J(x) u||`` (against the chain, in law);
* the exact gradient entries of the top two layers (where the bounds meet).

Consistency (listed apart): the Jacobian moments, gradient, NTK and length
estimates inside their stochastic-order bounds, which on this network lie
far from the estimates.  The bounds themselves are checked as formulas in
:mod:`maxbounds.validation.formulas`.
"""

from __future__ import annotations

import math
from functools import lru_cache, partial

import numpy as np

from .. import reference
from ..architecture import Architecture
from ..estimators import Z_TOLERANCE, compare, estimate, two_sample_z
from ..laws import exact, jacobian
from .checks import Check, bounds_detectable, ks_detectable, z_detectable
from .single import augmented_abs_cos

SUITE = "network"
ARCH = dict(widths=(3, 8, 8, 8, 2), ranks=3, c=0.8, bias_var=0.3)
#: The output layer's scale (the architecture's default).
C_OUT = 1.0
CHAIN_SAMPLES = 400_000
EXPLICIT_SAMPLES = 200_000
NUMPY_CHAIN_SAMPLES = 200_000
REFERENCE_SAMPLES = 40_000
#: Networks whose parameters are drawn for the draw checks.
DRAW_NETWORKS = 20_000
#: Networks compared one by one with the Numba samplers.
AGREEMENT_NETWORKS = 4
AGREEMENT_TOLERANCE = 1e-10
SEED = 20230713
KS_LEVEL = 1e-4

_NAMES = {"chain": "Numba chain", "explicit": "Numba explicit", "numpy-chain": "NumPy chain",
          "reference": "NumPy reference"}


def _arch(**changes) -> Architecture:
    return Architecture(**{**ARCH, **changes})


def _inputs():
    return np.full(3, 1 / math.sqrt(3)), np.array([1.0, 0.0, 0.0])


@lru_cache(maxsize=8)
def _samples(method: str, K: int = 3):
    """``(||J u||^2, ||x_l||^2 per layer, |cos gamma_l| per layer or None)`` of one sampler."""
    from ..simulate import chain_samples, explicit_samples

    arch = _arch(ranks=K)
    x, u = _inputs()
    if method == "chain":
        s = chain_samples(arch, x, u, CHAIN_SAMPLES, SEED, per_layer=True)
    elif method == "explicit":
        s = explicit_samples(arch, x, u, EXPLICIT_SAMPLES, SEED + 1, per_layer=True)
    elif method == "numpy-chain":
        s = exact.gram_chain_samples(arch, x, u, NUMPY_CHAIN_SAMPLES, np.random.default_rng([SEED, K, 1]))
    else:
        r = reference.samples(arch.network(), x, u, REFERENCE_SAMPLES, np.random.default_rng([SEED, K, 0]))
        return r.jacobian_sq_norm, r.sq_norm_x, augmented_abs_cos(arch.network(), r)  # its own cosines
    return s.jacobian_sq_norm, s.sq_norm_x, s.abs_cos_gamma


def _method(est, name) -> str:
    return f"{name}, {est.n} draws, stderr {est.stderr:.2g}"


def _exact_check(name, K, t, est, exact_value, method) -> Check:
    z = compare(est, exact=exact_value)["z"]
    return Check(SUITE, name, K, t, est.mean, exact_value, _method(est, method), "z", z, Z_TOLERANCE,
                 detectable=z_detectable(est.stderr, exact_value, Z_TOLERANCE))


def _two_sample(name, K, t, a, b, method) -> Check:
    """``a`` against ``b`` (estimates from independent samples): z of the difference."""
    z, se = two_sample_z(a, b)
    return Check(SUITE, name, K, t, a.mean, b.mean, f"{method}, {a.n} vs {b.n} draws, stderr {se:.2g}", "z", z,
                 Z_TOLERANCE, detectable=z_detectable(se, b.mean, Z_TOLERANCE))


# --- the parameter draw --------------------------------------------------------------------------------

def _expected_variances():
    """``[(c_l / n_{l-1}, beta_l), ...]`` from the architecture's numbers."""
    widths = ARCH["widths"]
    depth = len(widths) - 1
    return [((ARCH["c"] if l < depth else C_OUT) / widths[l - 1], ARCH["bias_var"]) for l in range(1, depth + 1)]


@lru_cache(maxsize=2)
def _draws(side: str):
    from ..layers.draw import draw_many

    net = _arch().network()
    if side == "numba":
        return draw_many(net, SEED, 0, DRAW_NETWORKS)
    return reference.draw(net, np.random.default_rng([SEED, 7]), DRAW_NETWORKS)


def _draw_check(side: str, layer: int, which: str) -> Check:
    W, b = _draws(side)[layer - 1][:2]
    values = (W if which == "weights" else b).ravel()
    expected = _expected_variances()[layer - 1][0 if which == "weights" else 1]
    est = estimate(values**2)
    label = "c_l/n_{l-1}" if which == "weights" else "beta_l"
    name = f"{'Numba' if side == 'numba' else 'reference'} draw: E[{which[0].upper()}^2] of layer {layer} = {label}"
    return _exact_check(name, 3, 2.0, est, expected, f"{DRAW_NETWORKS} networks")


def _draw_shape_check(side: str) -> Check:
    from scipy import stats

    params = _draws(side)
    z = np.concatenate([p[0].ravel() / math.sqrt(v) for p, (v, _) in zip(params, _expected_variances())])
    z = z[:: max(1, z.size // 50_000)]
    statistic = float(stats.kstest(z, "norm").statistic)
    critical = math.sqrt(-math.log(KS_LEVEL / 2) / 2) / math.sqrt(z.size)
    name = f"{'Numba' if side == 'numba' else 'reference'} draw: standardised weights ~ N(0, 1)"
    return Check(SUITE, name, 3, 1.0, statistic, 0.0, f"one-sample KS, {z.size} weights, level {KS_LEVEL:g}",
                 "ks", statistic, critical, detectable=ks_detectable(np.abs(z), critical))


# --- exact laws against the samplers --------------------------------------------------------------------

def _activation_check(method: str, layer: int, power: int) -> Check:
    x, _ = _inputs()
    moments = exact.activation_length_moments(_arch(), x, order=power)
    value = float(moments[layer][power])
    est = estimate(_samples(method)[1][layer] ** power)
    return _exact_check(f"E||x_{layer}||^{2 * power} exact law", 3, float(power), est, value, _NAMES[method])


def _jacobian_law_check(first: str, second: str, t: float) -> Check:
    a, b = estimate(_samples(first)[0] ** t), estimate(_samples(second)[0] ** t)
    return _two_sample(f"E||J u||^{2 * t:g}: {_NAMES[first]} = {_NAMES[second]}", 3, t, a, b, "two-sample z")


def _cosine_check(layer: int, first: str, second: str) -> Check:
    a, b = estimate(_samples(first)[2][layer]), estimate(_samples(second)[2][layer])
    return _two_sample(f"E|cos gamma_{layer}|: {_NAMES[first]} = {_NAMES[second]}", 3, 1.0, a, b, "two-sample z")


def _ks_check(first: str, second: str) -> Check:
    from scipy import stats

    a, b = _samples(first)[0], _samples(second)[0]
    statistic = float(stats.ks_2samp(a, b).statistic)
    n, m = a.size, b.size
    critical = math.sqrt(-math.log(KS_LEVEL / 2) / 2) * math.sqrt((n + m) / (n * m))
    return Check(SUITE, f"law of ||J u||^2: {_NAMES[first]} = {_NAMES[second]}", 3, 1.0, statistic, 0.0,
                 f"two-sample KS, {n} vs {m} draws, level {KS_LEVEL:g}", "ks", statistic, critical,
                 detectable=ks_detectable(b, critical))


def _linear_check(side: str) -> Check:
    """Rank 1 (a linear network): both bounds are the exact law, so each must equal the chain's mean."""
    bound = jacobian.JacobianBound(_arch(ranks=1), side)
    est = estimate(_samples("chain", 1)[0])
    return _exact_check(f"rank 1: E||J u||^2 equals the {side} bound", 1, 1.0, est, bound.mean(), "Numba chain")


def _bound_check(power: int) -> Check:
    lower, upper = jacobian.jacobian_bounds(_arch())
    est = estimate(_samples("chain")[0] ** power)
    lo, hi = lower.moment(power), upper.moment(power)
    z = compare(est, lower=lo, upper=hi)["z"]
    return Check(SUITE, f"E||J u||^{2 * power} within bounds", 3, float(power), est.mean, lo,
                 _method(est, "Numba chain"), "z", z, Z_TOLERANCE, reference_upper=hi,
                 detectable=bounds_detectable(est.mean, est.stderr, lo, hi, Z_TOLERANCE))


# --- per network ----------------------------------------------------------------------------------------

def _agreement_check(sampler: str) -> Check:
    """The first networks of a Numba sampler, evaluated again by the reference: largest relative difference."""
    from .single import agreement

    x, u = _inputs()
    result = agreement(_arch(), x, u, SEED, sampler, AGREEMENT_NETWORKS)
    error = result["max_relative_error"]
    return Check(SUITE, f"Numba {sampler} sampler = reference, per network", 3, 1.0, error, 0.0,
                 f"relative difference, networks 0..{AGREEMENT_NETWORKS - 1} of seed {SEED}",
                 "relative", error, AGREEMENT_TOLERANCE)


# --- curve lengths ---------------------------------------------------------------------------------------

#: Networks of the segment checks, and the length of the short segment.
SEGMENT_NETWORKS = 2_000
SHORT_SEGMENT_SAMPLES = 100_000
SHORT = 1e-7


def _segment_additivity_check() -> Check:
    """Per network: len(a->b) = len(a->m) + len(m->b) and pieces(a->b) = pieces(a->m) + pieces(m->b) - 1.

    The midpoint ``m`` lies on a breakpoint with probability 0, so the pieces
    of the two halves are those of the whole, one of them cut in two.  The
    same networks (seed and index) are used for the three segments.
    """
    from ..simulate import segment_length_samples

    x, u = _inputs()
    a, b = x - u, x + u
    m = 0.5 * (a + b)
    whole, left, right = (segment_length_samples(_arch(), p, q, SEGMENT_NETWORKS, SEED)
                          for p, q in ((a, b), (a, m), (m, b)))
    length_error = float(np.max(np.abs(left.length + right.length - whole.length) / whole.length))
    pieces_off = int(np.count_nonzero(left.pieces + right.pieces - 1 != whole.pieces))
    error = max(length_error, float(pieces_off))
    return Check(SUITE, "segment length and pieces add up over two halves, per network", 3, 1.0, error, 0.0,
                 f"{SEGMENT_NETWORKS} networks, value = largest relative length difference or networks whose "
                 f"pieces differ ({pieces_off})", "relative", error, AGREEMENT_TOLERANCE)


#: Networks whose segment pieces are recomputed by the reference, and grid points per piece.
PIECE_NETWORKS = 200
PIECE_GRID = 8


def _segment_reference_check() -> Check:
    r"""Per network: the segment's breakpoints and length against the NumPy reference.

    The breakpoints come from :func:`maxbounds.regions.line_regions` (the
    kernel of the length simulator).  The reference then checks, on its own
    forward pass, that the activation pattern is constant at
    :data:`PIECE_GRID` points inside every piece and changes between
    consecutive pieces (a missed or a spurious breakpoint), and recomputes the
    length as :math:`\sum_p \|J(m_p)(b - a)\|\,(t_{p+1} - t_p)` from the
    Jacobian at the pieces' midpoints :math:`m_p`, against the simulator's
    length and piece count on the same networks.
    """
    from ..layers.draw import draw_many
    from ..regions import Network, line_regions
    from ..simulate import segment_length_samples

    arch, (x, u) = _arch(), _inputs()
    a, b = x - u, x + u
    net = arch.network()
    simulated = segment_length_samples(arch, a, b, PIECE_NETWORKS, SEED)
    params = draw_many(net, SEED, 0, PIECE_NETWORKS)
    inside = np.arange(1, PIECE_GRID + 1) / (PIECE_GRID + 1)
    length_error, bad_pieces = 0.0, 0
    for i in range(PIECE_NETWORKS):
        p = [(W[i], B[i]) for W, B in params]
        t = line_regions(Network.random(arch, SEED, i), a, b).t
        grid = (t[:-1, None] + inside * np.diff(t)[:, None]).ravel()
        winners = reference.forward(net, p, a + grid[:, None] * (b - a)).winners[:-1]
        pattern = np.concatenate(winners, axis=-1).reshape(t.size - 1, PIECE_GRID, -1)
        constant = np.all(pattern == pattern[:, :1])
        changes = np.all(np.any(pattern[1:, 0] != pattern[:-1, 0], axis=-1))
        middle = 0.5 * (t[:-1] + t[1:])
        points = a + middle[:, None] * (b - a)
        speed = np.linalg.norm(reference.jvp(net, p, points, np.broadcast_to(b - a, points.shape)), axis=-1)
        length = float(np.sum(speed * np.diff(t)))
        length_error = max(length_error, abs(length - simulated.length[i]) / length)
        bad_pieces += int(not (constant and changes and t.size - 1 == simulated.pieces[i]))
    error = max(length_error, float(bad_pieces))
    return Check(SUITE, "segment pieces and length = reference, per network", 3, 1.0, error, 0.0,
                 f"{PIECE_NETWORKS} networks, {PIECE_GRID} reference points per piece; value = largest relative "
                 f"length difference or networks with a wrong piece ({bad_pieces})", "relative", error,
                 AGREEMENT_TOLERANCE)


def _short_segment_check() -> Check:
    """A segment of length ``SHORT`` from ``x`` along ``u`` is stretched by ||J(x) u||: against the chain's law.

    A breakpoint falls inside the segment with a probability of order
    ``SHORT``, far below the resolution.
    """
    from ..simulate import segment_length_samples

    x, u = _inputs()
    draws = segment_length_samples(_arch(), x, x + SHORT * u, SHORT_SEGMENT_SAMPLES, SEED + 2).distortion
    a, b = estimate(draws), estimate(np.sqrt(_samples("chain")[0]))
    return _two_sample("segment of length 1e-7: E[length ratio] = E||J u|| (Numba chain)", 3, 0.5, a, b,
                       "two-sample z")


# --- the estimators of `maxbounds validate QUANTITY` ----------------------------------------------------

ESTIMATOR_SAMPLES = 20_000


def _estimator_checks(quantity: str):
    """One check per verdict of ``maxbounds validate QUANTITY`` on the default network."""
    from . import single

    x, u = _inputs()
    result = single.run(quantity, _arch(), x, u, ESTIMATOR_SAMPLES, SEED, "explicit")
    items = [(f"{r.get('name', quantity)} l={r['layer']}", r) for r in result.get("layers", [])]
    items += [(key, r) for key, r in result.items() if isinstance(r, dict) and "verdict" in r]
    out = []
    for label, r in items:
        bounds = r.get("bounds", {})
        lo, hi = bounds.get("lower"), bounds.get("upper")
        est = r["estimate"]
        out.append(Check(
            SUITE, f"{quantity}: {label} within bounds", 3, 1.0, est["mean"], float("nan") if lo is None else lo,
            f"{result['method']} sampler, {est['n']} draws, stderr {est['stderr']:.2g}",
            "z", r["z"], Z_TOLERANCE, reference_upper=hi,
            detectable=bounds_detectable(est["mean"], est["stderr"], lo, hi, Z_TOLERANCE),
        ))
    return out


def _lazy_checks(quantity: str, count: int):
    """The checks of one estimator, computed once when the first of them runs."""
    cache = {}

    def get(i):
        if "checks" not in cache:
            cache["checks"] = _estimator_checks(quantity)
        return cache["checks"][i]

    return [partial(get, i) for i in range(count)]


def checks():
    """Yield the checks of the network suite as zero-argument callables."""
    depth = _arch().depth
    for side in ("numba", "reference"):
        for layer in range(1, depth + 1):
            yield partial(_draw_check, side, layer, "weights")
            yield partial(_draw_check, side, layer, "biases")
        yield partial(_draw_shape_check, side)
    for layer in range(1, depth):
        for method in ("chain", "explicit", "reference"):
            yield partial(_activation_check, method, layer, 1)
        for method in ("chain", "explicit"):
            yield partial(_activation_check, method, layer, 2)
    for t in (0.5, 1.0):
        yield partial(_jacobian_law_check, "chain", "explicit", t)
        yield partial(_jacobian_law_check, "numpy-chain", "reference", t)
        yield partial(_jacobian_law_check, "chain", "numpy-chain", t)
    yield partial(_ks_check, "chain", "explicit")
    yield partial(_ks_check, "numpy-chain", "reference")
    for layer in range(2, depth):  # layer 1's cosine is the same number in every network
        yield partial(_cosine_check, layer, "chain", "explicit")
        yield partial(_cosine_check, layer, "chain", "reference")
    yield partial(_linear_check, "lower")
    yield partial(_linear_check, "upper")
    yield partial(_agreement_check, "explicit")
    yield partial(_agreement_check, "gradient")
    yield _segment_additivity_check
    yield _segment_reference_check
    yield _short_segment_check
    yield partial(_bound_check, 1)
    yield partial(_bound_check, 2)
    for quantity, count in (("gradient", 5 * depth), ("ntk", 1), ("length", 2)):
        yield from _lazy_checks(quantity, count)
