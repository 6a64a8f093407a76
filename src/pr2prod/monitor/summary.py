"""The part of ``monitor.json`` other commands read (``pr2prod retrain``): one pydantic model.

The monitor validates every report it writes against :class:`MonitorSummary`
(:func:`pr2prod.monitor.outputs.write_outputs`), and readers load the file only through
:func:`read_summary`, so writer and reader cannot disagree on a field silently. Keys not
named here stay in the file (HTML/markdown rendering, plots) and are ignored on reading.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pr2prod.errors import DataError


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Window(_Part):
    """The monitored window: where its records came from and the time range they cover."""

    source: str
    path: str
    start: str | None = None
    end: str | None = None
    rows: int


class FeatureDrift(_Part):
    """Drift of one feature (``evaluated`` false: its distribution was not tested: ignored,
    absent or no values; ``drifted`` may still be true from its missing share)."""

    evaluated: bool
    drifted: bool = False
    psi: float | None = None
    missing_share: float | None = None
    reference_missing_share: float | None = None
    reasons: list[str] = Field(default_factory=list)


class PredictionDrift(_Part):
    """Drift of the prediction distribution against the training target."""

    evaluated: bool
    drifted: bool = False
    psi: float | None = None
    reasons: list[str] = Field(default_factory=list)


class Performance(_Part):
    """The control chart's verdict (``evaluated`` false: no labels or too few windows)."""

    evaluated: bool
    metric: str | None = None
    flagged: list[str] = Field(default_factory=list)
    labelled_rows: int = 0
    reason: str | None = None


class MonitorSummary(_Part):
    """What ``monitor.json`` promises to its readers."""

    window: Window
    drift_evaluated: bool
    drift_reason: str | None = None
    features: dict[str, FeatureDrift]
    drifted_features: list[str]
    prediction: PredictionDrift
    performance: Performance
    model_versions: dict[str, int]
    alerts: list[str]
    alert: bool

    @property
    def evaluated_features(self) -> list[str]:
        """Names of the features whose drift was tested: their distribution, or at least their
        missing share (a feature with no values is checked, and drifted, by the latter)."""
        return sorted(
            k for k, v in self.features.items() if v.evaluated or v.missing_share is not None
        )


def validate_report(report: dict[str, Any]) -> MonitorSummary:
    """The summary of a report about to be written (raises on a broken writer: a bug)."""
    return MonitorSummary.model_validate(report)


def read_summary(path: str | Path) -> MonitorSummary:
    """Load ``monitor.json`` as its summary.

    Raises:
        DataError: the file is missing, not JSON or not a monitor report, naming it.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: no monitor report; run `pr2prod monitor` (or `make monitor`) first")
    try:
        return MonitorSummary.model_validate_json(p.read_text(encoding="utf-8"))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "(top level)"
        raise DataError(f"{p}: not a monitor report ({where}: {first['msg']})") from exc
