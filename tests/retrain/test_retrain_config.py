"""Bad retrain and feedback-guard settings: one error naming the key and the allowed values."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pr2prod.config.errors import ConfigError
from pr2prod.config.hydra_compose import compose_dict
from pr2prod.config.loader import to_config
from pr2prod.config.schema import FeedbackGuardConfig
from pr2prod.data.feedback import apply_feedback_guard

CONF = Path(__file__).resolve().parents[2] / "conf"


def compose(*overrides: str):
    return to_config(compose_dict(CONF, list(overrides)))


def test_the_default_config_composes_with_the_rules_on():
    cfg = compose()
    assert cfg.retrain.branch == "pr2prod/retrain"
    assert cfg.retrain.rules.drift.enabled
    assert cfg.data.feedback_guard.column is None


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            "retrain.snapshot.source=svn",
            "retrain.snapshot.source: 'svn' is not one of auto, file, dvc_import, sql",
        ),
        (
            "retrain.rules.new_rows.count=all",
            "retrain.rules.new_rows.count: 'all' is not one of labelled, records",
        ),
        (
            "retrain.rules.drift.min_share=1.5",
            "retrain.rules.drift.min_share: 1.5 is not allowed; expected a share in (0, 1] or null",
        ),
        (
            "retrain.rules.drift.min_features=0",
            "retrain.rules.drift.min_features: 0 is not allowed; expected an integer >= 1 or null",
        ),
        (
            "retrain.rules.schedule.max_model_age_days=-1",
            "retrain.rules.schedule."
            "max_model_age_days: -1.0 is not allowed; expected a number of days > 0 or null",
        ),
        ("retrain.branch='-f'", "retrain.branch: '-f' is not allowed; expected a git branch"),
        ("+retrain.rules.drift.threshold=0.3", "threshold"),
    ],
)
def test_bad_values_name_key_and_allowed_values(override, expected):
    with pytest.raises(ConfigError) as err:
        compose(override)
    assert expected in str(err.value)


def test_a_sql_snapshot_names_the_missing_setting():
    import datetime as dt

    from pr2prod.config.retrain_schema import SqlSnapshotConfig
    from pr2prod.retrain.sql import read_window

    end = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with pytest.raises(ConfigError, match=r"retrain.snapshot.sql.url: required for a SQL"):
        read_window(SqlSnapshotConfig(), end)
    with pytest.raises(ConfigError, match=r"retrain.snapshot.sql.table: no table 'nope'"):
        read_window(SqlSnapshotConfig(url="sqlite://", table="nope", window_column="ts"), end)


def test_feedback_guard_drops_marked_rows_and_the_marker():
    df = pd.DataFrame(
        {"x": [1, 2, 3, 4, 5], "source": ["human", "model", "human", "MODEL", None], "y": [0] * 5}
    )
    kept, n = apply_feedback_guard(df, FeedbackGuardConfig(column="source", values=["model"]))
    assert n == 2
    assert kept["x"].tolist() == [1, 3, 5]
    assert "source" not in kept.columns
    flags = pd.DataFrame({"x": [1, 2, 3], "assisted": [1.0, 0.0, 1.0]})
    kept, n = apply_feedback_guard(flags, FeedbackGuardConfig(column="assisted", values=["1"]))
    assert (n, kept["x"].tolist()) == (2, [2])


def test_feedback_guard_off_changes_nothing():
    df = pd.DataFrame({"x": [1, 2]})
    kept, n = apply_feedback_guard(df, FeedbackGuardConfig())
    assert kept is df
    assert n == 0


def test_feedback_guard_errors_name_the_key():
    df = pd.DataFrame({"x": [1]})
    with pytest.raises(
        ConfigError,
        match=r"data.feedback_guard.column: 'src' not in the data; "
        r"columns: x",
    ):
        apply_feedback_guard(df, FeedbackGuardConfig(column="src", values=["m"]))
    with pytest.raises(ConfigError, match=r"data.feedback_guard.values: required"):
        apply_feedback_guard(df, FeedbackGuardConfig(column="x"))
