"""The decision rules against hand-computed cases, and the default gate on real drops."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pr2prod.compare.checks import Tolerance, metric_check, score
from pr2prod.compare.rules import decide, one_sided_bounds
from pr2prod.compare.sums import Paired
from pr2prod.config.gate_schema import BootstrapConfig, Rule

# 101 evenly spaced worsening samples 0.000 .. 0.100: numpy's linear percentile gives
# the 95th at 0.095 and the 5th at 0.005 exactly.
SAMPLES = np.arange(101) / 1000.0


def test_one_sided_bounds_are_the_level_and_one_minus_level_percentiles():
    lower, upper = one_sided_bounds(SAMPLES, 0.95)
    assert lower == pytest.approx(0.005)
    assert upper == pytest.approx(0.095)
    assert one_sided_bounds(np.array([np.nan, 0.02]), 0.9) == pytest.approx((0.02, 0.02))


@pytest.mark.parametrize(
    ("rule", "allowed", "passed"),
    [
        # estimate 0.05 within 0.06, upper bound 0.095 beyond it, lower bound 0.005 within
        (Rule.point, 0.06, True),
        (Rule.non_inferiority, 0.06, False),
        (Rule.harm_proven, 0.06, True),
        # a tolerance above the upper bound: every rule passes
        (Rule.non_inferiority, 0.1, True),
        (Rule.point, 0.1, True),
        (Rule.harm_proven, 0.1, True),
        # a tolerance below the lower bound: harm is proven, every rule fails
        (Rule.harm_proven, 0.004, False),
        (Rule.point, 0.004, False),
        (Rule.non_inferiority, 0.004, False),
    ],
)
def test_each_rule_matches_the_hand_computed_decision(rule, allowed, passed):
    decision = decide(rule, 0.05, SAMPLES, allowed, 0.95, rows=100)
    assert decision.passed is passed
    assert decision.bound == pytest.approx(0.095)
    assert decision.detectable == pytest.approx(0.045)  # 0.095 - 0.05


def test_power_says_how_many_rows_or_which_tolerance_would_do():
    decision = decide(Rule.non_inferiority, 0.05, SAMPLES, 0.06, 0.95, rows=100)
    # the bound must come down from 0.045 above the estimate to the 0.01 of room left:
    # spread ~ 1/sqrt(rows), so rows * (0.045 / 0.01)^2 = 100 * 20.25 = 2025
    assert decision.rows_needed == 2025
    assert "test set too small to show non-inferiority at tolerance 0.06" in decision.note
    assert "about 2025 test rows" in decision.note
    assert "tolerance of 0.095" in decision.note


def test_an_estimate_beyond_tolerance_is_not_a_power_problem():
    decision = decide(Rule.non_inferiority, 0.05, SAMPLES, 0.03, 0.95, rows=100)
    assert not decision.passed
    assert decision.rows_needed is None  # more rows cannot move the estimate
    assert "worse than tolerance" in decision.note


def test_rules_other_than_point_need_the_bootstrap():
    assert decide(Rule.point, 0.01, None, 0.02, 0.95, 10).passed
    fails = decide(Rule.non_inferiority, 0.0, None, 0.02, 0.95, 10)
    assert not fails.passed and "needs the bootstrap" in fails.note


def _drop(n: int, wrong: int, fixed: int = 0) -> Paired:
    """The candidate wrong on the first ``wrong`` rows, production wrong on the next
    ``fixed`` rows; both right elsewhere."""
    y = np.tile([0, 1], n)[:n]
    pred_b, pred_c = y.copy(), y.copy()
    pred_c[:wrong] = 1 - y[:wrong]
    pred_b[wrong : wrong + fixed] = 1 - y[wrong : wrong + fixed]
    return Paired("binary", y, pred_c, pred_b, None, None, 2)


def test_a_four_point_drop_fails_by_default_on_a_114_row_split():
    paired = _drop(114, wrong=5)  # 5 / 114 = 4.4 points, as in the issue
    scored = score(paired, BootstrapConfig())  # the default bootstrap
    tol = Tolerance("higher", abs_tol=0.03)  # the default accuracy tolerance
    check = metric_check(scored, "accuracy", tol, Rule.non_inferiority, "metric:accuracy")
    assert check.delta == pytest.approx(-5 / 114)
    assert not check.passed
    assert check.bound > check.tolerance


def test_a_candidate_as_good_as_production_passes_by_default():
    # one row lost, one row won: the same accuracy, two discordant rows
    paired = _drop(114, wrong=1, fixed=1)
    scored = score(paired, BootstrapConfig())
    tol = Tolerance("higher", abs_tol=0.03)
    check = metric_check(scored, "accuracy", tol, Rule.non_inferiority, "metric:accuracy")
    assert check.delta == 0.0
    assert check.passed, check
    assert 0.0 < check.detectable <= 0.03


def test_a_tiny_test_set_says_it_cannot_show_non_inferiority():
    paired = _drop(12, wrong=1, fixed=1)  # equal accuracy, but only 12 rows
    scored = score(paired, BootstrapConfig())
    tol = Tolerance("higher", abs_tol=0.03)
    check = metric_check(scored, "accuracy", tol, Rule.non_inferiority, "metric:accuracy")
    assert not check.passed
    assert check.detectable > check.tolerance
    assert "test set too small to show non-inferiority" in check.note
    assert check.rows_needed is not None and check.rows_needed > 12
    assert math.isfinite(check.bound)


def test_a_recall_traded_between_classes_fails_per_class_with_equal_accuracy():
    from pr2prod.compare.checks import class_check

    n = 114
    y = np.tile([0, 1], n // 2)
    pred_b, pred_c = y.copy(), y.copy()
    zeros, ones = np.flatnonzero(y == 0), np.flatnonzero(y == 1)
    pred_c[zeros[:7]] = 1  # the candidate loses 7 rows of class 0 ...
    pred_b[ones[:7]] = 0  # ... where production lost 7 rows of class 1
    scored = score(Paired("binary", y, pred_c, pred_b, None, None, 2), BootstrapConfig())
    accuracy = metric_check(scored, "accuracy", Tolerance("higher", 0.03), Rule.point, "a")
    assert accuracy.delta == 0.0
    lost = class_check(scored, "recall", 0, "0", 0.1, Rule.non_inferiority)
    won = class_check(scored, "recall", 1, "1", 0.1, Rule.non_inferiority)
    assert lost.delta == pytest.approx(-7 / 57)  # hand-computed: 7 of class 0's 57 rows
    assert not lost.passed and lost.id == "class:0:recall"
    assert won.passed and won.delta == pytest.approx(7 / 57)
