r"""Exact activation regions along a segment: every breakpoint, every piece with its pattern.

Along :math:`x(t) = a + t(b - a)`, :math:`t \in [0, 1]`, the breakpoints are
found layer by layer by walking each unit's upper envelope of lines
(:mod:`maxbounds.simulate.length`, the kernel of the exact curve length).
A piece is an interval of constant activation pattern; since every
activation region is convex, a line meets it in one interval, so the pieces
are exactly the regions the segment crosses.  The breakpoint density is
:math:`(P - 1)/\lVert b - a\rVert` for ``P`` pieces.  The decision boundary
along the segment is the set of zeros of :math:`N` (one output) or
:math:`N_1 - N_2` (two outputs), at most one per piece.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._validate import MaxboundsValueError
from ..architecture import Architecture
from ..simulate.length import _check_segment, _pieces, mean_and_stderr, segment_length_samples
from .network import MAX_COORDINATE, Network, check_network, check_size

__all__ = ["LineRegions", "LineCounts", "line_regions", "line_region_samples"]


@dataclass(frozen=True)
class LineRegions:
    """The pieces of one network along the segment from ``a`` to ``b``.

    ``t`` (shape ``(P + 1,)``) are the breakpoints in ``[0, 1]``;
    ``patterns[p]`` is the activation pattern on piece ``p``;
    ``intercept[p] + t * slope[p]`` is the output there; ``boundary`` are
    the parameters ``t`` where the decision function vanishes.
    """

    a: np.ndarray
    b: np.ndarray
    t: np.ndarray = field(repr=False)
    patterns: np.ndarray = field(repr=False)
    intercept: np.ndarray = field(repr=False)
    slope: np.ndarray = field(repr=False)
    boundary: np.ndarray = field(repr=False)

    @property
    def pieces(self) -> int:
        return int(self.t.size - 1)

    @property
    def length(self) -> float:
        return float(math.sqrt((self.b - self.a) @ (self.b - self.a)))

    @property
    def density(self) -> float:
        """Breakpoints per unit length, :math:`(P - 1)/\\lVert b - a\\rVert`."""
        return (self.pieces - 1) / self.length

    @property
    def points(self) -> np.ndarray:
        """The breakpoints as input points, shape ``(P + 1, n_0)``."""
        return self.a + self.t[:, None] * (self.b - self.a)


def _decision_zeros(t, intercept, slope):
    if intercept.shape[1] == 2:
        alpha, beta = intercept[:, 0] - intercept[:, 1], slope[:, 0] - slope[:, 1]
    elif intercept.shape[1] == 1:
        alpha, beta = intercept[:, 0], slope[:, 0]
    else:
        return np.empty(0)
    zeros = []
    for p in range(alpha.size):
        if beta[p] != 0.0:
            z = -alpha[p] / beta[p]
            if t[p] < z <= t[p + 1] or (p == 0 and z == t[0]):
                zeros.append(z)
    return np.asarray(zeros, dtype=float)


def line_regions(net: Network, a, b) -> LineRegions:
    """Every activation region of ``net`` crossed by the segment from ``a`` to ``b``."""
    net = check_network(net)
    check_size(net, "line")
    a, b = _check_segment(net, a, b)
    for end, name in ((a, "a"), (b, "b")):
        if np.max(np.abs(end)) > MAX_COORDINATE:
            raise MaxboundsValueError(name, f"coordinates beyond {MAX_COORDINATE:g} in absolute value overflow")
    widths, ranks, w_off, b_off, weights, biases = net.flat()
    t, intercept, slope = (x.copy() for x in _pieces(a, b, widths, ranks, w_off, b_off, weights, biases))
    mid = 0.5 * (t[:-1] + t[1:])
    patterns = net.patterns(a + mid[:, None] * (b - a))
    return LineRegions(a, b, t, patterns, intercept, slope, _decision_zeros(t, intercept, slope))


@dataclass(frozen=True)
class LineCounts:
    """Pieces along one segment for independent random networks."""

    arch: Architecture
    a: np.ndarray
    b: np.ndarray
    seed: int
    pieces: np.ndarray

    @property
    def length(self) -> float:
        return float(math.sqrt((self.b - self.a) @ (self.b - self.a)))

    def mean_pieces(self) -> tuple:
        """``(mean, standard error)`` of the number of pieces."""
        return mean_and_stderr(self.pieces)

    def mean_density(self) -> tuple:
        """``(mean, standard error)`` of the breakpoints per unit length."""
        return mean_and_stderr((self.pieces - 1) / self.length)


def line_region_samples(arch: Architecture, a, b, networks: int = 1, seed: int = 0, *,
                        first_sample: int = 0) -> LineCounts:
    """Pieces of networks ``first_sample ..`` of ``seed`` along the segment from ``a`` to ``b`` (in parallel)."""
    if not isinstance(arch, Architecture):
        raise MaxboundsValueError("arch", f"expected an Architecture, got {type(arch).__name__}")
    run = segment_length_samples(arch, a, b, networks, seed, first_sample=first_sample)
    return LineCounts(arch, run.a, run.b, run.seed, np.asarray(run.pieces))
