"""The drift statistics and the paired bootstrap against SciPy's reference implementations.

- KS from the stored reference vs ``scipy.stats.ks_2samp`` on the raw training rows: exact
  (1e-12) when the reference stores its values; from the histogram + quantile summary within
  ``SUMMARY_TOLERANCE`` = 0.01 in D (measured: <= 0.003 on 5,000 normal rows), and always
  within the worst case, the largest step between consecutive knots of the rebuilt CDF
  (between two knots both the true and the interpolated CDF lie inside that step).
- PSI on hand-computed worked examples.
- The gate's paired percentile bootstrap vs ``scipy.stats.bootstrap(paired=True)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from pr2prod.compare.bootstrap import interval, resample_counts, resampled
from pr2prod.config.monitor_schema import DriftConfig
from pr2prod.data.schema import MAX_STORED_VALUES, numeric_stats
from pr2prod.monitor.drift import numeric_drift, psi, reference_cdf

pytestmark = [pytest.mark.unit]

CFG = DriftConfig()
#: |D(summary) - D(raw rows)| allowed when the reference is a histogram + quantile summary
SUMMARY_TOLERANCE = 0.01


def test_ks_from_stored_values_equals_ks_2samp_on_the_raw_rows() -> None:
    rng = np.random.default_rng(0)
    train = rng.integers(0, 60, 800).astype(float)  # 60 distinct: stored, continuous kind
    window = rng.integers(5, 70, 300).astype(float)
    ref = numeric_stats(pd.Series(train))
    assert "values" in ref and CFG.discrete_max_values < ref["distinct"] <= MAX_STORED_VALUES
    out = numeric_drift(window, ref, CFG)
    expected = st.ks_2samp(train, window, method="asymp")
    assert out["over"] == "reference values"
    assert out["statistic"] == pytest.approx(expected.statistic, abs=1e-12)
    assert out["p_value"] == pytest.approx(expected.pvalue, rel=1e-9)


@pytest.mark.parametrize("shift", [0.0, 0.15, 0.5])
def test_ks_from_the_quantile_summary_is_within_the_stated_bound(shift: float) -> None:
    rng = np.random.default_rng(1)
    train = rng.normal(size=5000)  # all distinct: only the histogram and quantiles are stored
    window = rng.normal(loc=shift, size=800)
    ref = numeric_stats(pd.Series(train))
    assert "values" not in ref
    _, y = reference_cdf(ref)
    bound = float(np.max(np.diff(y)))  # the stated tolerance: the largest CDF step
    out = numeric_drift(window, ref, CFG)
    exact = st.ks_2samp(train, window, method="asymp")
    assert out["over"] == "reference histogram and quantiles"
    assert abs(out["statistic"] - exact.statistic) <= min(SUMMARY_TOLERANCE, bound)
    en = round(len(train) * len(window) / (len(train) + len(window)))
    lo = st.kstwo.sf(exact.statistic + SUMMARY_TOLERANCE, en)
    hi = st.kstwo.sf(max(exact.statistic - SUMMARY_TOLERANCE, 0.0), en)
    assert lo <= out["p_value"] <= hi
    print(f"shift {shift}: D {out['statistic']:.4f} vs {exact.statistic:.4f}, bound {bound:.3f}")


def test_psi_worked_examples() -> None:
    # shares .5/.3/.2 -> .3/.3/.4: (.3-.5)ln(.3/.5) + 0 + (.4-.2)ln(.4/.2)
    #                              = .1021651 + .1386294 = .2407946
    assert psi(np.array([50, 30, 20.0]), np.array([30, 30, 40.0])) == pytest.approx(
        0.2407946, abs=1e-7
    )
    # an empty expected bin is clipped at 1e-4: (.9-1)ln(.9) + (.1-1e-4)ln(.1/1e-4)
    #                                          = .0105361 + .6900848 = .7006208
    assert psi(np.array([100, 0.0]), np.array([90, 10.0])) == pytest.approx(0.7006208, abs=1e-6)
    assert psi(np.array([10, 20.0]), np.array([1, 2.0])) == pytest.approx(0.0, abs=1e-12)


def test_paired_bootstrap_interval_matches_scipy_bootstrap() -> None:
    rng = np.random.default_rng(2)
    n, resamples, level = 60, 20_000, 0.95
    correct_c = (rng.random(n) < 0.85).astype(float)  # candidate right on each row
    correct_b = (rng.random(n) < 0.75).astype(float)  # production right on each row
    counts = resample_counts(n, resamples, seed=3)
    sums = resampled({"c": correct_c[:, None], "b": correct_b[:, None]}, counts)
    ours = interval((sums["c"][:, 0] - sums["b"][:, 0]) / n, level)
    ref = st.bootstrap(
        (correct_c, correct_b),
        lambda c, b, axis=-1: c.mean(axis=axis) - b.mean(axis=axis),
        paired=True,
        vectorized=True,
        n_resamples=resamples,
        confidence_level=level,
        method="percentile",
        rng=np.random.default_rng(4),
    ).confidence_interval
    step = 1.0 / n  # the difference of two accuracies moves in steps of 1/n
    assert ours[0] == pytest.approx(ref.low, abs=step + 1e-9)
    assert ours[1] == pytest.approx(ref.high, abs=step + 1e-9)
    assert ours[0] < correct_c.mean() - correct_b.mean() < ours[1]
