r"""Squared weight gradients of a deep maxout network during training (Tseran & Montufar 2023, appendix).

A deep maxout network (width 16, 10 maxout layers of rank ``K = 5``, :math:`c = 1/M(K)`, zero biases,
a linear output layer with :math:`c = 1`, one output per class) is initialised by
:func:`maxbounds.torch.init_` (scheme ``"maxout"``) and trained on the 8 x 8 digits
(:func:`maxbounds.torch.training.load_dataset`, 64 standardised features, 10 classes) with SGD
(Nesterov momentum 0.9, learning rate 0.005, batches of 32; :func:`maxbounds.torch.training.train`),
in float64.  At epoch 0 (before training) and after a few chosen epochs,
:func:`maxbounds.torch.gradient_statistics` computes, per layer, the statistics of
:math:`n_0 \sum_o (\partial N_o/\partial W_{l,i,k^*,j})^2` (the winning pieces' entries, summed over
the outputs) on a fixed batch of training inputs: the mean over the inputs of each input's average
entry, and the quartiles of all the entries.  Several networks (seeds) are trained; the figure shows,
per epoch and layer, the mean over the networks of those per-network means with its standard error
over the networks, and the mean over the networks of the per-network medians and quartiles.

The bounds drawn beside them are those of docs/bounds.md at initialisation
(:func:`maxbounds.laws.gradients.gradient_bounds`, ``weight_nonzero``, times :math:`n_0`) for the
architecture and each input of the batch, averaged over the inputs: they bound the expectation over
random networks, at fixed inputs, of exactly the per-network mean above.  At epoch 0 the mean over
the seeds must lie within them up to its sampling error; trained networks are no longer random
networks of that law and are free to leave them.  The output records, per epoch, the layers whose
mean lies inside ``[lower, upper]`` and inside ``[lower - 2 se, upper + 2 se]`` (the layers above
the last maxout layer have equal bounds: the law is exact there, so only the second test applies).
"""

from __future__ import annotations

import numpy as np

from ..torch._require import require_torch as _torch  # imports no torch until called
from . import _common

K = 5
WIDTH = 16
DEPTH = 10  #: maxout layers (then one linear output layer)
DATASET = "digits"
OPTIMIZER = "sgd"
LR = 5e-3
BATCH_SIZE = 32

#: Networks (seeds), the recorded epochs (the last is the number of epochs trained) and the input batch.
_SIZES = {
    "tiny": {"seeds": 2, "epochs": (0, 1, 2), "inputs": 8, "width": 4, "depth": 3},
    "quick": {"seeds": 8, "epochs": (0, 1, 5, 20, 50), "inputs": 64, "width": WIDTH, "depth": DEPTH},
    "full": {"seeds": 20, "epochs": (0, 1, 2, 5, 10, 20, 50, 100, 200), "inputs": 256, "width": WIDTH,
             "depth": DEPTH},
}
_KEYS = ("mean", "stderr", "q25", "median", "q75")


def make_model(n_in: int, n_out: int, width: int = WIDTH, depth: int = DEPTH, rank: int = K):
    """The float64 ``nn.Sequential``: ``depth`` :class:`~maxbounds.torch.Maxout` layers, then ``nn.Linear``.

    Its parameters are placeholders until :func:`maxbounds.torch.init_` initialises it.
    """
    torch = _torch()
    from ..torch import Maxout

    layers, previous = [], n_in
    for _ in range(depth):
        layers.append(Maxout(previous, width, rank))
        previous = width
    layers.append(torch.nn.Linear(previous, n_out))
    return torch.nn.Sequential(*layers).double()


def init_model(model, seed: int):
    """``init_(model, "maxout", seed=seed)`` with zero biases and the linear output at ``c = 1``."""
    from ..torch import init_

    return init_(model, "maxout", seed=int(seed), bias_var=0.0, c_linear=1.0)


def float64_data(data):
    """``data`` with float64 inputs (the models are trained in float64)."""
    import dataclasses

    return dataclasses.replace(data, **{key: getattr(data, key).double() for key in ("x_train", "x_val", "x_test")})


def seeds_for(seed: int, count: int) -> list[int]:
    """The ``count`` network seeds of figure seed ``seed`` (each initialises and shuffles one network)."""
    return [int(s) for s in np.random.default_rng([seed, 41]).integers(0, 2**31, count)]


def architecture(n_in: int, n_out: int, width: int, depth: int):
    """The :class:`~maxbounds.architecture.Architecture` the model is initialised from (for the bounds)."""
    from ..architecture import Architecture
    from ..constants import constant

    return Architecture((n_in,) + (width,) * depth + (n_out,), ranks=K, c=1 / constant("M", K), c_out=1.0,
                        bias_var=0.0)


def init_bounds(arch, inputs) -> dict:
    r"""Per layer, :math:`n_0` times the ``weight_nonzero`` bounds of each input, averaged over the inputs."""
    from ..laws.gradients import gradient_bounds

    inputs = np.asarray(inputs, dtype=float)
    n0 = inputs.shape[1]
    lo, hi = [], []
    for x in inputs:
        rows = gradient_bounds(arch, x)
        lo.append([r["weight_nonzero"]["lower"] for r in rows])
        hi.append([r["weight_nonzero"]["upper"] for r in rows])
    return {"lower": _common.clean(n0 * np.mean(lo, axis=0)), "upper": _common.clean(n0 * np.mean(hi, axis=0))}


def _stats_row(rows) -> dict:
    """The weight statistics of :func:`gradient_statistics` rows as lists over the layers."""
    return {key: [row["weight"][key] for row in rows] for key in _KEYS + ("n",)}


def compute(quick: bool = True, seed: int = 0, progress=None, *, size: str | None = None) -> dict:
    """Train the networks of ``seed`` and record the per-layer gradient statistics at the chosen epochs."""
    lvl = _common.level(quick, size)
    with _common.torch_threads():
        return _compute(lvl, seed, progress)


def _compute(lvl: str, seed: int, progress) -> dict:
    torch = _torch()
    from ..torch import gradient_statistics
    from ..torch.training import load_dataset, train

    sizes = _SIZES[lvl]
    epochs = tuple(sizes["epochs"])
    data = float64_data(load_dataset(DATASET))
    inputs = data.x_train[: sizes["inputs"]]
    n0, n_out = data.n_features, data.n_classes
    width, depth = sizes["width"], sizes["depth"]
    arch = architecture(n0, n_out, width, depth)
    bounds = init_bounds(arch, inputs.numpy())
    seeds = seeds_for(seed, sizes["seeds"])
    advance = _common.tracker(progress, len(seeds) * len(epochs))
    per_seed = []
    labels = None
    for s in seeds:
        with torch.random.fork_rng(devices=[]):  # the modules' placeholder draw leaves torch's generator alone
            model = make_model(n0, n_out, width, depth)
        init_model(model, s)
        recorded = {}

        def callback(epoch, model, recorded=recorded):
            if epoch in epochs:
                rows = gradient_statistics(model, inputs)
                recorded[epoch] = _stats_row(rows)
                recorded["labels"] = [row["label"] for row in rows]
                advance()

        history = train(model, data, optimizer=OPTIMIZER, epochs=max(epochs), batch_size=BATCH_SIZE, lr=LR,
                        halve_every=10**6, seed=s, callback=callback)
        labels = recorded.pop("labels")
        finite = all(np.all(np.isfinite(recorded[e][key])) for e in epochs for key in _KEYS if key != "stderr")
        per_seed.append({"seed": s, "diverged": not finite,
                         "epochs": {str(e): {**{key: _common.clean(recorded[e][key]) for key in _KEYS},
                                             "n": [int(n) for n in recorded[e]["n"]]} for e in epochs},
                         "accuracy": {"train": _common.clean(history.train_acc[list(epochs)]),
                                      "test": _common.clean(history.test_acc[list(epochs)])}})
    kept = [rec for rec in per_seed if not rec["diverged"]]
    if len(kept) < 2:
        from .._validate import MaxboundsValueError

        raise MaxboundsValueError("seed", f"training diverged for {len(per_seed) - len(kept)} of {len(per_seed)} "
                                          "networks: fewer than 2 left for a standard error")
    layers = list(range(1, depth + 2))
    curves = [_curve(e, kept, layers, bounds) for e in epochs]
    settings = {
        "dataset": DATASET, "n_0": n0, "classes": n_out, "width": width, "maxout layers": depth, "K": K,
        "c": float(1 / _constant_M()), "c_out": 1.0, "biases": "zero at initialisation (trained)",
        "init": "maxbounds.torch.init_(model, 'maxout', seed=s, bias_var=0, c_linear=1)",
        "optimizer": "SGD, Nesterov momentum 0.9", "lr": LR, "batch_size": BATCH_SIZE, "dtype": "float64",
        "epochs": list(epochs), "seeds": seeds, "diverged seeds": [r["seed"] for r in per_seed if r["diverged"]],
        "inputs": sizes["inputs"], "batch": "the first `inputs` training inputs (the same at every epoch)",
        "size": lvl,
        "statistic": ("n_0 sum_o (dN_o/dW_{l,i,k*,j})^2 over the winning entries "
                      "(maxbounds.torch.gradient_statistics)"),
        "mean": ("over the seeds of each network's mean over the inputs of the input's average entry; "
                 "stderr over the seeds (diverged seeds left out)"),
        "quartiles": "mean over the seeds of each network's quartiles of all entries (inputs pooled)",
        "bounds": ("docs/bounds.md at initialisation: n_0 * gradient_bounds(arch, x)['weight_nonzero'] averaged over "
                   "the inputs; they bound the expectation over random networks, so only epoch 0 need obey them"),
    }
    inside_epochs = [c["epoch"] for c in curves if c["all_inside_2se"]]
    return {"settings": settings, "layers": layers, "labels": labels, "bounds": bounds, "curves": curves,
            "per_seed": per_seed, "epochs_inside_bounds": inside_epochs,
            "summary": (f"epochs whose mean over {len(kept)} seeds lies within the initial bounds (up to 2 stderr) "
                        f"at every layer: {inside_epochs or 'none'}")}


def _curve(epoch, records, layers, bounds) -> dict:
    """The statistics over the seeds' ``records`` at ``epoch``, and which layers' means obey the bounds."""
    key_e = str(epoch)
    summary = _common.summary(np.array([rec["epochs"][key_e]["mean"] for rec in records]))  # (seeds, layers)
    curve = {"epoch": int(epoch), "mean": summary["mean"], "stderr": summary["stderr"], "n": len(records),
             "seeds": len(records)}
    for key in ("q25", "median", "q75"):
        curve[key] = _common.clean(np.mean([rec["epochs"][key_e][key] for rec in records], axis=0))
    mean, se = np.array(summary["mean"]), np.array(summary["stderr"])
    lower, upper = np.array(bounds["lower"], dtype=float), np.array(bounds["upper"], dtype=float)
    curve["inside"] = [int(l) for l, m, lo, hi in zip(layers, mean, lower, upper) if lo <= m <= hi]
    curve["inside_2se"] = [int(l) for l, m, e, lo, hi in zip(layers, mean, se, lower, upper)
                           if lo - 2 * e <= m <= hi + 2 * e]
    curve["all_inside_2se"] = len(curve["inside_2se"]) == len(layers)
    return curve


def _constant_M() -> float:
    from ..constants import constant

    return float(constant("M", K))


def figure(data: dict):
    """The figure of :func:`plot` (a matplotlib Figure; the caller closes it)."""
    from ..report.plots import interval_bars, legend_outside

    plt = _common.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12.5, 4.6), sharey=True, layout="constrained")
    layers = np.array(data["layers"], dtype=float)
    lower = np.array(data["bounds"]["lower"], dtype=float)
    upper = np.array(data["bounds"]["upper"], dtype=float)
    for ax in axes:
        ax.fill_between(layers, lower, upper, color="0.6", alpha=0.3, lw=0, label="bounds at initialisation")
    cmap = plt.get_cmap("viridis")
    n = len(data["curves"])
    for i, curve in enumerate(data["curves"]):
        color = cmap(i / max(n - 1, 1))
        mean = np.array(curve["mean"], dtype=float)
        half = 1.96 * np.array(curve["stderr"], dtype=float)
        # a log axis: an interval reaching 0 is drawn as its upper half with a caret (not cut at an invented end)
        interval_bars(axes[0], layers, mean, half=half, log=True, fmt="o-", color=color, ms=3, lw=1.2, capsize=2,
                      label=f"epoch {curve['epoch']}")
        _common.band(axes[1], layers, curve, color, f"epoch {curve['epoch']}", line="median", marker="o")
    for ax in axes:
        ax.set_yscale("log")
        ax.set_xlabel("layer (last: linear output)")
        ax.set_xticks(layers)
    axes[0].set_ylabel(r"$n_0\,(\partial N/\partial W)^2$")
    axes[0].set_title("mean over seeds, 95% interval; grey: bounds at init", fontsize=9)
    axes[1].set_title("median and interquartile range (mean over seeds)", fontsize=9)
    handles, labels = axes[0].get_legend_handles_labels()
    legend_outside(axes[1], handles=handles, labels=labels, fontsize=7)
    s = data["settings"]
    fig.suptitle(f"{s['dataset']}: width {s['width']}, {s['maxout layers']} maxout layers, K={s['K']}, c=1/M, "
                 f"{len(s['seeds'])} seeds, SGD lr {s['lr']}", fontsize=10)
    return fig


def plot(data: dict, path) -> None:
    """Left: mean over seeds with 95% intervals per epoch and the bounds; right: medians and quartile bands."""
    _common.save(figure(data), path, dpi=90, bbox_inches="tight")


def csv_rows(data: dict) -> list[dict]:
    """One row per ``(epoch, layer)``: the statistics over seeds and the bounds."""
    rows = []
    for curve in data["curves"]:
        for i, layer in enumerate(data["layers"]):
            row = {"epoch": curve["epoch"], "layer": layer, "label": data["labels"][i]}
            for key in _KEYS:
                row[key] = curve[key][i]
            row["lower"] = data["bounds"]["lower"][i]
            row["upper"] = data["bounds"]["upper"][i]
            row["inside"] = layer in curve["inside"]
            row["inside_2se"] = layer in curve["inside_2se"]
            rows.append(row)
    return rows
