"""The trigger rules (``retrain.rules``): each turns monitor figures into fired / not fired
with its evidence. Pure: no file, no clock."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pr2prod.config.retrain_schema import (
    DriftRule,
    NewRowsCount,
    NewRowsRule,
    PerformanceRule,
    RulesConfig,
    ScheduleRule,
)
from pr2prod.monitor.summary import MonitorSummary


class Event(StrEnum):
    """``pr2prod retrain --event``: what started the run."""

    schedule = "schedule"  # the scheduled workflow run
    manual = "manual"  # a person (workflow_dispatch or the command line)


class RuleName(StrEnum):
    """The trigger rules, in the order they are evaluated and reported."""

    drift = "drift"
    performance = "performance"
    new_rows = "new_rows"
    schedule = "schedule"


class RuleResult(BaseModel):
    """One rule's verdict: evaluated at all, fired, and the evidence (a sentence + figures)."""

    model_config = ConfigDict(frozen=True)

    rule: RuleName
    evaluated: bool
    fired: bool
    evidence: str
    figures: dict[str, Any] = Field(default_factory=dict)


def evaluate_rules(
    rules: RulesConfig,
    summary: MonitorSummary | None,
    event: Event,
    model_age_days: float | None,
) -> list[RuleResult]:
    """Every rule against the monitor summary (None: no report), the event and the age of
    the production version in days (None: none in production, or not looked up)."""
    return [
        drift_rule(rules.drift, summary),
        performance_rule(rules.performance, summary),
        new_rows_rule(rules.new_rows, summary),
        schedule_rule(rules.schedule, event, model_age_days),
    ]


def _skip(rule: RuleName, why: str) -> RuleResult:
    return RuleResult(rule=rule, evaluated=False, fired=False, evidence=why)


def drift_rule(rule: DriftRule, summary: MonitorSummary | None) -> RuleResult:
    """Fires on ``min_features`` drifted features, a ``min_share`` of the evaluated ones, or
    prediction drift (``prediction``)."""
    name = RuleName.drift
    if not rule.enabled:
        return _skip(name, "disabled (retrain.rules.drift.enabled: false)")
    if summary is None:
        return _skip(name, "no monitor report")
    if not summary.drift_evaluated:
        return _skip(name, f"drift not evaluated: {summary.drift_reason}")
    drifted, evaluated = summary.drifted_features, summary.evaluated_features
    share = len(drifted) / len(evaluated) if evaluated else 0.0
    pred = summary.prediction
    reasons = []
    if rule.min_features is not None and len(drifted) >= rule.min_features:
        reasons.append(f"{len(drifted)} drifted features >= min_features {rule.min_features}")
    if rule.min_share is not None and evaluated and share >= rule.min_share:
        reasons.append(f"drifted share {share:.3f} >= min_share {rule.min_share}")
    if rule.prediction and pred.evaluated and pred.drifted:
        reasons.append(f"prediction drift ({'; '.join(pred.reasons)})")
    figures = {
        "drifted_features": drifted,
        "n_drifted": len(drifted),
        "n_evaluated": len(evaluated),
        "drifted_share": share,
        "prediction_drifted": bool(pred.evaluated and pred.drifted),
        "prediction_psi": pred.psi,
        "feature_psi": {k: summary.features[k].psi for k in drifted},
    }
    evidence = "; ".join(reasons) or (
        f"{len(drifted)} of {len(evaluated)} features drifted ({share:.3f}), "
        f"prediction drift: {'yes' if figures['prediction_drifted'] else 'no'}; below the rule"
    )
    return RuleResult(
        rule=name, evaluated=True, fired=bool(reasons), evidence=evidence, figures=figures
    )


def performance_rule(rule: PerformanceRule, summary: MonitorSummary | None) -> RuleResult:
    """Fires when the control chart flags at least ``min_flagged_windows`` windows."""
    name = RuleName.performance
    if not rule.enabled:
        return _skip(name, "disabled (retrain.rules.performance.enabled: false)")
    if summary is None:
        return _skip(name, "no monitor report")
    perf = summary.performance
    if not perf.evaluated:
        return _skip(name, f"control chart not evaluated: {perf.reason or 'no labels'}")
    flagged = perf.flagged
    fired = len(flagged) >= rule.min_flagged_windows
    figures = {
        "metric": perf.metric,
        "flagged_windows": flagged,
        "labelled_rows": perf.labelled_rows,
    }
    evidence = (
        f"{perf.metric} outside the control limits in {len(flagged)} window(s) "
        f"({', '.join(flagged) or 'none'}) "
        f"{'>=' if fired else '<'} min_flagged_windows {rule.min_flagged_windows}"
    )
    return RuleResult(rule=name, evaluated=True, fired=fired, evidence=evidence, figures=figures)


def new_rows_rule(rule: NewRowsRule, summary: MonitorSummary | None) -> RuleResult:
    """Fires when the window holds at least ``min_rows`` labelled rows (or records)."""
    name = RuleName.new_rows
    if rule.min_rows is None:
        return _skip(name, "off (retrain.rules.new_rows.min_rows: null)")
    if summary is None:
        return _skip(name, "no monitor report")
    if rule.count == NewRowsCount.labelled:
        n = summary.performance.labelled_rows
    else:
        n = summary.window.rows
    fired = n >= rule.min_rows
    evidence = (
        f"{n} {rule.count} rows in the window {'>=' if fired else '<'} min_rows {rule.min_rows}"
    )
    figures = {"rows": n, "count": str(rule.count), "min_rows": rule.min_rows}
    return RuleResult(rule=name, evaluated=True, fired=fired, evidence=evidence, figures=figures)


def schedule_rule(rule: ScheduleRule, event: Event, model_age_days: float | None) -> RuleResult:
    """Fires on every scheduled run (``every_scheduled_run``) or when the production version
    is older than ``max_model_age_days``."""
    name = RuleName.schedule
    if rule.max_model_age_days is None and not rule.every_scheduled_run:
        return _skip(name, "off (no max_model_age_days, every_scheduled_run: false)")
    reasons, notes = [], []
    if rule.every_scheduled_run:
        if event == Event.schedule:
            reasons.append("scheduled run (every_scheduled_run: true)")
        else:
            notes.append(f"{event} run, not a scheduled one")
    if rule.max_model_age_days is not None:
        if model_age_days is None:
            notes.append("no production version to age")
        elif model_age_days > rule.max_model_age_days:
            reasons.append(
                f"production version is {model_age_days:.1f} days old > max_model_age_days "
                f"{rule.max_model_age_days}"
            )
        else:
            notes.append(
                f"production version is {model_age_days:.1f} days old <= max_model_age_days "
                f"{rule.max_model_age_days}"
            )
    figures = {"event": str(event), "model_age_days": model_age_days}
    return RuleResult(
        rule=name,
        evaluated=True,
        fired=bool(reasons),
        evidence="; ".join(reasons or notes),
        figures=figures,
    )
