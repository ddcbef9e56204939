r"""The phase transition: the fraction of activation regions with a full-rank Jacobian, against the width.

For one data set :math:`X` (``N`` points of :math:`\mathbb R^d`) and width ``m``, three
distributions of activation patterns (``modes``) are sampled ``S`` times each:

``"parameters"``
    the pattern of random parameters (:func:`~maxbounds.landscape.network.random_parameters`:
    :math:`w \sim N(0, I_d/d)`, :math:`b, v \sim N(0, 1)`); the rank is that of the
    full ``N x P`` Jacobian at those parameters.  Regions are weighted by their
    Gaussian volume.
``"uniform"``
    patterns drawn directly: every :math:`A_{ij}` uniform on {0, 1} (ReLU, leaky
    ReLU), every winning piece uniform on ``0..K-1`` (maxout), independently
    (the count over all :math:`2^{Nm}` (or :math:`K^{Nm}`) patterns of Karhadkar et al.,
    most of which no parameter realises when :math:`N > d + 1`); the rank is the
    pattern matrix's.
``"regions"``
    one-dimensional data, ReLU / leaky ReLU only: each unit's pattern uniform
    on its ``2u`` realisable patterns (:func:`~maxbounds.landscape.oned.unit_patterns`),
    i.e. a uniformly random realisable activation region of parameter space.

Each fraction is a :class:`Proportion` with its binomial standard error
:math:`\sqrt{\hat p(1 - \hat p)/S}` (0 when every sample agrees; the Wilson
interval is given as well).  Ranks are numerical with the default tolerance of
:mod:`.rank`.  The random streams are ``numpy.random.default_rng([seed, 1, m, mode])``
(data: ``[seed, 0]``), so a width's result does not depend on the other widths asked for.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .._validate import MaxboundsValueError
from .network import TwoLayer, _rank, _slope, activation_name, check_data, parameter_count, pattern_matrix
from .oned import MAX_EXACT_VALUES, region_counts, unit_patterns
from .rank import batch_ranks, exact_jacobian, exact_pattern_matrix, exact_rank

__all__ = [
    "MODES",
    "TOLERANCE_NOTE",
    "Proportion",
    "max_pattern_rank",
    "random_data",
    "sample_ranks",
    "transition",
    "uniform_patterns",
]

#: The pattern distributions, in order (their index is part of the random stream).
MODES = ("parameters", "uniform", "regions")

#: How ranks are decided, in words (printed by the command line and written into every result).
TOLERANCE_NOTE = "numerical rank: singular values > max(N, P) * eps * sigma_max (eps = 2^-52)"

#: Most numbers held at once in a stack of Jacobians.
_CHUNK = 1 << 22
#: Largest Jacobian (N * P entries) a sample may have.
MAX_ENTRIES = 1 << 24


@dataclasses.dataclass(frozen=True)
class Proportion:
    """``count`` successes in ``n`` trials: the fraction, its binomial standard error and the 95% Wilson interval."""

    count: int
    n: int

    @property
    def fraction(self) -> float:
        return self.count / self.n

    @property
    def stderr(self) -> float:
        p = self.fraction
        return math.sqrt(p * (1 - p) / self.n)

    @property
    def interval(self) -> tuple:
        z, n, p = 1.959963984540054, self.n, self.fraction
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return (0.0 if self.count == 0 else max(0.0, centre - half), 1.0 if self.count == n else min(1.0, centre + half))

    def as_dict(self) -> dict:
        return {"mean": self.fraction, "stderr": self.stderr, "n": self.n, "count": self.count,
                "interval": list(self.interval)}

    def __str__(self) -> str:
        return f"{self.fraction:.3f} \u00b1 {self.stderr:.3f}"


def _positive(value, argument, noun):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise MaxboundsValueError(argument, f"the {noun} must be an integer >= 1, got {value!r}")
    return int(value)


def _seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
        raise MaxboundsValueError("seed", f"expected an integer in 0..2**64-1, got {seed!r}")
    return int(seed)


def random_data(points: int, dim: int, seed: int = 0) -> np.ndarray:
    """``points`` draws of :math:`N(0, I_d)`, shape ``(points, dim)``, from ``default_rng([seed, 0])``."""
    points = _positive(points, "points", "number of points")
    dim = _positive(dim, "dim", "input dimension")
    return np.random.default_rng([_seed(seed), 0]).standard_normal((points, dim))


def uniform_patterns(samples: int, points: int, width: int, activation: str = "relu", *, rank: int = 2,
                     rng=None) -> np.ndarray:
    """``(samples, points, width)`` patterns with independent uniform entries (0/1, or pieces ``0..K-1``)."""
    activation = activation_name(activation)
    K = _rank(activation, rank)
    rng = np.random.default_rng(rng)
    return rng.integers(0, K if activation == "maxout" else 2, size=(samples, points, width))


def _parameter_jacobians(X, width, activation, K, slope, count, rng):
    """``(J, nets)``: ``count`` Jacobians ``(count, N, P)`` at independent random parameters, and those networks.

    The law is that of ``random_parameters``; the Jacobian is the closed form of :func:`.network.jacobian`.
    """
    N, d = X.shape
    Xt = np.concatenate([X, np.ones((N, 1))], axis=1)
    if activation == "maxout":
        W = rng.standard_normal((count, width, K, d)) / math.sqrt(d)
        b = rng.standard_normal((count, width, K))
        v = rng.standard_normal((count, width))
        z = np.einsum("id,sjkd->sijk", X, W) + b[:, None]
        win = np.argmax(z, axis=3)  # (S, N, m)
        onehot = (win[..., None] == np.arange(K)).astype(float)
        wb = (v[:, None, :, None, None] * onehot[..., None]) * Xt[None, :, None, None, :]
        value = np.take_along_axis(z, win[..., None], axis=3)
        J = np.concatenate([wb.reshape(count, N, width, K * (d + 1)), value], axis=3)
        nets = [TwoLayer(W[s], b[s], v[s], "maxout") for s in range(count)]
    else:
        W = rng.standard_normal((count, width, d)) / math.sqrt(d)
        b = rng.standard_normal((count, width))
        v = rng.standard_normal((count, width))
        z = np.einsum("id,sjd->sij", X, W) + b[:, None, :]
        D = np.where(z > 0, 1.0, slope)
        wb = (v[:, None, :] * D)[..., None] * Xt[None, :, None, :]
        J = np.concatenate([wb, (D * z)[..., None]], axis=3)
        nets = [TwoLayer(W[s], b[s], v[s], activation, slope) for s in range(count)]
    return J.reshape(count, N, -1), nets


def max_pattern_rank(points: int, dim: int, width: int, activation: str = "relu", rank: int = 2) -> int:
    r"""The largest rank a pattern matrix can have: :math:`\min(N, m(d + 1))`, maxout :math:`\min(N, (d + 1)(1 + m(K - 1)))`.

    For maxout the ``K`` blocks of every unit add up to :math:`[X, 1]`, so the
    :math:`(d + 1)`-dimensional column space of :math:`[X, 1]` is shared by all units.
    """
    activation = activation_name(activation)
    K = _rank(activation, rank)
    cols = (dim + 1) * (1 + width * (K - 1)) if activation == "maxout" else width * (dim + 1)
    return min(points, cols)


def sample_ranks(X, width: int, activation: str = "relu", mode: str = "parameters", *, rank: int = 2,
                 slope: float = 0.01, samples: int = 100, seed: int = 0, exact: int = 0):
    """``samples`` numerical ranks for one width and one mode (see the module docstring), as an int array.

    ``exact > 0``: also the exact rational ranks of the first ``exact`` samples
    (:func:`~maxbounds.landscape.rank.exact_jacobian`, or the exact pattern matrix);
    the result is then the pair ``(ranks, exact_ranks)``.
    """
    X = check_data(X)
    activation = activation_name(activation)
    K = _rank(activation, rank)
    a = _slope(activation, slope)
    width = _positive(width, "width", "width")
    samples = _positive(samples, "samples", "number of samples")
    if isinstance(exact, bool) or not isinstance(exact, (int, np.integer)) or exact < 0:
        raise MaxboundsValueError("exact", f"the number of exact checks must be an integer >= 0, got {exact!r}")
    if mode not in MODES:
        raise MaxboundsValueError("mode", f"expected one of {', '.join(MODES)}, got {mode!r}")
    N, d = X.shape
    if mode == "regions" and (d != 1 or activation == "maxout"):
        raise MaxboundsValueError("mode", "the 'regions' mode needs one-dimensional data and relu or leaky-relu "
                                          "units")
    P = parameter_count(width, d, activation, K)
    if N * P > MAX_ENTRIES:
        raise MaxboundsValueError("width", f"an {N} x {P} Jacobian exceeds {MAX_ENTRIES} entries; use fewer points "
                                           f"or a smaller width")
    rng = np.random.default_rng([_seed(seed), 1, width, MODES.index(mode)])
    step = max(1, _CHUNK // (N * P * (K if activation == "maxout" else 1)))
    out, exact_ranks = [], []
    for lo in range(0, samples, step):
        count = min(step, samples - lo)
        check = max(0, min(count, int(exact) - lo))
        if mode == "parameters":
            stack, nets = _parameter_jacobians(X, width, activation, K, a, count, rng)
            exact_ranks += [exact_rank(exact_jacobian(net, X)[0]) for net in nets[:check]]
        else:
            if mode == "uniform":
                A = uniform_patterns(count, N, width, activation, rank=K, rng=rng)
            else:
                units = unit_patterns(X)
                pick = rng.integers(0, units.shape[0], size=(count, width))
                A = units[pick].transpose(0, 2, 1)  # (count, N, m)
            stack = pattern_matrix(A, X, activation, rank=K, slope=a)
            exact_ranks += [exact_rank(exact_pattern_matrix(A[s], X, activation, rank=K, slope=a))
                            for s in range(check)]
        out.append(batch_ranks(stack))
    ranks = np.concatenate(out)
    return (ranks, np.asarray(exact_ranks, dtype=np.int64)) if exact else ranks


def transition(X, widths, activation: str = "relu", *, rank: int = 2, slope: float = 0.01, samples: int = 100,
               seed: int = 0, modes=None, exact_regions: bool | None = None, exact: int = 0, progress=None) -> dict:
    """The full-rank fractions against ``widths``: one entry per width with a :class:`Proportion` per mode.

    ``modes``: default ``("parameters", "uniform")``, plus ``"regions"`` for 1-D data with ReLU / leaky
    ReLU.  ``exact_regions``: also count the realisable regions exactly
    (:func:`~maxbounds.landscape.oned.region_counts`); default: when the data are
    1-D, the units ReLU / leaky ReLU and there are at most 8 distinct values.
    ``exact``: confirm the ranks of the first ``exact`` samples of every width and mode
    in exact rational arithmetic (``exact_check``: how many were checked and agree).
    ``progress`` is a ``start(total) -> advance()`` callable.  The result is a dict
    ready for :func:`maxbounds.report.json.dumps`.
    """
    X = check_data(X)
    activation = activation_name(activation)
    K = _rank(activation, rank)
    a = _slope(activation, slope)
    samples = _positive(samples, "samples", "number of samples")
    seed = _seed(seed)
    widths = [_positive(m, "width", "width") for m in np.atleast_1d(np.asarray(widths, dtype=object)).tolist()]
    if not widths:
        raise MaxboundsValueError("width", "no width given")
    N, d = X.shape
    one_d = d == 1 and activation != "maxout"
    if modes is None:
        modes = ("parameters", "uniform") + (("regions",) if one_d else ())
    modes = tuple(modes)
    for mode in modes:
        if mode not in MODES:
            raise MaxboundsValueError("mode", f"expected one of {', '.join(MODES)}, got {mode!r}")
        if mode == "regions" and not one_d:
            raise MaxboundsValueError("mode", "the 'regions' mode needs one-dimensional data and relu or "
                                              "leaky-relu units")
    distinct = int(np.unique(X[:, 0]).size) if one_d else None
    if exact_regions is None:
        exact_regions = one_d and distinct <= MAX_EXACT_VALUES
    exact_counts = region_counts(X, widths, activation, slope=a) if exact_regions else None
    advance = (lambda count=1: None) if progress is None else progress(len(widths) * len(modes))
    rows = []
    for i, m in enumerate(widths):
        P = parameter_count(m, d, activation, K)
        max_rank = max_pattern_rank(N, d, m, activation, K)
        row = {"width": m, "parameter_count": P, "max_rank": max_rank,
               "minima_dimension": P - N if max_rank == N else None}
        for mode in modes:
            ranks = sample_ranks(X, m, activation, mode, rank=K, slope=a, samples=samples, seed=seed, exact=exact)
            ranks, checked = ranks if exact else (ranks, None)
            if ranks.max() > min(N, P):
                raise AssertionError("a rank exceeds min(N, P)")
            row[mode] = {"full_rank": Proportion(int(np.sum(ranks == N)), samples),
                         "mean_rank": float(ranks.mean()),
                         "rank_counts": np.bincount(ranks, minlength=N + 1).tolist()}
            if exact:
                row[mode]["exact_check"] = {"checked": int(checked.size),
                                            "agree": int(np.sum(checked == ranks[:checked.size]))}
            advance()
        if exact_counts is not None:
            row["exact_regions"] = exact_counts[i]
        rows.append(row)
    if exact_counts is None and one_d:
        note = f"not counted: {distinct} distinct values exceed {MAX_EXACT_VALUES}" if distinct > MAX_EXACT_VALUES \
            else "not asked for"
    else:
        note = None if exact_counts is not None else "counts exist for one-dimensional data with relu / leaky-relu only"
    return {"points": N, "dim": d, "activation": activation, "rank": K if activation == "maxout" else None,
            "slope": a if activation == "leaky-relu" else None, "samples": samples, "seed": seed,
            "modes": list(modes), "tolerance": TOLERANCE_NOTE,
            "parameters_law": "w ~ N(0, I_d/d), b ~ N(0, 1), v ~ N(0, 1), independent",
            "minima_dimension": "P - N where the rank is N (the zero-loss set in a region, where not empty)",
            "exact_regions_note": note, "widths": rows}

