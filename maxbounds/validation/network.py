"""Checks of the bounds and exact laws on a default network, by simulation.

Default network: widths 3-8-8-8-2, rank 3, ``c = 0.8``, bias variance 0.3,
input ``(1, 1, 1)/sqrt 3``, direction ``e_1``.  Samples come from the exact
Gram chain (MATH.md section 3, :mod:`maxbounds.laws.exact`) and from networks
drawn and evaluated by the independent NumPy reference
(:mod:`maxbounds.reference`), with fixed seeds.

* the sample mean and second moment of ``||J u||^2`` lie inside the
  stochastic-order bounds (``z`` outside <= 4.5);
* the exact mean of ``||x_l||^2`` per layer agrees with both samplers
  (``|z| <= 4.5``; false-failure rate 6.8e-6 per check);
* chain and reference samples of ``||J u||^2`` have the same law: two-sample
  Kolmogorov-Smirnov statistic below its critical value at level 1e-4;
* per network: the Numba explicit and gradient samplers reproduce the
  reference on their own first networks
  (:func:`maxbounds.layers.draw.draw_parameters`) to a relative ``1e-10``
  (``||J u||^2``, ``||x_l||^2``, squared weight and bias gradients per layer,
  the NTK diagonal);
* rank 1 (a linear network): the chain's mean of ``||J u||^2`` equals the
  common value of both bounds;
* the Numba samplers of :mod:`maxbounds.simulate` (chain and explicit) give
  the law of the NumPy reference chain (two-sample KS at level 1e-4);
* every estimator of :mod:`maxbounds.validation.single` on the default
  network: ``|cos gamma_l|`` (chain against explicit), squared weight and
  bias gradients per layer and the NTK diagonal against their bounds, and the
  exact curve-length distortion of a segment against its bounds.
"""

from __future__ import annotations

import math
from functools import lru_cache, partial

import numpy as np

from ..architecture import Architecture
from ..estimators import Z_TOLERANCE, compare, estimate
from .. import reference
from ..laws import exact, jacobian
from .checks import Check

SUITE = "network"
ARCH = dict(widths=(3, 8, 8, 8, 2), ranks=3, c=0.8, bias_var=0.3)
CHAIN_SAMPLES = 200_000
EXPLICIT_SAMPLES = 20_000
#: Networks compared one by one with the Numba samplers.
AGREEMENT_NETWORKS = 4
AGREEMENT_TOLERANCE = 1e-10
SEED = 20230713
KS_LEVEL = 1e-4


def _arch(**changes) -> Architecture:
    return Architecture(**{**ARCH, **changes})


def _inputs():
    return np.full(3, 1 / math.sqrt(3)), np.array([1.0, 0.0, 0.0])


@lru_cache(maxsize=8)
def _samples(method: str, K: int):
    arch = _arch(ranks=K)
    x, u = _inputs()
    rng = np.random.default_rng([SEED, K, method == "chain"])
    if method == "chain":
        return exact.gram_chain_samples(arch, x, u, CHAIN_SAMPLES, rng)
    return reference.samples(arch.network(), x, u, EXPLICIT_SAMPLES, rng)


def _bound_check(method: str, power: int) -> Check:
    arch = _arch()
    lower, upper = jacobian.jacobian_bounds(arch)
    sample = _samples(method, 3).jacobian_sq_norm
    est = estimate(sample**power)
    result = compare(est, lower=lower.moment(power), upper=upper.moment(power))
    name = "E||J u||^2 within bounds" if power == 1 else "E||J u||^4 within bounds"
    return Check(SUITE, name, 3, float(power), est.mean, lower.moment(power),
                 f"{method} sampler, {est.n} draws, stderr {est.stderr:.2g}", "z", result["z"], Z_TOLERANCE,
                 reference_upper=upper.moment(power))


def _activation_check(method: str, layer: int) -> Check:
    arch = _arch()
    x, _ = _inputs()
    mean = exact.activation_length_mean_var(arch, x)[0][layer]
    est = estimate(_samples(method, 3).sq_norm_x[layer])
    result = compare(est, exact=float(mean))
    return Check(SUITE, f"E||x_{layer}||^2 exact law", 3, 1.0, est.mean, float(mean),
                 f"{method} sampler, {est.n} draws, stderr {est.stderr:.2g}", "z", result["z"], Z_TOLERANCE)


def _ks(name: str, a, b) -> Check:
    from scipy import stats

    statistic = stats.ks_2samp(a, b).statistic
    n, m = a.size, b.size
    critical = math.sqrt(-math.log(KS_LEVEL / 2) / 2) * math.sqrt((n + m) / (n * m))
    return Check(SUITE, name, 3, 1.0, float(statistic), 0.0,
                 f"two-sample KS, {n} vs {m} draws, level {KS_LEVEL:g}", "ks", float(statistic), critical)


def _ks_check() -> Check:
    a, b = _samples("chain", 3).jacobian_sq_norm, _samples("reference", 3).jacobian_sq_norm
    return _ks("chain and reference networks: laws of ||J u||^2 agree", a, b)


def _relative(mine, theirs) -> float:
    mine, theirs = np.asarray(mine, float), np.asarray(theirs, float)
    return float(np.max(np.abs(mine - theirs) / np.maximum(np.abs(theirs), np.finfo(float).tiny)))


def _agreement_check(sampler: str) -> Check:
    """The first networks of a Numba sampler, evaluated again by the reference: largest relative difference."""
    from ..layers.draw import draw_many
    from ..simulate import explicit_samples, gradient_samples

    arch, (x, u) = _arch(), _inputs()
    net = arch.network()
    n = AGREEMENT_NETWORKS
    mine = reference.evaluate(net, draw_many(net, SEED, 0, n), x, u)
    if sampler == "explicit":
        theirs = explicit_samples(arch, x, u, n, SEED, per_layer=True)
        error = max(_relative(mine.jacobian_sq_norm, theirs.jacobian_sq_norm),
                    _relative(mine.sq_norm_x, theirs.sq_norm_x), _relative(mine.sq_norm_u, theirs.sq_norm_u))
        name = "Numba explicit sampler = reference, per network"
    else:
        theirs = gradient_samples(arch, x, n, SEED)
        error = max(_relative(mine.weight_grad_sq.T, theirs.weight_layer_sum),
                    _relative(mine.bias_grad_sq.T, theirs.delta_sq), _relative(mine.ntk, theirs.ntk))
        name = "Numba gradient sampler = reference, per network"
    return Check(SUITE, name, 3, 1.0, error, 0.0, f"relative difference, networks 0..{n - 1} of seed {SEED}",
                 "relative", error, AGREEMENT_TOLERANCE)


def _numba_check(method: str) -> Check:
    from ..simulate import chain_samples, explicit_samples

    x, u = _inputs()
    sampler = chain_samples if method == "chain" else explicit_samples
    draws = sampler(_arch(), x, u, EXPLICIT_SAMPLES, SEED).jacobian_sq_norm
    return _ks(f"Numba {method} sampler matches the NumPy chain", draws, _samples("chain", 3).jacobian_sq_norm)


def _linear_check() -> Check:
    arch = _arch(ranks=1)
    lower, upper = jacobian.jacobian_bounds(arch)
    assert math.isclose(lower.mean(), upper.mean(), rel_tol=1e-12)
    est = estimate(_samples("chain", 1).jacobian_sq_norm)
    result = compare(est, exact=lower.mean())
    return Check(SUITE, "rank 1: E||J u||^2 equals the bounds", 1, 1.0, est.mean, lower.mean(),
                 f"chain sampler, {est.n} draws, stderr {est.stderr:.2g}", "z", result["z"], Z_TOLERANCE)


ESTIMATOR_SAMPLES = 20_000


def _estimator_checks(quantity: str):
    """One check per verdict of ``maxbounds validate QUANTITY`` on the default network."""
    from . import single

    x, u = _inputs()
    result = single.run(quantity, _arch(), x, u, ESTIMATOR_SAMPLES, SEED, "chain" if quantity == "cosine" else "explicit")
    items = [(f"{r.get('name', quantity)} l={r['layer']}", r) for r in result.get("layers", [])]
    items += [(key, r) for key, r in result.items() if isinstance(r, dict) and "verdict" in r]
    out = []
    for label, r in items:
        bounds = r.get("bounds", {})
        reference = r["reference"]["mean"] if "reference" in r else bounds.get("lower")
        out.append(Check(
            SUITE, f"{quantity}: {label}", 3, 1.0, r["estimate"]["mean"],
            float("nan") if reference is None else reference,
            f"{result['method']} sampler, {r['estimate']['n']} draws, stderr {r['estimate']['stderr']:.2g}",
            "z", r["z"], Z_TOLERANCE, reference_upper=bounds.get("upper"),
        ))
    return out


def checks():
    """Yield the checks of the network suite as zero-argument callables."""
    for method in ("chain", "reference"):
        yield partial(_bound_check, method, 1)
        yield partial(_bound_check, method, 2)
        for layer in (1, 2, 3):
            yield partial(_activation_check, method, layer)
    yield _ks_check
    yield _linear_check
    yield partial(_numba_check, "chain")
    yield partial(_numba_check, "explicit")
    yield partial(_agreement_check, "explicit")
    yield partial(_agreement_check, "gradient")
    for quantity in ("cosine", "gradient", "ntk", "length"):
        yield from _lazy_checks(quantity)


def _lazy_checks(quantity: str):
    """The checks of one estimator, computed once when the first of them runs."""
    cache = {}

    def get(i):
        if "checks" not in cache:
            cache["checks"] = _estimator_checks(quantity)
        return cache["checks"][i]

    depth = _arch().depth
    count = {"cosine": depth - 1, "gradient": 5 * depth, "ntk": 1, "length": 2}[quantity]
    return [partial(get, i) for i in range(count)]
