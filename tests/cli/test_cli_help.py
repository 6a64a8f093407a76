"""``--help`` shows help texts as written, ``--version`` answers (issue 20 §8)."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from pr2prod.cli import app
from pr2prod.cli._app import package_version

pytestmark = [pytest.mark.unit]

KEY = re.compile(r"\[[a-z_]+\.[a-z_.]+\]")  # a config key: [monitor.log], [serve.port] ...


def _commands() -> dict[str, typer.core.TyperCommand]:
    return dict(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def test_every_config_key_named_in_a_help_text_is_shown() -> None:
    runner = CliRunner()
    seen = 0
    for name, command in _commands().items():
        keys = {k for p in command.params for k in KEY.findall(getattr(p, "help", None) or "")}
        if not keys:
            continue
        out = runner.invoke(app, [name, "--help"], env={"COLUMNS": "400"}).output
        flat = " ".join(out.split())
        for key in keys:
            assert key in flat, (name, key)
        seen += len(keys)
    assert seen >= 10  # monitor, canary-report, score ... name their keys
    labels = runner.invoke(app, ["monitor", "--help"], env={"COLUMNS": "400"}).output
    assert "<sqlalchemy-url>#<table>" in "".join(labels.split())  # placeholders kept too


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"pr2prod {package_version()}\n"
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", package_version())
