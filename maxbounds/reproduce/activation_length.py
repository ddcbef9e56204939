r"""Figure 4 of docs/reproduce.md: the normalised activation length :math:`\lVert x_l\rVert^2/n_l` against the layer.

Rank ``K = 5``, width 10 in every layer (input included), :math:`c = 0.55555`
(the paper's rounded :math:`1/M(5)`), bias variance :math:`\beta_l = c/n_{l-1}`,
50 maxout layers and a linear output; the input is a fixed random vector with
:math:`\lVert x_0\rVert^2 = n_0`.  Three computations of the same law:

* explicitly drawn networks, :func:`maxbounds.simulate.explicit_samples`;
* the exact law of docs/exact_laws.md (the Gram chain, :func:`maxbounds.simulate.chain_samples`,
  another seed);
* its mean formula, unrolled with :math:`\beta = c/n`:

  .. math::

      E\Big[\frac{\lVert x_l\rVert^2}{n_l}\Big] = (cM)^l\,\frac{\lVert x_0\rVert^2 + 1}{n_0}
          + \sum_{j=1}^{l-1}\frac{(cM)^{l-j}}{n_j}\quad (l \ge 1),

  :func:`maxbounds.laws.exact.activation_length_mean_closed_form`.

With :math:`cM(5) = 0.55555 \times 1.80002 \approx 0.99999`, the mean grows
by about :math:`cM/n = 0.1` per layer: the bias adds :math:`cM/n_j` at every
layer while the weights (almost) preserve what is there.
"""

from __future__ import annotations

import math

import numpy as np

from ..architecture import Architecture
from ..laws.exact import activation_length_mean_closed_form
from ..simulate import chain_samples, explicit_samples
from . import _common

K = 5
WIDTH = 10
C = 0.55555

_SIZES = {
    "tiny": {"networks": 2_000, "layers": 8},
    "quick": {"networks": 20_000, "layers": 50},
    "full": {"networks": 200_000, "layers": 50},
}
#: Networks per sampler call (bounds the memory of the per-layer records).
_CHUNK = 10_000


def architecture(layers: int) -> Architecture:
    """``layers`` maxout layers of width 10 on 10 inputs, K = 5, c = 0.55555, beta = c/n, linear output."""
    return Architecture((WIDTH,) * (layers + 1) + (1,), ranks=K, c=C, c_out=1.0,
                        bias_var=(C / WIDTH,) * layers + (1.0 / WIDTH,))


def compute(quick: bool = True, seed: int = 0, progress=None, *, size: str | None = None) -> dict:
    """Per-layer mean, standard error and quartiles of ||x_l||^2/n_l (explicit and chain) and the exact mean."""
    lvl = _common.level(quick, size)
    sizes = _SIZES[lvl]
    layers = sizes["layers"]
    arch = architecture(layers)
    rng = np.random.default_rng([seed, 5])
    x = _common.unit_vector(rng, WIDTH) * math.sqrt(WIDTH)
    u = _common.unit_vector(rng, WIDTH)
    networks = sizes["networks"]
    chunks = range(0, networks, _CHUNK)
    advance = _common.tracker(progress, 2 * len(chunks))
    widths = np.asarray(arch.widths[: layers + 1], dtype=float)[:, None]
    stats = {}
    for key, sampler, stream in (("explicit", explicit_samples, seed), ("chain", chain_samples, seed + 1)):
        lengths = np.empty((layers + 1, networks))
        for first in chunks:
            # the samples of a call starting at first_sample are those of one large call
            count = min(_CHUNK, networks - first)
            run = sampler(arch, x, u, count, stream, per_layer=True, first_sample=first)
            lengths[:, first:first + count] = run.sq_norm_x[: layers + 1] / widths
            advance()
        stats[key] = _common.summary(lengths, axis=1)
    explicit_stats, chain_stats = stats["explicit"], stats["chain"]
    exact = activation_length_mean_closed_form(arch, x)
    settings = {
        "widths": WIDTH, "K": K, "c": C, "bias variance": "c/n_{l-1}", "maxout layers": layers,
        "networks": sizes["networks"], "size": lvl, "input": _common.clean(x), "||x_0||^2": float(x @ x),
        "explicit": "explicit_samples (seed)", "chain": "exact Gram chain (seed + 1)",
        "exact": "activation_length_mean_closed_form (docs/exact_laws.md)",
    }
    return {"settings": settings, "layers": list(range(layers + 1)), "explicit": explicit_stats,
            "chain": chain_stats, "exact_mean": _common.clean(exact)}


def figure(data: dict):
    """The figure of :func:`plot` (a matplotlib Figure; the caller closes it)."""
    from ..report.plots import legend_below

    plt = _common.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), gridspec_kw={"width_ratios": [2, 1]}, layout="constrained")
    layers = np.array(data["layers"], dtype=float)
    _common.band(axes[0], layers, data["explicit"], "C0", "explicit networks (mean, IQR)", alpha=0.25)
    _common.band(axes[0], layers, data["chain"], "C1", "exact law, Gram chain (mean, IQR)", alpha=0.18)
    exact = np.array(data["exact_mean"], dtype=float)
    axes[0].plot(layers, exact, "k--", lw=1.2, label="exact mean formula")
    axes[0].set_xlabel("layer l")
    axes[0].set_ylabel(r"$\|x_l\|^2 / n_l$")
    legend_below(axes[0], ncol=3, fontsize=8)
    for key, color in (("explicit", "C0"), ("chain", "C1")):
        mean = np.array(data[key]["mean"][1:], dtype=float)
        se = np.array(data[key]["stderr"][1:], dtype=float)
        axes[1].plot(layers[1:], (mean - exact[1:]) / se, "o", ms=3, color=color, label=key)
    axes[1].axhspan(-4.5, 4.5, color="0.9", label="within 4.5 standard errors")
    axes[1].set_xlabel("layer l")
    axes[1].set_ylabel("(estimate - exact) / standard error")
    legend_below(axes[1], ncol=2, fontsize=8)
    s = data["settings"]
    fig.suptitle(f"width {s['widths']}, K={s['K']}, c={s['c']}, beta=c/n, {s['networks']} networks", fontsize=10)
    return fig


def plot(data: dict, path) -> None:
    """Means with interquartile bands (explicit, chain) and the exact mean; right: z-scores against the formula."""
    _common.save(figure(data), path, dpi=80, bbox_inches="tight")


def csv_rows(data: dict) -> list[dict]:
    """One row per layer."""
    rows = []
    for i, layer in enumerate(data["layers"]):
        row = {"layer": layer, "exact_mean": data["exact_mean"][i]}
        for key in ("explicit", "chain"):
            for stat in ("mean", "stderr", "q25", "median", "q75"):
                row[f"{key}_{stat}"] = data[key][stat][i]
        rows.append(row)
    return rows
