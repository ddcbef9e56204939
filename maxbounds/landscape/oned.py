r"""One-dimensional data: the realisable activation regions of parameter space, counted exactly.

Let the data be :math:`x_1, \dots, x_N \in \mathbb R` with :math:`u` distinct values
:math:`c_1 < \dots < c_u`.  The pattern of one ReLU (or leaky ReLU) unit,
:math:`A_{ij} = 1[w_j x_i + b_j > 0]`, depends on :math:`(w_j, b_j) \in \mathbb R^2` through
the :math:`u` lines :math:`w c_t + b = 0`, which pass through the origin and are
distinct; they cut the plane into :math:`2u` open sectors, and the units of one
sector share a pattern.  The patterns are the suffixes ``rank(x_i) >= t``
(:math:`w > 0`, :math:`t = 0..u`: all points active down to none) and the prefixes
``rank(x_i) < t`` (:math:`w < 0`, :math:`t = 1..u-1`), :math:`2u` in all
(:func:`unit_patterns`).  The output weights :math:`v` do not enter the pattern, so
the activation regions of the network are the products of one sector per unit:
exactly :math:`(2u)^m` of them, every one realisable and open.

**Which contain full-rank points.** The rank on a region is the rank of its
pattern matrix (:mod:`.network`, every :math:`v_j \ne 0`), whose column span is the
span of the blocks :math:`\mathrm{diag}(D_{:,j})[x, 1]` of its units; two units with the
same pattern have the same block.  So the rank depends only on the *set*
:math:`S` of distinct unit patterns used, and the number of regions (``m``-tuples
of patterns) using exactly the set :math:`S` is the number of surjections
:math:`\mathrm{surj}(m, |S|) = \sum_i (-1)^i \binom{|S|}{i} (|S| - i)^m`.
:func:`region_counts` computes the rank of every one of the :math:`2^{2u}` sets
once and returns, for each width, the exact integers

.. math:: \#\{\text{regions of rank } N\} = \sum_{S:\ \mathrm{rank}(S) = N} \mathrm{surj}(m, |S|)

and :math:`(2u)^m`.  What this counts: regions on which the Jacobian has rank
:math:`N` at every parameter with all :math:`v_j \ne 0`, i.e. regions with no bad
differentiable critical point whose zero-loss set, for a target in their
(open) image, is a manifold of dimension :math:`P - N` (see
:mod:`.rank`).  It does not count the regions whose image contains one given
target.  The ranks are numerical (SVD, default tolerance) unless
``exact=True`` (rational elimination, slow); the tests check that both agree.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from .._validate import MaxboundsValueError
from .network import activation_name, check_data, pattern_matrix
from .rank import batch_ranks, exact_pattern_matrix, exact_rank

__all__ = ["MAX_EXACT_VALUES", "region_counts", "set_ranks", "surjections", "unit_patterns"]

#: Most distinct data values :func:`region_counts` accepts by default (2^(2u) sets of unit patterns).
MAX_EXACT_VALUES = 8


def _one_dimensional(x, argument="x") -> np.ndarray:
    X = check_data(x, argument)
    if X.shape[1] != 1:
        raise MaxboundsValueError(argument, f"exact region counts need one-dimensional data, got points in "
                                            f"R^{X.shape[1]}")
    return X[:, 0]


def _family(activation: str) -> str:
    activation = activation_name(activation)
    if activation == "maxout":
        raise MaxboundsValueError("activation", "exact 1-D region counts are for relu and leaky-relu units")
    return activation


def unit_patterns(x) -> np.ndarray:
    """The ``2u`` realisable patterns of one unit on the points ``x`` (shape ``(2u, N)``, 0/1; ``u`` distinct values).

    Rows: the suffixes ``t = 0..u`` (``t = 0``: every point active, ``t = u``: none),
    then the prefixes ``t = 1..u-1``.
    """
    x = _one_dimensional(x)
    values = np.unique(x)
    position = np.searchsorted(values, x)  # rank of each point among the distinct values
    u = values.size
    suffix = [(position >= t).astype(np.int64) for t in range(u + 1)]
    prefix = [(position < t).astype(np.int64) for t in range(1, u)]
    return np.array(suffix + prefix)


def surjections(m: int, k: int) -> int:
    """The number of maps from ``m`` units onto ``k`` patterns, exactly."""
    return sum((-1) ** i * math.comb(k, i) * (k - i) ** m for i in range(k + 1))


def set_ranks(x, activation: str = "relu", *, slope: float = 0.01, exact: bool = False,
              max_values: int = MAX_EXACT_VALUES) -> tuple:
    """``(sizes, ranks)``: for each of the ``2^(2u)`` sets of unit patterns (bitmask order), its size and rank.

    The rank of a set is the rank of the matrix of its units' blocks.
    """
    activation = _family(activation)
    x = _one_dimensional(x)
    patterns = unit_patterns(x)
    T = patterns.shape[0]
    if T // 2 > max_values:
        raise MaxboundsValueError("points", f"exact counts enumerate 2^(2u) sets of unit patterns; {T // 2} "
                                            f"distinct values exceed the limit of {max_values}")
    X = x[:, None]
    blocks = pattern_matrix(patterns.T, X, activation, slope=slope)  # (N, T * 2): block t is columns 2t, 2t + 1
    sizes = np.array([s.bit_count() for s in range(1 << T)], dtype=np.int64)
    ranks = np.zeros(1 << T, dtype=np.int64)
    for k in range(1, T + 1):
        combos = np.array(list(itertools.combinations(range(T), k)), dtype=np.int64)
        masks = (1 << combos).sum(axis=1)
        cols = (2 * combos[:, :, None] + np.arange(2)).reshape(len(combos), -1)
        if exact:
            ranks[masks] = [exact_rank(exact_pattern_matrix(patterns[list(c)].T, X, activation, slope=slope))
                            for c in combos]
            continue
        for lo in range(0, len(combos), 4096):
            ranks[masks[lo:lo + 4096]] = batch_ranks(blocks[:, cols[lo:lo + 4096]].transpose(1, 0, 2))
    return sizes, ranks


def region_counts(x, widths, activation: str = "relu", *, slope: float = 0.01, exact: bool = False,
                  max_values: int = MAX_EXACT_VALUES) -> list:
    """For each width ``m``: the exact number of activation regions and of those with Jacobian rank ``N``.

    Returns a list of dicts ``{"width", "regions", "full_rank_regions", "fraction", "rank_counts"}``
    (``rank_counts[r]``: regions of rank ``r``; integers are exact).  See the module docstring.
    """
    activation = _family(activation)
    x = _one_dimensional(x)
    widths = [int(m) for m in widths]
    if any(m < 1 for m in widths):
        raise MaxboundsValueError("widths", "every width must be >= 1")
    sizes, ranks = set_ranks(x, activation, slope=slope, exact=exact, max_values=max_values)
    T = int(sizes.max())
    N = x.size
    # sets by (size, rank): the counts that multiply surj(m, size)
    table = np.zeros((T + 1, N + 1), dtype=np.int64)
    np.add.at(table, (sizes, ranks), 1)
    out = []
    for m in widths:
        surj = [surjections(m, k) if k <= m else 0 for k in range(T + 1)]
        by_rank = [sum(int(table[k, r]) * surj[k] for k in range(T + 1)) for r in range(N + 1)]
        total = T ** m
        if sum(by_rank) != total:  # the surjection identity: every m-tuple uses exactly one set
            raise AssertionError("region count identity failed")
        out.append({"width": m, "points": N, "distinct_values": T // 2, "regions": total,
                    "full_rank_regions": by_rank[N], "fraction": by_rank[N] / total, "rank_counts": by_rank})
    return out
