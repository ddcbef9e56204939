"""One estimator against its theory, for any architecture: ``maxbounds validate QUANTITY``.

Each function simulates with the Numba samplers (:mod:`maxbounds.simulate`),
summarises with :mod:`maxbounds.estimators` and sets the estimate beside the
analytic result:

* ``jacobian``: mean and second moment of :math:`\\|J_N(x)u\\|^2` against the
  stochastic-order bounds (and the exact law when every rank is 1);
* ``activation``: the mean of :math:`\\|x_l\\|^2` per layer against its exact
  value (docs/exact_laws.md);
* ``cosine``: the mean of :math:`|\\cos\\gamma_l|` per layer, for which no closed
  form exists, against the other sampler (chain against explicit networks):
  the verdict is on the difference of the two means;
* ``gradient``: per layer, the mean squared non-zero weight gradient, the
  per-layer sum and the mean squared non-zero bias gradient against their
  bounds (explicit networks with a backward pass);
* ``ntk``: the NTK diagonal against its bounds;
* ``length``: the exact length distortion of the segment from ``x`` to
  ``x + u`` (``u`` of unit length) against the bounds on its mean and the
  upper bound on its second moment.

``jacobian`` and ``activation`` also carry ``independent``: the same law from
the other sampler (explicit networks for the chain and the other way round,
on independent draws of the same size), compared with this run's estimate
(two-sample z) or with the exact law, so that a user's own architecture gets
a sharp check and not only "inside the bounds" (:func:`independent`).

Wherever explicit networks are drawn (``--method explicit``, the explicit side
of ``cosine``, ``gradient``, ``ntk``), the result also carries ``agreement``:
the first :data:`AGREEMENT_NETWORKS` networks of the Numba sampler evaluated
again by the independent NumPy reference (:mod:`maxbounds.reference`, on the
same parameters, :func:`maxbounds.layers.draw.draw_parameters`), with the
largest relative difference; the run passes only if it is at most
:data:`AGREEMENT_TOLERANCE`.
"""

from __future__ import annotations

import math

import numpy as np

from ..architecture import Architecture
from ..estimators import Z_TOLERANCE, compare, estimate, two_sample_z, z_verdict
from ..laws import exact, jacobian
from ..simulate import chain_samples, explicit_samples

QUANTITIES = ("jacobian", "activation", "cosine", "gradient", "ntk", "length")


#: Chunks a run is split into, so that a progress bar can advance.
CHUNKS = 50
#: Networks of each run compared one by one with the NumPy reference, and the largest relative difference allowed.
AGREEMENT_NETWORKS = 4
AGREEMENT_TOLERANCE = 1e-10


def _chunks(total: int, advance, draw, what: str = "this run") -> dict:
    """Join ``draw(first, count)`` (a dict of arrays, samples on the last axis) over consecutive chunks.

    Network ``s`` of every sampler depends only on ``(seed, s)``, so the joined
    arrays equal those of one call, bit for bit; the chunks only let
    ``advance(count)`` report progress and the time budget
    (:class:`maxbounds._budget.TimeBudget`) project the run's time from its
    first, small chunks (1, 2, 4, ... networks), refusing a run that would
    exceed it.
    """
    from .._budget import TimeBudget, check_memory, chunk_sizes

    budget = TimeBudget(total, "samples", what)
    parts, first = [], 0
    for count in chunk_sizes(total, CHUNKS):
        parts.append(draw(first, count))
        if first == 0:  # the results of one network, times all of them, times 4 for the summaries' temporaries
            check_memory(4 * sum(a.nbytes for a in parts[0].values()) * total / count, "samples", what)
        first += count
        budget.advance(count)
        if advance is not None:
            advance(count)
    return {key: np.concatenate([part[key] for part in parts], axis=-1) for key in parts[0]}


def _sample(arch, x, u, samples, seed, method, per_layer, advance=None, field="jacobian_sq_norm"):
    sampler = chain_samples if method == "chain" else explicit_samples

    def draw(first, count):
        result = sampler(arch, x, u, count, seed, per_layer=per_layer, first_sample=first)
        return {field: getattr(result, field)}

    return _chunks(samples, advance, draw)[field]


def validate_jacobian(arch: Architecture, x, u, samples: int, seed: int, method: str = "chain",
                      moments=(), advance=None) -> dict:
    """Mean, second moment and further moments ``E||J u||^(2t)`` against their bounds."""
    draws = _sample(arch, x, u, samples, seed, method, False, advance)
    lower, upper = jacobian.jacobian_bounds(arch)
    linear = all(K == 1 for K in arch.ranks)
    out = {}
    orders = [("mean", 1.0), ("second_moment", 2.0)] + [(f"moment_{t:g}", float(t)) for t in moments
                                                         if float(t) not in (1.0, 2.0)]
    for name, power in orders:
        est = estimate(draws**power)
        lo, hi = lower.moment(power), upper.moment(power)
        result = compare(est, lower=lo, upper=hi)
        if linear:
            result.update({k: v for k, v in compare(est, exact=lo).items()
                           if k in ("exact", "z", "verdict", "check")})
        else:
            result["exact"] = None
        result["estimate"] = est.as_dict()
        out[name] = result
    return out


def validate_activation(arch: Architecture, x, u, samples: int, seed: int, method: str = "chain",
                        advance=None) -> dict:
    """Per-layer mean of ``||x_l||^2`` against the exact law."""
    sq_norm_x = _sample(arch, x, u, samples, seed, method, True, advance, field="sq_norm_x")
    means = exact.activation_length_mean_var(arch, x)[0]
    layers = []
    for layer in range(1, arch.depth):
        est = estimate(sq_norm_x[layer])
        result = compare(est, exact=float(means[layer]))
        result["estimate"] = est.as_dict()
        layers.append({"layer": layer, **result})
    return {"layers": layers}


def validate_cosine(arch: Architecture, x, u, samples: int, seed: int, method: str = "chain",
                    advance=None) -> dict:
    """Per-layer mean of ``|cos gamma_l|`` from one sampler against the other."""
    other = "explicit" if method == "chain" else "chain"
    mine = _sample(arch, x, u, samples, seed, method, True, advance, field="abs_cos_gamma")
    theirs = _sample(arch, x, u, samples, seed + 1, other, True, advance, field="abs_cos_gamma")
    layers = []
    for layer in range(1, arch.depth):
        a, b = estimate(mine[layer]), estimate(theirs[layer])
        z = abs(a.mean - b.mean) / math.hypot(a.stderr, b.stderr) if a.stderr or b.stderr else 0.0
        layers.append({
            "layer": layer, "estimate": a.as_dict(), "exact": None,
            "reference": {"method": other, "mean": b.mean, "stderr": b.stderr, "n": b.n},
            "z": z, "verdict": "agrees" if z <= Z_TOLERANCE else "DISAGREES",
            "check": z_verdict(z, b.mean, math.hypot(a.stderr, b.stderr)),
        })
    return {"layers": layers}


_GRADIENT_KEYS = ("weight_nonzero", "weight_per_k", "weight_layer_sum", "bias_nonzero", "bias_per_k")


def _gradient_draws(arch, x, samples, seed, advance, keys) -> dict:
    """Per-layer gradient quantities (layers x samples) from explicit networks, in chunks."""
    from ..simulate import gradient_samples

    def draw(first, count):
        result = gradient_samples(arch, x, count, seed, first_sample=first)
        return {key: np.atleast_2d(getattr(result, key).T) for key in keys}

    return _chunks(samples, advance, draw)


def validate_gradient(arch: Architecture, x, u, samples: int, seed: int, method: str = "explicit",
                      advance=None) -> dict:
    """Per-layer squared parameter gradients against :func:`maxbounds.laws.gradients.gradient_bounds`."""
    from ..laws import gradients

    draws = _gradient_draws(arch, x, samples, seed, advance, _GRADIENT_KEYS)
    bounds = gradients.gradient_bounds(arch, x)
    layers = []
    for layer, theory in enumerate(bounds, start=1):
        for key in _GRADIENT_KEYS:
            est = estimate(draws[key][layer - 1])
            result = compare(est, lower=theory[key]["lower"], upper=theory[key]["upper"])
            result.update(estimate=est.as_dict(), exact=None)
            layers.append({"layer": layer, "name": key, **result})
    return {"layers": layers}


def validate_ntk(arch: Architecture, x, u, samples: int, seed: int, method: str = "explicit",
                 advance=None) -> dict:
    """The NTK diagonal against :func:`maxbounds.laws.gradients.ntk_bounds`."""
    from ..laws import gradients

    ntk = _gradient_draws(arch, x, samples, seed, advance, ("ntk",))["ntk"][0]
    theory = gradients.ntk_bounds(arch, x)
    est = estimate(ntk)
    result = compare(est, lower=theory["lower"], upper=theory["upper"])
    result.update(estimate=est.as_dict(), exact=None)
    return {"ntk": result}


def validate_length(arch: Architecture, x, u, samples: int, seed: int, method: str = "explicit",
                    curve: str = "segment", advance=None) -> dict:
    """Exact length distortion of a curve against its bounds.

    ``curve="segment"``: the segment ``[x, x + u/|u|]``; ``curve="circle"``:
    the unit circle centred at ``x`` in the plane of ``u`` and the first
    coordinate axis not parallel to it (needs ``n_0 >= 2``).
    """
    from ..laws import gradients
    from ..simulate import circle_length_samples, segment_length_samples

    u = np.asarray(u, float) / np.linalg.norm(u)
    if curve == "circle":
        axes = np.eye(arch.n_in)
        f = next((a for a in axes if abs(a @ u) < 1 - 1e-12), None)
        if f is None:
            from .._validate import MaxboundsValueError

            raise MaxboundsValueError("curve", "a circle needs at least two input dimensions")

        def sampler(count, first):
            return circle_length_samples(arch, x, 1.0, u, f, count, seed, first_sample=first)
    else:
        def sampler(count, first):
            return segment_length_samples(arch, x, x + u, count, seed, first_sample=first)

    def draw(first, count):
        result = sampler(count, first)
        return {"distortion": result.distortion, "pieces": result.pieces}

    draws = _chunks(samples, advance, draw)
    theory = gradients.length_bounds(arch)
    mean = estimate(draws["distortion"])
    second = estimate(draws["distortion"] ** 2)
    out = {}
    for key, est, bounds in (("mean", mean, theory["mean"]), ("second_moment", second, theory["second_moment"])):
        result = compare(est, lower=bounds.get("lower"), upper=bounds["upper"])
        result.update(estimate=est.as_dict(), exact=None)
        out[key] = result
    out["pieces"] = estimate(draws["pieces"]).as_dict()
    return out


def _relative(mine, theirs) -> float:
    mine, theirs = np.asarray(mine, float), np.asarray(theirs, float)
    return float(np.max(np.abs(mine - theirs) / np.maximum(np.abs(theirs), np.finfo(float).tiny)))


def agreement(arch: Architecture, x, u, seed: int, sampler: str = "explicit",
              networks: int = AGREEMENT_NETWORKS) -> dict:
    """Networks ``0..networks-1`` of ``seed``: the Numba sampler against the NumPy reference on the same parameters.

    ``sampler="explicit"`` compares ``||J u||^2`` and ``||x_l||^2``, ``||u_l||^2`` per layer
    (:func:`~maxbounds.simulate.explicit_samples`); ``"gradient"`` the squared weight and bias gradients per
    layer and the NTK diagonal (:func:`~maxbounds.simulate.gradient_samples`).
    """
    from .. import reference
    from ..layers.draw import draw_many
    from ..simulate import gradient_samples

    net = arch.network()
    unit = np.asarray(u, float) / np.linalg.norm(u)
    mine = reference.evaluate(net, draw_many(net, seed, 0, networks),
                              x, unit)
    if sampler == "explicit":
        theirs = explicit_samples(arch, x, u, networks, seed, per_layer=True)
        error = max(_relative(mine.jacobian_sq_norm, theirs.jacobian_sq_norm),
                    _relative(mine.sq_norm_x, theirs.sq_norm_x), _relative(mine.sq_norm_u, theirs.sq_norm_u),
                    float(np.max(np.abs(mine.cos - theirs.cos))),
                    float(np.max(np.abs(augmented_abs_cos(net, mine)[1:] - theirs.abs_cos_gamma[1:]))))
    else:
        theirs = gradient_samples(arch, x, networks, seed)
        error = max(_relative(mine.weight_grad_sq.T, theirs.weight_layer_sum),
                    _relative(mine.bias_grad_sq.T, theirs.delta_sq), _relative(mine.ntk, theirs.ntk))
    return {"sampler": sampler, "networks": networks, "seed": seed, "max_relative_error": error,
            "tolerance": AGREEMENT_TOLERANCE, "passed": bool(error <= AGREEMENT_TOLERANCE)}


def augmented_abs_cos(net, samples) -> np.ndarray:
    r""":math:`|\rho_l|` (rows ``l = 0..L``, row 0 NaN) from the per-layer vectors of reference samples.

    :math:`\rho_l = s\langle x_{l-1}, u_{l-1}\rangle / \sqrt{(s\lVert x_{l-1}\rVert^2 + b)\,
    s\lVert u_{l-1}\rVert^2}` with :math:`s` the weight variance and :math:`b` the bias variance
    of layer ``l`` (docs/exact_laws.md): the cosine of the augmented vectors, which the samplers
    report as ``abs_cos_gamma``; 0 where a vector is 0.
    """
    xx, uu = samples.sq_norm_x, samples.sq_norm_u
    xu = samples.cos * np.sqrt(xx * uu)
    out = np.full(xx.shape, np.nan)
    for row, layer in enumerate(net, start=1):
        s, b = layer.weight_sd**2, layer.bias_sd**2
        denominator = np.sqrt((s * xx[row - 1] + b) * s * uu[row - 1])
        with np.errstate(divide="ignore", invalid="ignore"):
            out[row] = np.where(denominator > 0, np.abs(s * xu[row - 1]) / denominator, 0.0)
    return out


def _agreement_for(quantity, arch, x, u, seed, method):
    """The agreement block of a run, or ``None`` where it draws no explicit network."""
    if quantity in ("gradient", "ntk"):
        return agreement(arch, x, u, seed, "gradient")
    if quantity == "cosine":
        return agreement(arch, x, u, seed if method == "explicit" else seed + 1, "explicit")
    if quantity in ("jacobian", "activation") and method == "explicit":
        return agreement(arch, x, u, seed, "explicit")
    return None


def _two_sample(name, a, b, other) -> dict:
    """``a`` (this run's estimate) against ``b`` (the other sampler's, independent draws): z of the difference."""
    z, se = two_sample_z(a, b)
    check = z_verdict(z, b.mean, se)
    return {"name": name, "estimate": a.as_dict(), "exact": None,
            "reference": {"method": other, "mean": b.mean, "stderr": b.stderr, "n": b.n},
            "z": z, "verdict": "agrees" if check.passed else "DISAGREES", "check": check}


def independent(quantity: str, arch: Architecture, x, u, samples: int, seed: int, method: str,
                advance=None) -> dict | None:
    """The same law from the other, independent sampler (chain against explicit networks), or ``None``.

    ``jacobian``: ``E||J u||`` and ``E||J u||^2`` of both samplers (two-sample
    z, sized by ``samples`` draws on each side); ``activation``: the other
    sampler's ``E||x_l||^2`` against the exact law.  Both samplers share no
    sampling code, so a fault in one of them shows as a disagreement even
    where the bounds are far apart.
    """
    if quantity not in ("jacobian", "activation"):
        return None
    other = "explicit" if method == "chain" else "chain"
    if quantity == "jacobian":
        mine = _sample(arch, x, u, samples, seed, method, False)
        theirs = _sample(arch, x, u, samples, seed + 1, other, False, advance)
        rows = [_two_sample("E||Ju||" if t == 0.5 else "E||Ju||^2", estimate(mine**t), estimate(theirs**t), other) for t in (0.5, 1.0)]
        return {"method": other, "seed": seed + 1, "rows": rows}
    theirs = _sample(arch, x, u, samples, seed + 1, other, True, advance, field="sq_norm_x")
    means = exact.activation_length_mean_var(arch, x)[0]
    rows = []
    for layer in range(1, arch.depth):
        est = estimate(theirs[layer])
        result = compare(est, exact=float(means[layer]))
        rows.append({"name": f"E||x_{layer}||^2 ({other})", "layer": layer, **result, "estimate": est.as_dict()})
    return {"method": other, "seed": seed + 1, "rows": rows}


def work(quantity: str, samples: int) -> int:
    """Networks a run of ``quantity`` draws (the total of its progress bar)."""
    return 2 * samples if quantity in ("cosine", "jacobian", "activation") else samples


def run(quantity: str, arch: Architecture, x, u, samples: int, seed: int, method: str = "chain",
        moments=(), curve: str = "segment", advance=None) -> dict:
    """Run one estimator against its theory; ``advance(count)`` is called as networks are drawn."""
    x, u = np.asarray(x, float), np.asarray(u, float)
    header = {"quantity": quantity, "architecture": arch.describe(), "method": method, "samples": samples,
              "seed": seed}
    if quantity == "jacobian":
        body = validate_jacobian(arch, x, u, samples, seed, method, moments, advance=advance)
    elif quantity == "length":
        body = {"curve": curve, **validate_length(arch, x, u, samples, seed, method, curve, advance=advance)}
    else:
        function = {"activation": validate_activation, "cosine": validate_cosine,
                    "gradient": validate_gradient, "ntk": validate_ntk}[quantity]
        body = function(arch, x, u, samples, seed, method, advance=advance)
    check = _agreement_for(quantity, arch, x, u, seed, method)
    other = independent(quantity, arch, x, u, samples, seed, method, advance)
    return {**header, **body, **({} if check is None else {"agreement": check}),
            **({} if other is None else {"independent": other})}


def passed(result: dict) -> bool:
    """Whether every verdict in ``result`` is a pass."""
    verdicts = [v["verdict"] for k, v in result.items() if isinstance(v, dict) and "verdict" in v]
    verdicts += [row["verdict"] for row in result.get("layers", [])]
    verdicts += [row["verdict"] for row in result.get("independent", {}).get("rows", [])]
    return all(v in ("agrees", "inside") for v in verdicts) and result.get("agreement", {}).get("passed", True)
