"""What every stage shares: the paths of dvc.yaml and the error boundary."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from pr2prod.config.errors import ConfigError
from pr2prod.models.persist import UntrustedArtifactError

PARAMS = Path("params.yaml")
CONF = Path("conf")
PREPARED = Path("data/prepared")
TRAIN = PREPARED / "train.parquet"
TEST = PREPARED / "test.parquet"
SCHEMA = PREPARED / "schema.json"
VALIDATION = Path("reports/validation.json")
MODEL_DIR = Path("models/model")
RUN_DIR = Path("reports/train")
METRICS = Path("metrics/metrics.json")
PLOTS = Path("plots")
GATE_JSON = Path("reports/gate.json")
GATE_MD = Path("reports/gate.md")


class StageFailedError(RuntimeError):
    """A stage's own check failed (e.g. validation errors); message is for people."""


def run_stage(name: str, body: Callable[[], None]) -> None:
    """Run a stage body; turn known errors into one ``error:`` line and exit code 1/2."""
    try:
        body()
    except ConfigError as exc:
        print(f"[{name}] config error: {exc}", file=sys.stderr)
        sys.exit(2)
    except (StageFailedError, FileNotFoundError, UntrustedArtifactError) as exc:
        print(f"[{name}] failed: {exc}", file=sys.stderr)
        sys.exit(1)
