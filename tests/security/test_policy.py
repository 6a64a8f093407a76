"""The trust policy's own rules, and errors that name the source with no password (unit).

An unreachable database is tried at every place a configured URL is connected to: a SQLite
file in a missing directory, and a PostgreSQL URL with a password on a port nothing listens
on (the connect is refused; no server is started).
"""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from pr2prod.batch.sql_sink import SqlSink
from pr2prod.cli._app import error_message
from pr2prod.config import ConfigError
from pr2prod.config.retrain_schema import SqlSnapshotConfig
from pr2prod.config.trust import DEFAULT_POLICY, policy_from_toml, widening, widening_message
from pr2prod.errors import (
    DataError,
    database_errors,
    mask_passwords,
    translate_library_error,
)
from pr2prod.monitor.window import read_labels
from pr2prod.retrain.sql import read_window

pytestmark = [pytest.mark.unit]


def test_the_policy_is_read_and_validated_from_pyproject() -> None:
    text = '[tool.pr2prod]\nallowed_targets = ["sklearn.", "acme."]\nallowed_callables = []\n'
    policy = policy_from_toml(text, "pyproject.toml")
    assert policy.allowed_targets == ("sklearn.", "acme.")
    assert policy_from_toml("[project]\nname = 'x'\n", "p") == DEFAULT_POLICY
    for bad, match in (
        ('allowed_targets = ["acme"]', r"'acme' is not a module prefix"),
        ('allowed_targets = ["acme._private."]', r"is not a module prefix"),
        ('allowed_callables = ["pandas"]', r"'pandas' is not a dotted name"),
        ("trusted = true", r"unknown key 'trusted'"),
    ):
        with pytest.raises(ConfigError, match=match):
            policy_from_toml(f"[tool.pr2prod]\n{bad}\n", "pyproject.toml")


def test_widening_lists_each_added_entry_and_ignores_narrowing() -> None:
    head = policy_from_toml(
        '[tool.pr2prod]\nallowed_targets = ["sklearn.", "pandas."]\n'
        'allowed_callables = ["pandas.read_pickle"]\n',
        "p",
    )
    widened = widening(DEFAULT_POLICY, head)
    assert widened == ["allowed_targets +'pandas.'", "allowed_callables +'pandas.read_pickle'"]
    assert widening(head, DEFAULT_POLICY) == [
        "allowed_targets +'skorch.'",
        "allowed_targets +'torch.'",
        "allowed_targets +'pr2prod.'",
    ]
    assert widening(DEFAULT_POLICY, DEFAULT_POLICY) == []
    assert widening_message(widened) == (
        "this pull request widens the trust policy: allowed_targets +'pandas.', "
        "allowed_callables +'pandas.read_pickle'; a maintainer must approve it"
    )


def _refused_port() -> int:
    """A local TCP port nothing listens on: bound, never listened on, released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


END = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
SAMPLE = pd.DataFrame(
    {"row_id": [1], "model_name": ["m"], "model_version": ["v1"], "prediction": [0]}
)
# every place a configured URL is connected to, by the config key it comes from
DB_SITES: dict[str, Callable[[str], object]] = {
    "monitor.score.database_url": lambda url: SqlSink(url, "predictions", SAMPLE, "in.csv", "v1"),
    "monitor.performance.labels": lambda url: read_labels(f"{url}#labels"),
    "retrain.snapshot.sql.url": lambda url: read_window(
        SqlSnapshotConfig(url=url, table="events", window_column="ts"), END
    ),
}


@pytest.mark.parametrize("key", list(DB_SITES))
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_an_unreachable_database_is_a_data_error_with_the_password_masked(
    key: str, kind: str
) -> None:
    if kind == "sqlite":  # a file in a directory that does not exist
        url = shown = "sqlite:////nonexistent-dir/x.sqlite"
        driver = "unable to open database file"
    else:  # a password, and a refused TCP connect (no server)
        pytest.importorskip("psycopg", reason="the [postgres] extra (not in 3.12/3.13 locks)")
        port = _refused_port()
        url = f"postgresql+psycopg://bob:s3cr3t@127.0.0.1:{port}/x"
        shown = f"postgresql+psycopg://bob:***@127.0.0.1:{port}/x"
        driver = f'connection failed: connection to server at "127.0.0.1", port {port} failed'
    with pytest.raises(DataError) as exc:
        DB_SITES[key](url)
    line = str(exc.value)
    assert line.startswith(f"{key}: database {shown} unreachable: {driver}"), line
    assert exc.value.exit_code == 3
    assert "\n" not in line and "s3cr3t" not in line
    assert error_message(exc.value) == line  # what `pr2prod` prints after "error: "
    assert not Path("/nonexistent-dir").exists()


def test_a_database_error_that_escaped_the_helper_is_still_exit_3_and_masked() -> None:
    import sqlalchemy as sa

    with pytest.raises(sa.exc.OperationalError) as exc:
        sa.create_engine("sqlite:////nonexistent-dir/x.db").connect()
    error = translate_library_error(exc.value)  # the command line's safety net
    assert isinstance(error, DataError) and error.exit_code == 3
    assert str(error) == "database unreachable: unable to open database file"
    text = "connection to postgresql+psycopg://bob:s3cr3t@db:5432/x failed; password=hunter2"
    assert mask_passwords(text) == (
        "connection to postgresql+psycopg://bob:***@db:5432/x failed; password=***"
    )
    other = ValueError("x")
    assert translate_library_error(other) is other


def test_a_statement_that_fails_on_a_reachable_database_says_failed() -> None:
    import sqlalchemy as sa

    engine = sa.create_engine("sqlite://")
    with (
        pytest.raises(DataError) as exc,
        database_errors("k", "sqlite://"),
        engine.connect() as conn,
    ):
        conn.execute(sa.text("SELECT * FROM nope"))
    assert str(exc.value) == "k: database sqlite:// failed: no such table: nope"
    with pytest.raises(KeyError), database_errors("k", "sqlite://"):
        raise KeyError("not a database error: passes through")
