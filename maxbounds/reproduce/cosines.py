r"""Figure 3 of docs/reproduce.md: :math:`|\cos\gamma_l|` against the layer, for several ``c`` and widths.

:math:`\cos\gamma_l` is the correlation :math:`\rho_l` of docs/exact_laws.md: the
cosine between the augmented vectors :math:`\mathfrak{x} = (x_{l-1}, 1)` and
:math:`\mathfrak{u} = (u_{l-1}, 0)` when :math:`\beta_l = c_l/n_{l-1}` (the
paper's setting, used here).  It is sampled with the exact Gram chain
(:func:`maxbounds.simulate.chain_samples`, ``per_layer=True``), 100 layers of
equal width ``n``, rank ``K = 2..5``; the input ``x`` is a standard Gaussian
vector of :math:`\mathbb{R}^n` and ``u`` a random unit direction, both fixed.

Two panels sets: against the layer for :math:`c \in \{1/M(K), 0.3, 10\}` at
width 100 (``cosines-layer``), and for widths 2, 10, 100 at :math:`c = 1/M(K)`
(``cosines-width``).

Wide-width reference.  As :math:`n\to\infty`, with :math:`X_l = \lVert x_l\rVert^2`,
the law of large numbers over the :math:`n` units of each layer makes the
chain deterministic: :math:`X_l = cM(X_{l-1} + 1)`,
:math:`\lVert u_l\rVert^2 = c\lVert u_{l-1}\rVert^2(1 + \rho_l^2(M-1))` and
:math:`\langle x_l, u_l\rangle = cM\rho_l\sqrt{(X_{l-1}+1)\lVert u_{l-1}\rVert^2}`,
so that

.. math::

    \rho_{l+1} = \frac{\rho_l\sqrt{M}}{\sqrt{1 + \rho_l^2(M-1)}}\;
                 \sqrt{\frac{X_l}{X_l + 1}},

the zero-bias map :func:`maxbounds.laws.exact.wide_limit_correlation_map`
shrunk by the bias share.  It starts from the exact :math:`\rho_1` of the
input and is drawn as a dashed line.  (For :math:`cM < 1` the activations
settle at :math:`X = cM/(1 - cM)` and the bias keeps :math:`|\rho|` away from
1; for :math:`cM > 1`, :math:`X_l` grows and :math:`|\rho_l| \to 1`.)
"""

from __future__ import annotations

import math

import numpy as np

from ..architecture import Architecture
from ..constants import constant
from ..laws.exact import layer_correlation, wide_limit_correlation_map
from ..simulate import chain_samples
from . import _common

RANKS = (2, 3, 4, 5)
DEPTH = 100

_SIZES = {
    "tiny": {"networks": 300, "depth": 12},
    "quick": {"networks": 2_000, "depth": DEPTH},
    "full": {"networks": 20_000, "depth": DEPTH},
}
#: Networks per sampler call (bounds the memory of the per-layer records).
_CHUNK = 5_000

#: (panel label, width, c) per variant; ``None`` for c means 1/M(K).
PANELS = {
    "layer": [("c = 1/M(K), width 100", 100, None), ("c = 0.3, width 100", 100, 0.3),
              ("c = 10, width 100", 100, 10.0)],
    "width": [("width 2, c = 1/M(K)", 2, None), ("width 10, c = 1/M(K)", 10, None),
              ("width 100, c = 1/M(K)", 100, None)],
}


def architecture(width: int, depth: int, K: int, c: float) -> Architecture:
    """``depth`` maxout layers of ``width`` units on ``width`` inputs, bias variance ``c/n``, one linear output."""
    return Architecture((width,) * (depth + 1) + (1,), ranks=K, c=c, c_out=1.0,
                        bias_var=(c / width,) * depth + (1.0 / width,))


def wide_limit(rho1: float, sq_norm_x0: float, c: float, K: int, layers: int) -> list[float]:
    r"""The wide-width recursion of the module docstring: :math:`|\rho_l|` for ``l = 1..layers``."""
    M = constant("M", K)
    rho, X = rho1, sq_norm_x0
    out = [abs(rho)]
    for _ in range(layers - 1):
        X = c * M * (X + 1.0)
        rho = float(wide_limit_correlation_map(rho, K)) * math.sqrt(X / (X + 1.0))
        out.append(abs(rho))
    return out


def compute(variant: str = "layer", quick: bool = True, seed: int = 0, progress=None, *,
            size: str | None = None) -> dict:
    """Mean, standard error and quartiles of ``|cos gamma_l|`` per panel and rank, with the wide-width curve."""
    lvl = _common.level(quick, size)
    sizes = _SIZES[lvl]
    depth = sizes["depth"]
    panels = PANELS[variant]
    advance = _common.tracker(progress, len(panels) * len(RANKS))
    out = []
    for p, (label, width, c_given) in enumerate(panels):
        rng = np.random.default_rng([seed, 4, width])
        x = rng.standard_normal(width)
        u = _common.unit_vector(rng, width)
        curves = []
        for K in RANKS:
            c = 1 / constant("M", K) if c_given is None else c_given
            arch = architecture(width, depth, K, c)
            networks = sizes["networks"]
            cos = np.empty((depth, networks))
            for first in range(0, networks, _CHUNK):
                # the samples of a call starting at first_sample are those of one large call
                count = min(_CHUNK, networks - first)
                chain = chain_samples(arch, x, u, count, seed + p, per_layer=True, first_sample=first)
                cos[:, first:first + count] = chain.abs_cos_gamma[1:depth + 1]  # hidden layers 1..depth
            stats = _common.summary(cos, axis=1)
            rho1 = float(layer_correlation(arch, 1, float(x @ x), 1.0, float(x @ u)))
            curves.append({"K": K, "c": c, **stats, "wide_limit": wide_limit(rho1, float(x @ x), c, K, depth)})
            advance()
        scale = {"c_rule": "1/M"} if c_given is None else {"c": c_given, "c_rule": None}
        out.append({"label": label, "width": width, **scale, "input": _common.clean(x),
                    "direction": _common.clean(u), "curves": curves})
    settings = {
        "variant": variant, "layers": depth, "ranks": list(RANKS), "networks": sizes["networks"], "size": lvl,
        "bias variance": "c/n_{l-1} (the paper's augmented vectors)", "method": "exact Gram chain (docs/exact_laws.md)",
        "input": "standard Gaussian vector of R^n; u a random unit vector",
        "scale": "per panel: c, or c_rule 1/M (c = 1/M(K) of each curve's K)",
        "wide_limit": "deterministic n -> infinity recursion (module docstring), from the exact rho_1",
    }
    return {"settings": settings, "layers": list(range(1, depth + 1)), "panels": out}


def figure(data: dict):
    """The figure of :func:`plot` (a matplotlib Figure; the caller closes it)."""
    from ..report.plots import legend_outside

    plt = _common.pyplot()
    panels = data["panels"]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels) + 1.2, 3.8), sharey=True, squeeze=False,
                             layout="constrained")
    axes = axes[0]
    layers = np.array(data["layers"], dtype=float)
    for ax, panel in zip(axes, panels):
        for i, curve in enumerate(panel["curves"]):
            _common.band(ax, layers, curve, f"C{i}", f"K = {curve['K']}")
            ax.plot(layers, curve["wide_limit"], color=f"C{i}", ls="--", lw=1)
        ax.set_title(panel["label"], fontsize=9)
        ax.set_xlabel("layer l")
        ax.set_ylim(0, 1.02)
    axes[0].set_ylabel(r"$|\cos\gamma_l|$")
    handles, labels = axes[0].get_legend_handles_labels()
    handles.append(plt.Line2D([], [], color="0.3", ls="--", lw=1))
    labels.append("wide-width limit")
    legend_outside(axes[-1], handles=handles, labels=labels, fontsize=8)
    s = data["settings"]
    fig.suptitle(f"mean |cos gamma_l| (line), interquartile range (band), wide-width limit (dashed); "
                 f"depth {s['layers']}, bias variance c/n_(l-1), {s['networks']} networks", fontsize=10)
    return fig


def plot(data: dict, path) -> None:
    """One panel per ``c`` or width: mean |cos gamma_l| per rank, interquartile band, wide-width curve dashed."""
    _common.save(figure(data), path, dpi=80, bbox_inches="tight")


def csv_rows(data: dict) -> list[dict]:
    """One row per panel, rank and layer."""
    rows = []
    for panel in data["panels"]:
        for curve in panel["curves"]:
            for i, layer in enumerate(data["layers"]):
                rows.append({"panel": panel["label"], "width": panel["width"], "K": curve["K"], "c": curve["c"],
                             "layer": layer, "mean": curve["mean"][i], "stderr": curve["stderr"][i],
                             "q25": curve["q25"][i], "median": curve["median"][i], "q75": curve["q75"][i],
                             "wide_limit": curve["wide_limit"][i]})
    return rows
