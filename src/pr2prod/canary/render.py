"""The canary report as a terminal table and as Markdown (``canary.summary``)."""

from __future__ import annotations

from collections.abc import Callable

from pr2prod.canary.model import CanaryReport, VariantFigures
from pr2prod.logrecord import ModelRef


def _num(value: float | None, fmt: str) -> str:
    return "n/a" if value is None else format(value, fmt)


def rows(report: CanaryReport) -> list[tuple[str, str, str]]:
    """(figure, production, canary) rows shared by the table and the Markdown."""
    p, c = report.production, report.canary
    b = report.binding
    metric = report.comparison.metric

    def both(get: Callable[[VariantFigures], str]) -> tuple[str, str]:
        return get(p), get(c)

    def fig(name: str, fmt: str) -> tuple[str, str]:
        return both(lambda f: _num(getattr(f, name), fmt))

    def model(ref: ModelRef) -> str:
        short = ref.artifact_hash[:12]
        return ref.model_version if ref.model_version == short else f"{ref.model_version} ({short})"

    return [
        ("model", model(b.production), model(b.canary)),
        ("records", *both(lambda f: str(f.records))),
        ("requests", *both(lambda f: str(f.requests))),
        ("labelled", *both(lambda f: str(f.labelled))),
        (metric, *fig("metric", ".4f")),
        ("latency p50 ms", *fig("latency_p50_ms", ".2f")),
        ("latency p95 ms", *fig("latency_p95_ms", ".2f")),
        ("requests ok/error", *both(_outcomes)),
        ("error rate", *fig("error_rate", ".4f")),
    ]


def _outcomes(f: VariantFigures) -> str:
    if f.requests_ok is None or f.requests_error is None:
        return "n/a"
    return f"{f.requests_ok:g}/{f.requests_error:g}"


def _verdict_lines(report: CanaryReport) -> list[str]:
    comp, rules = report.comparison, report.rules
    lines = []
    if comp.improvement is not None:
        lines.append(
            f"improvement of the canary on {comp.metric}: {comp.improvement:+.4f}, one-sided "
            f"{rules.level:g} bounds [{comp.lower:+.4f}, {comp.upper:+.4f}], tolerance "
            f"-{rules.abs_tol:g} ({comp.method})"
        )
    lines.append(
        f"error rate increase: {_num(report.error_rate_increase, '+.4f')} (limit "
        f"{rules.max_error_rate_increase:g}); p95 latency ratio: "
        f"{_num(report.latency_ratio, '.2f')} (limit {rules.max_latency_ratio:g})"
    )
    c = report.counts
    lines.append(
        f"log: {c.records} records from {c.files} files, {c.bad_lines} unreadable lines, "
        f"{c.before_since} before --since, {c.unlabelled} without a label; "
        f"{c.first.isoformat(timespec='seconds')} to {c.last.isoformat(timespec='seconds')}"
    )
    return lines


def table(report: CanaryReport) -> str:
    """Plain-text table for the terminal."""
    body = [("", "production", "canary"), *rows(report)]
    w0 = max(len(r[0]) for r in body)
    w1 = max(len(r[1]) for r in body)
    lines = [f"{a.ljust(w0)}  {b.ljust(w1)}  {c}" for a, b, c in body]
    lines += _verdict_lines(report)
    lines.append(f"recommendation: {report.recommendation.value.upper()}")
    lines += [f"  - {r}" for r in report.reasons]
    return "\n".join(lines)


def markdown(report: CanaryReport) -> str:
    """The summary written next to the JSON report."""
    out = [
        f"# Canary report: {report.recommendation.value.upper()}",
        "",
        "| | production | canary |",
        "|---|---|---|",
    ]
    out += [f"| {a} | {b} | {c} |" for a, b, c in rows(report)]
    out.append("")
    out += [f"- {line}" for line in _verdict_lines(report)]
    out += ["", "Reasons:", ""] + [f"- {r}" for r in report.reasons]
    out += ["", f'Digest: `{report.digest}` (docs/continuous.md, "Canary report")', ""]
    return "\n".join(out)
