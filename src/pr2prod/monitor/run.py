"""Run the monitor: read a window of predictions, test it against the model's training
reference and write the reports.

:func:`run_monitor` is the whole job behind ``pr2prod monitor`` and ``pipelines/monitor``;
the CLI only turns its options into :class:`MonitorOverrides` and prints the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pr2prod.config.monitor_schema import MonitorConfig
from pr2prod.data.schema import DataSchema
from pr2prod.models.persist import SCHEMA_FILE
from pr2prod.monitor.outputs import update_flag, write_outputs
from pr2prod.monitor.report import build_report
from pr2prod.monitor.window import join_labels, load_window, read_labels, select_window


@dataclass(frozen=True)
class MonitorOverrides:
    """Values given on the command line; each replaces its config key (None: keep it)."""

    source: str | None = None  # monitor.source
    log: str | Path | None = None  # monitor.log
    scored_input: str | Path | None = None  # monitor.scored_input
    scored_predictions: str | Path | None = None  # monitor.scored_predictions
    labels: str | Path | None = None  # monitor.performance.labels
    model: str | Path | None = None  # monitor.score.model
    start: str | None = None  # window start (ISO time)
    end: str | None = None  # window end (ISO time; default: the newest record)


@dataclass(frozen=True)
class MonitorResult:
    """The report (as written to ``monitor.json``) and every file written."""

    report: dict[str, Any]
    outputs: list[Path] = field(default_factory=list)

    @property
    def alert(self) -> bool:
        return bool(self.report["alert"])

    @property
    def alerts(self) -> list[str]:
        return list(self.report["alerts"])

    @property
    def rows(self) -> int:
        return int(self.report["window"]["rows"])


def load_reference(model_dir: str | Path) -> DataSchema:
    """The training reference: the artifact's ``schema.json``.

    Raises:
        FileNotFoundError: naming ``monitor.score.model`` when the file is missing.
    """
    path = Path(model_dir) / SCHEMA_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"monitor.score.model: {model_dir} has no {SCHEMA_FILE} (the training reference); "
            "run `dvc pull` or `dvc repro train`, or pass --model PATH"
        )
    return DataSchema.load(path)


def run_monitor(cfg: MonitorConfig, overrides: MonitorOverrides | None = None) -> MonitorResult:
    """Monitor one window and write ``monitor.json``/``.html``/``.md``, the plots data and
    the alert flag file (removed first, so a failed run never leaves an old alert behind).

    Raises:
        ValueError: a bad setting, naming its key.
        FileNotFoundError: a missing model reference, log or table.
    """
    o = overrides or MonitorOverrides()
    flag = Path(cfg.alert.flag_file) if cfg.alert.flag_file else None
    if flag is not None:
        flag.unlink(missing_ok=True)
    schema = load_reference(o.model or cfg.score.model)
    frame, facts = load_window(
        o.source or cfg.source,
        log=o.log or cfg.log,
        scored_input=o.scored_input or cfg.scored_input,
        scored_predictions=o.scored_predictions or cfg.scored_predictions,
        id_column=schema.id_column,
        timestamp_column=cfg.timestamp_column,
        include_shadow=cfg.include_shadow,
    )
    frame, window = select_window(frame, o.start, o.end, cfg.window_days)
    labels_path = o.labels or cfg.performance.labels
    labelled = None
    if labels_path:
        labels = read_labels(labels_path)
        label_column = cfg.performance.label_column or schema.target
        labelled = join_labels(frame, labels, schema.id_column, label_column)
    report = build_report(frame, schema, cfg, labelled, {**facts, **window})
    written = write_outputs(report, Path(cfg.report_dir), Path(cfg.plots_dir))
    update_flag(flag, report)
    return MonitorResult(report, written)
