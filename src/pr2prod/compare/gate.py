"""Run the gate: score both models on the same rows, apply every check, decide."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from pr2prod.compare.checks import (
    CheckResult,
    Scored,
    Tolerance,
    floor_check,
    metric_check,
    score,
    stability_check,
    stability_value,
)
from pr2prod.compare.metrics import METRICS, per_class, skip_reason
from pr2prod.compare.paired import score_pair
from pr2prod.compare.slices import build_slices
from pr2prod.compare.sums import Paired
from pr2prod.compare.validate import validate_gate_config
from pr2prod.config.gate_schema import GateConfig, SliceConfig
from pr2prod.models.persist import LoadedModel

SCHEMA_VERSION = 1


def _direction(cfg: GateConfig, name: str) -> str:
    check = cfg.metrics.get(name)
    return (check.direction if check and check.direction else None) or METRICS[name].direction


def _metric_checks(
    cfg: GateConfig, s: Scored, task: str, has_proba: bool, has_baseline: bool, skipped: list[dict]
) -> list[CheckResult]:
    out = []
    for name, mc in cfg.metrics.items():
        if (why := skip_reason(name, task, has_proba)) is not None:
            skipped.append({"id": f"metric:{name}", "reason": why})
            continue
        direction = _direction(cfg, name)
        if has_baseline:
            tol = Tolerance(direction, mc.abs_tol, mc.rel_tol)
            out.append(metric_check(s, name, tol, f"metric:{name}"))
        if mc.floor is not None:
            out.append(floor_check(s, name, direction, mc.floor, f"floor:{name}"))
    return out


def _slice_tolerance(cfg: GateConfig, sl: SliceConfig, name: str) -> Tolerance:
    if sl.abs_tol is not None or sl.rel_tol is not None:
        return Tolerance(_direction(cfg, name), sl.abs_tol, sl.rel_tol)
    mc = cfg.metrics.get(name)
    return Tolerance(_direction(cfg, name), mc.abs_tol if mc else None, mc.rel_tol if mc else None)


def _slice_checks(
    cfg: GateConfig, p: Paired, test: pd.DataFrame, has_proba: bool, skipped: list[dict]
) -> tuple[list[CheckResult], list[dict]]:
    checks: list[CheckResult] = []
    rows: list[dict] = []
    for key, sl in cfg.slices.items():
        slices, note = build_slices(key, sl, test)
        if note:
            skipped.append({"id": f"slice:{key}", "reason": note})
        for one in slices:
            n = int(one.mask.sum())
            entry: dict[str, Any] = {"name": one.name, "rows": n, "gated": n >= sl.min_rows}
            rows.append(entry)
            if n == 0:
                entry["note"] = "no rows"
                continue
            names = sl.metrics or list(cfg.metrics)
            s = score(p.subset(one.mask), cfg.bootstrap, names)
            change, value, _ = stability_value(s, p.task)
            entry[change] = value
            if n < sl.min_rows:
                entry["note"] = f"fewer than min_rows={sl.min_rows} rows; reported, not gated"
                continue
            for name in names:
                if (why := skip_reason(name, p.task, has_proba)) is not None:
                    skipped.append({"id": f"slice:{one.name}:{name}", "reason": why})
                    continue
                checks.append(
                    metric_check(
                        s,
                        name,
                        _slice_tolerance(cfg, sl, name),
                        f"slice:{one.name}:{name}",
                        one.name,
                    )
                )
    return checks, rows


def _per_class_changes(s: Scored, labels: list) -> dict[str, Any]:
    c, b = per_class(s.point, "c"), per_class(s.point, "b")
    out = {}
    for i, label in enumerate(labels):
        entry: dict[str, Any] = {"support": int(c["support"][0, i])}
        for kind in ("precision", "recall", "f1"):
            cv, bv = float(c[kind][0, i]), float(b[kind][0, i])
            entry[kind] = {"baseline": bv, "candidate": cv, "delta": cv - bv}
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
) -> dict[str, Any]:
    """Compare ``candidate`` with ``baseline`` on ``test`` and return the gate report.

    ``baseline`` None means no production model: a first release (floors still apply).
    The returned dict is the documented ``gate.json`` schema (see docs/gate.md).

    Raises:
        ConfigError: an invalid ``gate`` config.
        GateError: the models cannot be compared (task or classes differ).
    """
    validate_gate_config(cfg)
    has_baseline = baseline is not None
    p = score_pair(candidate, baseline, test)
    bs = cfg.bootstrap if has_baseline else dataclasses.replace(cfg.bootstrap, enabled=False)
    cfg = dataclasses.replace(cfg, bootstrap=bs)
    s = score(p, bs, cfg.metrics)
    has_proba = p.proba_c is not None and p.proba_b is not None
    skipped: list[dict] = []
    checks = _metric_checks(cfg, s, p.task, has_proba, has_baseline, skipped)
    slice_rows: list[dict] = []
    stability: dict[str, Any] = {}
    per_class_changes: dict[str, Any] = {}
    if has_baseline:
        limit = (
            cfg.stability.max_mean_abs_change
            if p.task == "regression"
            else cfg.stability.max_flip_rate
        )
        stab = stability_check(s, p.task, limit)
        checks.append(stab)
        stability = {stab.metric: stab.candidate, "ci": stab.ci, "limit": limit}
        if p.task != "regression":
            stability["agreement"] = 1.0 - stab.candidate
            per_class_changes = _per_class_changes(s, list(candidate.schema.labels or []))
        slice_checks, slice_rows = _slice_checks(cfg, p, test, has_proba, skipped)
        checks.extend(slice_checks)
    verdict = _verdict(checks, has_baseline)
    failed = [c.id for c in checks if not c.passed]
    return {
        "schema_version": SCHEMA_VERSION,
        "verdict": verdict,
        "passed": verdict != "fail",
        "enforced": cfg.enforce,
        "task": p.task,
        "rows": p.n,
        "failed": failed,
        "candidate": {"path": str(candidate.path), **_model_facts(candidate)},
        "baseline": None
        if baseline is None
        else {**(baseline_info or {}), **_model_facts(baseline)},
        "data": data_info or {},
        "bootstrap": {**dataclasses.asdict(bs), "units": min(p.n, bs.max_units)},
        "checks": [c.to_dict() for c in checks],
        "skipped": skipped,
        "stability": stability,
        "slices": slice_rows,
        "per_class": per_class_changes,
    }


def _model_facts(model: LoadedModel) -> dict[str, Any]:
    meta = model.metadata
    return {k: meta.get(k) for k in ("model_name", "params_hash", "data_hash", "experiment")}
