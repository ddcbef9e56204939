r"""Exact laws of a random maxout network at a fixed input (docs/exact_laws.md).

Fix an input :math:`x_0 = x \in \mathbb{R}^{n_0}` and a unit direction
:math:`u_0 = u`.  At layer :math:`l` write :math:`n = n_{l-1}`, :math:`c = c_l`,
:math:`\beta = \beta_l` and, for the vector :math:`v = u_{l-1}` carried by the
Jacobian,

.. math::

    q = \tfrac{c}{n}\lVert x_{l-1}\rVert^2 + \beta, \qquad
    s^2 = \tfrac{c}{n}\lVert v\rVert^2, \qquad
    \rho = \frac{\tfrac{c}{n}\langle x_{l-1}, v\rangle}{\sqrt{q}\, s}.

Given the layers below, the :math:`K` pairs
:math:`(\zeta_{l,i,k}, W_{l,i,k}\cdot v)` are i.i.d. bivariate normal with
variances :math:`q, s^2` and correlation :math:`\rho`, so, in distribution,

.. math::

    x_{l,i} = \sqrt{q}\,\Xi_{l,i}, \qquad
    (J_l v)_i = s\big(\rho\,\Xi_{l,i} + \sqrt{1-\rho^2}\,h_{l,i}\big),

with :math:`\Xi_{l,i}` the largest of :math:`K_l` standard normals and
:math:`h_{l,i}` standard normal, all independent of each other and of the
past.  The linear output layer is the case :math:`K_L = 1`.  Hence
:math:`(\lVert x_l\rVert^2, \lVert u_l\rVert^2, \langle x_l, u_l\rangle)` is a
Markov chain (the *Gram chain*), and its last step gives
:math:`\lVert J_N(x) u\rVert^2 = \tfrac{c_L}{n_{L-1}}\lVert u_{L-1}\rVert^2
\chi^2_{n_L}` in law.  See ``docs/exact_laws.md`` for the derivation.

What this module offers:

* :func:`gram_chain_samples`: samples of the chain, :math:`O(n_l)` work per
  layer and sample, carried in log-space so that no depth overflows;
* :func:`activation_length_moments`, :func:`activation_length_mean_var`:
  exact integer moments of :math:`\lVert x_l\rVert^2` by recursion, in
  log-space;
* :func:`sum_sq_max_moments`: moments of :math:`\sum_{i\le n}\Xi_i^2`;
* :func:`activation_length_mean_closed_form`: the closed form for
  :math:`\beta_l = c/n_{l-1}`;
* :func:`layer_correlation`, :func:`expected_jacobian_gain`,
  :func:`wide_limit_correlation_map`: the one-layer formulas;
* :func:`gram_step`: the pure per-layer update of the chain (the kernel that
  a compiled sampler reimplements).

Conventions.  ``u`` is normalised to unit length (the law of
:math:`\lVert J u\rVert^2` for another length is :math:`\lVert u\rVert^2`
times the law for :math:`u/\lVert u\rVert`).  Where :math:`q = 0` (a zero
activation vector and no bias) all :math:`K` pre-activations of a unit are
zero, the network is not differentiable there, and maxbounds uses any fixed
selection rule (the explicit sampler takes the first piece), which amounts to
:math:`\rho = 0`.  An angle involving a zero vector is reported as
:math:`\cos = 0`, :math:`\sin^2 = 1`.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from functools import lru_cache

import numpy as np
from scipy import special

from .._validate import MAX_ORDER, MaxboundsValueError, as_real_array, as_vector
from ..architecture import Architecture
from ..constants import _double, _quantiles
from ..constants.moments import OutOfRangeError, gaussian_max_moment
from ..estimators import summarise
from .sums import iid_sum_log_moment

__all__ = [
    "GramChainSamples",
    "gram_chain_samples",
    "gram_step",
    "layer_correlation",
    "expected_jacobian_gain",
    "wide_limit_correlation_map",
    "sum_sq_max_moments",
    "activation_length_moments",
    "activation_length_mean_var",
    "activation_length_mean_closed_form",
]

#: Largest moment order ``t`` of ``||x_l||^2`` (it needs ``M_{2t}``, and the
#: constants accept orders up to 32).
MAX_LENGTH_ORDER = MAX_ORDER // 2
#: Largest number of samples accepted in one call.
MAX_SAMPLES = 10**9
#: Random numbers drawn per chunk of samples (bounds the working memory).
_CHUNK_DRAWS = 2**16

_LOG_MAX = math.log(np.finfo(float).max)
_LOG_TINY = math.log(np.finfo(float).tiny)
_HALF_ULP = 2.0**-54


# ---------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, eq=False)
class GramChainSamples:
    r"""Samples of the Gram chain at the recorded layers.

    Row ``j`` of every array belongs to layer ``layers[j]`` (0 is the input,
    ``L`` the output), column ``s`` to sample ``s``.  The squared norms are
    stored as logarithms, so depth never overflows; the properties
    :attr:`sq_norm_x`, :attr:`sq_norm_u` and :attr:`dot` exponentiate them
    and raise :class:`~maxbounds.constants.OutOfRangeError` rather than
    return ``inf`` or a flushed zero.

    Attributes
    ----------
    architecture : Architecture
    layers : tuple of int
        The recorded layers.
    log_sq_norm_x, log_sq_norm_u : ndarray, shape (len(layers), samples)
        :math:`\log\lVert x_l\rVert^2` and :math:`\log\lVert u_l\rVert^2`
        (``-inf`` for a zero vector).
    cos, sin_sq : ndarray
        :math:`\cos\angle(x_l, u_l)` and :math:`1-\cos^2`, the latter
        computed without cancellation (it is tiny when the two align).
    rho, one_minus_rho_sq : ndarray
        The correlation :math:`\rho_l` used by layer ``l`` (from the state at
        ``l-1``) and :math:`1-\rho_l^2`; NaN in the row of layer 0.
        :math:`|\rho_l|` is the paper's :math:`|\cos\gamma|` of the augmented
        vectors when :math:`\beta_l = c_l/n_{l-1}`.
    method : str
        ``"chain"`` or ``"explicit"``.
    """

    architecture: Architecture
    layers: tuple
    log_sq_norm_x: np.ndarray
    log_sq_norm_u: np.ndarray
    cos: np.ndarray
    sin_sq: np.ndarray
    rho: np.ndarray
    one_minus_rho_sq: np.ndarray
    method: str

    @property
    def samples(self) -> int:
        return self.log_sq_norm_x.shape[1]

    def row(self, layer: int) -> int:
        """Index of ``layer`` in :attr:`layers` (raises if it was not recorded)."""
        try:
            return self.layers.index(int(layer))
        except ValueError:
            recorded = _span(self.layers)
            problem = f"layer {layer} was not recorded (recorded: {recorded})"
            raise MaxboundsValueError("layer", problem) from None

    @property
    def sq_norm_x(self) -> np.ndarray:
        r""":math:`\lVert x_l\rVert^2`."""
        return _exp_checked(self.log_sq_norm_x, "||x_l||^2", "log_sq_norm_x")

    @property
    def sq_norm_u(self) -> np.ndarray:
        r""":math:`\lVert u_l\rVert^2`."""
        return _exp_checked(self.log_sq_norm_u, "||u_l||^2", "log_sq_norm_u")

    @property
    def dot(self) -> np.ndarray:
        r""":math:`\langle x_l, u_l\rangle = \cos\cdot\lVert x_l\rVert\lVert u_l\rVert`."""
        with np.errstate(invalid="ignore"):
            half = 0.5 * (self.log_sq_norm_x + self.log_sq_norm_u)
        half = np.where(np.isnan(half), -np.inf, half)
        return self.cos * _exp_checked(half, "|<x_l, u_l>|", "log_sq_norm_x and log_sq_norm_u")

    @property
    def abs_cos_gamma(self) -> np.ndarray:
        r""":math:`|\rho_l|`, the absolute cosine of the paper's augmented vectors."""
        return np.abs(self.rho)

    @property
    def log_jacobian_sq_norm(self) -> np.ndarray:
        r""":math:`\log\lVert J_N(x)u\rVert^2`, one value per sample."""
        return self.log_sq_norm_u[self.row(self.architecture.depth)]

    @property
    def jacobian_sq_norm(self) -> np.ndarray:
        r""":math:`\lVert J_N(x)u\rVert^2`, one value per sample."""
        return _exp_checked(self.log_jacobian_sq_norm, "||J u||^2", "log_jacobian_sq_norm")

    def summary(self, level: float = 0.95) -> dict:
        """Estimates of the squared norms per recorded layer, and of ``||J u||^2`` when the output is recorded."""
        output = ("jacobian_sq_norm",) if self.architecture.depth in self.layers else ()
        return summarise(self, ("sq_norm_x", "sq_norm_u") + output, sample_axis=-1, level=level)


# ---------------------------------------------------------------------------
# the per-layer kernel
# ---------------------------------------------------------------------------
def _correlation(log_xx, log_vv, cos, sin_sq, log_scale, log_beta):
    r"""Return ``(rho, 1 - rho^2)`` of the next layer from the current state.

    With :math:`w = (c/n)\lVert x\rVert^2 / q` (the share of the pre-activation
    variance carried by the weights), :math:`\rho = \cos\cdot\sqrt{w}` and
    :math:`1-\rho^2 = (1-w) + w\sin^2`, a sum of non-negative terms, with
    :math:`1 - w = \beta/q`.
    """
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        log_q = np.logaddexp(log_scale + log_xx, log_beta)
        zero_q = log_q == -np.inf
        w = np.where(zero_q, 0.0, np.minimum(np.exp(log_scale + log_xx - log_q), 1.0))
        w_c = np.where(zero_q, 1.0, np.minimum(np.exp(log_beta - log_q), 1.0))
    cos = np.where(log_vv == -np.inf, 0.0, cos)
    sin_sq = np.where(log_vv == -np.inf, 1.0, sin_sq)
    rho = cos * np.sqrt(w)
    r2 = np.minimum(w_c + w * sin_sq, 1.0)
    return rho, r2, log_q


def gram_step(log_xx, log_vv, cos, sin_sq, log_scale, log_beta, sum_xi_sq, g, chi):
    r"""One layer of the Gram chain, given the layer's random draws (a pure function).

    The state is :math:`(\log\lVert x\rVert^2, \log\lVert v\rVert^2, \cos, \sin^2)`
    with :math:`\cos = \langle x, v\rangle/(\lVert x\rVert\lVert v\rVert)`.
    The layer's randomness enters through three numbers per sample,

    .. math::

        A = \sum_{i=1}^{n_l}\Xi_{l,i}^2, \qquad
        g = \Big\langle \frac{\Xi_l}{\lVert\Xi_l\rVert}, h_l\Big\rangle \sim N(0,1), \qquad
        \chi = \Big\lVert h_l - g\frac{\Xi_l}{\lVert\Xi_l\rVert}\Big\rVert^2 \sim \chi^2_{n_l-1},

    independent of each other (the direction of the isotropic :math:`h_l` is
    independent of :math:`\Xi_l`).  With :math:`r = \sqrt{1-\rho^2}`,
    :math:`t = \rho\sqrt{A} + r g` and :math:`Q = t^2 + r^2\chi
    = \lVert\rho\,\Xi_l + r h_l\rVert^2`:

    .. math::

        \lVert x_l\rVert^2 = qA, \qquad \lVert v_l\rVert^2 = s^2 Q, \qquad
        \cos_l = t/\sqrt{Q}, \qquad \sin^2_l = r^2\chi/Q .

    Every quantity is a sum of non-negative terms, so nothing cancels, and
    :math:`\sin^2` stays accurate when the vectors align.

    Parameters
    ----------
    log_xx, log_vv, cos, sin_sq : ndarray
        The state at layer ``l-1``, one entry per sample.
    log_scale, log_beta : float
        :math:`\log(c_l/n_{l-1})` and :math:`\log\beta_l` (``-inf`` for no bias).
    sum_xi_sq, g, chi : ndarray
        The draws :math:`A`, :math:`g`, :math:`\chi` described above.

    Returns
    -------
    log_xx, log_vv, cos, sin_sq, rho, one_minus_rho_sq : ndarray
        The state at layer ``l`` and the correlation used by layer ``l``.
    """
    rho, r2, log_q = _correlation(log_xx, log_vv, cos, sin_sq, log_scale, log_beta)
    r = np.sqrt(r2)
    t = rho * np.sqrt(sum_xi_sq) + r * g
    Q = t * t + r2 * chi
    with np.errstate(divide="ignore", invalid="ignore"):
        new_log_xx = log_q + np.log(sum_xi_sq)
        new_log_vv = (log_scale + log_vv) + np.log(Q)
        new_cos = np.clip(t / np.sqrt(Q), -1.0, 1.0)
        new_sin_sq = np.minimum(r2 * chi / Q, 1.0)
    undefined = (new_log_xx == -np.inf) | (new_log_vv == -np.inf) | np.isnan(new_cos)
    new_cos = np.where(undefined, 0.0, new_cos)
    new_sin_sq = np.where(undefined, 1.0, new_sin_sq)
    return new_log_xx, new_log_vv, new_cos, new_sin_sq, rho, r2


def _draw_layer(rng, size, n, K):
    """Draw ``(A, g, chi)`` of one layer of width ``n`` and rank ``K`` for ``size`` samples."""
    if K == 1:
        A = rng.chisquare(n, size)  # a sum of n squared standard normals
    else:
        xi = _gaussian_max_draws(rng, (size, n), K)
        A = np.einsum("ij,ij->i", xi, xi)
    g = rng.standard_normal(size)
    chi = rng.chisquare(n - 1, size) if n > 1 else np.zeros(size)
    return A, g, chi


def _gaussian_max_draws(rng, shape, K):
    r"""Largest-of-``K`` standard normals, one uniform each: :math:`\Xi = -\Phi^{-1}(1 - U^{1/K})`.

    :math:`1 - U^{1/K} = -\operatorname{expm1}(\log U / K)` keeps full
    relative precision in the upper tail (``U`` near 1), where ``Phi^{-1}(U^{1/K})``
    would round to infinity; ``U = 0`` is moved to ``2**-54``.  In place, to
    keep the temporaries few.
    """
    z = rng.random(shape)
    np.maximum(z, _HALF_ULP, out=z)
    np.log(z, out=z)
    z /= K
    np.expm1(z, out=z)
    np.negative(z, out=z)
    z = special.ndtri(z)
    np.negative(z, out=z)
    return z


def _layer_constants(arch, layer):
    """``(fan_in, n_l, K_l, c_l, beta_l)`` of weight layer ``layer``, from the layer's own factors.

    ``K_l`` is :meth:`~maxbounds.layers.Layer.chain_rank` (1 for the linear
    output); a kind without a Gram-chain step raises its
    :class:`~maxbounds.layers.NoLawError`, naming the layer.
    """
    return _chain_constants(arch)[layer - 1][:5]


def _activation_gain(arch, layer):
    """:math:`M(K_l) = E[\\phi(Z)^2]` of weight layer ``layer`` (the layer's ``activation_gain``)."""
    return _chain_constants(arch)[layer - 1][5]


@lru_cache(maxsize=16)
def _chain_constants(arch):
    """Per weight layer ``(fan_in, width, chain rank, scale, bias variance, activation gain)``.

    Equal layers are evaluated once; the answer is cached per architecture.
    """
    from ..layers.draw import as_serial

    rows, seen = [], {}
    for layer in as_serial(arch, "arch"):
        key = layer.replace(index=None)
        if key not in seen:
            seen[key] = (layer.fan_in, layer.width, layer.chain_rank(), layer.scale, layer.bias_var,
                         layer.activation_gain())
        rows.append(seen[key])
    return tuple(rows)


def _log(value):
    return math.log(value) if value > 0 else -math.inf


# ---------------------------------------------------------------------------
# samplers
# ---------------------------------------------------------------------------
def gram_chain_samples(arch, x, u, samples, rng=None, *, layers=None) -> GramChainSamples:
    r"""Sample the Gram chain :math:`(\lVert x_l\rVert^2, \lVert u_l\rVert^2, \langle x_l, u_l\rangle)`.

    Exact in distribution (docs/exact_laws.md): layer :math:`l` maps the
    state through :math:`x_{l,i} = \sqrt{q}\,\Xi_{l,i}` and
    :math:`(J_l v)_i = s(\rho\,\Xi_{l,i} + \sqrt{1-\rho^2}\,h_{l,i})` with

    .. math::

        q = \tfrac{c_l}{n_{l-1}}\lVert x_{l-1}\rVert^2 + \beta_l,\quad
        s^2 = \tfrac{c_l}{n_{l-1}}\lVert u_{l-1}\rVert^2,\quad
        \rho_l = \frac{\tfrac{c_l}{n_{l-1}}\langle x_{l-1}, u_{l-1}\rangle}{\sqrt{q}\,s},

    reduced to three draws per layer (see :func:`gram_step`): the sum of
    :math:`n_l` squared Gaussian maxima (:math:`n_l` uniforms, one per unit)
    and two more numbers.  The output layer is linear (rank 1), so its step
    gives :math:`\lVert J_N(x)u\rVert^2 = \tfrac{c_L}{n_{L-1}}\lVert u_{L-1}\rVert^2\chi^2_{n_L}`.
    Cost :math:`O(n_l)` per layer and sample (:math:`O(1)` for rank-1 layers).

    Parameters
    ----------
    arch : Architecture
    x : array_like, shape (n_0,)
        The input.
    u : array_like, shape (n_0,)
        The direction, non-zero; it is normalised to unit length.
    samples : int
        Number of independent networks, ``>= 1``.
    rng : numpy.random.Generator, int or None
        The random stream (an int seeds :func:`numpy.random.default_rng`).
        The same generator state, arguments and ``layers`` give the same
        samples.
    layers : iterable of int, optional
        Layers to record, in ``0..L`` (default: all).  Recording only the
        last layer keeps memory at ``O(samples)`` for very deep networks.

    Returns
    -------
    GramChainSamples
    """
    arch, x, u, samples, rng, layers = _check_sampler_args(arch, x, u, samples, rng, layers)
    L = arch.depth
    record = {layer: j for j, layer in enumerate(layers)}
    out = _empty_record(len(layers), samples)
    state0 = _initial_state(x, u)
    widest = max([arch.widths[layer] for layer in range(1, L + 1) if _layer_constants(arch, layer)[2] > 1],
                 default=1)
    chunk = max(1, min(samples, _CHUNK_DRAWS // widest))
    consts = [_layer_constants(arch, layer) for layer in range(1, L + 1)]
    for start in range(0, samples, chunk):
        size = min(chunk, samples - start)
        cols = slice(start, start + size)
        state = tuple(np.full(size, value) for value in state0)
        _store(out, record, 0, cols, state, None, None)
        for layer, (n_prev, n, K, c, beta) in enumerate(consts, start=1):
            A, g, chi = _draw_layer(rng, size, n, K)
            *state, rho, r2 = gram_step(*state, math.log(c / n_prev), _log(beta), A, g, chi)
            _store(out, record, layer, cols, state, rho, r2)
    return GramChainSamples(arch, layers, *out, method="chain")


def _vector_state(xs, vs):
    """``(log||x||^2, log||v||^2, cos, sin^2)`` of rows of vectors, ``sin^2`` from the rejection."""
    xx = np.einsum("ij,ij->i", xs, xs)
    vv = np.einsum("ij,ij->i", vs, vs)
    xv = np.einsum("ij,ij->i", xs, vs)
    with np.errstate(divide="ignore", invalid="ignore"):
        unit_v = vs / np.sqrt(vv)[:, None]
        rejection = xs - (xv / np.sqrt(vv))[:, None] * unit_v
        sin_sq = np.einsum("ij,ij->i", rejection, rejection) / xx
        cos = xv / np.sqrt(xx * vv)
        total = cos * cos + sin_sq  # 1 up to rounding; renormalise
        cos, sin_sq = cos / np.sqrt(total), sin_sq / total
        log_xx, log_vv = np.log(xx), np.log(vv)
    undefined = (xx == 0) | (vv == 0) | ~np.isfinite(cos)
    cos = np.where(undefined, 0.0, np.clip(cos, -1.0, 1.0))
    sin_sq = np.where(undefined, 1.0, np.minimum(sin_sq, 1.0))
    return log_xx, log_vv, cos, sin_sq


def _initial_state(x, u):
    log_xx, log_vv, cos, sin_sq = _vector_state(x[None, :], u[None, :])
    return log_xx[0], log_vv[0], cos[0], sin_sq[0]


def _empty_record(rows, samples):
    arrays = [np.empty((rows, samples)) for _ in range(6)]
    return arrays


def _store(out, record, layer, cols, state, rho, r2):
    j = record.get(layer)
    if j is None:
        return
    for array, value in zip(out, state):
        array[j, cols] = value
    out[4][j, cols] = np.nan if rho is None else rho
    out[5][j, cols] = np.nan if r2 is None else r2


# ---------------------------------------------------------------------------
# one-layer formulas
# ---------------------------------------------------------------------------
def layer_correlation(arch, layer, sq_norm_x, sq_norm_v, dot):
    r"""The correlation :math:`\rho_l` of layer ``layer`` given the state below it.

    .. math::

        \rho_l = \frac{\tfrac{c_l}{n_{l-1}}\langle x_{l-1}, v\rangle}
                      {\sqrt{\tfrac{c_l}{n_{l-1}}\lVert x_{l-1}\rVert^2 + \beta_l}\,
                       \sqrt{\tfrac{c_l}{n_{l-1}}\lVert v\rVert^2}},

    the cosine of the angle between the augmented vectors
    :math:`(\sqrt{c_l/n_{l-1}}\,x_{l-1}, \sqrt{\beta_l})` and
    :math:`(\sqrt{c_l/n_{l-1}}\,v, 0)`; with :math:`\beta_l = c_l/n_{l-1}` it is
    the paper's :math:`\cos\gamma(\mathfrak{x}, \mathfrak{u})`.  Zero where
    :math:`q = 0` or :math:`v = 0` (see the module's conventions).
    Vectorised over the three state arrays.
    """
    arch = _check_arch(arch)
    layer = _check_layer(arch, layer)
    n_prev, _, _, c, beta = _layer_constants(arch, layer)
    xx = _nonneg_array(sq_norm_x, "sq_norm_x")
    vv = _nonneg_array(sq_norm_v, "sq_norm_v")
    xv = _finite_array(dot, "dot")
    xx, vv, xv = np.broadcast_arrays(xx, vv, xv)
    if np.any(xv * xv > xx * vv * (1 + 1e-12)):
        raise MaxboundsValueError("dot", "violates Cauchy-Schwarz: dot^2 > sq_norm_x * sq_norm_v")
    scale = c / n_prev
    denom = np.sqrt(scale * xx + beta) * np.sqrt(scale * vv)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(denom > 0, scale * xv / denom, 0.0)
    return _finish(np.clip(rho, -1.0, 1.0))


def expected_jacobian_gain(arch, layer, rho):
    r"""Mean one-layer Jacobian gain :math:`E[\lVert u_l\rVert^2 \mid \text{past}]/\lVert u_{l-1}\rVert^2`.

    .. math::

        E\big[\lVert u_l\rVert^2 \,\big|\, \text{past}\big]
        = \frac{c_l\, n_l}{n_{l-1}}\,\lVert u_{l-1}\rVert^2\,\big(1 + \rho_l^2 (M(K_l) - 1)\big),

    since :math:`E[(\rho\,\Xi + \sqrt{1-\rho^2}\,h)^2] = \rho^2 M + 1 - \rho^2`.
    Per unit of width ratio it lies between :math:`c_l` (:math:`\rho = 0`)
    and :math:`c_l M(K_l)` (:math:`|\rho| = 1`).  The output layer has
    :math:`M = 1`: gain :math:`c_L n_L / n_{L-1}` whatever :math:`\rho`.

    Parameters
    ----------
    arch : Architecture
    layer : int
        Weight layer, ``1..L``.
    rho : float or array_like
        Correlation(s) in ``[-1, 1]`` (see :func:`layer_correlation`).
    """
    arch = _check_arch(arch)
    layer = _check_layer(arch, layer)
    rho = _rho_array(rho)
    n_prev, n, K, c, _ = _layer_constants(arch, layer)
    M = _activation_gain(arch, layer)
    return _finish(c * n / n_prev * (1.0 + rho * rho * (M - 1.0)))


def wide_limit_correlation_map(rho, K):
    r"""The wide-network limit of one layer's correlation map, zero bias.

    .. math:: \rho' = \frac{\rho\sqrt{M}}{\sqrt{1 + \rho^2(M-1)}}, \qquad M = M(K),

    the limit, as :math:`n_l \to \infty`, of
    :math:`\cos\angle(x_l, u_l)`, which is the next layer's :math:`\rho` when
    its bias is zero.  Its fixed points are :math:`0` (slope :math:`\sqrt M`,
    unstable for :math:`K \ge 3`) and :math:`\pm 1` (slope :math:`1/M`,
    stable); near them :math:`1-\rho'^2 = (1-\rho^2)/(1+\rho^2(M-1))`.
    """
    rho = _rho_array(rho)
    if isinstance(K, bool) or not isinstance(K, numbers.Integral) or K < 1:
        raise MaxboundsValueError("K", f"the rank must be an integer >= 1, got {K!r}")
    M = 1.0 if K == 1 else float(gaussian_max_moment(int(K), 2))
    return _finish(rho * math.sqrt(M) / np.sqrt(1.0 + rho * rho * (M - 1.0)))


# ---------------------------------------------------------------------------
# exact moments of the activation length
# ---------------------------------------------------------------------------
def _logsumexp(terms, axis=-1):
    """``log(sum(exp(terms)))`` along ``axis``, ``-inf`` for an empty or all ``-inf`` sum."""
    terms = np.asarray(terms, dtype=float)
    top = np.max(terms, axis=axis, keepdims=True)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return np.squeeze(safe, axis=axis) + np.log(np.sum(np.exp(terms - safe), axis=axis))


def _log_binom(k):
    j = np.arange(k + 1)
    return special.gammaln(k + 1) - special.gammaln(j + 1) - special.gammaln(k - j + 1)


def _log_sum_moments(n, K, order):
    """Log-moments ``t = 0..order`` of ``sum_{i<=n} Xi_i^2`` (from :mod:`maxbounds.laws.sums`)."""
    return np.asarray(iid_sum_log_moment("gaussian_max_sq", K, n, np.arange(order + 1.0)), dtype=float)


def sum_sq_max_moments(n, K, order=2, *, log=False):
    r"""Moments :math:`E[(\sum_{i=1}^n \Xi_i^2)^t]`, :math:`t = 0, \dots,` ``order``.

    :math:`\Xi_i` are i.i.d. largest-of-``K`` standard normals, so
    :math:`E[\Xi_i^{2j}] = M_{2j}(K)`.  The moments of the sum are computed
    by :func:`maxbounds.laws.sums.iid_sum_log_moment` (one place for moments
    of sums of i.i.d. order statistics), in log-space.
    For ``K = 1`` the sum is :math:`\chi^2_n`, with moments
    :math:`2^t\Gamma(n/2+t)/\Gamma(n/2)`.

    Parameters
    ----------
    n : int
        Number of terms, ``>= 1``.
    K : int
        Rank, ``>= 1``.
    order : int
        Highest moment, ``0..16``.
    log : bool
        Return the logarithms (never overflows).

    Returns
    -------
    ndarray, shape (order + 1,)
    """
    n = _positive_int(n, "n", 10**12)
    K = _positive_int(K, "K", 2**53)
    order = _check_order(order)
    logs = np.array(_log_sum_moments(n, K, order))
    return logs if log else _exp_checked(logs, "the moment", "log=True")


def activation_length_moments(arch, x, order=2, *, log=False):
    r"""Exact moments :math:`E[\lVert x_l\rVert^{2t}]` for every layer ``l = 0..L`` and ``t = 0..order``.

    Given :math:`\lVert x_{l-1}\rVert^2`, :math:`\lVert x_l\rVert^2 = q_l\,A_l` with
    :math:`q_l = \tfrac{c_l}{n_{l-1}}\lVert x_{l-1}\rVert^2 + \beta_l` and
    :math:`A_l = \sum_{i\le n_l}\Xi_{l,i}^2` independent of :math:`q_l`, so

    .. math::

        E\lVert x_l\rVert^{2t} = E[q_l^t]\;E[A_l^t], \qquad
        E[q_l^t] = \sum_{j=0}^{t}\binom{t}{j}\Big(\frac{c_l}{n_{l-1}}\Big)^{j}
                   \beta_l^{\,t-j}\, E\lVert x_{l-1}\rVert^{2j},

    with :math:`E[A_l^t]` from :func:`sum_sq_max_moments`.  The output layer
    (``l = L``) is linear: :math:`A_L \sim \chi^2_{n_L}`.  Only
    :math:`\lVert x\rVert^2` matters.  The recursion is carried out in
    log-space (all terms are positive), so any depth works with ``log=True``.

    Parameters
    ----------
    arch : Architecture
    x : array_like, shape (n_0,)
    order : int
        Highest order ``t``, ``0..16``.
    log : bool
        Return logarithms (``-inf`` for a zero moment).  Without it, a
        moment outside the double range raises
        :class:`~maxbounds.constants.OutOfRangeError`.

    Returns
    -------
    ndarray, shape (L + 1, order + 1)
        Row ``l``, column ``t``: :math:`E\lVert x_l\rVert^{2t}`.
    """
    arch = _check_arch(arch, serial=True)
    x = as_vector(x, "x", arch.n_in)
    order = _check_order(order)
    t = np.arange(order + 1)
    out = np.empty((arch.depth + 1, order + 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        out[0] = np.where(t == 0, 0.0, t * _log(float(x @ x)))
    for layer in range(1, arch.depth + 1):
        n_prev, n, K, c, beta = _layer_constants(arch, layer)
        log_scale, log_beta = math.log(c / n_prev), _log(beta)
        log_q = np.empty(order + 1)
        for k in range(order + 1):
            j = np.arange(k + 1)
            with np.errstate(invalid="ignore"):
                bias_part = np.where(j == k, 0.0, (k - j) * log_beta)
            log_q[k] = _logsumexp(_log_binom(k) + j * log_scale + bias_part + out[layer - 1, : k + 1])
        out[layer] = log_q + _log_sum_moments(n, K, order)
    return out if log else _exp_checked(out, "a moment of ||x_l||^2", "log=True")


@lru_cache(maxsize=256)
def _xi_sq_mean_var(K):
    """``(M(K), Var(Xi^2))``, the variance integrated directly (no cancellation)."""
    if K == 1:
        return 1.0, 2.0
    M = float(gaussian_max_moment(K, 2))
    var = _double.quantile_expectation(_quantiles.gaussian_max_quantile, lambda z, m: (z * z - m) ** 2, K, M)
    var = float(var)
    return M, var


def activation_length_mean_var(arch, x, *, log=False):
    r"""Exact mean and variance of :math:`\lVert x_l\rVert^2`, ``l = 0..L``.

    .. math::

        E\lVert x_l\rVert^2 = n_l M(K_l)\Big(\frac{c_l}{n_{l-1}} E\lVert x_{l-1}\rVert^2 + \beta_l\Big),

    and, with :math:`q_l` and :math:`A_l` as in :func:`activation_length_moments`
    (:math:`E A_l = n_l M`, :math:`\operatorname{Var} A_l = n_l \operatorname{Var}\Xi^2`,
    :math:`\operatorname{Var} q_l = (c_l/n_{l-1})^2 \operatorname{Var}\lVert x_{l-1}\rVert^2`),

    .. math::

        \operatorname{Var}\lVert x_l\rVert^2 = \operatorname{Var}q_l\operatorname{Var}A_l
            + \operatorname{Var}q_l\,(E A_l)^2 + (E q_l)^2\operatorname{Var}A_l ,

    a sum of positive terms, so the variance is accurate even when it is
    tiny relative to the squared mean (wide layers).  :math:`\operatorname{Var}\Xi^2`
    is integrated directly, not as :math:`M_4 - M^2`.

    Parameters
    ----------
    arch : Architecture
    x : array_like, shape (n_0,)
    log : bool
        Return the logarithms; otherwise values outside the double range
        raise :class:`~maxbounds.constants.OutOfRangeError`.

    Returns
    -------
    mean, var : ndarray, shape (L + 1,)
    """
    arch = _check_arch(arch, serial=True)
    x = as_vector(x, "x", arch.n_in)
    L = arch.depth
    log_mean, log_var = np.empty(L + 1), np.empty(L + 1)
    log_mean[0], log_var[0] = _log(float(x @ x)), -np.inf
    for layer in range(1, L + 1):
        n_prev, n, K, c, beta = _layer_constants(arch, layer)
        log_scale = math.log(c / n_prev)
        M, var_xi_sq = _activation_gain(arch, layer), _xi_sq_mean_var(K)[1]
        log_eq = np.logaddexp(log_scale + log_mean[layer - 1], _log(beta))
        log_vq = 2 * log_scale + log_var[layer - 1]
        log_ea, log_va = math.log(n * M), math.log(n * var_xi_sq)
        log_mean[layer] = log_eq + log_ea
        log_var[layer] = _logsumexp(np.array([log_vq + log_va, log_vq + 2 * log_ea, 2 * log_eq + log_va]))
    if log:
        return log_mean, log_var
    return _exp_checked(log_mean, "E||x_l||^2", "log=True"), _exp_checked(log_var, "Var||x_l||^2", "log=True")


def activation_length_mean_closed_form(arch, x):
    r"""The closed form of :math:`E[\lVert x_l\rVert^2/n_l]` when :math:`\beta_l = c/n_{l-1}`.

    For hidden layers with one scale :math:`c`, one rank :math:`K` and bias
    variances :math:`\beta_l = c/n_{l-1}` (the paper's augmented vectors
    :math:`\mathfrak{x} = (x, 1)`), unrolling the mean recursion gives, for
    :math:`l = 0, \dots, L-1`,

    .. math::

        E\Big[\frac{\lVert x_l\rVert^2}{n_l}\Big]
        = (cM)^l\,\frac{\lVert\mathfrak{x}_0\rVert^2}{n_0}
          + \sum_{j=1}^{l-1}\frac{(cM)^{l-j}}{n_j},
        \qquad \lVert\mathfrak{x}_0\rVert^2 = \lVert x_0\rVert^2 + 1 .

    Evaluated from the formula itself (a cumulative log-sum), as an
    independent check of :func:`activation_length_mean_var`.  The output
    layer is excluded (it is linear: :math:`M = 1` there).

    Returns
    -------
    ndarray, shape (L,)
        Layers ``0..L-1``.
    """
    arch = _check_arch(arch)
    x = as_vector(x, "x", arch.n_in)
    L = arch.depth
    if len(set(arch.c)) > 1 or len(set(arch.ranks)) > 1:
        raise MaxboundsValueError("arch", "the closed form needs one c and one rank K in all hidden layers")
    for layer in range(1, L):
        want = arch.c[0] / arch.widths[layer - 1]
        if not math.isclose(arch.bias_var[layer - 1], want, rel_tol=1e-12):
            raise MaxboundsValueError(
                "arch",
                f"the closed form needs bias_var = c/n_(l-1); layer {layer} has "
                f"{arch.bias_var[layer - 1]:g}, not {want:g}",
            )
    if L == 1:
        return np.array([float(x @ x) / arch.n_in])
    log_cm = math.log(arch.c[0]) + math.log(float(gaussian_max_moment(arch.ranks[0], 2)))
    l = np.arange(L)
    head = l * log_cm + math.log((float(x @ x) + 1.0) / arch.n_in)
    # sum_{j=1}^{l-1} (cM)^(l-j)/n_j = (cM)^l * sum_{j=1}^{l-1} (cM)^(-j)/n_j
    j = np.arange(1, L)
    partial = np.logaddexp.accumulate(-j * log_cm - np.log(np.asarray(arch.widths[1:L], dtype=float)))
    tail = np.concatenate(([-np.inf, -np.inf], partial[: L - 2])) + l * log_cm
    head[0] = math.log(float(x @ x) / arch.n_in) if float(x @ x) > 0 else -np.inf
    return _exp_checked(np.logaddexp(head, tail), "E||x_l||^2/n_l", "activation_length_mean_var(log=True)")


# ---------------------------------------------------------------------------
# validation and small helpers
# ---------------------------------------------------------------------------
def _exp_checked(logs, what, remedy):
    logs = np.asarray(logs, dtype=float)
    finite = np.isfinite(logs)
    if np.any(logs[finite] > _LOG_MAX) or np.any(logs == np.inf):
        raise OutOfRangeError(f"{what} exceeds the double-precision range; use {remedy}")
    if np.any(logs[finite] < _LOG_TINY):
        raise OutOfRangeError(f"{what} is below the double-precision range; use {remedy}")
    return np.exp(logs)


def _finish(values):
    values = np.asarray(values, dtype=float)
    return values.item() if values.ndim == 0 else values


def _span(layers):
    return ", ".join(map(str, layers)) if len(layers) <= 6 else f"{layers[0]}, ..., {layers[-1]}"


def _check_arch(arch, serial=False):
    """An Architecture (or, with ``serial``, a :class:`~maxbounds.layers.Serial`) with a Gram chain.

    Every layer must have a Gram-chain step: a layer kind without one (a convolution, leaky
    ReLU) raises its :class:`~maxbounds.layers.NoLawError`.
    """
    from ..layers import Serial

    if not isinstance(arch, Architecture) and not (serial and isinstance(arch, Serial)):
        expected = "an Architecture or layers (maxbounds.layers.serial)" if serial else "an Architecture"
        raise MaxboundsValueError("arch", f"expected {expected}, got {type(arch).__name__}")
    _chain_constants(arch)
    return arch


def _check_layer(arch, layer):
    if isinstance(layer, bool) or not isinstance(layer, numbers.Integral) or not 1 <= layer <= arch.depth:
        raise MaxboundsValueError("layer", f"must be a weight layer in 1..{arch.depth}, got {layer!r}")
    return int(layer)


def _check_direction(u, length):
    u = as_vector(u, "u", length)
    norm = float(np.linalg.norm(u))
    if norm == 0.0:
        raise MaxboundsValueError("u", "the direction must be non-zero")
    if not np.isfinite(norm):
        u = u / np.max(np.abs(u))
        norm = float(np.linalg.norm(u))
    return u / norm


def _finite_array(value, argument):
    return as_real_array(value, argument)


def _nonneg_array(value, argument):
    arr = as_real_array(value, argument)
    if np.any(arr < 0):
        raise MaxboundsValueError(argument, "a squared norm must be >= 0")
    return arr


def _rho_array(rho):
    arr = as_real_array(rho, "rho")
    if np.any(np.abs(arr) > 1):
        raise MaxboundsValueError("rho", "a correlation must lie in [-1, 1]")
    return arr


def _positive_int(value, argument, highest):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 1 <= value <= highest:
        raise MaxboundsValueError(argument, f"must be an integer between 1 and {highest}, got {value!r}")
    return int(value)


def _check_order(order):
    integral = isinstance(order, numbers.Integral) and not isinstance(order, bool)
    if not integral or not 0 <= order <= MAX_LENGTH_ORDER:
        raise MaxboundsValueError("order", f"must be an integer in 0..{MAX_LENGTH_ORDER}, got {order!r}")
    return int(order)


def _check_sampler_args(arch, x, u, samples, rng, layers):
    arch = _check_arch(arch)
    x = as_vector(x, "x", arch.n_in)
    u = _check_direction(u, arch.n_in)
    samples = _positive_int(samples, "samples", MAX_SAMPLES)
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool)):
        rng = np.random.default_rng(rng)
    elif not isinstance(rng, np.random.Generator):
        kind = type(rng).__name__
        raise MaxboundsValueError("rng", f"expected a numpy.random.Generator, int seed or None, got {kind}")
    if layers is None:
        layers = tuple(range(arch.depth + 1))
    else:
        try:
            layers = tuple(sorted(set(int(_check_record_layer(arch, layer)) for layer in layers)))
        except TypeError:
            raise MaxboundsValueError("layers", "expected an iterable of layer numbers") from None
        if not layers:
            raise MaxboundsValueError("layers", "record at least one layer")
    return arch, x, u, samples, rng, layers


def _check_record_layer(arch, layer):
    if isinstance(layer, bool) or not isinstance(layer, numbers.Integral) or not 0 <= layer <= arch.depth:
        raise MaxboundsValueError("layers", f"layers must be integers in 0..{arch.depth}, got {layer!r}")
    return layer
