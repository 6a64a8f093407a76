"""What every stage shares: the paths of dvc.yaml and the error boundary."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pr2prod.config.paths_schema import PathsConfig
from pr2prod.errors import CheckFailedError, Pr2prodError, exit_code_for

PARAMS = Path("params.yaml")
CONF = Path("conf")

# Every other path comes from params.yaml's `paths` (conf/paths/), which dvc.yaml reads too.
# They resolve on first use (PEP 562), so importing this module reads no file.
_DERIVED: dict[str, Callable[[PathsConfig], Path]] = {
    "PREPARED": lambda p: Path(p.prepared),
    "TRAIN": lambda p: Path(p.prepared) / "train.parquet",
    "TEST": lambda p: Path(p.prepared) / "test.parquet",
    "SCHEMA": lambda p: Path(p.prepared) / "schema.json",
    "VALIDATION": lambda p: Path(p.validation),
    "MODEL_DIR": lambda p: Path(p.model),
    "RUN_DIR": lambda p: Path(p.run_facts),
    "METRICS": lambda p: Path(p.metrics),
    "PLOTS": lambda p: Path(p.plots),
    "GATE_JSON": lambda p: Path(p.gate_json),
    "GATE_MD": lambda p: Path(p.gate_md),
    "GATE_PLOTS": lambda p: Path(p.gate_plots),
    "BENTO_JSON": lambda p: Path(p.bento_json),
}


@functools.cache
def project_paths(params: Path = PARAMS) -> PathsConfig:
    """The ``paths`` section of ``params.yaml``, validated (relative, inside the project)."""
    from pr2prod.config import load_params

    return load_params(params).paths


def __getattr__(name: str) -> Path:
    if name in _DERIVED:
        return _DERIVED[name](project_paths())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def envelope_facts() -> dict[str, Any]:
    """The numerical envelope this stage runs in, as it took effect (for run facts)."""
    from pr2prod import envelope
    from pr2prod.stages.__main__ import ENVELOPE_VAR

    record = json.loads(os.environ.get(ENVELOPE_VAR, "{}")) or {"enabled": False}
    return envelope.facts(record)


class StageFailedError(CheckFailedError, RuntimeError):
    """A stage's own check failed (e.g. validation errors); message is for people."""


def run_stage(name: str, body: Callable[[], None]) -> None:
    """Run a stage body; on failure, put its previous outputs back, then exit non-zero.

    ``dvc repro`` deletes a stage's cached outputs before running it; when the stage
    fails, the versions ``dvc.lock`` records are restored from the DVC cache, so a failed
    stage never loses the previous artifacts.
    """
    try:
        _report_errors(name, body)
    except BaseException as exc:
        if not (isinstance(exc, SystemExit) and exc.code in (0, None)):
            from pr2prod.stages._restore import restore_locked_outs

            for path in restore_locked_outs(name):
                print(f"[{name}] restored the previous {path} from the DVC cache", file=sys.stderr)
        raise


def _report_errors(name: str, body: Callable[[], None]) -> None:
    """Turn a pr2prod error into one ``[stage] ...`` line and its exit code.

    The codes are the command line's (:mod:`pr2prod.errors`): 1 a failed check, 2 a config
    error, 3 a data error (a missing file too), 4 an unsupported machine.
    """
    try:
        body()
    except (Pr2prodError, FileNotFoundError) as exc:
        label = exc.category if isinstance(exc, Pr2prodError) else "data error"
        print(f"[{name}] {label}: {exc}", file=sys.stderr)
        sys.exit(exit_code_for(exc))
