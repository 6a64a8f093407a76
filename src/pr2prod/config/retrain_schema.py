"""Schema of the ``retrain`` config group (conf/retrain/): when ``pr2prod retrain`` fires and
how it refreshes the data snapshot (docs/continuous.md, "Retraining")."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from pr2prod.config import catalog


class NewRowsCount(StrEnum):
    """``retrain.rules.new_rows.count``: which rows of the monitored window count as new data."""

    labelled = "labelled"  # rows with a joined label (monitor.performance.labels)
    records = "records"  # every prediction record of the window


class SnapshotSource(StrEnum):
    """``retrain.snapshot.source``: how ``pr2prod retrain`` refreshes the training data."""

    auto = "auto"  # dvc_import when data.path's .dvc pointer is an import, else file
    file = "file"  # `dvc add <data.path>`: a new .dvc pointer for the file as it is now
    dvc_import = "dvc_import"  # `dvc update <data.path>.dvc`: the import's newest revision
    sql = "sql"  # run retrain.snapshot.sql for the new window into data.path (Parquet)


@dataclass
class DriftRule:
    """Fires on drift in the monitor report (``reports/monitor.json``).

    Attributes:
        enabled: evaluate the rule at all.
        min_features: fires when at least this many features drifted (null: not this way).
        min_share: fires when drifted / evaluated features is at least this (null: not this way).
        prediction: fires when the prediction distribution drifted.
    """

    enabled: bool = True
    min_features: int | None = 2
    min_share: float | None = 0.25
    prediction: bool = True


@dataclass
class PerformanceRule:
    """Fires when the monitor's performance control chart flags a window (labels needed)."""

    enabled: bool = True
    min_flagged_windows: int = 1


@dataclass
class NewRowsRule:
    """Fires when the monitored window holds at least ``min_rows`` new rows (null: off)."""

    min_rows: int | None = None
    count: NewRowsCount = NewRowsCount.labelled


@dataclass
class ScheduleRule:
    """Fires on age or on the schedule itself.

    Attributes:
        max_model_age_days: fires when the production version (GTO stage ``release.stage``)
            was registered more than this many days ago (null: off).
        every_scheduled_run: fires on every ``--event schedule`` run.
    """

    max_model_age_days: float | None = None
    every_scheduled_run: bool = False


@dataclass
class RulesConfig:
    """The trigger rules; any one firing opens (or updates) the retraining PR."""

    drift: DriftRule = field(default_factory=DriftRule)
    performance: PerformanceRule = field(default_factory=PerformanceRule)
    new_rows: NewRowsRule = field(default_factory=NewRowsRule)
    schedule: ScheduleRule = field(default_factory=ScheduleRule)


@dataclass
class SqlSnapshotConfig:
    """A window of a SQL table written to ``data.path`` (Parquet) and tracked by DVC.

    Attributes:
        url: SQLAlchemy URL (a password comes from the driver's environment, e.g. PGPASSWORD).
        table: table (or view) to read.
        columns: columns to read (empty: all).
        window_column: timestamp column the window is cut on.
        window_days: window length ending at the run's end time (null: every row up to it).
    """

    url: str | None = None
    table: str | None = None
    columns: list[str] = field(default_factory=list)
    window_column: str | None = None
    window_days: float | None = None


@dataclass
class SnapshotConfig:
    """How the data snapshot is refreshed before retraining."""

    source: SnapshotSource = SnapshotSource.auto
    sql: SqlSnapshotConfig = field(default_factory=SqlSnapshotConfig)


@dataclass
class RetrainConfig:
    """Trigger rules, snapshot refresh and outputs of ``pr2prod retrain`` (docs/continuous.md).

    Attributes:
        branch: branch the retraining commit goes to (one open retraining PR at a time).
        rules: when a retraining PR opens.
        snapshot: how the training data is refreshed.
        report_json: the plan and outcome, machine-readable.
        report_md: the PR body (rules fired with evidence, snapshot change, metrics).
    """

    branch: str = "pr2prod/retrain"
    rules: RulesConfig = field(default_factory=RulesConfig)
    snapshot: SnapshotConfig = field(default_factory=SnapshotConfig)
    report_json: str = field(default_factory=catalog.default_factory("retrain_json"))
    report_md: str = field(default_factory=catalog.default_factory("retrain_md"))


def check_retrain(cfg: RetrainConfig) -> None:
    """Range checks the types cannot express.

    The settings a SQL snapshot needs are checked when it runs (``pr2prod.retrain.sql``), so
    every ``retrain.snapshot.source`` value composes on its own.

    Raises:
        ConfigError: naming the key and what is allowed.
    """
    from pr2prod.config.errors import ConfigError

    drift, rules = cfg.rules.drift, cfg.rules
    age = rules.schedule.max_model_age_days
    checks = [
        (
            drift.min_features is not None and drift.min_features < 1,
            "retrain.rules.drift.min_features",
            drift.min_features,
            "an integer >= 1 or null",
        ),
        (
            drift.min_share is not None and not 0.0 < drift.min_share <= 1.0,
            "retrain.rules.drift.min_share",
            drift.min_share,
            "a share in (0, 1] or null",
        ),
        (
            rules.performance.min_flagged_windows < 1,
            "retrain.rules.performance.min_flagged_windows",
            rules.performance.min_flagged_windows,
            "an integer >= 1",
        ),
        (
            rules.new_rows.min_rows is not None and rules.new_rows.min_rows < 1,
            "retrain.rules.new_rows.min_rows",
            rules.new_rows.min_rows,
            "an integer >= 1 or null",
        ),
        (
            age is not None and age <= 0,
            "retrain.rules.schedule.max_model_age_days",
            age,
            "a number of days > 0 or null",
        ),
        (
            cfg.snapshot.sql.window_days is not None and cfg.snapshot.sql.window_days <= 0,
            "retrain.snapshot.sql.window_days",
            cfg.snapshot.sql.window_days,
            "a number of days > 0 or null",
        ),
        (
            not cfg.branch.strip()
            or cfg.branch.startswith("-")
            or ".." in cfg.branch
            or any(c.isspace() or c in "~^:?*[\\" for c in cfg.branch),
            "retrain.branch",
            cfg.branch,
            "a git branch name (no spaces, `..`, ~^:?*[\\ or leading -)",
        ),
    ]
    for bad, key, value, allowed in checks:
        if bad:
            raise ConfigError(f"{key}: {value!r} is not allowed; expected {allowed}")
