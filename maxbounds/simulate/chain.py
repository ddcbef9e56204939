r"""The Gram chain of docs/exact_laws.md, compiled with Numba.

:func:`chain_samples` samples the same law as the NumPy reference
:func:`maxbounds.laws.exact.gram_chain_samples`: layer :math:`l` maps the
state :math:`(\lVert x_{l-1}\rVert^2, \lVert u_{l-1}\rVert^2, \cos\angle(x_{l-1}, u_{l-1}))`
through three draws, :math:`A = \sum_{i\le n_l}\Xi_{l,i}^2` (the largest of ``K``
normals per unit for ``K <= 8``, one uniform by inversion above), :math:`g\sim N(0,1)` and :math:`\chi\sim\chi^2_{n_l-1}` (a sum of
:math:`n_l-1` squared normals), so each layer costs :math:`O(n_l)` per sample.
Samples run in parallel (:func:`maxbounds._parallel.run_chunks`); sample ``s`` reads its own random stream
derived from ``(seed, s)`` (see :mod:`maxbounds.simulate._kernels`), so the
same seed gives the same numbers bit for bit whatever the thread count.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .._parallel import run_chunks
from .._validate import MaxboundsValueError, as_vector
from ..architecture import Architecture
from ..laws.exact import GramChainSamples
from .. import _max_ziggurat
from . import _kernels

__all__ = ["MAX_SAMPLES", "chain_samples"]

#: Largest number of samples accepted in one call.
MAX_SAMPLES = 10**9
_MAX_SEED = 2**64 - 1


def chain_samples(arch, x, u, samples, seed, *, per_layer=False, first_sample=0) -> GramChainSamples:
    r"""Sample :math:`\lVert J_N(x)u\rVert^2` (and optionally every layer's state) from the Gram chain.

    Parameters
    ----------
    arch : Architecture
        A fully connected architecture.
    x : array_like, shape (n_0,)
        The input.
    u : array_like, shape (n_0,)
        The direction, non-zero; normalised to unit length.
    samples : int
        Number of independent networks, ``1..10**9``.
    seed : int
        In ``0..2**64-1``.  Sample ``s`` depends only on ``(seed, s)``: the
        first ``m`` samples of a call are those of any larger call.
    per_layer : bool
        Record layers ``0..L`` (``||x_l||^2``, ``||u_l||^2``, ``cos``,
        ``rho_l`` = the paper's ``cos gamma_l`` when ``beta_l = c_l/n_{l-1}``);
        otherwise only the output layer ``L``.

    Returns
    -------
    GramChainSamples
        With ``method="numba-chain"``; ``.jacobian_sq_norm`` holds one value
        per sample, ``.sq_norm_x``, ``.sq_norm_u``, ``.abs_cos_gamma`` the
        recorded layers (rows).
    """
    arch, x, u, samples, seed, per_layer = check_args(arch, x, u, samples, seed, per_layer)
    first = check_first(first_sample, samples)
    widths, ranks, log_scale, log_beta = layer_arrays(arch)
    state0 = np.array(_initial_state(x, u))
    rows = arch.depth + 1 if per_layer else 1
    out = np.empty((6, rows, samples))
    tables, table_of = _max_ziggurat.stacked(ranks)
    run_chunks(_kernels.chain_kernel, samples, state0, widths, ranks, log_scale, log_beta, tables, table_of,
               np.uint64(seed), first, per_layer, out)
    return _result(arch, out, per_layer, "numba-chain")


def ziggurat_maxima(K: int, count: int, seed: int) -> np.ndarray:
    """``count`` maxima of ``K`` standard normals, drawn as the chain draws them (``2 <= K <= 64``)."""
    K = _ziggurat_rank(K)
    out = np.empty(int(count))
    _kernels.maxima_kernel(np.uint64(seed), K, _max_ziggurat.flat(K), np.empty(_kernels.MAX_BATCH, np.uint64), out)
    return out


def ziggurat_moments(K: int, count: int, seed: int) -> tuple[float, float, float, float]:
    """The sums of ``x``, ``x^2``, ``x^3``, ``x^4`` over ``count`` maxima drawn as the chain draws them.

    The same numbers as ``ziggurat_maxima(K, count, seed)``, without an array of ``count`` entries.
    """
    K = _ziggurat_rank(K)
    sums = _kernels.maxima_moments_kernel(np.uint64(seed), K, _max_ziggurat.flat(K),
                                          np.empty(_kernels.MAX_BATCH, np.uint64), int(count), np.empty(1 << 16))
    return tuple(float(v) for v in sums)


def _ziggurat_rank(K) -> int:
    """``K`` as an integer, checked to be a rank the ziggurat serves (``2..MAX_RANK``)."""
    if not 2 <= int(K) <= _max_ziggurat.MAX_RANK:
        raise MaxboundsValueError("K", f"the ziggurat serves ranks 2..{_max_ziggurat.MAX_RANK}, got {K}")
    return int(K)


# ---------------------------------------------------------------------------
# shared by chain and explicit
# ---------------------------------------------------------------------------
def layer_arrays(arch):
    """``widths`` (L+1), and per layer its Gram-chain rank, ``log(c_l/fan_in_l)`` and ``log beta_l``.

    Read off the network's layers (:meth:`~maxbounds.layers.Layer.chain_rank` raises for a kind without
    a chain step); the output layer is linear, rank 1.
    """
    net = arch.network()
    widths = np.asarray(net.widths, dtype=np.int64)
    ranks = np.array([layer.chain_rank() for layer in net], dtype=np.int64)
    log_scale = np.array([math.log(layer.scale / layer.fan_in) for layer in net])
    log_beta = np.array([math.log(layer.bias_var) if layer.bias_var > 0 else -math.inf for layer in net])
    return widths, ranks, log_scale, log_beta


def _initial_state(x, u):
    xx, uu, xu = float(x @ x), float(u @ u), float(x @ u)
    log_xx = math.log(xx) if xx > 0 else -math.inf
    log_uu = math.log(uu)
    if xx == 0:
        return log_xx, log_uu, 0.0, 1.0
    rejection = x - xu / uu * u
    cos, sin_sq = xu / math.sqrt(xx * uu), float(rejection @ rejection) / xx
    total = cos * cos + sin_sq
    return log_xx, log_uu, min(max(cos / math.sqrt(total), -1.0), 1.0), min(sin_sq / total, 1.0)


def _result(arch, out, per_layer, method):
    layers = tuple(range(arch.depth + 1)) if per_layer else (arch.depth,)
    return GramChainSamples(arch, layers, *out, method=method)


_vector = as_vector  # the shared check of an input or direction vector


def check_args(arch, x, u, samples, seed, per_layer):
    """Validate the common arguments; return them normalised (``u`` of unit length)."""
    if not isinstance(arch, Architecture):
        raise MaxboundsValueError("arch", f"expected an Architecture, got {type(arch).__name__}")
    arch.require_fully_connected("the Numba simulators")
    x = _vector(x, "x", arch.n_in)
    u = _vector(u, "u", arch.n_in)
    scale = float(np.max(np.abs(u)))
    if scale == 0.0:
        raise MaxboundsValueError("u", "the direction must be non-zero")
    u = u / scale
    u = u / math.sqrt(float(u @ u))
    return (arch, x, u, *check_run_args(samples, seed, per_layer))


def check_first(first_sample, count):
    """Check ``first_sample``: networks ``first_sample .. first_sample + count - 1`` are drawn.

    Sample ``s`` of a call is network ``first_sample + s`` of the seed, so a
    run split into consecutive chunks equals one call, bit for bit.
    """
    if isinstance(first_sample, bool) or not isinstance(first_sample, numbers.Integral) \
            or not 0 <= first_sample <= 2**62 - count:
        raise MaxboundsValueError("first_sample", f"must be an integer between 0 and 2**62 - samples, got {first_sample!r}")
    return int(first_sample)


def check_count(count, name: str = "samples") -> int:
    """Check a number of samples (or networks): an integer in ``1..MAX_SAMPLES``."""
    if isinstance(count, bool) or not isinstance(count, numbers.Integral) or not 1 <= count <= MAX_SAMPLES:
        raise MaxboundsValueError(name, f"must be an integer between 1 and {MAX_SAMPLES}, got {count!r}")
    return int(count)


def check_seed(seed, name: str = "seed") -> int:
    """Check a seed (or a network index): an integer in ``0..2**64-1``.

    A seed may also be a NumPy ``Generator``: the seed is then one 64-bit draw from it, so that code
    holding a ``Generator`` passes it to every sampler the same way (a network index must be an integer).
    """
    if name == "seed" and isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**64, dtype=np.uint64))
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed <= _MAX_SEED:
        raise MaxboundsValueError(name, f"must be an integer in 0..2**64-1, got {seed!r}")
    return int(seed)


def check_run_args(samples, seed, per_layer):
    """Check the arguments every sampler shares; return ``(samples, seed, per_layer)`` as plain types."""
    if not isinstance(per_layer, (bool, np.bool_)):
        raise MaxboundsValueError("per_layer", f"expected True or False, got {per_layer!r}")
    return check_count(samples), check_seed(seed), bool(per_layer)
