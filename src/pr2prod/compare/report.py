"""Render the gate report (:class:`~pr2prod.release.gate_record.GateReport`) as PR-ready
Markdown, a one-line verdict and DVC metrics."""

from __future__ import annotations

from typing import Any

from pr2prod.dvclock import content_id
from pr2prod.release.gate_record import GateCheck, GateReport, GateVerdict

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


def verdict_line(report: GateReport) -> str:
    """One line: the verdict and the failing checks.

    A FAIL is recorded, not raised: the pipeline goes on, the package stage builds no Bento
    for it, and ``pr2prod gate`` (CI's gate job), ``pr2prod build`` and ``pr2prod release``
    refuse it.
    """
    n = len(report.checks)
    if report.blocks_release():
        return (
            f"FAIL: {len(report.failed)} of {n} checks failed "
            f"({', '.join(report.failed)}); recorded, not releasable"
        )
    if report.verdict == "first release":
        return f"FIRST RELEASE: no production model ({_baseline_reason(report)}); pass"
    return f"PASS: all {n} checks passed"


def _baseline_reason(report: GateReport) -> str:
    """Why production is what it is (a sealed verdict records it; ``pr2prod diff``'s not)."""
    return report.baseline_reason if isinstance(report, GateVerdict) else ""


def _slack(check: GateCheck) -> float | None:
    """How far a check's bound stays within its tolerance (negative: it failed)."""
    if check.bound is None or check.tolerance is None:
        return None
    return float(check.tolerance) - float(check.bound)


def verdict_metrics(report: GateReport) -> dict[str, Any]:
    """The verdict as DVC metrics (``paths.gate_metrics``, shown by ``dvc exp show``).

    ``passed`` (1 pass or first release, 0 fail), ``failed_checks`` (how many), and the
    worst check: the one whose one-sided bound of the worsening is closest to (or furthest
    past) its tolerance, with its ``worst_bound``, ``worst_tolerance`` and ``worst_slack``
    (tolerance - bound; negative when it failed). No rows or supports: those are not
    metrics of the model.
    """
    ranked = [(s, c) for c in report.checks if (s := _slack(c)) is not None]
    worst = min(ranked, key=lambda pair: pair[0])[1] if ranked else None
    return {
        "passed": int(not report.blocks_release()),
        "failed_checks": len(report.failed),
        "worst_check": None if worst is None else worst.id,
        "worst_bound": None if worst is None else worst.bound,
        "worst_tolerance": None if worst is None else worst.tolerance,
        "worst_slack": None if worst is None else _slack(worst),
    }


RULES = {
    "non_inferiority": "non-inferiority: the one-sided {level:.0%} upper bound of each "
    "worsening must be within its tolerance",
    "point": "point estimates: each worsening must be within its tolerance",
    "harm_proven": "fail only on proven harm: a check fails when the one-sided {level:.0%} "
    "lower bound of its worsening exceeds the tolerance",
}


def _header(report: GateReport) -> list[str]:
    cand, base, boot = report.candidate, report.baseline, report.bootstrap
    where = "no production model"
    if base:
        where = f"production `{base.get('model_name')}`"
        if base.get("source") in ("ref", "registry") and base.get("md5"):
            where += f" (md5 {content_id(str(base['md5']))[:12]})"
        elif base.get("path"):
            where += f" ({base['path']})"
    sampling = (
        f"paired bootstrap: {boot.resamples} resamples of {boot.units} units"
        if boot.enabled
        else "no bootstrap"
    )
    rule = RULES.get(report.rule, report.rule)
    lines = [
        f"## Differential gate: {report.verdict}",
        "",
        f"Candidate `{cand.get('model_name')}` vs {where} on {report.rows} test rows; "
        f"{sampling}. Rule: {rule.format(level=boot.level)}.",
        "",
    ]
    if base and base.get("reproduction"):
        lines += [
            "**Reproduction of production**: the candidate's code, data and params are "
            "production's, so this run checks that the pipeline reproduces production; it "
            "is not a new model.",
            "",
        ]
    if _baseline_reason(report):
        lines += [f"Production: {_baseline_reason(report)}.", ""]
    return lines


def _checks_table(checks: list[GateCheck]) -> list[str]:
    lines = [
        "| check | production | candidate | delta | interval | worsening bound | tolerance "
        "| detectable | |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | :---: |",
    ]
    for c in checks:
        name = f"{c.id} {ARROW.get(c.direction, '')}"
        lines.append(
            f"| {name} | {_num(c.baseline)} | {_num(c.candidate)} | "
            f"{_num(c.delta, True)} | {_ci(c.ci)} | {_num(c.bound, True)} | "
            f"{_num(c.tolerance)} | {_num(c.detectable)} | {MARK[c.passed]} |"
        )
    notes = [f"- `{c.id}`: {c.note}" for c in checks if c.note]
    return [*lines, "", *notes] if notes else lines


def _power(report: GateReport) -> list[str]:
    """Checks whose tolerance this test split cannot show, and what it would take."""
    weak = [c for c in report.checks if c.id in set(report.underpowered)]
    if not weak:
        return []
    lines = ["", "### Power", ""]
    for c in weak:
        need = f"about {c.rows_needed} test rows" if c.rows_needed else "more rows"
        lines.append(
            f"- `{c.id}`: the test set is too small to show non-inferiority at tolerance "
            f"{c.tolerance:.4g}: the smallest worsening it can detect is "
            f"{c.detectable:.4g}. It would take {need}, or a tolerance of at least "
            f"{c.bound:.4g}."
        )
    return [*lines, ""]


def _stability(report: GateReport) -> list[str]:
    st = report.stability
    if not st:
        return []
    if "flip_rate" in st:
        text = (
            f"Flip rate {st['flip_rate']:.2%} of rows change class (agreement "
            f"{st['agreement']:.2%}); one-sided upper bound {_num(st.get('bound'))}"
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


def _slices(report: GateReport) -> list[str]:
    if not report.slices:
        return []
    lines = [
        "### Slices",
        "",
        "| slice | rows | flip rate / mean change | gated |",
        "| --- | ---: | ---: | :---: |",
    ]
    for s in report.slices:
        change = s.get("flip_rate", s.get("mean_abs_change"))
        gated = "yes" if s["gated"] else f"no ({s.get('note', '')})"
        lines.append(f"| {s['name']} | {s['rows']} | {_num(change)} | {gated} |")
    return [*lines, ""]


def _per_class(report: GateReport) -> list[str]:
    if not report.per_class:
        return []
    lines = [
        "### Per-class changes",
        "",
        "| class | support | precision Δ | recall Δ | f1 Δ |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, e in report.per_class.items():
        lines.append(
            f"| {label} | {e['support']} | {_num(e['precision']['delta'], True)} | "
            f"{_num(e['recall']['delta'], True)} | {_num(e['f1']['delta'], True)} |"
        )
    return [*lines, ""]


def _images(images: dict[str, str]) -> list[str]:
    if not images:
        return []
    titles = {
        "roc": "ROC curve",
        "pr": "Precision-recall curve",
        "pred_actual": "Predicted vs actual",
    }
    return ["", " ".join(f"![{titles.get(n, n)}]({src})" for n, src in images.items()), ""]


def to_markdown(report: GateReport, images: dict[str, str] | None = None) -> str:
    """The PR comment: checks table, power, curves, stability, slices, per-class, verdict.

    ``images`` maps a curve name to the image's path relative to the Markdown file.
    """
    lines = _header(report) + _checks_table(report.checks) + _power(report)
    lines += _images(images or {})
    lines += _stability(report) + _slices(report) + _per_class(report)
    if report.skipped:
        skipped = "; ".join(f"{s.id} ({s.reason})" for s in report.skipped)
        lines += [f"Skipped: {skipped}.", ""]
    lines.append(f"**Verdict: {verdict_line(report)}**")
    return "\n".join(lines) + "\n"
