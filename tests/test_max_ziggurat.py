"""The ziggurat for the largest of K normals (maxbounds._max_ziggurat, _streams.gaussian_max_table).

Against the exact law :math:`\\Phi(x)^K`: one-sample KS at level 1e-6, a
chi-square over 64 equal-probability bins at level 1e-6, the first two moments
against the mpmath-verified constants (z <= 4.5, rate 6.8e-6 each), and the
tails' frequencies (binomial z <= 4.5).  With 6 ranks and 5 tests each the
false-failure rate of the file is below 3e-4.  The tables' inclusions, which make
the sampler exact whatever the margins, are checked by :func:`verify`.
"""

import math

import numba
import numpy as np
import pytest
from scipy import stats
from scipy.special import ndtr

from maxbounds import _max_ziggurat, _streams
from maxbounds.constants import gaussian_max_moment

RANKS = (2, 3, 5, 8, 13, 64)
DRAWS = 400_000


@numba.njit  # not cached: a cached caller would keep stale copies of the maxbounds kernels it inlines
def _draw(seed, count, K, table):
    state = np.empty(4, dtype=np.uint64)
    _streams.seed_stream(state, np.uint64(seed), np.uint64(0))
    out = np.empty(count)
    total = _streams.gaussian_max_table(state, count, K, table, np.empty(_streams.MAX_BATCH, np.uint64), out)
    return out, total


@pytest.fixture(scope="module", params=RANKS)
def drawn(request):
    K = request.param
    out, total = _draw(1000 + K, DRAWS, K, _max_ziggurat.flat(K))
    assert abs(total - np.sum(out * out)) <= 1e-9 * total  # the sum the chain uses is that of the variates
    return K, out


def test_tables_satisfy_the_inclusions_that_make_the_sampler_exact():
    for K in (*range(2, 17), 32, 63, 64):
        _max_ziggurat.verify(K)
        assert _max_ziggurat.packed(K).shape == (_max_ziggurat.COLUMNS // 4, _max_ziggurat.LAYERS, 4)
    assert int(_streams._MAX_ZMASK) == _max_ziggurat.LAYERS - 1  # the kernel's layer bits are the tables' layers
    assert _streams._MAX_LAYERS == _max_ziggurat.LAYERS and _streams._G1 == _max_ziggurat.LAYERS * 4
    with pytest.raises(ValueError):
        _max_ziggurat.tables(1)


def test_law_is_phi_to_the_K(drawn):
    K, x = drawn
    cdf = lambda v: ndtr(v) ** K  # noqa: E731
    assert stats.kstest(x, cdf).pvalue > 1e-6
    counts = np.bincount(np.minimum((cdf(x) * 64).astype(int), 63), minlength=64)
    assert stats.chisquare(counts).pvalue > 1e-6


def test_moments(drawn):
    K, x = drawn
    for t in (1, 2):
        sample = x**t
        z = (sample.mean() - gaussian_max_moment(K, t)) / (sample.std() / math.sqrt(x.size))
        assert abs(z) < 4.5, (K, t, z)


def test_tails_are_drawn_with_their_probability(drawn):
    K, x = drawn
    table, tail = _max_ziggurat.tables(K)
    left, right = table[0, 0], table[1, 1]
    for hits, p in ((np.count_nonzero(x < left), ndtr(left) ** K), (np.count_nonzero(x > right), tail[3])):
        z = (hits - x.size * p) / math.sqrt(x.size * p * (1 - p))
        assert abs(z) < 4.5 and hits > 0, (K, hits, x.size * p)


def test_the_chain_uses_it_and_keeps_its_law():
    """The Numba chain (ziggurat) against the NumPy chain (its own draws of the maxima), E||x_1||^2 exact."""
    from maxbounds.architecture import Architecture
    from maxbounds.laws.exact import activation_length_mean_var
    from maxbounds.simulate import chain_samples

    arch = Architecture((3, 40, 2), ranks=4, c=1.0)
    x, u = np.full(3, 1 / math.sqrt(3)), np.eye(3)[0]
    values = chain_samples(arch, x, u, 100_000, 5, per_layer=True).sq_norm_x[1]
    exact = activation_length_mean_var(arch, x)[0][1]
    assert abs(values.mean() - exact) < 4.5 * values.std() / math.sqrt(values.size)


def test_moment_sums_are_those_of_the_drawn_maxima():
    """ziggurat_moments (the validation suite's sums, drawn in pieces) against the same draws as an array."""
    from maxbounds.simulate.chain import ziggurat_maxima, ziggurat_moments

    count = 200_003  # more than three pieces of the kernel's buffer, the last one partial
    x = ziggurat_maxima(5, count, 77)
    sums = ziggurat_moments(5, count, 77)
    for power, total in zip((1, 2, 3, 4), sums):
        assert total == pytest.approx(np.sum(x**power), rel=1e-12)
    with pytest.raises(ValueError):
        ziggurat_moments(1, 10, 0)
