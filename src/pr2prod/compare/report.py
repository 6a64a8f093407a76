"""Render the gate report (``gate.json`` dict) as PR-ready Markdown and a one-line verdict."""

from __future__ import annotations

from typing import Any

ARROW = {"higher": "↑", "lower": "↓"}
MARK = {True: "✓", False: "✗"}


def _num(v: float | None, signed: bool = False) -> str:
    if v is None:
        return "–"
    return f"{v:+.4f}" if signed else f"{v:.4f}"


def _ci(ci: list[float | None] | None) -> str:
    if not ci or ci[0] is None or ci[1] is None:
        return "–"
    return f"[{ci[0]:+.4f}, {ci[1]:+.4f}]"


def verdict_line(report: dict[str, Any]) -> str:
    """One line: the verdict, the failing checks, and whether it stops the pipeline."""
    verdict = report["verdict"]
    n = len(report["checks"])
    if verdict == "fail":
        enforced = (
            "enforced: the pipeline stops"
            if report["enforced"]
            else "report only (gate.enforce: false)"
        )
        return (
            f"FAIL: {len(report['failed'])} of {n} checks failed "
            f"({', '.join(report['failed'])}); {enforced}"
        )
    if verdict == "first release":
        return f"FIRST RELEASE: no production model ({report.get('baseline_reason', '')}); pass"
    return f"PASS: all {n} checks passed"


def _header(report: dict[str, Any]) -> list[str]:
    cand, base, bs = report["candidate"], report["baseline"], report["bootstrap"]
    where = "no production model"
    if base:
        where = f"production `{base.get('model_name')}`"
        if base.get("source") == "ref":
            where += f" ({base['ref']} @ {str(base['commit'])[:12]})"
        elif base.get("path"):
            where += f" ({base['path']})"
    boot = (
        f"paired bootstrap: {bs['resamples']} resamples of {bs['units']} units, "
        f"{bs['level']:.0%} intervals"
        if bs["enabled"]
        else "no bootstrap (point estimates)"
    )
    return [
        f"## Differential gate: {report['verdict']}",
        "",
        f"Candidate `{cand.get('model_name')}` vs {where} on {report['rows']} test rows; {boot}.",
        "",
    ]


def _checks_table(checks: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| check | production | candidate | delta | interval | tolerance | |",
        "| --- | ---: | ---: | ---: | --- | ---: | :---: |",
    ]
    for c in checks:
        name = f"{c['id']} {ARROW.get(c['direction'], '')}"
        if c["note"]:
            name += f" ({c['note']})"
        lines.append(
            f"| {name} | {_num(c['baseline'])} | {_num(c['candidate'])} | "
            f"{_num(c['delta'], True)} | {_ci(c['ci'])} | {_num(c['tolerance'])} | "
            f"{MARK[c['passed']]} |"
        )
    return lines


def _stability(report: dict[str, Any]) -> list[str]:
    st = report["stability"]
    if not st:
        return []
    if "flip_rate" in st:
        text = (
            f"Flip rate {st['flip_rate']:.2%} of rows change class (agreement "
            f"{st['agreement']:.2%}); interval {_ci(st['ci'])}"
        )
    else:
        text = f"Mean |candidate − production| {st['mean_abs_change']:.4g}"
    limit = st["limit"]
    return [
        "",
        "### Prediction stability",
        "",
        text + (f"; limit {limit:g}." if limit is not None else "; not gated."),
        "",
    ]


def _slices(report: dict[str, Any]) -> list[str]:
    if not report["slices"]:
        return []
    lines = [
        "### Slices",
        "",
        "| slice | rows | flip rate / mean change | gated |",
        "| --- | ---: | ---: | :---: |",
    ]
    for s in report["slices"]:
        change = s.get("flip_rate", s.get("mean_abs_change"))
        gated = "yes" if s["gated"] else f"no ({s.get('note', '')})"
        lines.append(f"| {s['name']} | {s['rows']} | {_num(change)} | {gated} |")
    return [*lines, ""]


def _per_class(report: dict[str, Any]) -> list[str]:
    if not report["per_class"]:
        return []
    lines = [
        "### Per-class changes",
        "",
        "| class | support | precision Δ | recall Δ | f1 Δ |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, e in report["per_class"].items():
        lines.append(
            f"| {label} | {e['support']} | {_num(e['precision']['delta'], True)} | "
            f"{_num(e['recall']['delta'], True)} | {_num(e['f1']['delta'], True)} |"
        )
    return [*lines, ""]


def to_markdown(report: dict[str, Any]) -> str:
    """The PR comment: checks table, stability, slices, per-class changes, verdict."""
    lines = _header(report) + _checks_table(report["checks"])
    lines += _stability(report) + _slices(report) + _per_class(report)
    if report["skipped"]:
        skipped = "; ".join(f"{s['id']} ({s['reason']})" for s in report["skipped"])
        lines += [f"Skipped: {skipped}.", ""]
    lines.append(f"**Verdict: {verdict_line(report)}**")
    return "\n".join(lines) + "\n"
