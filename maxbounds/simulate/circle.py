r"""Exact length of the image of a circle under explicit random maxout networks.

The circle is :math:`\gamma(\theta) = c + r(\cos\theta\,e + \sin\theta\,f)`,
:math:`\theta\in[0, 2\pi)`, with ``e`` and ``f`` orthonormal (they are
orthonormalised by Gram-Schmidt on input, see :func:`circle_length_samples`).
On a set of angles where every unit keeps its active feature, every layer's
output is a *trigonometric* affine map,

.. math::

    x_l(\theta) = A + B\cos\theta + C\sin\theta,

so every pre-activation feature is a sinusoid
:math:`\zeta(\theta) = \alpha + \beta\cos\theta + \gamma\sin\theta` and a unit
outputs the upper envelope of ``K`` sinusoids.  Two sinusoids cross where
:math:`a\cos\theta + b\sin\theta = d`, i.e. at
:math:`\theta = \operatorname{atan2}(b, a) \pm \arccos(d/\sqrt{a^2+b^2})`
(at most two angles per pair and period).

Algorithm (per network, vectorised over arcs, units and feature pairs):

1. start from one arc :math:`[0, 2\pi]` with :math:`A = c`, :math:`B = re`,
   :math:`C = rf`;
2. for each layer, compute all features' coefficients on every arc, all
   pairwise crossings of the features of every unit that fall strictly
   inside the arc, and cut the arc there (a superset of the envelope's
   breakpoints);
3. on each sub-arc take every unit's argmax at the sub-arc's midpoint; the
   selected coefficients are the next layer's :math:`(A, B, C)`; merge
   neighbouring sub-arcs of one parent arc with the same argmax pattern
   (the surplus cuts were crossings of non-maximal features);
4. at the linear output, :math:`N(\gamma(\theta)) = A + B\cos\theta +
   C\sin\theta` on each arc and

   .. math::

       \lVert \tfrac{d}{d\theta} N(\gamma(\theta))\rVert^2
       = a + \rho\cos(2(\theta - \psi))
       = (a + \rho)\,(1 - m\sin^2(\theta - \psi)),

   with :math:`a = (\lVert B\rVert^2 + \lVert C\rVert^2)/2`,
   :math:`\rho\cos 2\psi = (\lVert C\rVert^2 - \lVert B\rVert^2)/2`,
   :math:`\rho\sin 2\psi = -B\cdot C`, :math:`m = 2\rho/(a + \rho)\in[0, 1]`,
   so the length of the arc :math:`[\theta_0, \theta_1]` is, in closed form,
   :math:`\sqrt{a+\rho}\,[E(\theta_1 - \psi\mid m) - E(\theta_0 - \psi\mid m)]`
   with :math:`E(\cdot\mid m)` the incomplete elliptic integral of the second
   kind (:func:`scipy.special.ellipeinc`).  No quadrature and no grid.

Network ``s`` is :func:`maxbounds.layers.draw.draw_parameters` ``(arch.network(),
seed, s)`` (the one Numba draw of every simulator): the same network as sample ``s`` of
:func:`maxbounds.simulate.length.segment_length_samples` and
:func:`maxbounds.simulate.explicit_samples` with that seed.  Plain NumPy,
one network at a time (about a millisecond per small network).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import ellipeinc

from .._validate import MaxboundsValueError, as_real_array, as_vector
from ..architecture import Architecture
from ..layers.draw import draw_parameters
from .chain import check_count, check_first
from .length import CurveLengthSamples, _check_arch, _check_seed

__all__ = ["CircleLengthSamples", "circle_breakpoints", "circle_length_samples"]

TWO_PI = 2.0 * math.pi


@dataclass(frozen=True)
class CircleLengthSamples(CurveLengthSamples):
    r"""Exact curve lengths of one circle through independent random networks.

    Attributes
    ----------
    architecture : Architecture
    centre : ndarray
    radius : float
    e, f : ndarray
        The orthonormalised plane vectors actually used.
    seed : int
    length : ndarray, shape (networks,)
        :math:`\mathrm{len}(N\circ\gamma)` for each network.
    distortion : ndarray, shape (networks,)
        ``length / (2 pi radius)``, the quantity bounded by
        :func:`maxbounds.laws.gradients.length_bounds`.
    pieces : ndarray of int, shape (networks,)
        The number of arcs of the (closed) circle on which every unit keeps
        one active feature; an arc through :math:`\theta = 0` counts once.
    """

    architecture: Architecture
    centre: np.ndarray
    radius: float
    e: np.ndarray
    f: np.ndarray
    seed: int
    length: np.ndarray
    distortion: np.ndarray
    pieces: np.ndarray



# ---------------------------------------------------------------------------
# core
# ---------------------------------------------------------------------------
def _pairs(K):
    p, q = np.triu_indices(K, 1)
    return p, q


def _layer(T, X, W, bias, wrap):
    """Push arcs through one layer.

    ``T``: (P + 1,) arc ends; ``X``: (P, n_prev, 3) coefficients (A, B, C).
    Returns the new ``(T, X, wrap)`` where ``wrap`` says whether the first
    and last arcs still share the whole activation pattern.
    """
    K = W.shape[1]
    Z = np.einsum("ikj,pjc->pikc", W, X)  # (P, n, K, 3)
    Z[..., 0] += bias
    if K == 1:
        return T, Z[:, :, 0, :], wrap
    P = X.shape[0]
    t0, t1 = T[:-1], T[1:]
    p, q = _pairs(K)
    D = Z[:, :, p, :] - Z[:, :, q, :]  # (P, n, npairs, 3): d + a cos + b sin
    a, b, d = D[..., 1], D[..., 2], -D[..., 0]
    R = np.hypot(a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = d / R
        ok = (R > 0) & (np.abs(ratio) <= 1.0)
        phi = np.arctan2(b, a)
        delta = np.arccos(np.clip(ratio, -1.0, 1.0))
    roots = np.stack([phi + delta, phi - delta], axis=-1) % TWO_PI  # (P, n, npairs, 2)
    roots = np.where(ok[..., None], roots, np.nan).reshape(P, -1)
    inside = (roots > t0[:, None]) & (roots < t1[:, None])
    roots = np.where(inside, roots, np.nan)
    cuts = np.sort(np.concatenate([t0[:, None], roots, t1[:, None]], axis=1), axis=1)  # NaN last
    # t1 sits before the NaNs only if it is the largest finite value: it is (roots < t1)
    lo, hi = cuts[:, :-1], cuts[:, 1:]
    valid = np.isfinite(hi) & (hi > lo)
    parent = np.broadcast_to(np.arange(P)[:, None], lo.shape)[valid]
    lo, hi = lo[valid], hi[valid]
    mid = 0.5 * (lo + hi)
    Zs = Z[parent]  # (S, n, K, 3)
    vals = Zs[..., 0] + Zs[..., 1] * np.cos(mid)[:, None, None] + Zs[..., 2] * np.sin(mid)[:, None, None]
    k = vals.argmax(axis=2)  # (S, n)
    # merge neighbours of the same parent with the same pattern
    same = (parent[1:] == parent[:-1]) & np.all(k[1:] == k[:-1], axis=1)
    keep = np.concatenate([[True], ~same])
    wrap = wrap and bool(np.array_equal(k[0], k[-1]))
    starts = lo[keep]
    T2 = np.concatenate([starts, [T[-1]]])
    sel = np.take_along_axis(Zs[keep], k[keep][:, :, None, None], axis=2)[:, :, 0, :]
    return T2, sel, wrap


def _arcs(layers, centre, radius, e, f):
    """Arc ends ``T`` (P + 1,) and output coefficients ``X`` (P, n_L, 3) of one network."""
    T = np.array([0.0, TWO_PI])
    X = np.stack([centre, radius * e, radius * f], axis=-1)[None]  # (1, n0, 3)
    wrap = True
    for W, bias in layers:
        T, X, wrap = _layer(T, X, W, bias, wrap)
    return T, X, wrap


def _arc_lengths(T, X):
    """Exact length of ``theta -> A + B cos + C sin`` over each arc ``[T[p], T[p+1]]``."""
    B, C = X[..., 1], X[..., 2]
    bb = np.einsum("pi,pi->p", B, B)
    cc = np.einsum("pi,pi->p", C, C)
    bc = np.einsum("pi,pi->p", B, C)
    a = 0.5 * (bb + cc)
    x, y = 0.5 * (cc - bb), -bc
    rho = np.hypot(x, y)
    psi = 0.5 * np.arctan2(y, x)
    top = a + rho
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.where(top > 0, np.clip(2.0 * rho / top, 0.0, 1.0), 0.0)
    scale = np.sqrt(top)
    return scale * (ellipeinc(T[1:] - psi, m) - ellipeinc(T[:-1] - psi, m))


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------
def _check_circle(arch, centre, radius, e, f):
    n0 = arch.n_in
    centre = as_vector(centre, "centre", n0).astype(float)
    r = as_real_array(radius, "radius")
    if r.ndim != 0:
        raise MaxboundsValueError("radius", f"need one number, got shape {r.shape}")
    r = float(r)
    if not r > 0.0:
        raise MaxboundsValueError("radius", f"must be > 0, got {r!r}")
    e = as_vector(e, "e", n0).astype(float)
    f = as_vector(f, "f", n0).astype(float)
    if n0 < 2:
        raise MaxboundsValueError("e", "a circle needs an input width n_0 >= 2")
    ne = float(np.linalg.norm(e))
    if not ne > 0.0:
        raise MaxboundsValueError("e", "must be non-zero")
    if not float(np.linalg.norm(f)) > 0.0:
        raise MaxboundsValueError("f", "must be non-zero")
    e = e / ne
    f = f / float(np.linalg.norm(f))
    g = f - (e @ f) * e
    ng = float(np.linalg.norm(g))
    if not ng > 1e-12:
        raise MaxboundsValueError("f", "must not be parallel to e")
    return centre, r, e, g / ng


# ---------------------------------------------------------------------------
# Python API
# ---------------------------------------------------------------------------
def circle_length_samples(arch, centre, radius, e, f, networks, seed, *, first_sample=0) -> CircleLengthSamples:
    r"""Exact :math:`\mathrm{len}(N\circ\gamma)` for the circle :math:`c + r(\cos\theta\,e + \sin\theta\,f)`.

    Parameters
    ----------
    arch : Architecture
        Fully connected, with ``n_0 >= 2``.
    centre : array_like, shape (n_0,)
    radius : float
        ``> 0``.
    e, f : array_like, shape (n_0,)
        Non-zero, not parallel.  They are orthonormalised by Gram-Schmidt
        (``e`` normalised, then ``f`` made orthogonal to ``e`` and
        normalised), so the circle lies in their span and has length
        :math:`2\pi r` whatever their norms and angle.
    networks : int
        Number of independent random networks (``>= 1``).
    seed : int
        ``0 <= seed < 2**64``; network ``s`` is
        ``draw_parameters(arch.network(), seed, s)``.

    Returns
    -------
    CircleLengthSamples
    """
    _check_arch(arch, "the exact circle length")
    centre, r, e, f = _check_circle(arch, centre, radius, e, f)
    networks = check_count(networks, "networks")
    seed = _check_seed(seed)
    networks = int(networks)
    length = np.empty(networks)
    pieces = np.empty(networks, dtype=np.int64)
    first = check_first(first_sample, int(networks))
    net = arch.network()
    for s in range(networks):
        T, X, wrap = _arcs(draw_parameters(net, seed, first + s), centre, r, e, f)
        length[s] = float(np.sum(_arc_lengths(T, X)))
        P = X.shape[0]
        pieces[s] = P - 1 if (wrap and P > 1) else P
    return CircleLengthSamples(arch, centre, r, e, f, seed, length, length / (TWO_PI * r), pieces)


def circle_breakpoints(arch, centre, radius, e, f, seed, index=0) -> tuple:
    r"""The arcs of the circle through network ``index`` of ``seed``.

    Returns ``(theta, A, B, C)``: arc ends :math:`0 = \theta_0 < \dots <
    \theta_P = 2\pi` (shape ``(P + 1,)``) and, for each arc ``p``,
    :math:`N(\gamma(\theta)) = A_p + B_p\cos\theta + C_p\sin\theta` (shapes
    ``(P, n_L)``).  The first and last arcs are listed separately even when
    they join across :math:`\theta = 0`.  ``e`` and ``f`` are orthonormalised
    as in :func:`circle_length_samples`.
    """
    _check_arch(arch, "circle_breakpoints")
    centre, r, e, f = _check_circle(arch, centre, radius, e, f)
    seed = _check_seed(seed)
    index = _check_seed(index, "index")
    T, X, _ = _arcs(draw_parameters(arch.network(), seed, index), centre, r, e, f)
    return T, X[..., 0].copy(), X[..., 1].copy(), X[..., 2].copy()


def arc_lengths(theta, B, C) -> np.ndarray:
    r"""Exact length of :math:`\theta\mapsto A + B_p\cos\theta + C_p\sin\theta` on each arc (elliptic closed form)."""
    X = np.stack([np.zeros_like(B), B, C], axis=-1)
    return _arc_lengths(np.asarray(theta, dtype=float), X)
