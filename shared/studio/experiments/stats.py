"""The statistics of an experiment's results, in plain math (no scipy: 143 MB and ~0.3 s of import
for four distributions; decision 0061). tests/unit/test_experiments_stats.py checks every function
against scipy on generated inputs.

- a mean metric: Welch's t-test (unequal variances, Welch-Satterthwaite degrees of freedom);
- a rate metric: the two-proportion z-test (pooled standard error for the p-value);
- uplift: the relative difference to control, with a 95% interval by the delta method;
- sample-ratio mismatch: Pearson's chi-square of the users per variation against the weights.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

SRM_ALPHA = 0.001  # GrowthBook's default threshold: a mismatch this unlikely means broken assignment


@dataclass(frozen=True)
class Arm:
    """One variation's per-subject metric: ``n`` subjects, the sum and the sum of squares of their values."""

    n: int
    total: float
    total_sq: float

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else 0.0

    @property
    def variance(self) -> float:
        """The sample variance (n - 1 in the denominator)."""
        if self.n < 2:
            return 0.0
        return max(0.0, (self.total_sq - self.total * self.total / self.n) / (self.n - 1))


@dataclass(frozen=True)
class Comparison:
    uplift: float | None  # (treatment - control) / control
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    test: str


# -- distributions -----------------------------------------------------------------------------

def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal."""
    return 0.5 * math.erfc(z / math.sqrt(2))


def _betacf(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    tiny, eps = 1e-300, 1e-15
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 400):
        m2 = 2 * m
        for numerator in (m * (b - m) * x / ((a + m2 - 1) * (a + m2)),
                          -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < eps:
            break
    return h


def reg_incomplete_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b), the regularized incomplete beta function."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1.0 - x) / b


def t_two_sided_p(t: float, df: float) -> float:
    """P(|T| > |t|) for Student's t with ``df`` degrees of freedom."""
    if math.isinf(df):
        return 2 * normal_sf(abs(t))
    return reg_incomplete_beta(df / 2.0, 0.5, df / (df + t * t))


def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile (p > 0.5) of Student's t, by bisection on the two-sided tail."""
    tail = 2 * (1 - p)
    lo, hi = 0.0, 1.0
    while t_two_sided_p(hi, df) > tail:
        hi *= 2
    for _ in range(100):
        mid = (lo + hi) / 2
        if t_two_sided_p(mid, df) > tail:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _reg_gamma_q(a: float, x: float) -> float:
    """Q(a, x), the regularized upper incomplete gamma function (series below a + 1, else a fraction)."""
    if x <= 0:
        return 1.0
    log_front = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        ap = a
        for _ in range(1000):
            ap += 1
            term *= x / ap
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(log_front))
    tiny = 1e-300
    b = x + 1 - a
    c, d = 1 / tiny, 1 / b
    h = d
    for i in range(1, 1000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = 1 / (d if abs(d) > tiny else tiny)
        c = b + an / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        if abs(d * c - 1) < 1e-15:
            break
    return math.exp(log_front) * h


def chi2_sf(x: float, df: int) -> float:
    """P(X > x) for a chi-square with ``df`` degrees of freedom."""
    return _reg_gamma_q(df / 2.0, x / 2.0)


# -- tests -------------------------------------------------------------------------------------

def welch(control: Arm, treatment: Arm, confidence: float = 0.95) -> Comparison:
    """Mean metric: relative uplift with its interval, and Welch's two-sided p-value."""
    if control.n < 2 or treatment.n < 2 or control.mean == 0:
        return Comparison(None, None, None, None, "welch_t")
    v0, v1 = control.variance / control.n, treatment.variance / treatment.n
    diff = treatment.mean - control.mean
    se = math.sqrt(v0 + v1)
    if se == 0:
        return Comparison(diff / control.mean, diff / control.mean, diff / control.mean,
                          1.0 if diff == 0 else 0.0, "welch_t")
    df = (v0 + v1) ** 2 / ((v0 * v0 / (control.n - 1) if v0 else 0) + (v1 * v1 / (treatment.n - 1) if v1 else 0))
    p = t_two_sided_p(diff / se, df)
    low, high = _relative_interval(control.mean, treatment.mean, v0, v1, t_quantile((1 + confidence) / 2, df))
    return Comparison(diff / control.mean, low, high, p, "welch_t")


def two_proportions(control: Arm, treatment: Arm, confidence: float = 0.95) -> Comparison:
    """Rate metric (``total`` = subjects who converted): relative uplift and the pooled z-test's p-value."""
    if control.n == 0 or treatment.n == 0:
        return Comparison(None, None, None, None, "two_proportion_z")
    p0, p1 = control.total / control.n, treatment.total / treatment.n
    if p0 == 0:
        return Comparison(None, None, None, None, "two_proportion_z")
    pooled = (control.total + treatment.total) / (control.n + treatment.n)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / control.n + 1 / treatment.n))
    p = 1.0 if se_pooled == 0 else 2 * normal_sf(abs(p1 - p0) / se_pooled)
    z = -_normal_quantile_low((1 - confidence) / 2)
    low, high = _relative_interval(p0, p1, p0 * (1 - p0) / control.n, p1 * (1 - p1) / treatment.n, z)
    return Comparison((p1 - p0) / p0, low, high, min(1.0, p), "two_proportion_z")


def _relative_interval(m0: float, m1: float, var0: float, var1: float, crit: float) -> tuple[float, float]:
    """Delta method for m1 / m0 - 1: Var ~ var1 / m0^2 + m1^2 var0 / m0^4."""
    rel = m1 / m0 - 1
    se = math.sqrt(var1 / (m0 * m0) + m1 * m1 * var0 / m0 ** 4)
    return rel - crit * se, rel + crit * se


def _normal_quantile_low(p: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(p)


def sample_ratio_mismatch(users: Sequence[int], weights: Sequence[float]) -> tuple[float | None, bool]:
    """Pearson's chi-square p-value of the observed users against the expected split, and whether it
    signals a mismatch (p < 0.001). None while no one is counted."""
    total = sum(users)
    if total == 0 or len(users) < 2:
        return None, False
    chi2 = sum((o - total * w) ** 2 / (total * w) for o, w in zip(users, weights, strict=True) if w > 0)
    p = chi2_sf(chi2, len(users) - 1)
    return p, p < SRM_ALPHA
