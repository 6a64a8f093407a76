"""``reports/retrain.json``: the plan and outcome of one ``pr2prod retrain`` run, one model.

Written by ``--plan`` (plan only) and by a full run (plus the snapshot change, the pipeline
outcome and the commit); the workflow reads ``retrain`` from it to decide whether the job
that opens the pull request runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pr2prod.fsio import atomic_write_text
from pr2prod.monitor.summary import Window
from pr2prod.retrain.rules import Event, RuleResult

REPORT_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RetrainPlan(_Model):
    """Which rules fired, on what evidence, and whether a retraining run follows."""

    event: Event
    monitor_report: str | None
    window: Window | None
    model_versions: dict[str, int] = Field(default_factory=dict)
    rules: list[RuleResult]
    force: bool = False

    @property
    def fired(self) -> list[str]:
        """Names of the rules that fired."""
        return [str(r.rule) for r in self.rules if r.fired]

    @property
    def retrain(self) -> bool:
        """Whether a retraining run follows (a rule fired, or ``--force``)."""
        return self.force or bool(self.fired)


class SnapshotChange(_Model):
    """The data snapshot before and after the refresh (``md5`` as DVC records it)."""

    source: str  # file | dvc_import | sql (retrain.snapshot.source, resolved)
    path: str
    pointer: str
    old_md5: str | None
    new_md5: str | None
    old_rows: int | None
    new_rows: int | None
    query: dict[str, Any] | None = None  # sql: table, window column and bounds

    @property
    def changed(self) -> bool:
        return self.old_md5 != self.new_md5


class PipelineOutcome(_Model):
    """What ``dvc repro`` did: its exit code, the gate's verdict, metrics before and after."""

    repro_exit_code: int
    failed_stage: str | None  # the stage `dvc repro` stopped at (None: it succeeded)
    repro_tail: str  # the last lines of its output
    gate_verdict: str | None
    gate_passed: bool | None
    metrics_before: dict[str, Any] = Field(default_factory=dict)
    metrics_after: dict[str, Any] = Field(default_factory=dict)


class RetrainReport(_Model):
    """The whole run (``reports/retrain.json``)."""

    version: int = REPORT_VERSION
    plan: RetrainPlan
    retrain: bool
    fired: list[str]
    snapshot: SnapshotChange | None = None
    pipeline: PipelineOutcome | None = None
    branch: str | None = None
    commit: str | None = None  # set on the returned report only (a file cannot name its commit)

    @classmethod
    def of(cls, plan: RetrainPlan, **rest: Any) -> RetrainReport:
        """A report for ``plan`` (``retrain`` and ``fired`` copied from it)."""
        return cls(plan=plan, retrain=plan.retrain, fired=plan.fired, **rest)


def write_report(report: RetrainReport, path: str | Path) -> Path:
    """Write ``retrain.json`` atomically."""
    p = Path(path)
    atomic_write_text(p, report.model_dump_json(indent=2) + "\n")
    return p


def read_report(path: str | Path) -> RetrainReport:
    """Load ``retrain.json`` (a test and the e2e read it back through the same model)."""
    return RetrainReport.model_validate_json(Path(path).read_text(encoding="utf-8"))
