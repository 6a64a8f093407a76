"""The trust policy's own rules, and errors that name the source with no password (unit)."""

from __future__ import annotations

import pytest

from pr2prod.config import ConfigError
from pr2prod.config.trust import DEFAULT_POLICY, policy_from_toml, widening, widening_message
from pr2prod.errors import DataError, mask_passwords, translate_library_error

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


def test_an_unreachable_database_is_a_data_error_with_the_password_masked(tmp_path) -> None:
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path}/missing/dir/x.db"
    with pytest.raises(sa.exc.OperationalError) as exc:
        sa.create_engine(url).connect()
    error = translate_library_error(exc.value)
    assert isinstance(error, DataError) and error.exit_code == 3
    assert str(error).startswith("database unreachable: unable to open database file")
    assert "\n" not in str(error)
    text = "connection to postgresql+psycopg://bob:s3cr3t@db:5432/x failed; password=hunter2"
    assert mask_passwords(text) == (
        "connection to postgresql+psycopg://bob:***@db:5432/x failed; password=***"
    )
    other = ValueError("x")
    assert translate_library_error(other) is other
