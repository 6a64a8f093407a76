"""The trigger rules against hand-computed monitor figures."""

from __future__ import annotations

import pytest

from pr2prod.config.retrain_schema import (
    DriftRule,
    NewRowsCount,
    NewRowsRule,
    PerformanceRule,
    RulesConfig,
    ScheduleRule,
)
from pr2prod.monitor.summary import MonitorSummary
from pr2prod.retrain.rules import (
    Event,
    drift_rule,
    evaluate_rules,
    new_rows_rule,
    performance_rule,
    schedule_rule,
)


def summary(
    drifted: int = 0,
    evaluated: int = 8,
    prediction_drifted: bool = False,
    flagged: tuple[str, ...] = (),
    labelled: int = 0,
    rows: int = 500,
    perf_evaluated: bool = True,
) -> MonitorSummary:
    """A monitor summary with ``drifted`` of ``evaluated`` features drifted (+1 not evaluated)."""
    features = {
        f"f{i}": {"evaluated": True, "drifted": i < drifted, "psi": 0.5 if i < drifted else 0.01}
        for i in range(evaluated)
    }
    features["ignored"] = {"evaluated": False}
    return MonitorSummary.model_validate(
        {
            "window": {
                "source": "log",
                "path": "logs/p.jsonl",
                "start": "a",
                "end": "b",
                "rows": rows,
            },
            "drift_evaluated": True,
            "features": features,
            "drifted_features": sorted(f"f{i}" for i in range(drifted)),
            "prediction": {
                "evaluated": True,
                "drifted": prediction_drifted,
                "psi": 0.3,
                "reasons": ["PSI 0.300 >= 0.2"] if prediction_drifted else [],
            },
            "performance": {
                "evaluated": perf_evaluated,
                "metric": "accuracy",
                "flagged": list(flagged),
                "labelled_rows": labelled,
            },
            "model_versions": {"v1.0.0": rows},
            "alerts": [],
            "alert": False,
        }
    )


@pytest.mark.parametrize(
    ("drifted", "min_features", "min_share", "fired"),
    [
        (1, 2, None, False),  # 1 < 2
        (2, 2, None, True),  # 2 >= 2
        (2, None, 0.25, True),  # 2/8 = 0.25 >= 0.25
        (1, None, 0.25, False),  # 1/8 = 0.125
        (3, None, 0.4, False),  # 3/8 = 0.375 < 0.4 (the unevaluated feature does not count)
        (0, None, None, False),
    ],
)
def test_drift_rule_counts_and_shares(drifted, min_features, min_share, fired):
    rule = DriftRule(min_features=min_features, min_share=min_share, prediction=False)
    result = drift_rule(rule, summary(drifted=drifted))
    assert result.evaluated
    assert result.fired is fired
    assert result.figures["n_drifted"] == drifted
    assert result.figures["n_evaluated"] == 8
    assert result.figures["drifted_share"] == pytest.approx(drifted / 8)


def test_prediction_drift_fires_on_its_own_unless_switched_off():
    s = summary(drifted=0, prediction_drifted=True)
    assert drift_rule(DriftRule(prediction=True), s).fired
    assert "prediction drift" in drift_rule(DriftRule(prediction=True), s).evidence
    assert not drift_rule(DriftRule(prediction=False), s).fired


def test_drift_not_evaluated_is_reported_never_fired():
    s = summary(drifted=5).model_copy(
        update={"drift_evaluated": False, "drift_reason": "50 rows < drift.min_rows=100"}
    )
    result = drift_rule(DriftRule(), s)
    assert (result.evaluated, result.fired) == (False, False)
    assert "50 rows" in result.evidence
    assert not drift_rule(DriftRule(enabled=False), summary(drifted=5)).evaluated
    assert not drift_rule(DriftRule(), None).evaluated


def test_performance_rule_counts_flagged_windows():
    two = summary(flagged=("2026-01-07", "2026-01-08"), labelled=900)
    assert performance_rule(PerformanceRule(min_flagged_windows=2), two).fired
    assert not performance_rule(PerformanceRule(min_flagged_windows=3), two).fired
    result = performance_rule(PerformanceRule(), two)
    assert result.figures == {
        "metric": "accuracy",
        "flagged_windows": ["2026-01-07", "2026-01-08"],
        "labelled_rows": 900,
    }
    none = performance_rule(PerformanceRule(), summary(perf_evaluated=False))
    assert not none.evaluated


@pytest.mark.parametrize(
    ("count", "min_rows", "fired"),
    [
        (NewRowsCount.labelled, 300, True),  # 300 labelled >= 300
        (NewRowsCount.labelled, 301, False),
        (NewRowsCount.records, 500, True),  # 500 records
        (NewRowsCount.records, 501, False),
    ],
)
def test_new_rows_rule(count, min_rows, fired):
    result = new_rows_rule(NewRowsRule(min_rows=min_rows, count=count), summary(labelled=300))
    assert result.fired is fired
    assert not new_rows_rule(NewRowsRule(min_rows=None), summary()).evaluated


def test_schedule_rule_by_event_and_by_age():
    every = ScheduleRule(every_scheduled_run=True)
    assert schedule_rule(every, Event.schedule, None).fired
    assert not schedule_rule(every, Event.manual, None).fired
    aged = ScheduleRule(max_model_age_days=30)
    assert schedule_rule(aged, Event.manual, 30.5).fired
    assert not schedule_rule(aged, Event.manual, 29.0).fired
    assert not schedule_rule(aged, Event.manual, None).fired  # nothing in production
    assert not schedule_rule(ScheduleRule(), Event.schedule, 400.0).evaluated


def test_every_rule_is_reported_in_order():
    rules = RulesConfig()
    results = evaluate_rules(rules, summary(drifted=2), Event.manual, None)
    assert [str(r.rule) for r in results] == ["drift", "performance", "new_rows", "schedule"]
    assert [r.fired for r in results] == [True, False, False, False]
