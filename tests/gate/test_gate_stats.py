"""Unit tests of the gate's statistics on small in-memory arrays."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from pr2prod.compare.bootstrap import interval, resample_counts, resampled
from pr2prod.compare.checks import (
    Scored,
    Tolerance,
    metric_check,
    metric_values,
    score,
    stability_check,
)
from pr2prod.compare.metrics import METRICS, flip_rate, skip_reason
from pr2prod.compare.sums import Paired, assign_units, total, unit_sums
from pr2prod.config.gate_schema import BootstrapConfig, Rule

NI = Rule.non_inferiority


def _classification(n: int, k: int, seed: int = 0) -> Paired:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    proba_c = rng.dirichlet(np.ones(k), n)
    proba_b = rng.dirichlet(np.ones(k), n)
    # make the candidate mostly right, the baseline a bit less so
    proba_c[np.arange(n), y] += 1.0
    proba_b[np.arange(n), y] += 0.6
    proba_c /= proba_c.sum(axis=1, keepdims=True)
    proba_b /= proba_b.sum(axis=1, keepdims=True)
    return Paired(
        "binary" if k == 2 else "multiclass",
        y,
        proba_c.argmax(1),
        proba_b.argmax(1),
        proba_c,
        proba_b,
        k,
    )


def _point(p: Paired) -> dict:
    return total(unit_sums(p, np.arange(p.n), p.n))


@pytest.mark.parametrize("k", [2, 3])
def test_classification_metrics_match_sklearn(k):
    p = _classification(300, k)
    s = _point(p)
    avg = "binary" if k == 2 else "macro"
    for side, pred, proba in (("c", p.pred_c, p.proba_c), ("b", p.pred_b, p.proba_b)):
        expected = {
            "accuracy": skm.accuracy_score(p.y, pred),
            "balanced_accuracy": skm.balanced_accuracy_score(p.y, pred),
            "f1": skm.f1_score(p.y, pred, average=avg),
            "precision": skm.precision_score(p.y, pred, average=avg, zero_division=0),
            "recall": skm.recall_score(p.y, pred, average=avg),
            "log_loss": skm.log_loss(p.y, proba, labels=list(range(k))),
        }
        for name, value in expected.items():
            got = METRICS[name].fn(s, side)[0]
            assert got == pytest.approx(value, abs=1e-9), (name, side)
    auc_c, auc_b = metric_values(score(p, BootstrapConfig(enabled=False)), "roc_auc")
    for got, proba in ((auc_c, p.proba_c), (auc_b, p.proba_b)):
        expected = (
            skm.roc_auc_score(p.y, proba[:, 1])
            if k == 2
            else skm.roc_auc_score(p.y, proba, multi_class="ovr")
        )
        assert got == pytest.approx(expected, abs=1e-12)


def test_roc_auc_handles_tied_scores_exactly():
    y = np.array([0, 0, 1, 1, 0, 1, 1, 0])
    score_ = np.array([0.2, 0.5, 0.5, 0.9, 0.5, 0.2, 0.7, 0.1])
    proba = np.column_stack([1 - score_, score_])
    p = Paired("binary", y, (score_ > 0.5).astype(int), (score_ > 0.5).astype(int), proba, proba, 2)
    auc_c, _ = metric_values(score(p, BootstrapConfig(enabled=False)), "roc_auc")
    assert auc_c == pytest.approx(skm.roc_auc_score(y, score_))


def test_linearised_auc_bootstrap_tracks_the_exact_resampled_auc():
    p = _classification(400, 2, seed=7)
    sums = unit_sums(p, np.arange(p.n), p.n)
    counts = resample_counts(p.n, 50, seed=1)
    boot = resampled(sums, counts)
    theta = skm.roc_auc_score(p.y, p.proba_c[:, 1])
    for r in range(50):
        rows = np.repeat(np.arange(p.n), counts[r].astype(int))
        exact = skm.roc_auc_score(p.y[rows], p.proba_c[rows, 1])
        linear = METRICS["roc_auc"].fn(boot, "c")[r] - theta
        assert linear == pytest.approx(exact, abs=0.01)


def test_regression_metrics_match_sklearn():
    rng = np.random.default_rng(1)
    y = rng.normal(size=200)
    pc, pb = y + rng.normal(scale=0.3, size=200), y + rng.normal(scale=0.5, size=200)
    s = _point(Paired("regression", y, pc, pb))
    for side, pred in (("c", pc), ("b", pb)):
        assert METRICS["rmse"].fn(s, side)[0] == pytest.approx(
            np.sqrt(skm.mean_squared_error(y, pred))
        )
        assert METRICS["mae"].fn(s, side)[0] == pytest.approx(skm.mean_absolute_error(y, pred))
        assert METRICS["r2"].fn(s, side)[0] == pytest.approx(skm.r2_score(y, pred))


def test_resample_counts_draw_n_units_per_resample_reproducibly():
    counts = resample_counts(50, 40, seed=3)
    assert counts.shape == (40, 50)
    assert np.all(counts.sum(axis=1) == 50)
    assert np.array_equal(counts, resample_counts(50, 40, seed=3))
    assert not np.array_equal(counts, resample_counts(50, 40, seed=4))


def test_resampled_sums_equal_explicit_row_resampling():
    p = _classification(30, 2, seed=5)
    sums = unit_sums(p, np.arange(p.n), p.n)
    counts = resample_counts(p.n, 5, seed=0)
    boot = resampled(sums, counts)
    for r in range(5):
        rows = np.repeat(np.arange(p.n), counts[r].astype(int))
        pred = p.pred_c[rows]
        expected = skm.accuracy_score(p.y[rows], pred)
        assert METRICS["accuracy"].fn(boot, "c")[r] == pytest.approx(expected)


def test_units_are_rows_until_max_units_then_equal_random_groups():
    assert np.array_equal(assign_units(10, 100, 0), np.arange(10))
    units = assign_units(1000, 100, 0)
    assert set(np.bincount(units)) == {10}
    assert not np.array_equal(units[:100], np.arange(100))


def test_paired_bootstrap_of_identical_models_is_exactly_zero():
    p = _classification(100, 2)
    same = Paired(p.task, p.y, p.pred_c, p.pred_c, p.proba_c, p.proba_c, 2)
    s = score(same, BootstrapConfig(resamples=200))
    check = metric_check(s, "accuracy", Tolerance("higher", 0.0), NI, "metric:accuracy")
    assert check.passed
    assert check.delta == 0.0
    assert check.ci == [0.0, 0.0]
    assert check.bound == 0.0 and check.detectable == 0.0
    assert stability_check(s, "binary", 0.0, NI).passed


def _shifted(n_wrong: int, n: int = 200) -> Paired:
    """Candidate wrong on ``n_wrong`` rows where the baseline is right; otherwise equal."""
    y = np.tile([0, 1], n // 2)
    pred_b = y.copy()
    pred_c = y.copy()
    pred_c[:n_wrong] = 1 - y[:n_wrong]
    return Paired("binary", y, pred_c, pred_b, None, None, 2)


def test_a_drop_not_proven_harmful_passes_only_under_harm_proven():
    p = _shifted(3)  # accuracy 1.0 -> 0.985: beyond a 0.01 tolerance, not significantly
    tol = Tolerance("higher", abs_tol=0.01)
    scored = score(p, BootstrapConfig(resamples=500))
    harm = metric_check(scored, "accuracy", tol, Rule.harm_proven, "m")
    assert harm.passed
    assert "not proven" in harm.note
    assert harm.ci[0] < -0.01 < harm.ci[1] <= 0.0
    assert not metric_check(scored, "accuracy", tol, NI, "m").passed
    point = score(p, BootstrapConfig(enabled=False))
    assert not metric_check(point, "accuracy", tol, Rule.point, "m").passed


def test_large_drop_fails_under_every_rule():
    p = _shifted(40)  # accuracy 1.0 -> 0.8
    scored = score(p, BootstrapConfig(resamples=500))
    for rule in Rule:
        check = metric_check(scored, "accuracy", Tolerance("higher", abs_tol=0.01), rule, "m")
        assert not check.passed, rule
        assert check.ci[1] < -0.01


def test_lower_is_better_and_relative_tolerance():
    y = np.zeros(100)
    p = Paired("regression", y, np.full(100, 1.05), np.full(100, 1.0))  # rmse 1.0 -> 1.05
    s = score(p, BootstrapConfig(enabled=False))
    assert metric_check(s, "rmse", Tolerance("lower", rel_tol=0.1), Rule.point, "m").passed
    failed = metric_check(s, "rmse", Tolerance("lower", rel_tol=0.01), Rule.point, "m")
    assert not failed.passed
    assert failed.tolerance == pytest.approx(0.01)


def test_flip_rate_counts_rows_whose_class_changes():
    p = _shifted(20)
    assert flip_rate(_point(p))[0] == pytest.approx(0.1)
    point = score(p, BootstrapConfig(enabled=False))
    assert not stability_check(point, "binary", 0.05, Rule.point).passed


def test_interval_ignores_nan_resamples():
    lo, hi = interval(np.array([np.nan, 1.0, 2.0, 3.0, np.nan]), 0.5)
    assert 1.0 <= lo < hi <= 3.0


@pytest.mark.parametrize(
    ("name", "task", "reason"),
    [
        ("rmse", "binary", "not a binary metric"),
        ("accuracy", "regression", "not a regression metric"),
        ("roc_auc", "binary", None),
    ],
)
def test_skip_reason_is_task_aware(name, task, reason):
    assert skip_reason(name, task, has_proba=True) == reason


def test_undefined_metric_on_one_class_rows_is_not_gated():
    y = np.ones(10, dtype=int)
    proba = np.column_stack([np.full(10, 0.3), np.full(10, 0.7)])
    p = Paired("binary", y, y, y, proba, proba, 2)
    s = Scored(10, _point(p), None, 0.95)
    check = metric_check(s, "roc_auc", Tolerance("higher", 0.0), NI, "m")
    assert check.passed
    assert "undefined" in check.note
