"""Run the gate: plan the checks, score both models on the same rows, decide, report.

One check reads in two files: this one (which checks, with which tolerance) and
:mod:`pr2prod.compare.checks` (its value, interval and the rule's decision, from
:mod:`pr2prod.compare.rules`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from pr2prod.compare.checks import (
    CheckResult,
    Scored,
    Tolerance,
    class_check,
    floor_check,
    metric_check,
    score,
    stability_check,
    stability_value,
)
from pr2prod.compare.curves import curve_rows
from pr2prod.compare.metrics import METRICS, per_class, skip_reason
from pr2prod.compare.paired import score_pair
from pr2prod.compare.slices import build_slices
from pr2prod.compare.sums import Paired
from pr2prod.compare.validate import validate_gate_config
from pr2prod.config.gate_schema import GateConfig, GateMetric, Rule, SliceConfig
from pr2prod.models.persist import LoadedModel
from pr2prod.release.gate_record import SCHEMA_VERSION, GateReport


def _direction(cfg: GateConfig, name: GateMetric) -> str:
    check = cfg.metrics.get(name)
    return (check.direction if check and check.direction else None) or METRICS[name].direction


def _metric_checks(
    cfg: GateConfig,
    scored: Scored,
    task: str,
    has_proba: bool,
    has_baseline: bool,
    skipped: list[dict],
) -> list[CheckResult]:
    out = []
    for name, metric_cfg in cfg.metrics.items():
        if (why := skip_reason(name, task, has_proba)) is not None:
            skipped.append({"id": f"metric:{name}", "reason": why})
            continue
        direction = _direction(cfg, name)
        if has_baseline:
            tol = Tolerance(direction, metric_cfg.abs_tol, metric_cfg.rel_tol)
            out.append(metric_check(scored, name, tol, cfg.rule, f"metric:{name}"))
        if metric_cfg.floor is not None:
            out.append(floor_check(scored, name, direction, metric_cfg.floor, f"floor:{name}"))
    return out


def _slice_tolerance(cfg: GateConfig, slice_cfg: SliceConfig, name: GateMetric) -> Tolerance:
    if slice_cfg.abs_tol is not None or slice_cfg.rel_tol is not None:
        return Tolerance(_direction(cfg, name), slice_cfg.abs_tol, slice_cfg.rel_tol)
    metric_cfg = cfg.metrics.get(name)
    abs_tol = metric_cfg.abs_tol if metric_cfg else None
    rel_tol = metric_cfg.rel_tol if metric_cfg else None
    return Tolerance(_direction(cfg, name), abs_tol, rel_tol)


def _slice_checks(
    cfg: GateConfig, paired: Paired, test: pd.DataFrame, has_proba: bool, skipped: list[dict]
) -> tuple[list[CheckResult], list[dict]]:
    checks: list[CheckResult] = []
    rows: list[dict] = []
    for key, slice_cfg in cfg.slices.items():
        slices, note = build_slices(key, slice_cfg, test)
        if note:
            skipped.append({"id": f"slice:{key}", "reason": note})
        for one in slices:
            n = int(one.mask.sum())
            entry: dict[str, Any] = {"name": one.name, "rows": n, "gated": n >= slice_cfg.min_rows}
            rows.append(entry)
            if n == 0:
                entry["note"] = "no rows"
                continue
            names = slice_cfg.metrics or list(cfg.metrics)
            scored = score(paired.subset(one.mask), cfg.bootstrap, names)
            change, value, _ = stability_value(scored, paired.task)
            entry[change] = value
            if n < slice_cfg.min_rows:
                entry["note"] = (
                    f"fewer than min_rows={slice_cfg.min_rows} rows; reported, not gated"
                )
                continue
            for name in names:
                if (why := skip_reason(name, paired.task, has_proba)) is not None:
                    skipped.append({"id": f"slice:{one.name}:{name}", "reason": why})
                    continue
                tol = _slice_tolerance(cfg, slice_cfg, name)
                check_id = f"slice:{one.name}:{name}"
                checks.append(metric_check(scored, name, tol, cfg.rule, check_id, one.name))
    return checks, rows


def _per_class_changes(scored: Scored, labels: list) -> dict[str, Any]:
    cand, prod = per_class(scored.point, "c"), per_class(scored.point, "b")
    out = {}
    for i, label in enumerate(labels):
        entry: dict[str, Any] = {"support": int(cand["support"][0, i])}
        for kind in ("precision", "recall", "f1"):
            cand_value, prod_value = float(cand[kind][0, i]), float(prod[kind][0, i])
            entry[kind] = {
                "baseline": prod_value,
                "candidate": cand_value,
                "delta": cand_value - prod_value,
            }
        out[str(label)] = entry
    return out


def _verdict(checks: list[CheckResult], has_baseline: bool) -> str:
    if any(not c.passed for c in checks):
        return "fail"
    return "pass" if has_baseline else "first release"


def run_gate(
    cfg: GateConfig,
    candidate: LoadedModel,
    baseline: LoadedModel | None,
    test: pd.DataFrame,
    *,
    baseline_info: dict[str, Any] | None = None,
    data_info: dict[str, Any] | None = None,
) -> GateReport:
    """Compare ``candidate`` with ``baseline`` on ``test`` and return the gate report.

    ``baseline`` None means no production model: a first release (floors still apply).
    The report is the documented ``gate.json`` record before sealing (see docs/gate.md and
    :mod:`pr2prod.release.gate_record`).

    Raises:
        ConfigError: an invalid ``gate`` config.
        GateError: the models cannot be compared (task or classes differ).
    """
    validate_gate_config(cfg)
    has_baseline = baseline is not None
    # plan: with no production model only the floors apply, on point estimates
    if not has_baseline:
        cfg = dataclasses.replace(
            cfg,
            rule=Rule.point,
            bootstrap=dataclasses.replace(cfg.bootstrap, enabled=False),
        )
    # score: both models on the same rows, with the paired bootstrap resamples
    paired = score_pair(candidate, baseline, test)
    scored = score(paired, cfg.bootstrap, cfg.metrics)
    has_proba = paired.proba_c is not None and paired.proba_b is not None
    # decide: every check under cfg.rule
    skipped: list[dict] = []
    checks = _metric_checks(cfg, scored, paired.task, has_proba, has_baseline, skipped)
    slice_rows: list[dict] = []
    stability: dict[str, Any] = {}
    per_class_changes: dict[str, Any] = {}
    if has_baseline:
        regression = paired.task == "regression"
        limit = cfg.stability.max_mean_abs_change if regression else cfg.stability.max_flip_rate
        stability_result = stability_check(scored, paired.task, limit, cfg.rule)
        checks.append(stability_result)
        stability = {
            stability_result.metric: stability_result.candidate,
            "ci": stability_result.ci,
            "bound": stability_result.bound,
            "limit": limit,
        }
        if not regression:
            stability["agreement"] = 1.0 - stability_result.candidate
            labels = [str(v) for v in candidate.schema.labels or []]
            per_class_changes = _per_class_changes(scored, labels)
            checks.extend(
                class_check(scored, kind, i, label, cfg.per_class.abs_tol, cfg.rule)
                for kind in cfg.per_class.metrics
                for i, label in enumerate(labels)
            )
        slice_checks, slice_rows = _slice_checks(cfg, paired, test, has_proba, skipped)
        checks.extend(slice_checks)
    verdict = _verdict(checks, has_baseline)
    # report: the documented gate.json record
    record = {
        "schema_version": SCHEMA_VERSION,
        "verdict": verdict,
        "passed": verdict != "fail",
        "rule": str(cfg.rule),
        "task": paired.task,
        "rows": paired.n,
        "failed": [c.id for c in checks if not c.passed],
        "candidate": {"path": str(candidate.path), **_model_facts(candidate)},
        "baseline": None
        if baseline is None
        else {**(baseline_info or {}), **_model_facts(baseline)},
        "data": data_info or {},
        "bootstrap": {
            **dataclasses.asdict(cfg.bootstrap),
            "units": min(paired.n, cfg.bootstrap.max_units),
        },
        "checks": [c.to_dict() for c in checks],
        "underpowered": [c.id for c in checks if _underpowered(c)],
        "skipped": skipped,
        "stability": stability,
        "slices": slice_rows,
        "per_class": per_class_changes,
        "curves": curve_rows(paired, list(candidate.schema.labels or []), has_baseline),
    }
    return GateReport.model_validate(record)


def _underpowered(check: CheckResult) -> bool:
    """The split cannot show this check's tolerance even for an equally good candidate."""
    return (
        check.detectable is not None
        and check.tolerance is not None
        and check.detectable > check.tolerance + 1e-12
    )


def _model_facts(model: LoadedModel) -> dict[str, Any]:
    meta = model.metadata
    return {k: meta.get(k) for k in ("model_name", "params_hash", "data_hash", "experiment")}
