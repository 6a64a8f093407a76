"""The numerical envelope in the in-process commands that compute, and ``gate --on-missing``.

``pr2prod gate``, ``diff``, ``score`` and ``verify-repro`` compute in the ``pr2prod``
process itself, so they must pin the envelope (threads, kernels) before they import NumPy,
as the stage runner does; ``import pr2prod.cli`` must therefore load nothing numerical.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from _project import BIN, env, run
from pr2prod.config.gate_schema import GateConfig, OnMissing
from pr2prod.envelope import OFF_VAR
from pr2prod.stages.__main__ import ENVELOPE_VAR

pytestmark = [pytest.mark.integration]

PR2PROD = str(BIN / "pr2prod")
NUMERIC = ("numpy", "scipy", "torch", "sklearn", "pandas")


def python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env={k: v for k, v in env().items() if k not in (OFF_VAR, ENVELOPE_VAR)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_importing_the_cli_loads_nothing_numerical(tmp_path: Path) -> None:
    proc = python(
        f"import sys, pr2prod.cli; print([m for m in {NUMERIC!r} if m in sys.modules])", tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


RUN_COMMAND = """
import json, os, sys
from pr2prod.cli import app
code = app({args!r}, prog_name="pr2prod", standalone_mode=False)
print(json.dumps({{"code": code, "record": json.loads(os.environ.get({var!r}, "null"))}}))
"""


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["gate", "--params", "missing.yaml"], 2),
        (["diff", "no-such-rev", "HEAD"], 3),
        (["score", "--params", "missing.yaml"], 2),
        (["verify-repro", "--no-pull"], 2),
    ],
)
def test_computing_commands_pin_the_envelope_before_numpy(
    tmp_path: Path, args: list[str], code: int
) -> None:
    proc = python(RUN_COMMAND.format(args=args, var=ENVELOPE_VAR), tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["code"] == code, proc.stderr  # each fails on its input, after the pin
    record = out["record"]
    assert record["enabled"] is True
    assert record["late"] is False  # no NumPy/SciPy/torch/sklearn loaded before the pin
    assert record["forced"]["OMP_NUM_THREADS"]["value"] == "1"


def test_commands_that_do_not_compute_leave_the_environment_alone(tmp_path: Path) -> None:
    proc = python(RUN_COMMAND.format(args=["registry"], var=ENVELOPE_VAR), tmp_path)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == {"code": 2, "record": None}


@pytest.fixture
def captured_gate_config(composed: Path, monkeypatch: pytest.MonkeyPatch) -> list[GateConfig]:
    """Run ``pr2prod gate`` in-process up to the comparison; record the config it gets."""
    import pr2prod.compare.workspace as workspace
    from pr2prod.compare.errors import GateError

    seen: list[GateConfig] = []

    def stop(ws: object, cfg: GateConfig, *args: object, **kwargs: object) -> dict:
        seen.append(cfg)
        raise GateError("stopped before comparing (test)")

    monkeypatch.setattr(workspace, "gate_workspace", stop)
    monkeypatch.setenv(OFF_VAR, "off")  # in-process: never change this test process's env
    monkeypatch.setenv(ENVELOPE_VAR, "")
    monkeypatch.chdir(composed)
    return seen


@pytest.mark.parametrize(
    ("composed_value", "option", "expected"),
    [
        (None, [], OnMissing.rebuild),  # the default of conf/
        (None, ["--on-missing", "fail"], OnMissing.fail),
        ("fail", [], OnMissing.fail),
        ("fail", ["--on-missing", "rebuild"], OnMissing.rebuild),
    ],
)
def test_on_missing_overrides_gate_baseline_on_missing(
    captured_gate_config: list[GateConfig],
    composed: Path,
    composed_value: str | None,
    option: list[str],
    expected: OnMissing,
) -> None:
    from pr2prod.cli import app

    if composed_value is not None:
        run([PR2PROD, "compose", f"gate.baseline.on_missing={composed_value}"], composed)
    result = CliRunner().invoke(app, ["gate", *option])
    assert result.exit_code == 3, result.output
    assert "stopped before comparing" in result.output
    (cfg,) = captured_gate_config
    assert cfg.baseline.on_missing is expected
    assert cfg.baseline.ref == "main"  # the rest of gate.baseline is untouched
