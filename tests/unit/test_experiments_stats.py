"""The experiments' statistics agree with scipy (a test-only dependency) on generated inputs."""
from __future__ import annotations

import math
import random

import pytest
from scipy import stats as sp

from studio.experiments import stats


def _arm(values: list[float]) -> stats.Arm:
    return stats.Arm(len(values), sum(values), sum(v * v for v in values))


def test_t_distribution_tails_and_quantiles_match_scipy() -> None:
    rng = random.Random(7)
    for _ in range(2_000):
        df = rng.choice([1, 2, 3.5, 10, 29.7, 100, 1e4, rng.uniform(1, 500)])
        t = rng.uniform(-12, 12)
        assert stats.t_two_sided_p(t, df) == pytest.approx(2 * sp.t.sf(abs(t), df), rel=1e-7, abs=1e-12)
    for df in (2, 5, 17.3, 120, 5000):
        assert stats.t_quantile(0.975, df) == pytest.approx(sp.t.ppf(0.975, df), rel=1e-8)


def test_chi_square_tail_matches_scipy() -> None:
    rng = random.Random(8)
    for _ in range(2_000):
        df = rng.randint(1, 12)
        x = rng.choice([rng.uniform(0, 3), rng.uniform(0, 60), rng.uniform(50, 400)])
        assert stats.chi2_sf(x, df) == pytest.approx(sp.chi2.sf(x, df), rel=1e-7, abs=1e-14)


def test_welch_matches_scipy_ttest() -> None:
    rng = random.Random(9)
    for _ in range(300):
        a = [rng.gauss(10, rng.uniform(0.5, 5)) for _ in range(rng.randint(3, 400))]
        b = [rng.gauss(10 + rng.uniform(-2, 2), rng.uniform(0.5, 5)) for _ in range(rng.randint(3, 400))]
        got = stats.welch(_arm(a), _arm(b))
        want = sp.ttest_ind(b, a, equal_var=False)
        assert got.p_value == pytest.approx(want.pvalue, rel=1e-6, abs=1e-12)
        assert got.uplift == pytest.approx(sum(b) / len(b) / (sum(a) / len(a)) - 1, rel=1e-9)
        assert got.ci_low is not None and got.ci_high is not None and got.ci_low < got.uplift < got.ci_high


def test_two_proportions_matches_a_pooled_z_test() -> None:
    rng = random.Random(10)
    for _ in range(500):
        n0, n1 = rng.randint(50, 20_000), rng.randint(50, 20_000)
        c0, c1 = rng.randint(1, n0), rng.randint(0, n1)
        got = stats.two_proportions(stats.Arm(n0, c0, c0), stats.Arm(n1, c1, c1))
        pooled = (c0 + c1) / (n0 + n1)
        z = (c1 / n1 - c0 / n0) / math.sqrt(pooled * (1 - pooled) * (1 / n0 + 1 / n1)) if 0 < pooled < 1 else 0
        want = 2 * sp.norm.sf(abs(z)) if 0 < pooled < 1 else 1.0
        assert got.p_value == pytest.approx(min(1.0, want), rel=1e-9, abs=1e-15)


def test_interval_covers_the_true_uplift_about_95_percent_of_the_time() -> None:
    """Coverage by simulation: a real property of the interval, not a re-derivation of the formula."""
    rng = random.Random(11)
    covered = 0
    runs = 400
    for _ in range(runs):
        a = [rng.expovariate(1 / 10) for _ in range(300)]
        b = [rng.expovariate(1 / 11) for _ in range(300)]
        got = stats.welch(_arm(a), _arm(b))
        assert got.ci_low is not None and got.ci_high is not None
        covered += got.ci_low <= 0.1 <= got.ci_high
    assert 0.91 <= covered / runs <= 0.98


def test_sample_ratio_mismatch() -> None:
    p, mismatch = stats.sample_ratio_mismatch([5_000, 5_050], [0.5, 0.5])
    assert p == pytest.approx(sp.chisquare([5_000, 5_050], [5_025, 5_025]).pvalue) and not mismatch
    p, mismatch = stats.sample_ratio_mismatch([5_000, 5_400], [0.5, 0.5])
    assert p is not None and p < 0.001 and mismatch
    p, mismatch = stats.sample_ratio_mismatch([2_000, 1_000, 1_000], [0.5, 0.25, 0.25])
    assert p == pytest.approx(1.0) and not mismatch
    assert stats.sample_ratio_mismatch([0, 0], [0.5, 0.5]) == (None, False)


def test_degenerate_arms_give_no_verdict_rather_than_nonsense() -> None:
    assert stats.welch(stats.Arm(1, 1, 1), stats.Arm(10, 10, 10)).p_value is None
    assert stats.welch(stats.Arm(10, 0, 0), stats.Arm(10, 5, 5)).uplift is None  # control mean 0
    same = stats.welch(stats.Arm(10, 20, 40), stats.Arm(10, 20, 40))  # no variance, no difference
    assert same.p_value == 1.0 and same.uplift == 0.0
    assert stats.two_proportions(stats.Arm(0, 0, 0), stats.Arm(10, 1, 1)).p_value is None
