r"""Training the depth-exponential construction in PyTorch: derived parameters first, then the raw weights.

The network is :func:`maxbounds.layers.depth_exponential.depth_exponential_layers` (``d`` ReLU layers of
width 3 on ``[0, 1]``, a linear output).  :func:`fit` trains it on a convex target in one of two ways,
with Adam and the same total number of steps:

``"derived"`` (seed 004's strategy)
    **phase 1** in the derived parameters of :class:`DerivedModel`: apexes :math:`a_s = \sigma(\theta_s)`
    (a sigmoid keeps them in :math:`(0, 1)`), curvatures :math:`D_s = e^{\lambda_s}` (positive), the slope
    :math:`c_0` and the offset :math:`b`.  The weights are the construction's
    (:meth:`~maxbounds.layers.depth_exponential.TentParameters.raw`, written in torch so that gradients
    flow) and the forward pass is the chain of ReLU layers with them, so every step has exactly
    :math:`2^d` pieces and a convex output.  **Phase 2** converts: the raw ``nn.Sequential`` is
    :func:`maxbounds.torch.build` of the architecture with the phase-1 weights (:func:`raw_model`), and
    Adam trains those weights freely (the count may then change; :func:`fit` records it).
``"he"``
    the same architecture initialised by :func:`maxbounds.torch.init_` with ``"he"`` (weights
    :math:`N(0, 2/\mathrm{fan\_in})`, output :math:`N(0, 1/3)`, biases :math:`N(0, \beta)`) trained in the
    raw weights for phase 1 + phase 2 steps.

Data: seed ``s`` draws ``n_train`` training inputs uniformly from ``[0, 1]`` (the ends added); the loss is
their mean squared error.  Phase 1 starts at apexes :math:`1/2` (plus an optional seeded jitter of the
logits), curvatures of the sawtooth shape :math:`\kappa 2^{-s-d}` and :math:`(b, c_0, \kappa)` the
least-squares fit of the target on the training inputs: for :math:`x^2` that is the sawtooth construction
moved by a constant.  Every learning rate decays geometrically to ``decay`` times itself over its phase.

:func:`fit_group` trains many (target, seed) runs of one depth and method at once (one batched module:
:class:`DerivedModel` with a leading member axis, and :class:`RawStack` for the raw weights); Adam is elementwise and the loss is the sum of the members' losses, so each member
trains as it would alone.  Everything is float64 on the CPU and full batch: the same call gives the same
numbers bit for bit.  Errors are measured on a dense grid of ``[0, 1]``; pieces are counted exactly by
:func:`maxbounds.torch.to_network` and :func:`maxbounds.regions.line_regions`
(:func:`maxbounds.layers.depth_exponential.count_pieces`).  See ``docs/depth_exponential.md``.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import time

import numpy as np

from .._validate import MaxboundsValueError
from ..layers import depth_exponential as de
from ._require import require_torch

torch = require_torch()
nn = torch.nn

__all__ = ["METHODS", "DerivedModel", "FitSettings", "RawStack", "fit", "fit_group", "raw_model", "training_inputs"]

#: The two training strategies.
METHODS = ("derived", "he")


@dataclasses.dataclass(frozen=True)
class FitSettings:
    """Steps and learning rates of :func:`fit` (Adam; each rate decays geometrically to ``decay`` times
    itself over its phase), the training and evaluation sizes, the He bias variance, the seeded jitter of
    the initial apex logits, and how many times phase 2 is stopped to count the pieces."""

    steps1: int = 1000
    steps2: int = 1000
    lr1: float = 3e-3
    lr2: float = 1e-5
    lr_he: float = 3e-3
    decay: float = 0.01
    n_train: int = 2048
    n_eval: int = 65537
    he_bias_var: float = 0.1
    apex_jitter: float = 0.0
    counts: int = 4

    def __post_init__(self):
        for name in ("steps1", "steps2", "n_train", "n_eval", "counts"):
            value = getattr(self, name)
            low = 0 if name in ("steps1", "steps2", "counts") else 2
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
                raise MaxboundsValueError(name, f"expected an integer >= {low}, got {value!r}")
        for name in ("lr1", "lr2", "lr_he", "decay", "he_bias_var", "apex_jitter"):
            value = getattr(self, name)
            zero_ok = name in ("he_bias_var", "apex_jitter")
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
                    or value < 0 or (value == 0 and not zero_ok):
                raise MaxboundsValueError(name, f"expected a finite number {'>= 0' if zero_ok else '> 0'}, "
                                                f"got {value!r}")

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def training_inputs(seed: int, n: int) -> np.ndarray:
    """The training inputs of seed ``seed``: ``0``, ``1`` and ``n - 2`` uniform points of ``[0, 1]``, sorted."""
    rng = np.random.default_rng([int(seed), 4004])
    return np.sort(np.concatenate([[0.0, 1.0], rng.uniform(0.0, 1.0, int(n) - 2)]))


class DerivedModel(nn.Module):
    r"""``G`` copies of the construction as one module of their derived parameters (float64).

    Parameters of shape ``(G, d)`` (``logit_apex``: :math:`a = \sigma(\theta)`; ``log_curvature``:
    :math:`D = e^\lambda`) and ``(G,)`` (``slope`` :math:`c_0`, ``offset`` :math:`b`).  :meth:`raw` gives the
    chain's weights as tensors with a leading member axis, :meth:`forward` runs the chain of ReLU layers
    with them on inputs ``(G, 1, N)`` and returns ``(G, 1, N)``.
    """

    def __init__(self, members):
        super().__init__()
        members = [members] if isinstance(members, de.TentParameters) else list(members)
        if not members or not all(isinstance(p, de.TentParameters) for p in members):
            raise MaxboundsValueError("members", "expected TentParameters (one or a list)")
        if len({p.depth for p in members}) != 1:
            raise MaxboundsValueError("members", "all members must have the same depth")
        a = np.stack([p.apex for p in members])
        f64 = torch.float64
        self.logit_apex = nn.Parameter(torch.tensor(np.log(a) - np.log1p(-a), dtype=f64))
        self.log_curvature = nn.Parameter(torch.tensor(np.log(np.stack([p.curvature for p in members])), dtype=f64))
        self.slope = nn.Parameter(torch.tensor([p.slope for p in members], dtype=f64))
        self.offset = nn.Parameter(torch.tensor([p.offset for p in members], dtype=f64))

    @property
    def size(self) -> int:
        return int(self.logit_apex.shape[0])

    @property
    def depth(self) -> int:
        return int(self.logit_apex.shape[1])

    @staticmethod
    def skip(apex, curvature):
        r""":math:`c_1..c_d` solving :math:`(I - \Pi)c = -D`, :math:`\Pi_{r,s} = \pi_{r,s}` (``(G, d)`` tensors).

        :math:`\log\pi_{r,s} = -\log(1 - a_{r+1}) + L_{r+1} - L_s` for :math:`s > r`, with
        :math:`L_s = \sum_{q\le s}\log a_q`.
        """
        G, d = apex.shape
        eye = torch.eye(d, dtype=apex.dtype).expand(G, d, d)
        if d == 1:
            return -curvature
        L = torch.cumsum(torch.log(apex), dim=1)
        row = -torch.log1p(-apex[:, 1:]) + L[:, 1:]            # r = 0..d-2
        row = torch.cat([row, torch.zeros_like(row[:, :1])], 1)  # r = d-1 has no s > r
        M = row[:, :, None] - L[:, None, :]
        upper = torch.triu(torch.ones(d, d, dtype=torch.bool), diagonal=1)
        Pi = torch.where(upper, torch.exp(torch.where(upper, M, torch.zeros_like(M))), torch.zeros_like(M))
        return torch.linalg.solve_triangular(eye - Pi, -curvature[:, :, None], upper=True)[:, :, 0]

    def raw(self) -> list:
        """``[(W, b), ...]``: ``W`` of shape ``(G, out, in)``, ``b`` of shape ``(G, out)`` (with gradients)."""
        a = torch.sigmoid(self.logit_apex)
        c = self.skip(a, torch.exp(self.log_curvature))
        c0, offset = self.slope, self.offset
        K = (1.0 + c0.abs() + c.abs().sum(dim=1)).detach()  # any K >= 1 + sum |c| gives the same function
        one, zero = torch.ones_like(c0), torch.zeros_like(c0)
        layers = [(torch.stack([one, one, c0], dim=1)[:, :, None], torch.stack([one, -a[:, 0], K], dim=1))]
        p = 1.0 / a
        q = -(p + 1.0 / (1.0 - a))
        for s in range(1, self.depth):
            ps, qs, cs = p[:, s - 1], q[:, s - 1], c[:, s - 1]
            W = torch.stack([torch.stack([ps, qs, zero], 1), torch.stack([ps, qs, zero], 1),
                             torch.stack([cs * ps, cs * qs, one], 1)], 1)
            b = torch.stack([1.0 - ps, -ps - a[:, s], -cs * ps], 1)
            layers.append((W, b))
        cd = c[:, -1]
        layers.append((torch.stack([cd * p[:, -1], cd * q[:, -1], one], 1)[:, None, :],
                       (-cd * p[:, -1] - K + offset)[:, None]))
        return layers

    def forward(self, x):
        """Outputs ``(G, 1, N)`` on inputs ``x`` of shape ``(G, 1, N)`` (features first: one batched matrix
        product per layer, ``W @ h``)."""
        return _chain(self.raw(), x)

    def member(self, g: int) -> de.TentParameters:
        """Member ``g``'s current parameters as :class:`~maxbounds.layers.depth_exponential.TentParameters`."""
        with torch.no_grad():
            a = torch.sigmoid(self.logit_apex[g]).numpy().copy()
            D = torch.exp(self.log_curvature[g]).numpy().copy()
            return de.TentParameters(a, D, float(self.slope[g]), float(self.offset[g]))


def _chain(layers, h):
    """The ReLU chain on ``h`` ``(G, n_0, N)``: ``relu(W h + b)`` per hidden layer, ``W h + b`` at the end."""
    for W, b in layers[:-1]:
        h = torch.relu(torch.baddbmm(b[:, :, None], W, h))
    W, b = layers[-1]
    return torch.baddbmm(b[:, :, None], W, h)


class RawStack(nn.Module):
    """``G`` raw models of the architecture as one module: ``weight_l`` ``(G, out, in)``, ``bias_l`` ``(G, out)``.

    Built from ``nn.Sequential`` members (``Linear``, ``ReLU``, ..., ``Linear``, as :func:`raw_model` and
    :func:`maxbounds.torch.build` make them), with their parameters copied; :meth:`member` writes member ``g``
    back into a copy of its model.  The layout (features first) is the fast one for width 3 on the CPU, which
    is why this is not :class:`maxbounds.torch.training.MaxoutEnsemble`; Adam trains each member as alone.
    """

    def __init__(self, members):
        super().__init__()
        members = list(members)
        linears = [[m for m in model if isinstance(m, nn.Linear)] for model in members]
        if not members or len({len(rows) for rows in linears}) != 1:
            raise MaxboundsValueError("members", "expected models of one architecture")
        self.weights = nn.ParameterList(
            [nn.Parameter(torch.stack([rows[l].weight.detach() for rows in linears]).clone())
             for l in range(len(linears[0]))])
        self.biases = nn.ParameterList(
            [nn.Parameter(torch.stack([rows[l].bias.detach() for rows in linears]).clone())
             for l in range(len(linears[0]))])
        object.__setattr__(self, "_members", members)

    def forward(self, x):
        return _chain(list(zip(self.weights, self.biases)), x)

    def member(self, g: int):
        """Member ``g`` as its ``nn.Sequential`` holding the current parameters (the model itself, updated)."""
        model = self._members[g]
        with torch.no_grad():
            for layer, W, b in zip((m for m in model if isinstance(m, nn.Linear)), self.weights, self.biases):
                layer.weight.copy_(W[g])
                layer.bias.copy_(b[g])
        return model


def raw_model(params: de.TentParameters):
    """The raw ``nn.Sequential`` (float64) of admissible parameters: :func:`maxbounds.torch.build` of the
    architecture with :meth:`~maxbounds.layers.depth_exponential.TentParameters.raw`."""
    from .convert import build

    return build(de.depth_exponential_layers(params.depth), params=params.raw(), dtype=torch.float64)


def initial_parameters(depth, x_train, y_train, seed=0, jitter=0.0) -> de.TentParameters:
    """Phase 1's start: apexes :math:`\\sigma(\\text{jitter}\\,N(0,1))` (seeded), sawtooth-shaped curvatures
    :math:`\\kappa 2^{-s-d}`, and :math:`(b, c_0, \\kappa)` by least squares on the training data."""
    rng = np.random.default_rng([int(seed), 4005])
    theta = float(jitter) * rng.standard_normal(depth)
    apex = 1.0 / (1.0 + np.exp(-theta))
    shape = de.TentParameters(apex, 2.0 ** (-np.arange(1, depth + 1) - depth), 0.0, 0.0)
    A = np.stack([np.ones_like(x_train), x_train, shape(x_train)], axis=1)
    (b, c0, kappa), *_ = np.linalg.lstsq(A, y_train, rcond=None)
    kappa = max(float(kappa), 1e-6)
    return de.TentParameters(apex, kappa * shape.curvature, float(c0), float(b))


def _adam(model, x, y, steps, lr, decay, losses, on_step=None):
    """Full-batch Adam on the summed member losses; ``losses`` gets each step's per-member losses."""
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimiser, decay ** (1.0 / max(steps, 1)))
    for step in range(1, steps + 1):
        optimiser.zero_grad()
        per_member = torch.mean((model(x) - y) ** 2, dim=(1, 2))
        per_member.sum().backward()
        optimiser.step()
        scheduler.step()
        losses.append(per_member.detach().numpy().copy())
        if on_step is not None:
            on_step(step)


def _count(model) -> dict:
    from .convert import to_network

    return de.count_pieces(to_network(model)).as_dict()


def _errors(model, function, n_eval) -> dict:
    x = np.linspace(0.0, 1.0, int(n_eval))
    with torch.no_grad():
        out = model(torch.tensor(x[:, None], dtype=torch.float64))[:, 0].numpy()
    diff = out - function(x)
    return {"max_error": float(np.max(np.abs(diff))), "rms_error": float(np.sqrt(np.mean(diff * diff)))}


def _checkpoints(steps, counts):
    if counts <= 0 or steps <= 0:
        return set()
    return {max(1, round(steps * k / counts)) for k in range(1, counts + 1)}


def fit_group(targets, depth: int, seeds, *, method: str = "derived", settings: FitSettings | None = None,
              losses_every: int = 10) -> list:
    """Train every (target, seed) pair at depth ``depth`` with ``method``, as one batched module.

    ``targets``: names of ``TARGETS`` or convex NumPy functions.  Returns one JSON-ready dict per pair (targets
    outer, seeds inner): ``max_error``, ``rms_error`` on ``n_eval`` equally spaced points (and, for
    ``"derived"``, ``at_init`` and ``after_phase1``), ``pieces`` (exact counts ``{"phase", "step", "activation",
    "linear", "convex"}`` at initialisation, after phase 1 and ``settings.counts`` times during phase 2;
    for ``"he"`` at initialisation, at step ``steps1`` and as many times after), the final apexes
    (derived), the training loss every ``losses_every`` steps, and ``seconds`` (the group's time per run).
    """
    from ..simulate.chain import check_seed

    resolved = [de.target_function(t) for t in (targets if isinstance(targets, (list, tuple)) else [targets])]
    if not resolved:
        raise MaxboundsValueError("targets", "give at least one target")
    depth = de.check_depth(depth)
    if method not in METHODS:
        raise MaxboundsValueError("method", f"expected one of {', '.join(METHODS)}, got {method!r}")
    seeds = [check_seed(s) for s in (seeds if isinstance(seeds, (list, tuple)) else [seeds])]
    if not seeds:
        raise MaxboundsValueError("seeds", "give at least one seed")
    settings = FitSettings() if settings is None else settings
    if not isinstance(settings, FitSettings):
        raise MaxboundsValueError("settings", f"expected FitSettings, got {type(settings).__name__}")
    runs = [(name, function, formula, seed) for name, function, formula in resolved for seed in seeds]
    xs = {seed: training_inputs(seed, settings.n_train) for seed in seeds}
    x = torch.tensor(np.stack([xs[seed] for *_, seed in runs])[:, None, :], dtype=torch.float64)
    y_np = np.stack([np.asarray(function(xs[seed]), dtype=float) for _, function, _, seed in runs])
    y = torch.tensor(y_np[:, None, :], dtype=torch.float64)
    flushed = torch.set_flush_denormal(True)
    start = time.perf_counter()
    try:
        results, losses = _fit(runs, depth, method, settings, xs, x, y, y_np)
    finally:
        if flushed:
            torch.set_flush_denormal(False)
    seconds = (time.perf_counter() - start) / len(runs)
    every = max(1, int(losses_every))
    curve = np.array(losses) if losses else np.empty((0, len(runs)))
    for g, out in enumerate(results):
        column = curve[:, g]
        out["loss"] = [float(v) for v in column[::every]] + ([float(column[-1])] if column.size else [])
        out["final_loss"] = float(column[-1]) if column.size else None
        out["seconds"] = seconds
    return results


def _fit(runs, depth, method, settings, xs, x, y, y_np):
    from .convert import build
    from .init import init_
    G = len(runs)
    results = [{"target": name, "formula": formula, "depth": depth, "method": method, "seed": seed, "pieces": []}
               for name, _, formula, seed in runs]
    losses = []
    if method == "derived":
        start = [initial_parameters(depth, xs[seed], y_np[g], seed, settings.apex_jitter)
                 for g, (*_, seed) in enumerate(runs)]
        derived = DerivedModel(start)
        grid = np.linspace(0.0, 1.0, int(settings.n_eval))
        for g, (p, (_, function, _, _)) in enumerate(zip(start, runs)):
            results[g]["pieces"].append({"phase": "init", "step": 0, **de.count_pieces(p.network()).as_dict()})
            diff = p(grid) - function(grid)
            results[g]["at_init"] = {"max_error": float(np.max(np.abs(diff))),
                                     "rms_error": float(np.sqrt(np.mean(diff * diff)))}
        _adam(derived, x, y, settings.steps1, settings.lr1, settings.decay, losses)
        members = []
        for g, (_, function, _, _) in enumerate(runs):
            params = derived.member(g)
            model = raw_model(params)
            results[g]["after_phase1"] = _errors(model, function, settings.n_eval)
            results[g]["apex"] = params.apex.tolist()
            results[g]["pieces"].append({"phase": "phase 1", "step": settings.steps1, **_count(model)})
            members.append(model)
        lr2, steps2, offset, label = settings.lr2, settings.steps2, settings.steps1, "phase 2"
    else:
        members = []
        for g, (*_, seed) in enumerate(runs):
            model = build(de.depth_exponential_layers(depth), seed=seed, dtype=torch.float64)
            init_(model, "he", seed=seed, bias_var=settings.he_bias_var)
            results[g]["pieces"].append({"phase": "init", "step": 0, **_count(model)})
            members.append(model)
        lr2, steps2, offset, label = settings.lr_he, settings.steps1 + settings.steps2, 0, "raw"
    ensemble = RawStack(members)
    marks = _checkpoints(steps2, settings.counts)
    if method == "he" and settings.steps1 > 0 and settings.counts > 0:
        marks.add(settings.steps1)
        marks |= {settings.steps1 + m for m in _checkpoints(settings.steps2, settings.counts)}
        marks = {m for m in marks if m >= settings.steps1}

    def on_step(step):
        if step in marks:
            for g in range(G):
                results[g]["pieces"].append({"phase": label, "step": offset + step, **_count(ensemble.member(g))})

    _adam(ensemble, x, y, steps2, lr2, settings.decay, losses, on_step)
    for g, (_, function, _, _) in enumerate(runs):
        results[g].update(_errors(ensemble.member(g), function, settings.n_eval))
    return results, losses


def fit(target, depth: int, *, method: str = "derived", seed: int = 0, settings: FitSettings | None = None,
        losses_every: int = 10) -> dict:
    """One run of :func:`fit_group` (one target, one seed)."""
    return fit_group([target], depth, [seed], method=method, settings=settings, losses_every=losses_every)[0]
