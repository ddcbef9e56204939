r"""Two initialisations of maxout layers that raise the number of linear regions (Tseran & Montúfar 2021).

Both are layer initialisers of the maxout kind: they take a maxout layer
(:class:`~maxbounds.layers.MaxoutDense`, or a :class:`~maxbounds.layers.MaxoutConv2d`,
whose pieces act on patches of ``n = fan_in`` entries) and a NumPy ``Generator``,
and return its weights and biases in the layer's shape (dense ``(m, K, n)`` and
``(m, K)``).  Any other kind raises :class:`~maxbounds.layers.NoLawError` naming it.
The layer's own bias variance is not used: each construction sets the biases.
``sd`` below is the layer's weight standard deviation
:math:`\sqrt{c/\mathrm{fan\_in}}`.

``sphere`` (:func:`sphere_parameters`)
    Each piece draws :math:`(w, b') \sim N(0, \mathrm{sd}^2 I_{n+1})`, is normalised
    jointly to the unit sphere of :math:`\mathbb R^{n+1}`, and takes the bias
    :math:`b = |b'| - 1/\sqrt{Kn}`.  Hence :math:`\lVert w\rVert^2 + (b + 1/\sqrt{Kn})^2 = 1`
    and :math:`b \ge -1/\sqrt{Kn}`: the hyperplane :math:`w\cdot x + b = 0` lies at the
    distance :math:`|b|/\lVert w\rVert` from the origin, where :math:`|b| \le \max(|b'|,
    1/\sqrt{Kn})` is controlled and typically of order :math:`1/\sqrt n` (the direction
    :math:`(w, b')/\lVert(w,b')\rVert` is uniform, so :math:`b'^2 \sim \mathrm{Beta}(1/2, n/2)`
    with mean :math:`1/(n+1)`), while :math:`\lVert w\rVert \approx 1`: every piece's
    hyperplane passes near the origin.
``many-regions`` (:func:`many_regions_parameters`)
    Per unit one direction :math:`v \sim N(0, \mathrm{sd}^2 I_n)`; piece
    :math:`k = 1..K` is :math:`w_k = v\cos\theta_k`, :math:`b_k = \sin\theta_k` with
    :math:`\theta_k = \pi k/K + 0.01\,N(0,1)`.  Along the line :math:`x = t\,v/\lVert v\rVert`
    the unit is :math:`\max_k (s\cos\theta_k + \sin\theta_k)`, :math:`s = t\lVert v\rVert`: the
    support function of the points :math:`(\cos\theta_k, \sin\theta_k)` of the unit circle in
    the direction :math:`(s, 1)`.  Every point of a circle is an extreme point of the points'
    hull, and the directions :math:`(s, 1)`, :math:`s \in \mathbb R`, sweep the open upper
    half-plane, which meets the normal cone of every point (their angles lie near
    :math:`(0, \pi]`): all :math:`K` pieces appear, in the order of their angles, with the
    :math:`K - 1` breakpoints :math:`s_k = \cot((\theta_k + \theta_{k+1})/2)` (almost surely:
    the angles are distinct and stay ordered while the noise is below half the spacing
    :math:`\pi/K`).  Off that line the breakpoints are the :math:`K - 1` parallel hyperplanes
    :math:`v\cdot x = s_k`.

:data:`CONSTRUCTIONS` maps the names to the functions.  Same ``Generator`` state, same
parameters; each function draws its normals in the documented order (sphere: the weights in C
order of ``(m, K, n)``, then the ``(m, K)`` values :math:`b'`; many-regions: the ``(m, n)``
directions, then the ``(m, K)`` angle noises).  See ``docs/constructions.md``.
"""

from __future__ import annotations

import math

import numpy as np

from .._validate import MaxboundsValueError
from .base import NoLawError

__all__ = ["CONSTRUCTIONS", "many_regions_parameters", "sphere_parameters"]

_MAXOUT_KINDS = ("maxout", "maxout_conv")

#: Standard deviation of the angle noise of the many-regions construction.
ANGLE_NOISE = 0.01


def _check(layer, name, rng):
    from .base import Layer

    if not isinstance(layer, Layer):
        raise MaxboundsValueError("layer", f"expected a maxbounds layer, got {type(layer).__name__}")
    if layer.kind not in _MAXOUT_KINDS:
        raise NoLawError(layer, f"the initialisation {name!r}", "it is a construction for maxout units")
    if not isinstance(rng, np.random.Generator):
        raise MaxboundsValueError("rng", f"expected a numpy.random.Generator, got {type(rng).__name__}")
    shape = layer.weight_shape()
    return shape, (shape[0], shape[1], layer.fan_in)


def sphere_parameters(layer, rng):
    r"""``(W, b)`` of the sphere initialisation: :math:`(w, b')` per piece on the unit sphere, :math:`b = |b'| - 1/\sqrt{Kn}`.

    ``W`` has the layer's weight shape (``(m, K, n)`` for a dense layer), ``b`` the shape ``(m, K)``;
    :math:`\lVert w\rVert^2 + (b + 1/\sqrt{Kn})^2 = 1` for every piece.
    """
    shape, (m, K, n) = _check(layer, "sphere", rng)
    sd = layer.weight_sd
    w = rng.standard_normal((m, K, n)) * sd
    b_prime = rng.standard_normal((m, K)) * sd
    norm = np.sqrt((w * w).sum(axis=-1) + b_prime * b_prime)
    w = w / norm[..., None]
    b = np.abs(b_prime / norm) - 1.0 / math.sqrt(K * n)
    return w.reshape(shape), b


def many_regions_parameters(layer, rng):
    r"""``(W, b)`` of the many-regions initialisation: :math:`w_k = v\cos\theta_k`, :math:`b_k = \sin\theta_k`.

    One direction :math:`v \sim N(0, \mathrm{sd}^2 I_n)` per unit and
    :math:`\theta_k = \pi k/K + 0.01\,N(0, 1)`, ``k = 1..K``: along :math:`v` each unit has all ``K``
    pieces (``K - 1`` breakpoints).  Shapes as :func:`sphere_parameters`.
    """
    shape, (m, K, n) = _check(layer, "many-regions", rng)
    v = rng.standard_normal((m, n)) * layer.weight_sd
    theta = math.pi * np.arange(1, K + 1) / K + ANGLE_NOISE * rng.standard_normal((m, K))
    W = v[:, None, :] * np.cos(theta)[..., None]
    return W.reshape(shape), np.sin(theta)


#: The constructions by name.
CONSTRUCTIONS = {"sphere": sphere_parameters, "many-regions": many_regions_parameters}
