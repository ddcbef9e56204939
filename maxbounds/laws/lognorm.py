r"""The law of :math:`\log\lVert x_l\rVert` in a network with zero biases, at every depth (``docs/fractional.md``).

With zero biases every dense layer kind of maxbounds (maxout, ReLU, leaky ReLU,
randomised leaky ReLU, linear) maps

.. math:: \lVert x_l\rVert^2 = \frac{c_l}{n_{l-1}}\lVert x_{l-1}\rVert^2\,Y_l,

with :math:`Y_l` independent of :math:`x_{l-1}` and of each other (the layer's
gain law, :meth:`maxbounds.layers.Layer.gain_log_stats`).  Hence

.. math:: \log\lVert x_L\rVert^2 = \log\lVert x_0\rVert^2 + \sum_{l\le L}\Big(\log\frac{c_l}{n_{l-1}} + \log Y_l\Big),

a sum of independent terms: its mean and variance are exact at every depth
(sums of the layers' :math:`E\log Y_l` and :math:`\mathrm{Var}\log Y_l`), and a
central limit theorem holds in depth.  ReLU layers give :math:`Y_l = 0` with
probability :math:`2^{-n_l}`, after which every later layer is zero too, so

.. math:: P(x_L = 0) = 1 - \prod_{l\le L}(1 - 2^{-n_l}),

and the law of :math:`\log\lVert x_L\rVert` is stated given :math:`x_L \ne 0`
(under which the :math:`Y_l` stay independent, each conditioned on
:math:`Y_l > 0`).  :class:`LogNormLaw` gives that law three ways:

* ``method="gaussian"``: the normal law with the exact mean and variance (the
  limit in depth);
* ``method="exact"``: numerical inversion of the exact characteristic function
  :math:`\prod_l E[Y_l^{iu}\mid Y_l > 0]` by the Gil-Pelaez formula (ReLU and
  linear layers, whose characteristic functions are gamma-function mixtures;
  other kinds raise :class:`~maxbounds.layers.NoLawError`);
* :meth:`LogNormLaw.rvs`: draws from the product law itself (one gain draw per
  layer, not a network).

:func:`lognorm_samples` is the simulation side: :math:`\log\lVert x_l\rVert`
of explicitly drawn networks (:func:`maxbounds.simulate.explicit.network_samples`,
the one draw of the layers), or of networks drawn by the NumPy reference for
kinds without kernels (randomised leaky ReLU).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from .._validate import MaxboundsValueError

__all__ = ["LogNormLaw", "lognorm_samples", "kolmogorov_distance", "describe_layers"]

#: Gil-Pelaez: the CDF is computed for the standardised variable; the period 2 pi / h of the
#: discretisation is ``2 (_PERIOD_SDS + _PERIOD_LOGS / sd)`` standard deviations, wide enough
#: for the exponential left tail of log chi^2 (rate 1/2 in log ||x||^2).
_PERIOD_SDS, _PERIOD_LOGS = 40.0, 100.0
#: The characteristic function is cut where its modulus falls below this.
_CF_CUT = 1e-17
_MAX_NODES = 400_000


def _layer_key(layer):
    return (type(layer).__name__, layer.width, layer.rank, getattr(layer, "slope", None),
            getattr(layer, "lower", None), getattr(layer, "upper", None))


class LogNormLaw:
    r"""The law of :math:`\log\lVert x_l\rVert` at every layer ``l = 1..L`` of ``net`` (zero biases).

    Parameters
    ----------
    net : Serial or Architecture
        Dense layers with a gain law (maxout, ReLU, leaky ReLU, randomised leaky
        ReLU, linear); every bias variance must be 0.
    x0_norm : float
        :math:`\lVert x_0\rVert` (default 1; the law depends on the input through it alone).

    Notes
    -----
    Every method takes ``layer`` (1-based, default the last).  Means, variances,
    CDFs and quantiles are those of :math:`\log\lVert x_l\rVert` (natural
    logarithm, not squared) given :math:`x_l \ne 0`; :meth:`p_zero` is
    :math:`P(x_l = 0)`.
    """

    def __init__(self, net, x0_norm: float = 1.0):
        from ..layers.draw import as_serial

        self.network = as_serial(net)
        if isinstance(x0_norm, bool) or not isinstance(x0_norm, (int, float)) or not math.isfinite(x0_norm) \
                or x0_norm <= 0:
            raise MaxboundsValueError("x0_norm", f"must be a finite number > 0, got {x0_norm!r}")
        self.x0_norm = float(x0_norm)
        for layer in self.network:
            if layer.has_parameters and layer.bias_var > 0:
                raise MaxboundsValueError("bias_var", f"layer {layer.index} ({layer.label}) has bias variance "
                                                      f"{layer.bias_var:g}; the product law of ||x_l|| needs zero biases")
        cache, self._moments = {}, {}
        rows = []
        for layer in self.network:
            key = _layer_key(layer)
            if key not in cache:
                cache[key] = layer.gain_log_stats()
            stats = cache[key]
            rows.append((math.log(layer.scale / layer.fan_in), stats.p_zero, stats.mean, stats.var))
        self._rows = np.array(rows, dtype=float).reshape(-1, 4)
        self._log_scale = self._rows[:, 0]
        self._p0 = self._rows[:, 1]
        self._cum_mean = np.cumsum(self._log_scale + self._rows[:, 2])
        self._cum_var = np.cumsum(self._rows[:, 3])
        self._cum_keep = np.cumsum(np.log1p(-self._p0))

    # -- sizes and exact moments -------------------------------------------------------------------
    @property
    def depth(self) -> int:
        return len(self.network)

    def _index(self, layer):
        if layer is None:
            return self.depth - 1
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 1 <= layer <= self.depth:
            raise MaxboundsValueError("layer", f"must be an integer in 1..{self.depth}, got {layer!r}")
        return int(layer) - 1

    def p_zero(self, layer=None) -> float:
        r""":math:`P(x_l = 0) = 1 - \prod_{m\le l}(1 - P(Y_m = 0))`."""
        return float(-np.expm1(self._cum_keep[self._index(layer)]))

    def mean(self, layer=None) -> float:
        r""":math:`E[\log\lVert x_l\rVert \mid x_l \ne 0] = \tfrac12(\log\lVert x_0\rVert^2 + \sum_{m\le l}(\log(c_m/n_{m-1}) + E\log Y_m))`."""
        return float(math.log(self.x0_norm) + 0.5 * self._cum_mean[self._index(layer)])

    def var(self, layer=None) -> float:
        r""":math:`\mathrm{Var}[\log\lVert x_l\rVert \mid x_l \ne 0] = \tfrac14\sum_{m\le l}\mathrm{Var}\log Y_m`."""
        return float(0.25 * self._cum_var[self._index(layer)])

    def std(self, layer=None) -> float:
        return math.sqrt(self.var(layer))

    def drift(self) -> np.ndarray:
        r"""Per layer :math:`E[\log\lVert x_l\rVert - \log\lVert x_{l-1}\rVert \mid x_l\ne 0] = \tfrac12(\log(c_l/n_{l-1}) + E\log Y_l)`."""
        return 0.5 * (self._log_scale + self._rows[:, 2])

    def norm_log_moment(self, s: float, layer=None) -> float:
        r""":math:`\log E\lVert x_l\rVert^s = s\log\lVert x_0\rVert + \sum_{m\le l}\big(\tfrac s2\log(c_m/n_{m-1})
        + \log E[Y_m^{s/2}]\big)` (zeros included; every layer's :meth:`~maxbounds.layers.Layer.gain_log_moment`)."""
        if isinstance(s, bool) or not isinstance(s, (int, float)) or not math.isfinite(s) or s <= 0:
            raise MaxboundsValueError("s", f"must be a finite number > 0, got {s!r}")
        index = self._index(layer)
        total = s * math.log(self.x0_norm)
        for m, log_scale in zip(self.network.layers[:index + 1], self._log_scale):
            total += s / 2.0 * log_scale + self.gain_log_moment(m, s / 2.0)
        return float(total)

    def gain_log_moment(self, layer, t: float) -> float:
        """``layer.gain_log_moment(t)``, computed once per layer law and order."""
        key = (_layer_key(layer), float(t))
        if key not in self._moments:
            self._moments[key] = layer.gain_log_moment(t)
        return self._moments[key]

    def norm_moment_relative_variance(self, s: float, layer=None) -> float:
        r""":math:`\mathrm{Var}\lVert x_l\rVert^s / (E\lVert x_l\rVert^s)^2 = E\lVert x_l\rVert^{2s}/(E\lVert x_l\rVert^s)^2 - 1`:
        how many networks a Monte Carlo check of :math:`E\lVert x_l\rVert^s` needs (it grows geometrically in depth)."""
        log_ratio = self.norm_log_moment(2.0 * s, layer) - 2.0 * self.norm_log_moment(s, layer)
        return math.expm1(log_ratio) if log_ratio < 700 else math.inf

    def table(self, layers=None) -> list:
        """Rows ``{layer, mean, variance, std, p_zero}`` at ``layers`` (default every layer)."""
        layers = range(1, self.depth + 1) if layers is None else layers
        return [{"layer": int(l), "mean": self.mean(l), "variance": self.var(l), "std": self.std(l),
                 "p_zero": self.p_zero(l)} for l in layers]

    # -- distribution -------------------------------------------------------------------------------
    def _check_method(self, method):
        if method not in ("exact", "gaussian"):
            raise MaxboundsValueError("method", f"expected 'exact' or 'gaussian', got {method!r}")
        return method

    def has_exact_cdf(self, layer=None) -> bool:
        """True where every layer up to ``layer`` has the characteristic function of its ``log Y``."""
        from ..layers import NoLawError

        try:
            for m in self.network.layers[:self._index(layer) + 1]:
                m.gain_log_cf(np.zeros(1))
        except NoLawError:
            return False
        return True

    def log_cf(self, u, layer=None) -> np.ndarray:
        r""":math:`\log E[e^{iu(\log\lVert x_l\rVert^2 - \log\lVert x_0\rVert^2)}\mid x_l \ne 0]` at the real ``u``."""
        u = np.asarray(u, dtype=float)
        total = 1j * u * float(np.sum(self._log_scale[:self._index(layer) + 1]))
        counts = {}
        for m in self.network.layers[:self._index(layer) + 1]:
            key = _layer_key(m)
            counts[key] = (counts.get(key, (m, 0))[0], counts.get(key, (m, 0))[1] + 1)
        for m, times in counts.values():
            total = total + times * np.log(m.gain_log_cf(u))
        return total

    def _standard_cdf(self, z_std, index):
        """Gil-Pelaez CDF of the standardised log ||x_l||^2 at the points ``z_std``."""
        sd = math.sqrt(self._cum_var[index])
        mean = self._cum_mean[index]
        period = 2.0 * (_PERIOD_SDS + _PERIOD_LOGS / sd)
        h = 2.0 * math.pi / period
        # find the cut of |cf| on a coarse scan, then the nodes (k + 1/2) h below it
        nodes = None
        top = 8.0
        while True:
            u = (np.arange(int(top / h) + 1) + 0.5) * h
            if u.size > _MAX_NODES:
                raise MaxboundsValueError("layer", "the characteristic function decays too slowly to invert "
                                                   "(use method='gaussian')")
            log_phi = self.log_cf(u / sd, index + 1) - 1j * u * mean / sd
            if np.exp(log_phi[-1].real) < _CF_CUT:
                keep = np.exp(log_phi.real) >= _CF_CUT * 1e-3
                last = int(np.flatnonzero(keep).max()) + 1 if np.any(keep) else 1
                nodes, log_phi = u[:last], log_phi[:last]
                break
            top *= 2.0
        z = np.atleast_1d(np.asarray(z_std, dtype=float))
        phase = np.exp(log_phi[None, :] - 1j * np.multiply.outer(z, nodes))
        integral = (phase.imag / nodes[None, :]).sum(axis=1) * h
        return np.clip(0.5 - integral / math.pi, 0.0, 1.0)

    def cdf(self, z, layer=None, method: str = "exact"):
        r""":math:`P(\log\lVert x_l\rVert \le z \mid x_l \ne 0)`; ``method`` ``"exact"`` or ``"gaussian"``."""
        index, method = self._index(layer), self._check_method(method)
        z = np.asarray(z, dtype=float)
        m, sd = self.mean(index + 1), self.std(index + 1)
        if method == "gaussian":
            from scipy import special

            out = special.ndtr((z - m) / sd)
        else:
            self._require_exact(index)
            out = self._standard_cdf(((z - m) / sd).ravel(), index).reshape(z.shape)
        return float(out) if out.ndim == 0 else out

    def _require_exact(self, index):
        for m in self.network.layers[:index + 1]:
            m.gain_log_cf(np.zeros(1))  # raises NoLawError naming the layer

    def ppf(self, q, layer=None, method: str = "exact"):
        r"""Quantiles of :math:`\log\lVert x_l\rVert` given :math:`x_l \ne 0` (``q`` in ``(0, 1)``)."""
        from scipy import optimize

        index, method = self._index(layer), self._check_method(method)
        q_arr = np.asarray(q, dtype=float)
        if np.any(~np.isfinite(q_arr)) or np.any((q_arr <= 0) | (q_arr >= 1)):
            raise MaxboundsValueError("q", f"quantile levels must lie in (0, 1), got {q!r}")
        m, sd = self.mean(index + 1), self.std(index + 1)
        if method == "gaussian":
            out = np.array([m + sd * NormalDist().inv_cdf(float(p)) for p in q_arr.ravel()])
        else:
            self._require_exact(index)
            out = []
            for p in q_arr.ravel():
                f = lambda t: float(self._standard_cdf(np.array([t]), index)[0]) - float(p)  # noqa: E731
                lo, hi = -8.0, 8.0
                while f(lo) > 0:
                    lo *= 2.0
                while f(hi) < 0:
                    hi *= 2.0
                out.append(m + sd * optimize.brentq(f, lo, hi, xtol=1e-12))
            out = np.array(out)
        out = out.reshape(q_arr.shape)
        return float(out) if out.ndim == 0 else out

    def small_output_probability(self, eps, layer=None, method: str = "exact") -> float:
        r""":math:`P(\lVert x_l\rVert \le \varepsilon\lVert x_0\rVert)`, the atom at zero included:
        :math:`P(x_l = 0) + P(x_l \ne 0)\,P(\log\lVert x_l\rVert \le \log(\varepsilon\lVert x_0\rVert)\mid x_l\ne 0)`."""
        if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not math.isfinite(eps) or eps <= 0:
            raise MaxboundsValueError("eps", f"must be a finite number > 0, got {eps!r}")
        p0 = self.p_zero(layer)
        return p0 + (1.0 - p0) * float(self.cdf(math.log(eps * self.x0_norm), layer, method))

    def rvs(self, size: int, rng=None, layer=None) -> np.ndarray:
        r"""Draws of :math:`\log\lVert x_l\rVert` from the product law (``-inf`` where :math:`x_l = 0`)."""
        from ..reference import _generator

        rng = _generator(rng)
        index = self._index(layer)
        total = np.full(int(size), 2.0 * math.log(self.x0_norm))
        for m, log_scale in zip(self.network.layers[:index + 1], self._log_scale):
            with np.errstate(divide="ignore"):
                total += log_scale + np.log(m.gain_rvs(int(size), rng))
        return 0.5 * total


def describe_layers(net) -> str:
    """A one-line summary of a Serial with runs of equal layers joined: ``1-1000: relu: 10 -> 10, c=2, beta=0; ...``."""
    runs = []
    for layer in net:
        text = layer.describe()
        if runs and runs[-1][2] == text:
            runs[-1][1] = layer.index
        else:
            runs.append([layer.index, layer.index, text])
    return "; ".join(f"{a}: {t}" if a == b else f"{a}-{b}: {t}" for a, b, t in runs)


def kolmogorov_distance(samples, cdf) -> float:
    r""":math:`\sup_z |F_n(z) - F(z)|` between the empirical CDF of ``samples`` and the CDF ``cdf`` (a callable)."""
    x = np.sort(np.asarray(samples, dtype=float))
    n = x.size
    if n == 0:
        raise MaxboundsValueError("samples", "need at least one sample")
    f = np.asarray(cdf(x), dtype=float)
    i = np.arange(1, n + 1)
    return float(max(np.max(i / n - f), np.max(f - (i - 1) / n)))


def lognorm_samples(net, x, samples: int, seed: int, layers=None, method: str = "explicit", chunk: int = 500):
    r""":math:`\log\lVert x_l\rVert` of ``samples`` random networks at ``layers`` (dict layer -> array; ``-inf`` for 0).

    ``method="explicit"``: network ``s`` of ``seed`` drawn and evaluated by the layers' kernels
    (:func:`maxbounds.simulate.explicit.network_samples`, in chunks of ``chunk`` networks so that
    deep networks fit in memory); ``"reference"``: the NumPy reference (:func:`maxbounds.reference.draw`
    with ``numpy.random.default_rng(seed)``, then :func:`maxbounds.reference.forward`), the only
    simulator of kinds without kernels.
    """
    from ..layers.draw import as_serial

    net = as_serial(net)
    layers = (net.depth,) if layers is None else tuple(int(l) for l in layers)
    for l in layers:
        if not 1 <= l <= net.depth:
            raise MaxboundsValueError("layers", f"layers must lie in 1..{net.depth}, got {l}")
    x = np.asarray(x, dtype=float)
    out = {l: [] for l in layers}
    if method == "explicit":
        from ..simulate.explicit import network_samples

        for first in range(0, samples, chunk):
            count = min(chunk, samples - first)
            result = network_samples(net, x, x, count, seed, per_layer=True, first_sample=first)
            for l in layers:
                out[l].append(0.5 * result.log_sq_norm_x[l])
    elif method == "reference":
        from .. import reference

        rng = np.random.default_rng(seed)
        per = max(1, min(chunk, 2**22 // max(1, net.parameter_count)))
        for first in range(0, samples, per):
            count = min(per, samples - first)
            fwd = reference.forward(net, reference.draw(net, rng, count), x)
            for l in layers:
                sq = np.einsum("sj,sj->s", fwd.activations[l], fwd.activations[l])
                with np.errstate(divide="ignore"):
                    out[l].append(0.5 * np.log(sq))
    else:
        raise MaxboundsValueError("method", f"expected 'explicit' or 'reference', got {method!r}")
    return {l: np.concatenate(parts) for l, parts in out.items()}
