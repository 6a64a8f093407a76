"""Which drift test a numeric column gets, decided by its training reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pr2prod.config.monitor_schema import DriftConfig
from pr2prod.data.schema import numeric_stats
from pr2prod.monitor.drift import numeric_drift

RNG = np.random.default_rng(0)


def test_reference_stores_distinct_values_of_low_cardinality_columns():
    ref = numeric_stats(pd.Series(RNG.choice([2010, 2011, 2015], 500)))
    assert ref["distinct"] == 3 and set(ref["values"]) == {"2010", "2011", "2015"}
    assert sum(ref["values"].values()) == pytest.approx(1.0)
    ref = numeric_stats(pd.Series(RNG.normal(size=500)))
    assert ref["distinct"] == 500 and "values" not in ref


def test_tied_column_above_the_threshold_gets_ks_on_exact_step_cdfs():
    train = np.round(RNG.gamma(3.0, 0.5, 2000), 1)  # ~50 values, heavily tied
    ref = numeric_stats(pd.Series(train))
    assert 20 < ref["distinct"] <= 100
    same = numeric_drift(RNG.choice(train, 3000), ref, DriftConfig())
    assert same["test"] == "ks" and same["over"] == "reference values"
    assert not same["drifted"] and same["statistic"] < 0.05
    shifted = numeric_drift(RNG.choice(train, 3000) + 1.0, ref, DriftConfig())
    assert shifted["drifted"] and shifted["statistic"] > 0.1


def test_a_reference_without_distinct_falls_back_to_bins_for_a_tied_window():
    train = RNG.integers(2010, 2018, 2000).astype(float)
    old = {
        k: v for k, v in numeric_stats(pd.Series(train)).items() if k not in ("distinct", "values")
    }
    same = numeric_drift(RNG.choice(train, 3000), old, DriftConfig())
    assert same["test"] == "chi2" and same["over"] == "histogram bins"
    assert not same["drifted"]
    late = RNG.choice(train, 3000)
    late[:1000] = 2017
    assert numeric_drift(late, old, DriftConfig())["drifted"]
