"""Human-readable reports: a self-contained HTML page (inline SVG) and a markdown summary."""

from __future__ import annotations

from html import escape
from typing import Any

_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:960px}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;"
    "text-align:right}th{background:#eee}.bad{color:#b00;font-weight:bold}"
    ".ok{color:#070}td:first-child{text-align:left}"
)


def render_html(report: dict[str, Any]) -> str:
    """One HTML file with no external resources (no CDN, no scripts)."""
    w = report["window"]
    status = (
        ("<p class='bad'>ALERT: " + "<br>".join(escape(a) for a in report["alerts"]) + "</p>")
        if report["alert"]
        else "<p class='ok'>No threshold crossed.</p>"
    )
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>pr2prod monitor</title>",
        f"<style>{_CSS}</style></head><body><h1>Model monitoring report</h1>",
        f"<p>Window {escape(str(w.get('start')))} to {escape(str(w.get('end')))}: "
        f"{w['rows']} rows; model versions {escape(str(report['model_versions']))}</p>",
        status,
        "<h2>Feature drift</h2>",
        _psi_svg(report),
        _feature_table(report),
        "<h2>Prediction drift</h2>",
        _pred_html(report["prediction"]),
        "<h2>Performance</h2>",
        _perf_html(report["performance"]),
        "<h2>Volume</h2>",
        _table(["window", "records"], [[v["window"], v["n"]] for v in report["volume"]]),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def render_markdown(report: dict[str, Any]) -> str:
    """A short summary (the body of the issue the scheduled workflow opens)."""
    w = report["window"]
    lines = [
        "## Model monitoring alert" if report["alert"] else "## Model monitoring: ok",
        "",
        f"Window {w.get('start')} to {w.get('end')}, {w['rows']} rows.",
        "",
    ]
    lines += [f"- {a}" for a in report["alerts"]] or ["- no threshold crossed"]
    if report["features"]:
        lines += [
            "",
            "| feature | PSI | test | p-value | effect | drifted |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for name, f in report["features"].items():
            if f.get("evaluated"):
                lines.append(
                    f"| {name} | {f['psi']:.3f} | {f['test']} | {f['p_value']:.2g} "
                    f"| {f['effect']:.3f} | {'**yes**' if f['drifted'] else 'no'} |"
                )
    return "\n".join(lines) + "\n"


def _feature_table(report: dict[str, Any]) -> str:
    rows = []
    for name, f in report["features"].items():
        if not f.get("evaluated"):
            rows.append([name, f.get("kind", ""), "", "", "", "", escape(f.get("reason", ""))])
            continue
        flag = "<span class='bad'>drifted</span>" if f["drifted"] else "ok"
        rows.append(
            [
                name,
                f["kind"],
                f"{f['psi']:.3f}",
                f["test"],
                f"{f['p_value']:.2g}",
                f"{f['effect']:.3f}",
                flag,
            ]
        )
    if not report["drift_evaluated"]:
        return f"<p>Not evaluated: {escape(str(report['drift_reason']))}</p>"
    return _table(
        ["feature", "kind", "PSI", "test", "p-value", "effect", "status"], rows, raw_last=True
    )


def _pred_html(pred: dict[str, Any]) -> str:
    if not pred.get("evaluated"):
        return "<p>Not evaluated.</p>"
    flag = "<span class='bad'>drifted</span>" if pred["drifted"] else "ok"
    return (
        f"<p>PSI {pred['psi']:.3f}, {pred['test']} p={pred['p_value']:.2g}, "
        f"effect {pred['effect']:.3f}: {flag}</p>"
    )


def _perf_html(perf: dict[str, Any]) -> str:
    if not perf.get("evaluated"):
        return f"<p>Not evaluated: {escape(str(perf.get('reason', '')))}</p>"
    head = (
        f"<p>{escape(perf['metric'])} per window, {perf['chart']} chart, centre "
        f"{perf['centre']:.4f}, ±{perf['sigma']}σ limits from the first "
        f"{perf['reference_windows']} windows. Flagged: "
        f"{escape(', '.join(perf['flagged']) or 'none')}</p>"
    )
    return head + _chart_svg(perf["points"])


def _psi_svg(report: dict[str, Any]) -> str:
    feats = [(k, v) for k, v in report["features"].items() if v.get("evaluated")]
    if not feats:
        return ""
    thr = report["thresholds"]["psi_threshold"]
    top = max([thr * 1.5] + [v["psi"] for _, v in feats])
    width, left, bar = 640, 180, 16
    height = bar * len(feats) + 30
    scale = (width - left - 20) / top
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}'>"]
    for i, (name, v) in enumerate(feats):
        y = 10 + i * bar
        color = "#c33" if v["drifted"] else "#69c"
        out.append(
            f"<text x='{left - 6}' y='{y + 12}' font-size='11' text-anchor='end'>"
            f"{escape(name)}</text><rect x='{left}' y='{y + 2}' height='{bar - 4}' "
            f"width='{max(v['psi'] * scale, 1):.1f}' fill='{color}'/>"
        )
    x = left + thr * scale
    out.append(
        f"<line x1='{x:.1f}' x2='{x:.1f}' y1='5' y2='{height - 15}' stroke='#000' "
        f"stroke-dasharray='4'/><text x='{x:.1f}' y='{height - 3}' font-size='10'>"
        f"PSI threshold {thr}</text></svg>"
    )
    return "".join(out)


def _chart_svg(points: list[dict[str, Any]]) -> str:
    width, height, pad = 640, 240, 40
    vals = [p[k] for p in points for k in ("value", "lcl", "ucl") if p.get(k) is not None]
    lo, hi = min(vals), max(vals)
    span = (hi - lo) or 1.0

    def xy(i: int, v: float) -> str:
        x = pad + i * (width - 2 * pad) / max(len(points) - 1, 1)
        return f"{x:.1f},{height - pad - (v - lo) / span * (height - 2 * pad):.1f}"

    out = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}'>"]
    for key, style in (
        ("ucl", "stroke='#c33' stroke-dasharray='4'"),
        ("centre", "stroke='#090'"),
        ("lcl", "stroke='#c33' stroke-dasharray='4'"),
        ("value", "stroke='#36c'"),
    ):
        path = " ".join(xy(i, p[key]) for i, p in enumerate(points))
        out.append(f"<polyline fill='none' {style} points='{path}'/>")
    for i, p in enumerate(points):
        color = "#c33" if p.get("out") else "#36c"
        x, y = xy(i, p["value"]).split(",")
        out.append(
            f"<circle cx='{x}' cy='{y}' r='4' fill='{color}'>"
            f"<title>{escape(str(p['window']))}: {p['value']:.4f}</title></circle>"
        )
    out.append(
        f"<text x='{pad}' y='15' font-size='11'>value (blue), centre (green), "
        f"limits (red dashed); max {hi:.4g}, min {lo:.4g}</text></svg>"
    )
    return "".join(out)


def _table(head: list[str], rows: list[list[Any]], raw_last: bool = False) -> str:
    out = ["<table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>"]
    for row in rows:
        cells = [escape(str(c)) for c in row[:-1]] + [
            str(row[-1]) if raw_last else escape(str(row[-1]))
        ]
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return "".join(out) + "</table>"
