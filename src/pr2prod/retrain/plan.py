"""Evaluate the trigger rules: the monitor summary, the event and the production version's age."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pr2prod.config.schema import Config
from pr2prod.errors import DataError
from pr2prod.monitor.summary import MonitorSummary, read_summary
from pr2prod.retrain.report import RetrainPlan
from pr2prod.retrain.rules import Event, evaluate_rules


def production_age_days(repo: str | Path, cfg: Config, now: dt.datetime) -> float | None:
    """Days since the version in ``release.stage`` was registered (None: nothing in it)."""
    from pr2prod.release.registry import stage_version

    version = stage_version(repo, cfg.release.model_name, cfg.release.stage)
    if version is None:
        return None
    created = dt.datetime.fromisoformat(version.created_at)
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.UTC)
    return (now - created).total_seconds() / 86400


def make_plan(
    cfg: Config,
    monitor_report: Path | None,
    event: Event,
    *,
    force: bool = False,
    repo: str | Path = ".",
    now: dt.datetime | None = None,
) -> RetrainPlan:
    """The plan of one run.

    Raises:
        DataError: ``monitor_report`` is given but missing or not a monitor report (a rule
            cannot be evaluated on a file that is not there); with ``force`` a missing
            report only leaves its rules unevaluated.
    """
    summary: MonitorSummary | None = None
    if monitor_report is not None:
        try:
            summary = read_summary(monitor_report)
        except DataError:
            if not (force and not monitor_report.exists()):
                raise
    age = None
    if cfg.retrain.rules.schedule.max_model_age_days is not None:
        age = production_age_days(repo, cfg, now or dt.datetime.now(dt.UTC))
    return RetrainPlan(
        event=event,
        monitor_report=str(monitor_report) if summary is not None else None,
        window=summary.window if summary else None,
        model_versions=summary.model_versions if summary else {},
        rules=evaluate_rules(cfg.retrain.rules, summary, event, age),
        force=force,
    )
