r"""Figure 5 of docs/reproduce.md: :math:`M(K) = E[\Xi_K^2]` for ``K = 2..100``, and the initialisation :math:`c = 1/M(K)`.

:math:`M(K)` comes from :func:`maxbounds.constants.M` (quadrature of
:math:`K\varphi(x)\Phi(x)^{K-1}x^2`).  Beside it, an independent Monte Carlo
estimate: by docs/constants.md, :math:`\Xi_K = \Phi^{-1}(U^{1/K})` for one
uniform ``U``, so :math:`n` uniforms give :math:`n` draws of :math:`\Xi_K^2` whatever
``K``; the estimate carries its standard error.  For reference, the
three-term Gumbel series :func:`maxbounds.constants.M_asymptotic` and the
leading growth :math:`2\log K`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtri

from ..constants import M_asymptotic, constant
from . import _common

RANKS = tuple(range(2, 101))

_SIZES = {
    "tiny": {"draws": 20_000, "ranks": (2, 3, 4, 5, 10, 50, 100)},
    "quick": {"draws": 200_000, "ranks": RANKS},
    "full": {"draws": 10_000_000, "ranks": RANKS},
}


def sample_max_sq(K: int, draws: int, rng) -> np.ndarray:
    r"""``draws`` samples of :math:`\Xi_K^2` by inversion: :math:`\Phi^{-1}(U^{1/K})^2`.

    :math:`U^{1/K} = \exp(\log U/K)`; ``U`` is drawn in ``(0, 1]`` so the
    logarithm is finite.
    """
    u = 1.0 - rng.random(draws)  # in (0, 1]
    p = np.exp(np.log(u) / K)
    return ndtri(np.minimum(p, np.nextafter(1.0, 0.0))) ** 2


def compute(quick: bool = True, seed: int = 0, progress=None, *, size: str | None = None) -> dict:
    """``M(K)``, ``1/M(K)``, a Monte Carlo estimate with standard error, and the asymptotic series."""
    lvl = _common.level(quick, size)
    sizes = _SIZES[lvl]
    ranks = list(sizes["ranks"])
    rng = np.random.default_rng([seed, 6])
    advance = _common.tracker(progress, len(ranks))
    exact, mc_mean, mc_se, series = [], [], [], []
    chunk = 1_000_000
    for K in ranks:
        exact.append(constant("M", K))
        total = total_sq = 0.0
        left = sizes["draws"]
        while left > 0:
            draws = sample_max_sq(K, min(chunk, left), rng)
            total += float(draws.sum())
            total_sq += float((draws * draws).sum())
            left -= draws.size
        n = sizes["draws"]
        mean = total / n
        var = max(total_sq / n - mean * mean, 0.0) * n / (n - 1)
        mc_mean.append(mean)
        mc_se.append(math.sqrt(var / n))
        series.append(float(M_asymptotic(K)))
        advance()
    settings = {"ranks": [ranks[0], ranks[-1]] if lvl != "tiny" else ranks, "draws per K": sizes["draws"],
                "size": lvl, "exact": "maxbounds.constants.M (quadrature)",
                "monte carlo": "Phi^{-1}(U^{1/K})^2, one uniform per draw",
                "series": "maxbounds.constants.M_asymptotic (three-term Gumbel series)"}
    return {"settings": settings, "K": ranks, "M": exact, "one_over_M": [1 / m for m in exact],
            "monte_carlo": {"mean": mc_mean, "stderr": mc_se, "n": int(sizes["draws"])}, "series": series,
            "two_log_K": [2 * math.log(K) for K in ranks]}


def figure(data: dict):
    """The figure of :func:`plot` (a matplotlib Figure; the caller closes it)."""
    from ..report.plots import interval_bars, legend_below

    plt = _common.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4), layout="constrained")
    K = np.array(data["K"], dtype=float)
    axes[0].plot(K, data["M"], "k-", lw=1.5, label="M(K) (quadrature)")
    interval_bars(axes[0], K, data["monte_carlo"]["mean"], half=1.96 * np.array(data["monte_carlo"]["stderr"]),
                  color="C0", ms=2.5, capsize=0, label="Monte Carlo, 95% interval")
    axes[0].plot(K, data["series"], "C1--", lw=1, label="asymptotic series")
    axes[0].plot(K, data["two_log_K"], "C2:", lw=1, label="2 log K")
    axes[0].set_xlabel("K")
    axes[0].set_ylabel("M(K)")
    axes[0].set_title("M(K) = E[max of K standard normals, squared]", fontsize=9)
    legend_below(axes[0], ncol=2, fontsize=8)
    axes[1].plot(K, data["one_over_M"], "k-", lw=1.5)
    axes[1].set_xlabel("K")
    axes[1].set_ylabel("c = 1/M(K)")
    axes[1].set_title("maxout initialisation constant", fontsize=9)
    return fig


def plot(data: dict, path) -> None:
    """Left: M(K) with Monte Carlo points, the series and 2 log K; right: c = 1/M(K)."""
    _common.save(figure(data), path, dpi=80, bbox_inches="tight")


def csv_rows(data: dict) -> list[dict]:
    """One row per rank."""
    return [{"K": K, "M": data["M"][i], "one_over_M": data["one_over_M"][i],
             "mc_mean": data["monte_carlo"]["mean"][i], "mc_stderr": data["monte_carlo"]["stderr"][i],
             "series": data["series"][i], "two_log_K": data["two_log_K"][i]} for i, K in enumerate(data["K"])]
