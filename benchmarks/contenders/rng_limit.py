r"""The random-number limit: the time to draw a simulator's random numbers and do nothing else.

Counts per network (sample) for a fully connected architecture with zero biases:

* explicit sampler: :math:`\sum_l n_l K_l n_{l-1}` standard normals (one per
  weight; ``K_L = 1``), plus :math:`\sum_l n_l K_l` when the biases are random;
* Gram chain: one uniform per maxout unit, :math:`\sum_{l<L} n_l` (its
  :math:`O(1)` extra draws per layer, a normal and a gamma, are left out:
  the limit is a lower bound);
* convolutional sampler: :math:`\sum_l C_l K_l C_{l-1} k_l^2` normals plus the
  output layer's :math:`n_{\rm out} C_{L-1} H W`.

Generators, each drawing the numbers only, on ``threads`` threads:

* :func:`numba_xoshiro`: the simulators' own stream (xoshiro256**, normals by
  the ziggurat, :mod:`maxbounds._streams`), the state held in registers as the
  samplers hold it, in parallel over samples;
* :func:`numba_builtin`: Numba's ``np.random`` (per-thread Mersenne Twister);
* :func:`numpy_sfc64`: ``numpy.random.Generator(SFC64)`` (ziggurat normals),
  one generator per thread, filling a reused buffer (NumPy releases the GIL).
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from maxbounds.simulate import _kernels


def explicit_count(arch) -> int:
    """Normals drawn per network by :func:`maxbounds.simulate.explicit_samples` (or the conv sampler)."""
    ranks = tuple(arch.ranks) + (1,)
    if arch.conv is not None:
        conv = arch.conv
        total = sum(conv.channels[l + 1] * ranks[l] * conv.channels[l] * conv.kernel_size[l] ** 2
                    + (conv.channels[l + 1] * ranks[l] if arch.bias_var[l] > 0 else 0)
                    for l in range(arch.depth - 1))
        return total + arch.n_out * (arch.widths[-2] + (arch.bias_var[-1] > 0))
    return sum(arch.widths[l + 1] * ranks[l] * (arch.widths[l] + (arch.bias_var[l] > 0))
               for l in range(arch.depth))


def chain_count(arch) -> int:
    """Uniforms drawn per network by the Gram chain's maxout layers: one per unit."""
    return sum(arch.widths[l + 1] for l in range(arch.depth) if (tuple(arch.ranks) + (1,))[l] > 1)


@numba.njit(parallel=True)  # not cached: it would keep stale copies of the maxbounds kernels it calls
def _xoshiro_normals(count, samples, seed, out):
    for s in numba.prange(samples):
        rng = np.empty(4, dtype=np.uint64)
        _kernels.seed_stream(rng, seed, np.uint64(s))
        s0, s1, s2, s3 = rng[0], rng[1], rng[2], rng[3]  # in registers, as the samplers hold it
        total = 0.0
        for _ in range(count):
            x, s0, s1, s2, s3 = _kernels.normal_step(s0, s1, s2, s3)
            total += x
        out[s] = total


@numba.njit(parallel=True)  # not cached: it would keep stale copies of the maxbounds kernels it calls
def _xoshiro_uniforms(count, samples, seed, out):
    for s in numba.prange(samples):
        rng = np.empty(4, dtype=np.uint64)
        _kernels.seed_stream(rng, seed, np.uint64(s))
        s0, s1, s2, s3 = rng[0], rng[1], rng[2], rng[3]
        total = 0.0
        for _ in range(count):
            x, s0, s1, s2, s3 = _kernels.uniform_step(s0, s1, s2, s3)
            total += x
        out[s] = total


@numba.njit(cache=True, parallel=True)
def _builtin_normals(count, samples, out):
    for s in numba.prange(samples):
        total = 0.0
        for _ in range(count):
            total += np.random.standard_normal()
        out[s] = total


@numba.njit(cache=True, parallel=True)
def _builtin_uniforms(count, samples, out):
    for s in numba.prange(samples):
        total = 0.0
        for _ in range(count):
            total += np.random.random()
        out[s] = total


def numba_xoshiro(count: int, samples: int, kind: str = "normal", seed: int = 1) -> np.ndarray:
    """Each sample draws ``count`` numbers from its xoshiro256** stream; returns their sums (so nothing is elided)."""
    out = np.empty(samples)
    (_xoshiro_normals if kind == "normal" else _xoshiro_uniforms)(count, samples, np.uint64(seed), out)
    return out


def numba_builtin(count: int, samples: int, kind: str = "normal") -> np.ndarray:
    """As :func:`numba_xoshiro` with Numba's built-in generator."""
    out = np.empty(samples)
    (_builtin_normals if kind == "normal" else _builtin_uniforms)(count, samples, out)
    return out


def numpy_sfc64(count: int, samples: int, kind: str = "normal", threads: int = 2, seed: int = 1,
                chunk: int = 2**20) -> float:
    """Draw ``count * samples`` numbers with one ``Generator(SFC64)`` per thread; returns the last chunk's sum."""
    total = count * samples
    shares = [total // threads + (t < total % threads) for t in range(threads)]
    gens = [np.random.Generator(np.random.SFC64(s)) for s in np.random.SeedSequence(seed).spawn(threads)]

    def work(t):
        buf = np.empty(min(chunk, max(1, shares[t])))
        left = shares[t]
        while left > 0:
            m = min(left, buf.size)
            if kind == "normal":
                gens[t].standard_normal(out=buf[:m])
            else:
                gens[t].random(out=buf[:m])
            left -= m
        return float(buf.sum())

    if threads == 1:
        return work(0)
    with ThreadPoolExecutor(threads) as pool:
        return math.fsum(pool.map(work, range(threads)))
