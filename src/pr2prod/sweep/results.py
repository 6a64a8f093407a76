"""The sweep's results: one record per trial (failures included), ranked, as JSON and a table."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from pr2prod.config.sweep_schema import Direction

TRIAL_KEYS = ("artifact_id", "params_digest", "fit_s", "trial_s", "node_id")


@dataclass
class TrialRecord:
    """One trial: its values, its overrides, and either its metrics or its error."""

    trial_id: str
    status: str  # ok | error
    values: dict[str, Any]
    overrides: list[str]
    metric: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    artifact_id: str | None = None
    params_digest: str | None = None
    node_id: str | None = None
    node_ip: str | None = None
    fit_s: float | None = None
    trial_s: float | None = None
    error: str | None = None


def error_line(error: BaseException | str | None) -> str:
    """The last meaningful line of a trial's error (Ray wraps the original traceback)."""
    text = str(error or "unknown error").strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else text


def ranked(records: list[TrialRecord], direction: Direction) -> list[TrialRecord]:
    """Successful trials best first, then failed ones (in trial order)."""
    ok = [r for r in records if r.status == "ok" and r.metric is not None]
    ok = [r for r in ok if not math.isnan(r.metric or 0.0)]
    sign = -1.0 if direction is Direction.max else 1.0
    ok.sort(key=lambda r: (sign * (r.metric or 0.0), r.trial_id))  # ties: the earlier trial
    rest = [r for r in records if r not in ok]
    return ok + sorted(rest, key=lambda r: r.trial_id)


def sweep_report(
    summary: dict[str, Any], records: list[TrialRecord], best: TrialRecord | None
) -> dict[str, Any]:
    """The content of ``reports/sweep.json``."""
    return {
        **summary,
        "trials_ok": sum(r.status == "ok" for r in records),
        "trials_failed": sum(r.status != "ok" for r in records),
        "best": asdict(best) if best else None,
        "trials": [asdict(r) for r in records],
    }


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def table(records: list[TrialRecord], metric: str) -> str:
    """A plain-text table of the ranked trials (failed ones show their error)."""
    keys = sorted({k for r in records for k in r.values})
    header = ["#", "trial", "status", metric, *keys, "node", "artifact"]
    rows = [header]
    for i, r in enumerate(records, 1):
        shown = _fmt(r.metric) if r.metric is not None else "-"
        rows.append(
            [
                str(i),
                r.trial_id,
                r.status,
                shown,
                *(_fmt(r.values.get(k, "")) for k in keys),
                r.node_ip or "-",
                (r.artifact_id or "-")[:12],
            ]
        )
    widths = [max(len(row[c]) for row in rows) for c in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for r in records:
        if r.error:
            lines.append(f"  {r.trial_id} failed: {error_line(r.error)}")
    return "\n".join(lines)
