"""Exit codes through the real ``pr2prod`` command: one per error category (README table).

Each test runs the installed console script (or ``python -c`` calling the same Typer app)
in a subprocess, on a real ``conf/`` composed into a real ``params.yaml``: nothing is mocked
except, for the "internal bug" case, the one function that is made to crash.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from _project import BIN, ROOT, env
from pr2prod import errors

pytestmark = [pytest.mark.integration]

PR2PROD = str(BIN / "pr2prod")


def pr2prod(args: list[str], cwd: Path, extra_env: dict[str, str] | None = None):
    """Run ``pr2prod ARGS`` in ``cwd``; return the completed process (any exit code)."""
    return subprocess.run(
        [PR2PROD, *args],
        cwd=cwd,
        env={**env(), **(extra_env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.unit
def test_the_documented_table_is_the_one_the_code_uses() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Exit codes")[1].split("\n#")[0]
    for code in errors.EXIT_CODES:
        assert f"\n| {code} |" in table, f"exit code {code} is not documented in README.md"
    assert errors.CheckFailedError.exit_code == 1
    assert errors.UsageError.exit_code == 2
    assert errors.DataError.exit_code == 3
    assert errors.PlatformError.exit_code == 4
    assert errors.InternalError.exit_code == 70
    assert len({errors.EXIT_CODES[c] for c in errors.EXIT_CODES}) == len(errors.EXIT_CODES)


@pytest.mark.unit
def test_every_domain_error_is_a_pr2prod_error_of_the_right_category() -> None:
    from pr2prod.batch.reader import InputError
    from pr2prod.batch.sql_sink import SchemaMismatchError
    from pr2prod.compare.errors import GateError
    from pr2prod.config.errors import ConfigError
    from pr2prod.envelope import EXIT_CODE, EnvelopeError
    from pr2prod.models.persist import UntrustedArtifactError
    from pr2prod.release.flow import ReleaseRefusedError
    from pr2prod.release.registry import RegistryError
    from pr2prod.release.versions import VersionError
    from pr2prod.retrain.tools import ToolError
    from pr2prod.serving.middleware import BodyTooLargeError
    from pr2prod.stages._common import StageFailedError

    expected = {
        ConfigError: (2, ValueError),
        VersionError: (2, ValueError),
        InputError: (3, ValueError),
        SchemaMismatchError: (3, ValueError),
        GateError: (3, RuntimeError),
        UntrustedArtifactError: (3, RuntimeError),
        BodyTooLargeError: (3, Exception),
        StageFailedError: (1, RuntimeError),
        ReleaseRefusedError: (1, RuntimeError),
        RegistryError: (1, RuntimeError),
        EnvelopeError: (4, RuntimeError),
        ToolError: (1, Exception),
    }
    for cls, (code, builtin) in expected.items():
        arg = ["a message for people"] if cls is ReleaseRefusedError else "a message for people"
        err = cls(arg)  # ReleaseRefusedError lists its problems
        assert isinstance(err, errors.Pr2prodError), cls
        assert isinstance(err, builtin), f"{cls.__name__} lost its builtin base"
        assert err.exit_code == code, cls
        assert "a message for people" in err.message
    assert EnvelopeError.exit_code == EXIT_CODE  # the stage runner exits with it


def test_a_bad_config_override_exits_2(composed: Path) -> None:
    proc = pr2prod(["compose", "model=no_such_model"], composed)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: ")
    assert "model/no_such_model" in proc.stderr and "logistic_regression" in proc.stderr
    assert "Traceback" not in proc.stderr

    typed = pr2prod(["compose", "model.C=abc"], composed)
    assert typed.returncode == 2
    assert "model.C" in typed.stderr


def test_a_bad_option_value_exits_2_too(composed: Path) -> None:
    proc = pr2prod(["gate", "--on-missing", "maybe"], composed)
    assert proc.returncode == 2
    assert "'rebuild', 'fail'" in proc.stderr


def test_a_missing_params_file_is_a_config_error(tmp_path: Path) -> None:
    proc = pr2prod(["registry"], tmp_path)
    assert proc.returncode == 2
    assert "params.yaml: not found; run `pr2prod compose`" in proc.stderr


def test_a_missing_model_artifact_exits_3(composed: Path) -> None:
    proc = pr2prod(["score", "--model", "nowhere/model", "--no-db"], composed)
    assert proc.returncode == 3, proc.stderr
    assert "nowhere" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_empty_or_missing_prediction_log_exits_3(composed: Path) -> None:
    (composed / "empty.jsonl").write_text("", encoding="utf-8")
    for log, says in (
        ("empty.jsonl", "no prediction log entries"),
        ("missing.jsonl", "no such file"),
    ):
        proc = pr2prod(["shadow-report", log], composed)
        assert proc.returncode == 3, proc.stderr
        assert log in proc.stderr and says in proc.stderr


def test_params_out_of_sync_is_a_failed_check_exit_1(composed: Path) -> None:
    params = composed / "params.yaml"
    text = params.read_text(encoding="utf-8")
    assert "\n  C: " in text  # the default model is a logistic regression
    lines = [("  C: 0.123" if line.startswith("  C: ") else line) for line in text.splitlines()]
    params.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = pr2prod(["check"], composed)
    assert proc.returncode == 1
    assert "model.C=0.123" in proc.stderr
    assert "out of sync" in proc.stderr


CRASH = """
import pr2prod.config.compose as compose

def reconcile(*args, **kwargs):
    return {}["no such key"]  # the injected bug

compose.reconcile = reconcile
from pr2prod.cli import app
app(["compose"], prog_name="pr2prod")
"""


@pytest.mark.parametrize("debug", [False, True])
def test_an_internal_bug_exits_70_with_one_line_and_a_hint(composed: Path, debug: bool) -> None:
    extra = {errors.DEBUG_VAR: "1"} if debug else {}
    proc = subprocess.run(
        [sys.executable, "-c", CRASH],
        cwd=composed,
        env={**env(), **extra},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if debug:  # the traceback, as Python prints it
        assert "Traceback (most recent call last)" in proc.stderr
        assert "KeyError: 'no such key'" in proc.stderr
        assert proc.returncode != 0
    else:
        assert proc.returncode == 70, proc.stderr
        assert "Traceback" not in proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1
        assert lines[0].startswith("error: internal error: KeyError: 'no such key'")
        assert f"{errors.DEBUG_VAR}=1" in lines[0]


def test_the_stage_runner_maps_a_config_error_to_2(composed: Path) -> None:
    (composed / "params.yaml").write_text("model: 3\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "pr2prod.stages", "prepare"],
        cwd=composed,
        env=env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "[prepare] config error: model: expected a model config mapping" in proc.stderr
