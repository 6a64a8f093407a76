"""Summarise a prediction log: production vs shadow agreement, flips, latencies."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np


def _pct(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def summarise(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Agreement rate, flip matrix (production label -> shadow label), error counts, latency.

    Production latency is per request (lines of one request share it); shadow latency is
    per shadow call.
    """
    shadowed = [e for e in entries if isinstance(e.get("shadow"), dict)]
    scored = [e for e in shadowed if "output" in e["shadow"]]
    errors = Counter(
        (e["shadow"]["error"] == "timeout" and "timeout") or "error"
        for e in shadowed
        if "error" in e["shadow"]
    )
    agree = sum(bool(e["shadow"].get("agree")) for e in scored)
    flips: dict[str, dict[str, int]] = {}
    abs_diff: list[float] = []
    for e in scored:
        prod, shadow = e["output"], e["shadow"]["output"]
        if "label" in prod:
            row = flips.setdefault(str(prod["label"]), {})
            key = str(shadow.get("label"))
            row[key] = row.get(key, 0) + 1
        else:
            abs_diff.append(abs(float(prod["value"]) - float(shadow["value"])))
    prod_lat = list({e["request_id"]: e["latency_ms"] for e in entries}.values())
    shadow_lat = list({e["request_id"]: e["shadow"]["latency_ms"] for e in shadowed}.values())
    return {
        "records": len(entries),
        "shadowed": len(shadowed),
        "compared": len(scored),
        "agreement_rate": agree / len(scored) if scored else None,
        "shadow_errors": errors.get("error", 0),
        "shadow_timeouts": errors.get("timeout", 0),
        "flip_matrix": flips,
        "mean_abs_diff": float(np.mean(abs_diff)) if abs_diff else None,
        "production_latency_ms": {"p50": _pct(prod_lat, 50), "p99": _pct(prod_lat, 99)},
        "shadow_latency_ms": {"p50": _pct(shadow_lat, 50), "p99": _pct(shadow_lat, 99)},
        "models": {
            "production": sorted({e["model"]["model_version"] for e in entries}),
            "shadow": sorted({e["shadow"]["model"]["model_version"] for e in shadowed}),
        },
    }


def render(summary: dict[str, Any]) -> str:
    """Plain-text report for the terminal."""
    lines = [
        f"records: {summary['records']}  shadowed: {summary['shadowed']}  "
        f"compared: {summary['compared']}  errors: {summary['shadow_errors']}  "
        f"timeouts: {summary['shadow_timeouts']}"
    ]
    rate = summary["agreement_rate"]
    lines.append("agreement rate: " + ("n/a" if rate is None else f"{rate:.4f}"))
    if summary["flip_matrix"]:
        cols = sorted({c for row in summary["flip_matrix"].values() for c in row})
        lines.append("flip matrix (rows: production label, columns: shadow label)")
        lines.append("  " + "prod\\shadow".ljust(12) + "".join(c.rjust(10) for c in cols))
        for prod, row in sorted(summary["flip_matrix"].items()):
            lines.append(
                "  " + prod.ljust(12) + "".join(str(row.get(c, 0)).rjust(10) for c in cols)
            )
    if summary["mean_abs_diff"] is not None:
        lines.append(f"mean |production - shadow|: {summary['mean_abs_diff']:.6g}")
    for who in ("production", "shadow"):
        lat = summary[f"{who}_latency_ms"]
        if lat["p50"] is not None:
            lines.append(f"{who} latency ms: p50 {lat['p50']:.3f}  p99 {lat['p99']:.3f}")
    return "\n".join(lines)
