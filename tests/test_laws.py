"""The order-statistic laws as scipy.stats random variables."""

import numpy as np
import pytest
from scipy import integrate, stats

from maxbounds import MaxboundsValueError
from maxbounds.constants import L, M, S, chi2_max, chi2_max_moment, chi2_min, chi2_min_moment, gaussian_max

LAWS = [gaussian_max, chi2_min, chi2_max]
RANKS = [1, 2, 5, 50]


@pytest.mark.parametrize("law", LAWS, ids=lambda law: law.name)
@pytest.mark.parametrize("K", RANKS)
def test_pdf_integrates_to_one_and_matches_cdf(law, K):
    d = law(K=K)
    lo, hi = d.ppf(1e-12), d.isf(1e-14)
    mass, _ = integrate.quad(d.pdf, lo, hi, limit=200, points=[d.median()])
    assert mass == pytest.approx(1.0, abs=1e-9)
    for x in d.ppf([0.01, 0.3, 0.5, 0.9]):
        part, _ = integrate.quad(d.pdf, lo, x, limit=200)
        assert part == pytest.approx(d.cdf(x) - 1e-12, abs=1e-9)


@pytest.mark.parametrize("law", LAWS, ids=lambda law: law.name)
@pytest.mark.parametrize("K", RANKS + [10**6])
def test_quantiles_invert_cdf_in_both_tails(law, K):
    d = law(K=K)
    # a chi-squared quantile near 0 is about p**2: 1e-300 would underflow
    tiny = 1e-300 if law is gaussian_max else 1e-100
    p = np.array([tiny, 1e-30, 1e-8, 0.2, 0.5, 0.8])
    assert np.allclose(d.cdf(d.ppf(p)), p, rtol=1e-9, atol=0)
    q = np.array([1e-300, 1e-30, 1e-8, 0.2])
    assert np.allclose(d.sf(d.isf(q)), q, rtol=1e-9, atol=0)


def test_rank_one_laws_are_the_classical_ones():
    x = np.linspace(-3, 3, 13)
    assert np.allclose(gaussian_max(K=1).cdf(x), stats.norm.cdf(x), rtol=1e-14)
    y = np.linspace(0.01, 9, 13)
    assert np.allclose(chi2_min(K=1).pdf(y), stats.chi2(1).pdf(y), rtol=1e-13)
    assert np.allclose(chi2_max(K=1).cdf(y), stats.chi2(1).cdf(y), rtol=1e-13)


@pytest.mark.parametrize("K", [2, 5, 1000])
def test_mean_and_moment_are_the_constants(K):
    # scipy forms moment(2) as var + mean^2: equal up to rounding
    assert gaussian_max(K=K).moment(2) == pytest.approx(M(K), rel=1e-13)
    assert chi2_min(K=K).mean() == S(K)
    assert chi2_max(K=K).mean() == L(K)


@pytest.mark.parametrize("law, moment", [(chi2_min, chi2_min_moment), (chi2_max, chi2_max_moment)])
@pytest.mark.parametrize("K", [2, 5, 1000])
def test_variance_without_cancellation(law, moment, K):
    # Var = E[X^2] - E[X]^2 computed with the verified 30-digit path
    exact = moment(K, 2, dps=30) - moment(K, 1, dps=30) ** 2
    assert law(K=K).var() == pytest.approx(float(exact), rel=1e-11)


def test_gaussian_max_variance_for_a_million_units():
    exact = gaussian_max_moment_dps(10**6)
    assert gaussian_max(K=10**6).var() == pytest.approx(exact, rel=1e-11)


def gaussian_max_moment_dps(K):
    from maxbounds.constants import gaussian_max_moment

    return float(gaussian_max_moment(K, 2, dps=30) - gaussian_max_moment(K, 1, dps=30) ** 2)


@pytest.mark.parametrize("law", LAWS, ids=lambda law: law.name)
@pytest.mark.parametrize("K", [3, 200])
def test_samples_follow_the_law(law, K):
    # Kolmogorov-Smirnov test at a fixed seed; at level 1e-4 a correct
    # sampler fails with probability 1e-4 per case.
    sample = law(K=K).rvs(size=20_000, random_state=np.random.default_rng(1234 + K))
    assert stats.kstest(sample, law(K=K).cdf).pvalue > 1e-4


def test_samples_are_reproducible_and_seed_dependent():
    a = gaussian_max(K=5).rvs(size=100, random_state=np.random.default_rng(7))
    b = gaussian_max(K=5).rvs(size=100, random_state=np.random.default_rng(7))
    c = gaussian_max(K=5).rvs(size=100, random_state=np.random.default_rng(8))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_sample_mean_within_standard_errors():
    # |z| <= 4.5: false-failure probability 6.8e-6 per law
    rng = np.random.default_rng(99)
    for law, mean in [(gaussian_max, None), (chi2_min, S(7)), (chi2_max, L(7))]:
        d = law(K=7)
        x = d.rvs(size=100_000, random_state=rng)
        mean = d.mean() if mean is None else mean
        z = abs(x.mean() - mean) / (x.std(ddof=1) / np.sqrt(x.size))
        assert z < 4.5


@pytest.mark.parametrize("K", [0, 2.5, -1, None])
def test_freezing_checks_the_rank(K):
    with pytest.raises(MaxboundsValueError):
        gaussian_max(K=K) if K is not None else gaussian_max()
