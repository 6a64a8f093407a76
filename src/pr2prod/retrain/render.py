"""``reports/retrain.md``: the retraining pull request's body, from the report."""

from __future__ import annotations

from typing import Any

from pr2prod.retrain.report import PipelineOutcome, RetrainPlan, RetrainReport, SnapshotChange

TOP_METRICS = 8  # scalar metrics shown before/after


def render_markdown(report: RetrainReport) -> str:
    """Rules fired with evidence and window, the snapshot change, the pipeline outcome."""
    plan = report.plan
    lines = ["# Retraining", ""]
    if plan.fired:
        lines.append(f"Fired: **{', '.join(plan.fired)}** (event: {plan.event}).")
    elif plan.force:
        lines.append(f"No rule fired; run forced (event: {plan.event}).")
    else:
        lines.append(f"No rule fired (event: {plan.event}); nothing to retrain.")
    lines += ["", *_window(plan), "", *_rules(plan)]
    if report.snapshot is not None:
        lines += ["", *_snapshot(report.snapshot)]
    if report.pipeline is not None:
        lines += ["", *_pipeline(report.pipeline)]
    if report.branch:
        commit = f", commit `{report.commit}`" if report.commit else ""
        lines += ["", f"Branch `{report.branch}`{commit}."]
    lines += [
        "",
        "The differential gate of this pull request decides; a person or the merge rule releases.",
    ]
    return "\n".join(lines) + "\n"


def _window(plan: RetrainPlan) -> list[str]:
    w = plan.window
    if w is None:
        return ["## Monitored window", "", "No monitor report."]
    versions = ", ".join(f"{k} ({v})" for k, v in plan.model_versions.items()) or "none"
    return [
        "## Monitored window",
        "",
        f"- {w.start or 'first record'} → {w.end or 'last record'}: {w.rows} rows "
        f"from {w.source} `{w.path}`",
        f"- model versions answering: {versions}",
        f"- report: `{plan.monitor_report}`",
    ]


def _rules(plan: RetrainPlan) -> list[str]:
    out = ["## Rules", "", "| rule | fired | evidence |", "|---|---|---|"]
    for r in plan.rules:
        state = "**yes**" if r.fired else ("no" if r.evaluated else "not evaluated")
        out.append(f"| {r.rule} | {state} | {_cell(r.evidence)} |")
    drift = next((r for r in plan.rules if r.rule == "drift" and r.evaluated), None)
    if drift and drift.figures.get("drifted_features"):
        out += ["", "Drifted features (PSI):"]
        for name, value in drift.figures.get("feature_psi", {}).items():
            out.append(f"- `{name}`: {_num(value)}")
    return out


def _snapshot(s: SnapshotChange) -> list[str]:
    out = [
        "## Data snapshot",
        "",
        f"`{s.path}` ({s.source}, pointer `{s.pointer}`):"
        + ("" if s.changed else " **unchanged**"),
        "",
        "| | md5 | rows |",
        "|---|---|---|",
        f"| before | `{s.old_md5 or '-'}` | {_num(s.old_rows)} |",
        f"| after | `{s.new_md5 or '-'}` | {_num(s.new_rows)} |",
    ]
    if s.query:
        q = s.query
        out += [
            "",
            f"Query: `{q.get('table')}` where `{q.get('window_column')}` in "
            f"[{q.get('start') or '-∞'}, {q.get('end')})",
        ]
    return out


def _pipeline(p: PipelineOutcome) -> list[str]:
    state = (
        "succeeded"
        if p.repro_exit_code == 0
        else f"failed at stage `{p.failed_stage or '?'}` (exit {p.repro_exit_code})"
    )
    gate = (
        "no verdict (see the output below)"
        if p.gate_verdict is None
        else f"{p.gate_verdict} (passed: {p.gate_passed})"
    )
    out = ["## Pipeline", "", f"- `dvc repro` {state}", f"- gate: {gate}"]
    keys = [k for k, v in p.metrics_after.items() if _scalar(v)][:TOP_METRICS]
    if keys:
        out += ["", "| metric | before | after |", "|---|---|---|"]
        for k in keys:
            out.append(f"| {k} | {_num(p.metrics_before.get(k))} | {_num(p.metrics_after[k])} |")
    if p.repro_exit_code != 0:
        out += ["", "```", p.repro_tail, "```"]
    return out


def _scalar(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _num(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
