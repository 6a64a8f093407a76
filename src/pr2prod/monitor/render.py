"""Human-readable reports: a self-contained HTML page and a markdown summary.

The page's charts are the monitor's DVC plots (:mod:`pr2prod.monitor.plots`) as inline SVG;
it loads nothing (no scripts, no CDN). Every value is written as text for people: no
Python reprs (``None``, dict literals).
"""

from __future__ import annotations

from html import escape
from typing import Any

from pr2prod.monitor.plots import render_svg

_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:960px}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;"
    "text-align:right}th{background:#eee}.bad{color:#b00;font-weight:bold}"
    ".ok{color:#070}td:first-child{text-align:left}figure{margin:1em 0}"
)
_OK = "ok"
_BAD = "<span class='bad'>drifted</span>"


def render_html(report: dict[str, Any], plots: dict[str, list[dict[str, Any]]]) -> str:
    """One HTML file: the report's findings and its DVC plots ``plots`` drawn as SVG."""
    psi_threshold = float(report["thresholds"]["psi_threshold"])
    status = (
        ("<p class='bad'>ALERT: " + "<br>".join(escape(a) for a in report["alerts"]) + "</p>")
        if report["alert"]
        else "<p class='ok'>No threshold crossed.</p>"
    )
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>pr2prod monitor</title>",
        f"<style>{_CSS}</style></head><body><h1>Model monitoring report</h1>",
        f"<p>{escape(window_text(report['window']))}</p>",
        f"<p>Model versions: {escape(versions_text(report['model_versions']))}.</p>",
        status,
        "<h2>Feature drift</h2>",
        _figure(
            "drift",
            plots,
            f"PSI per feature; dashed line: drift.psi_threshold {psi_threshold:g}",
            psi_threshold,
        ),
        _feature_table(report),
        "<h2>Prediction drift</h2>",
        _pred_html(report["prediction"]),
        "<h2>Performance</h2>",
        _perf_html(report["performance"], plots),
        "<h2>Volume</h2>",
        _figure("volume", plots, "records per window"),
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def render_markdown(report: dict[str, Any]) -> str:
    """A short summary (the body of the issue the scheduled workflow opens)."""
    lines = [
        "## Model monitoring alert" if report["alert"] else "## Model monitoring: ok",
        "",
        window_text(report["window"]),
        "",
    ]
    lines += [f"- {a}" for a in report["alerts"]] or ["- no threshold crossed"]
    if report["features"]:
        lines += [
            "",
            "| feature | tested as | missing (training) | PSI | test | p-value | effect "
            "| drifted |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for name, f in report["features"].items():
            kind = f.get("tested_as", f["kind"])
            flag = "**yes**" if f.get("drifted") else "no"
            if f.get("evaluated"):
                cells = [f"{f['psi']:.3f}", f["test"], f"{f['p_value']:.2g}", f"{f['effect']:.3f}"]
            else:
                cells = ["", f"not evaluated: {f.get('reason', '')}", "", ""]
            lines.append(f"| {name} | {kind} | {missing_text(f)} | {' | '.join(cells)} | {flag} |")
    return "\n".join(lines) + "\n"


def missing_text(feature: dict[str, Any]) -> str:
    """``30.0% (0.0%)``: the window's missing share and training's ("" when not checked)."""
    if "missing_share" not in feature:
        return ""
    return f"{feature['missing_share']:.1%} ({feature['reference_missing_share']:.1%})"


def window_text(window: dict[str, Any]) -> str:
    """``Window <start> to <end>: N rows`` or, without timestamps, ``All N rows``."""
    rows = f"{window['rows']} row{'s' if window['rows'] != 1 else ''}"
    source = f" from {window['path']}" if window.get("path") else ""
    if window.get("start") and window.get("end"):
        return f"Window {window['start']} to {window['end']}: {rows}{source}."
    return f"All {rows}{source} (no timestamps, so no time window)."


def versions_text(versions: dict[str, int]) -> str:
    """``v1 (1,200 rows), v2 (800 rows)`` or ``none``."""
    return ", ".join(f"{v} ({n:,} rows)" for v, n in versions.items()) or "none"


def _figure(
    name: str,
    plots: dict[str, list[dict[str, Any]]],
    caption: str,
    threshold: float | None = None,
) -> str:
    svg = render_svg(name, plots.get(name, []), threshold)
    if not svg:
        return ""
    return f"<figure class='plot' id='plot-{name}'>{svg}<figcaption>{caption}</figcaption></figure>"


def _feature_table(report: dict[str, Any]) -> str:
    if not report["drift_evaluated"]:
        return f"<p>Not evaluated: {escape(report['drift_reason'] or '')}</p>"
    rows = []
    for name, f in report["features"].items():
        kind = escape(f.get("tested_as") or f.get("kind", ""))
        status = _BAD if f.get("drifted") else _OK
        missing = escape(missing_text(f))
        if not f.get("evaluated"):
            reason = escape(f"not evaluated: {f.get('reason', '')}")
            rows.append([escape(name), kind, missing, "", reason, "", "", status])
            continue
        rows.append(
            [
                escape(name),
                kind,
                missing,
                f"{f['psi']:.3f}",
                escape(f"{f['test']} ({f['over']})" if f.get("over") else f["test"]),
                f"{f['p_value']:.2g}",
                f"{f['effect']:.3f}",
                status,
            ]
        )
    head = ["feature", "tested as", "missing (training)", "PSI", "test", "p-value", "effect"]
    head.append("status")
    return _table(head, rows)


def _pred_html(pred: dict[str, Any]) -> str:
    if not pred.get("evaluated"):
        reason = pred.get("reason")
        return f"<p>Not evaluated{': ' + escape(reason) if reason else ''}.</p>"
    flag = _BAD if pred["drifted"] else _OK
    return (
        f"<p>PSI {pred['psi']:.3f}, {escape(pred['test'])} p={pred['p_value']:.2g}, "
        f"effect {pred['effect']:.3f}: {flag}</p>"
    )


def _perf_html(perf: dict[str, Any], plots: dict[str, list[dict[str, Any]]]) -> str:
    if not perf.get("evaluated"):
        return f"<p>Not evaluated: {escape(str(perf.get('reason') or 'no labels'))}</p>"
    head = (
        f"<p>{escape(perf['metric'])} per window, {perf['chart']} chart, centre "
        f"{perf['centre']:.4f}, ±{perf['sigma']}σ limits from the first "
        f"{perf['reference_windows']} windows. Flagged: "
        f"{escape(', '.join(perf['flagged']) or 'none')}</p>"
    )
    return head + _figure("performance", plots, "value, centre and control limits per window")


def _table(head: list[str], rows: list[list[str]]) -> str:
    """An HTML table of cells that are already HTML (escaped text or markup)."""
    out = ["<table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>"]
    out += ["<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows]
    return "".join(out) + "</table>"
