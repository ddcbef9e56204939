r"""Exact length of the image of a segment under explicit random maxout networks, compiled with Numba.

A maxout network is continuous and piecewise linear, so along the segment
:math:`x(t) = a + t(b - a)`, :math:`t\in[0, 1]`, the map
:math:`t\mapsto N(x(t))` is piecewise affine and

.. math::

    \mathrm{len}(N\circ\gamma) = \sum_p \lVert s_p\rVert\,(t_{p+1} - t_p),

with :math:`t_0 = 0 < t_1 < \dots < t_P = 1` its breakpoints and :math:`s_p`
its slope (a vector of :math:`\mathbb R^{n_L}`) on piece ``p``.  No finite
differences and no quadrature: the breakpoints are found exactly, layer by
layer.

Algorithm
---------
Keep a list of pieces of :math:`[0, 1]` on each of which the current layer's
output is affine, :math:`x_l(t) = A_p + t S_p` (start: one piece,
:math:`A = a`, :math:`S = b - a`).  For layer ``l`` and piece
:math:`[t_p, t_{p+1}]` every feature is a line in ``t``,

.. math::

    \zeta_{l,i,k}(t) = \underbrace{W_{l,i,k}\cdot A_p + b_{l,i,k}}_{\alpha_{ik}}
                     + t\,\underbrace{W_{l,i,k}\cdot S_p}_{\beta_{ik}},

and unit ``i`` outputs their upper envelope.  The envelope is walked from
the left: start at the line that is largest at :math:`t_p` (the steeper one
on ties), jump to the first line of larger slope that overtakes it, and so
on; every jump strictly raises the slope, so a unit has at most
:math:`K_l - 1` breakpoints on a piece.  The breakpoints of all units inside
:math:`(t_p, t_{p+1})` are sorted and cut the piece into sub-pieces; on
each sub-piece every unit's active line is the argmax at the sub-piece's
midpoint, whose intercept and slope become the new :math:`A, S` of
:math:`x_l`.  A rank-1 layer (the linear output layer, or a hidden layer
with ``K = 1``) adds no breakpoint.  Cost per network: :math:`O(P_l K_l n_l
n_{l-1})` multiply-adds per layer with :math:`P_l` the current number of
pieces, plus :math:`O(P_l K_l^2 n_l)` for the envelopes.

Random networks
---------------
Network ``s`` of seed ``seed`` is drawn by the one draw of every simulator,
:func:`maxbounds.layers._kernels.draw_network` on the stream ``(seed, s)``
and the plan of ``arch.network()`` (weights :math:`N(0, c_l/n_{l-1})`,
biases :math:`N(0, \beta_l)`; for each unit and piece the weights, then the
bias when :math:`\beta_l > 0`; the output layer has rank 1), so it is the
very network of sample ``s`` of :func:`maxbounds.simulate.explicit_samples`.
The pieces are read from the plan's flat layout (layer ``l``: weights
``[i, k, j]`` from ``ispec[l, I_WOFF]``, biases ``[i, k]`` from
``ispec[l, I_BOFF]``).  Networks run in parallel; results do not depend on
the thread count.

Not covered: curves other than segments (a polyline is a sum of segments
through the *same* network, see :func:`segment_breakpoints`), circles and
other non-linear curves, and convolutional architectures (rejected).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from .._parallel import run_chunks
from .._streams import seed_stream
from .._validate import MaxboundsValueError, as_vector
from ..architecture import Architecture
from ..layers import _kernels as _layer_kernels
from ..layers.draw import draw_flat, draw_parameters
from ..estimators import summarise
from ..layers.serial import I_BOFF, I_NIN, I_RANK, I_WIDTH, I_WOFF
from .chain import check_count, check_first, check_seed

from .._numba_cache import refresh_stale_cache

refresh_stale_cache()  # before any kernel is compiled or loaded: a cache of other sources is removed

__all__ = ["SegmentLengthSamples", "draw_network", "segment_breakpoints", "segment_length_samples"]



# ---------------------------------------------------------------------------
# kernels
# ---------------------------------------------------------------------------
@numba.njit(cache=True, nogil=True)
def _grow(T, A, S, count):
    """Double the capacity of the piece arrays (``count`` rows used)."""
    cap = 2 * A.shape[0]
    T2 = np.empty(cap + 1)
    A2 = np.empty((cap, A.shape[1]))
    S2 = np.empty((cap, S.shape[1]))
    T2[: count + 1] = T[: count + 1]
    A2[:count] = A[:count]
    S2[:count] = S[:count]
    return T2, A2, S2


@numba.njit(cache=True, nogil=True)
def _envelope_cuts(alpha, beta, K, t0, t1, cuts, m):
    """Append to ``cuts[m:]`` the breakpoints in ``(t0, t1)`` of the upper envelope of ``alpha + beta t``."""
    best = 0
    best_v = alpha[0] + beta[0] * t0
    for k in range(1, K):
        v = alpha[k] + beta[k] * t0
        if v > best_v or (v == best_v and beta[k] > beta[best]):
            best, best_v = k, v
    t = t0
    while True:
        nxt = -1
        t_next = t1
        for k in range(K):
            if beta[k] > beta[best]:
                tc = (alpha[best] - alpha[k]) / (beta[k] - beta[best])
                tc = max(tc, t)
                if tc < t_next or (tc == t_next and nxt >= 0 and beta[k] > beta[nxt]):
                    t_next, nxt = tc, k
        if nxt < 0 or t_next >= t1:
            return m
        if t_next > t0:
            cuts[m] = t_next
            m += 1
        best, t = nxt, t_next


@numba.njit(cache=True, nogil=True)
def _layer(T, A, S, P, n_prev, n, K, w, bias):
    """Push the pieces ``(T, A, S)`` (``P`` of them) through one layer; return the new ``(T, A, S, P)``."""
    cap = max(P, 4)
    T2 = np.empty(cap + 1)
    A2 = np.empty((cap, n))
    S2 = np.empty((cap, n))
    alpha = np.empty((n, K))
    beta = np.empty((n, K))
    cuts = np.empty(n * max(K - 1, 1) + 1)
    count = np.int64(0)  # a run-time int: a literal 0 would make Numba compile _grow twice
    T2[0] = T[0]
    for p in range(P):
        for i in range(n):
            for k in range(K):
                base = (i * K + k) * n_prev
                za = bias[i * K + k]
                zs = 0.0
                for j in range(n_prev):
                    za += w[base + j] * A[p, j]
                    zs += w[base + j] * S[p, j]
                alpha[i, k], beta[i, k] = za, zs
        t0, t1 = T[p], T[p + 1]
        m = np.int64(0)
        if K > 1:
            for i in range(n):
                m = _envelope_cuts(alpha[i], beta[i], K, t0, t1, cuts, m)
            cuts[:m].sort()
        cuts[m] = t1
        lo = t0
        for q in range(m + 1):
            hi = cuts[q]
            if hi <= lo:
                continue
            if count == A2.shape[0]:
                T2, A2, S2 = _grow(T2, A2, S2, count)
            mid = 0.5 * (lo + hi)
            for i in range(n):
                best = 0
                best_v = alpha[i, 0] + beta[i, 0] * mid
                for k in range(1, K):
                    v = alpha[i, k] + beta[i, k] * mid
                    if v > best_v:
                        best, best_v = k, v
                A2[count, i] = alpha[i, best]
                S2[count, i] = beta[i, best]
            count += 1
            T2[count] = hi
            lo = hi
    return T2, A2, S2, count


@numba.njit(cache=True, nogil=True)
def _pieces(a, b, widths, ranks, w_off, b_off, weights, biases):
    """Breakpoints ``T`` (``P + 1``), output intercepts and slopes (``P`` rows each) of one network.

    Layer ``l`` reads its weights ``[i, k, j]`` from ``weights[w_off[l]:]`` and its biases ``[i, k]`` from
    ``biases[b_off[l]:]`` (only the start offsets are read): the layout of
    :meth:`maxbounds.regions.Network.flat` or, with ``weights`` and ``biases`` both the flat parameters,
    that of a plan.
    """
    n0 = widths[0]
    T = np.empty(2)
    T[0], T[1] = 0.0, 1.0
    A = np.empty((1, n0))
    S = np.empty((1, n0))
    for j in range(n0):
        A[0, j] = a[j]
        S[0, j] = b[j] - a[j]
    P = np.int64(1)  # run-time, as in _plan_pieces: one compiled _layer
    for layer in range(ranks.shape[0]):
        n_prev, n, K = widths[layer], widths[layer + 1], ranks[layer]
        w = weights[w_off[layer]: w_off[layer] + n * K * n_prev]
        bias = biases[b_off[layer]: b_off[layer] + n * K]
        T, A, S, P = _layer(T, A, S, P, n_prev, n, K, w, bias)
    return T[: P + 1], A[:P], S[:P]


@numba.njit(cache=True, nogil=True)
def _plan_pieces(a, b, ispec, params):
    """:func:`_pieces` of a network given by its plan rows ``ispec`` and flat parameters ``params``."""
    L = ispec.shape[0]
    widths = np.empty(L + 1, dtype=np.int64)
    widths[0] = ispec[0, I_NIN]
    for layer in range(L):
        widths[layer + 1] = ispec[layer, I_WIDTH]
    return _pieces(a, b, widths, ispec[:, I_RANK].copy(), ispec[:, I_WOFF].copy(), ispec[:, I_BOFF].copy(),
                   params, params)


@numba.njit(cache=True, nogil=True)
def _length_kernel(start, stop, a, b, ispec, fspec, n_params, seed, first, length, pieces):
    """Rows ``start..stop-1`` (run with :func:`maxbounds._parallel.run_chunks`): network ``first + s`` of ``seed``."""
    params = np.empty(n_params)
    rng = np.empty(4, dtype=np.uint64)
    for s in range(start, stop):
        seed_stream(rng, seed, np.uint64(first + s))
        _layer_kernels.draw_network(rng, ispec, fspec, params)
        T, _, S = _plan_pieces(a, b, ispec, params)
        total = 0.0
        for p in range(S.shape[0]):
            total += math.sqrt(np.sum(S[p] * S[p])) * (T[p + 1] - T[p])
        length[s] = total
        pieces[s] = S.shape[0]


class CurveLengthSamples:
    """What the segment and circle samples share: ``length``, ``distortion`` and ``pieces`` per network."""

    @property
    def networks(self) -> int:
        return int(self.length.shape[0])

    def mean_distortion(self) -> tuple:
        """The sample mean of the distortion and its standard error."""
        return mean_and_stderr(self.distortion)

    def summary(self, level: float = 0.95) -> dict:
        """Estimates of the curve length, its distortion and the number of pieces (or arcs)."""
        return summarise(self, ("length", "distortion", "pieces"), sample_axis=0, level=level)


# ---------------------------------------------------------------------------
# Python API
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SegmentLengthSamples(CurveLengthSamples):
    r"""Exact curve lengths of one segment through independent random networks.

    Attributes
    ----------
    architecture : Architecture
    a, b : ndarray
        The segment's end points.
    seed : int
    length : ndarray, shape (networks,)
        :math:`\mathrm{len}(N\circ\gamma)` for each network.
    distortion : ndarray, shape (networks,)
        ``length / |b - a|``, the quantity bounded by
        :func:`maxbounds.laws.gradients.length_bounds`.
    pieces : ndarray of int, shape (networks,)
        The number of pieces of the segment on which every unit keeps one
        active feature (the linear pieces of :math:`N\circ\gamma`; two
        neighbours with the same output slope, an event of probability 0,
        would be counted twice).
    """

    architecture: Architecture
    a: np.ndarray
    b: np.ndarray
    seed: int
    length: np.ndarray
    distortion: np.ndarray
    pieces: np.ndarray



def mean_and_stderr(values) -> tuple:
    """``(mean, standard error)`` of samples; the error is NaN for a single sample."""
    d = np.asarray(values, dtype=float)
    se = float(d.std(ddof=1) / math.sqrt(d.size)) if d.size > 1 else math.nan
    return float(d.mean()), se


def _check_arch(arch, what):
    if not isinstance(arch, Architecture):
        raise MaxboundsValueError("arch", f"expected an Architecture, got {type(arch).__name__}")
    arch.require_fully_connected(what)


_check_seed = check_seed  # the seeds and network indices of every sampler are checked alike


def _check_segment(arch, a, b):
    a = as_vector(a, "a", arch.n_in)
    b = as_vector(b, "b", arch.n_in)
    if np.array_equal(a, b):
        raise MaxboundsValueError("b", "the segment's end points a and b must differ")
    return np.ascontiguousarray(a, dtype=float), np.ascontiguousarray(b, dtype=float)


def segment_length_samples(arch, a, b, networks, seed, *, first_sample=0) -> SegmentLengthSamples:
    r"""Exact :math:`\mathrm{len}(N\circ\gamma)` of the segment :math:`\gamma` from ``a`` to ``b``.

    Parameters
    ----------
    arch : Architecture
        Fully connected.
    a, b : array_like, shape (n_0,)
        End points of the segment, finite and different.
    networks : int
        Number of independent random networks (``>= 1``).
    seed : int
        ``0 <= seed < 2**64``; network ``s`` is the network of sample ``s``
        of :func:`maxbounds.simulate.explicit_samples` with the same seed.

    Returns
    -------
    SegmentLengthSamples
    """
    _check_arch(arch, "the exact segment length")
    a, b = _check_segment(arch, a, b)
    networks = check_count(networks, "networks")
    seed = _check_seed(seed)
    plan = arch.network().plan()
    length = np.empty(int(networks))
    pieces = np.empty(int(networks), dtype=np.int64)
    run_chunks(_length_kernel, int(networks), a, b, plan.ispec, plan.fspec, plan.n_params, np.uint64(seed),
               check_first(first_sample, int(networks)), length, pieces)
    chord = math.sqrt(float((b - a) @ (b - a)))
    return SegmentLengthSamples(arch, a, b, seed, length, length / chord, pieces)


def draw_network(arch, seed, index=0) -> list:
    r"""The weights and biases of network ``index`` of ``seed``: a list of ``(W, bias)`` per layer.

    ``W`` has shape ``(n_l, K_l, n_{l-1})`` and ``bias`` ``(n_l, K_l)``
    (``K_L = 1`` for the output layer), so that
    :math:`\zeta_{l,i,k} = W[i, k]\cdot x_{l-1} + \mathrm{bias}[i, k]`: the maxout network of ``arch``
    as :func:`maxbounds.layers.draw.draw_parameters` returns it.  For checks and plain NumPy forward
    passes.
    """
    _check_arch(arch, "draw_network")
    return draw_parameters(arch.network(), seed, index)


def segment_breakpoints(arch, a, b, seed, index=0) -> tuple:
    r"""The pieces of the segment through network ``index`` of ``seed``.

    Returns ``(t, intercept, slope)``: the breakpoints
    :math:`0 = t_0 < \dots < t_P = 1` (shape ``(P + 1,)``) and, for each
    piece ``p``, :math:`N(x(t)) = \mathrm{intercept}_p + t\,\mathrm{slope}_p`
    (shapes ``(P, n_L)``).
    """
    _check_arch(arch, "segment_breakpoints")
    a, b = _check_segment(arch, a, b)
    net = arch.network()
    params = draw_flat(net, seed, index)
    T, A, S = _plan_pieces(a, b, net.plan().ispec, params)
    return T.copy(), A.copy(), S.copy()
