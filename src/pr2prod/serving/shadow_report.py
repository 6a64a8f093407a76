"""Summarise a prediction log: production vs shadow agreement, flips, latencies.

Reads the one record format (:class:`pr2prod.logrecord.PredictionRecord`)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from pr2prod.logrecord import PredictionRecord


def _pct(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def summarise(records: list[PredictionRecord]) -> dict[str, Any]:
    """Agreement rate, flip matrix (production label -> shadow label), error counts, latency.

    Production latency is per request (lines of one request share it); shadow latency is
    per shadow call.
    """
    shadowed = [(r, r.shadow) for r in records if r.shadow is not None]
    scored = [(r.output, s.output, s) for r, s in shadowed if s.output is not None]
    errors = Counter(
        "timeout" if s.error == "timeout" else "error" for _, s in shadowed if s.error is not None
    )
    agree = sum(bool(s.agree) for _, _, s in scored)
    flips: dict[str, dict[str, int]] = {}
    abs_diff: list[float] = []
    for prod, shadow, _ in scored:
        if prod.label is not None:
            row = flips.setdefault(str(prod.label), {})
            key = str(shadow.label)
            row[key] = row.get(key, 0) + 1
        elif prod.value is not None and shadow.value is not None:
            abs_diff.append(abs(prod.value - shadow.value))
    prod_lat = list({r.request_id: r.latency_ms for r in records}.values())
    shadow_lat = list({r.request_id: s.latency_ms for r, s in shadowed}.values())
    return {
        "records": len(records),
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
            "production": sorted({r.model.model_version for r in records}),
            "shadow": sorted({s.model.model_version for _, s in shadowed}),
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
