r"""Figure 2 of docs/reproduce.md: :math:`E\lVert J_N(x)u\rVert^2` over the input grid :math:`[-1000, 1000]^2`.

Network: 2 inputs, three hidden layers of width 2 (rank ``K = 5`` for
maxout), a linear layer of 2 outputs (depth ``L = 4``, the paper's example).
"Unit-variance weights and biases" is read literally: every hidden weight
is :math:`N(0, 1)`, i.e. :math:`c_l/n_{l-1} = 1`, so :math:`c_l = n_{l-1} = 2`,
and every hidden bias is :math:`N(0, 1)` (:math:`\beta_l = 1`); the output
weights are :math:`N(0, 1/2)` (:math:`c_L = 1`) with no bias (it does not
enter the Jacobian).  ``u`` is a fixed random unit direction.

Maxout: by docs/exact_laws.md the law of :math:`\lVert J_N(x)u\rVert^2` depends on
``x`` through the correlations :math:`\rho_l`, so the mean varies over the grid.
It is estimated with explicitly drawn networks
(:func:`maxbounds.simulate.explicit_samples_many`: the same networks at every
grid point) and, independently, with the exact Gram chain
(:func:`maxbounds.simulate.chain_samples`, another seed) at every point.

ReLU: the same network with ReLU units.  Given the layers below, the pair
:math:`(W_i\cdot v, \zeta_i)` is a centred Gaussian vector, symmetric under
:math:`(W_i, b_i)\mapsto(-W_i, -b_i)`, which swaps :math:`\zeta_i > 0` and
:math:`\zeta_i < 0` but keeps :math:`(W_i\cdot v)^2`; hence
:math:`E[(W_i\cdot v)^2 1[\zeta_i > 0]\mid\text{past}] = \tfrac12 (c_l/n_{l-1})\lVert v\rVert^2`
whatever the input and the bias variance, and

.. math::

    E\lVert J_N(x)u\rVert^2 = \frac{c_L n_L}{n_{L-1}} \prod_{l=1}^{L-1} \frac{c_l n_l}{2 n_{l-1}},

a constant (here 1).  The ``contrast`` entry of the data compares two points
fixed in advance (the grid point nearest the origin and the one of largest
:math:`|\langle x, u\rangle|`) through the paired difference over the same
networks, with its standard error.
"""

from __future__ import annotations

import math

import numpy as np

from ..architecture import Architecture
from ..simulate import chain_samples, explicit_samples_many
from . import _common

K = 5
WIDTH = 2
HIDDEN = 3
LIMIT = 1000.0

_SIZES = {
    "tiny": {"steps": 3, "networks": 4_000},
    "quick": {"steps": 25, "networks": 20_000},
    "full": {"steps": 50, "networks": 50_000},
}
#: Largest number of (network, point) values held at once (8 bytes each, twice).
_BLOCK = 2_000_000


def architecture() -> Architecture:
    """The figure's network: weights N(0, 1) (c = n_{l-1} = 2), biases N(0, 1), output weights N(0, 1/2)."""
    return Architecture((WIDTH,) * (HIDDEN + 1) + (WIDTH,), ranks=K, c=float(WIDTH), c_out=1.0,
                        bias_var=(1.0,) * HIDDEN + (0.0,))


def relu_mean(arch: Architecture) -> float:
    r""":math:`E\lVert J_N(x)u\rVert^2` of the ReLU network: :math:`(c_L n_L/n_{L-1})\prod_l c_l n_l/(2 n_{l-1})`."""
    value = arch.c_out * arch.widths[-1] / arch.widths[-2]
    for layer in range(1, arch.depth):
        value *= arch.c[layer - 1] * arch.widths[layer] / (2 * arch.widths[layer - 1])
    return value


def _contrast(samples, a: int, b: int) -> dict:
    """Paired difference of the mean at grid points ``a`` and ``b`` over the same networks."""
    d = samples[:, a] - samples[:, b]
    se = float(d.std(ddof=1) / math.sqrt(d.size))
    mean = float(d.mean())
    return {"mean": mean, "stderr": se, "n": int(d.size), "z": mean / se if se > 0 else 0.0}


def compute(quick: bool = True, seed: int = 0, progress=None, *, size: str | None = None) -> dict:
    """Means and standard errors of ``||J u||^2`` at every grid point, maxout (explicit, chain) and ReLU."""
    lvl = _common.level(quick, size)
    sizes = _SIZES[lvl]
    arch = architecture()
    rng = np.random.default_rng([seed, 3])
    u = _common.unit_vector(rng, WIDTH)
    axis = np.linspace(-LIMIT, LIMIT, sizes["steps"])
    gx, gy = np.meshgrid(axis, axis, indexing="ij")
    X = np.column_stack([gx.ravel(), gy.ravel()])
    networks = sizes["networks"]
    advance = _common.tracker(progress, 2 + X.shape[0])
    results = {}
    centre = int(np.argmin(np.einsum("ij,ij->i", X, X)))
    aligned = int(np.argmax(np.abs(X @ u)))
    block = max(1, _BLOCK // networks)
    for activation in ("maxout", "relu"):
        mean, stderr = [], []
        for start in range(0, X.shape[0], block):
            # column t depends only on (seed, network, X[t]): blocks of points see the same networks
            samples = explicit_samples_many(arch, X[start:start + block], u, networks, seed, activation=activation)
            stats = _common.summary(samples)
            mean += stats["mean"]
            stderr += stats["stderr"]
        pair = explicit_samples_many(arch, X[[centre, aligned]], u, networks, seed, activation=activation)
        results[activation] = {"mean": mean, "stderr": stderr, "n": int(networks), "contrast": _contrast(pair, 0, 1)}
        advance()
    chain_mean, chain_se = [], []
    for point in X:
        j = chain_samples(arch, point, u, networks, seed + 1).jacobian_sq_norm
        chain_mean.append(float(j.mean()))
        chain_se.append(float(j.std(ddof=1) / math.sqrt(j.size)))
        advance()
    results["maxout_chain"] = {"mean": chain_mean, "stderr": chain_se, "n": int(networks)}
    settings = {
        "widths": list(arch.widths), "K": K, "weights": "N(0, 1) in hidden layers (c = n_{l-1} = 2)",
        "biases": "N(0, 1) in hidden layers", "output weights": "N(0, 1/2) (c_L = 1)",
        "grid": [-LIMIT, LIMIT, sizes["steps"]], "networks": networks, "direction u": _common.clean(u),
        "size": lvl, "contrast points": [_common.clean(X[centre]), _common.clean(X[aligned])],
        "explicit": "the same networks at every grid point (explicit_samples_many, seed)",
        "chain": "the exact Gram chain of docs/exact_laws.md at each point (seed + 1), independent of the above",
    }
    return {"settings": settings, "axis": _common.clean(axis), "points": _common.clean(X),
            "maxout": results["maxout"], "maxout_chain": results["maxout_chain"], "relu": results["relu"],
            "relu_theory": relu_mean(arch)}


def figure(data: dict):
    """The figure of :func:`plot` (a matplotlib Figure; the caller closes it)."""
    from matplotlib.colors import LogNorm

    plt = _common.pyplot()
    steps = len(data["axis"])
    panels = [("maxout, explicit networks", data["maxout"]["mean"]),
              ("maxout, exact law (Gram chain)", data["maxout_chain"]["mean"]),
              (f"ReLU (theory: {data['relu_theory']:g} everywhere)", data["relu"]["mean"])]
    grids = [np.array(values, dtype=float).reshape(steps, steps) for _, values in panels]
    lo = min(float(g.min()) for g in grids)
    hi = max(float(g.max()) for g in grids)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.4), sharey=True, layout="constrained")
    fig.get_layout_engine().set(wspace=0.06)  # room between the panels' end labels (-1000 beside 1000)
    extent = [data["axis"][0], data["axis"][-1], data["axis"][0], data["axis"][-1]]
    ticks = np.linspace(extent[0], extent[1], 5)  # ends and middle: five labels, none wider than a fifth
    for ax, (title, _), grid in zip(axes, panels, grids):
        image = ax.imshow(grid.T, origin="lower", extent=extent, norm=LogNorm(vmin=lo, vmax=hi), cmap="viridis")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("$x_1$")
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks], fontsize=8)
        ax.set_yticks(ticks, [f"{t:g}" for t in ticks], fontsize=8)
    axes[0].set_ylabel("$x_2$")
    fig.colorbar(image, ax=axes, shrink=0.85, label=r"$E\|J_N(x)u\|^2$")
    s = data["settings"]
    fig.suptitle(f"widths {'-'.join(map(str, s['widths']))}, K={s['K']}, unit-variance weights and biases, "
                 f"{s['networks']} networks per point", fontsize=10)
    return fig


def plot(data: dict, path) -> None:
    """Heat maps of the grid means: maxout (explicit networks), maxout (exact chain), ReLU; shared log scale."""
    _common.save(figure(data), path, dpi=80, bbox_inches="tight")


def csv_rows(data: dict) -> list[dict]:
    """One row per grid point."""
    rows = []
    for i, (x1, x2) in enumerate(data["points"]):
        rows.append({"x1": x1, "x2": x2,
                     "maxout_mean": data["maxout"]["mean"][i], "maxout_stderr": data["maxout"]["stderr"][i],
                     "chain_mean": data["maxout_chain"]["mean"][i], "chain_stderr": data["maxout_chain"]["stderr"][i],
                     "relu_mean": data["relu"]["mean"][i], "relu_stderr": data["relu"]["stderr"][i]})
    return rows
