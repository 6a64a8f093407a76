"""Refuse to start on a model artifact that cannot be loaded: one message, non-zero exit.

``bentoml serve`` imports the service module in its own process before it starts any
worker; a worker whose model fails to load is restarted forever while the health endpoints
hang. :func:`check_artifact` runs in that first process and turns a corrupt, empty or
untrusted artifact into one ``error:`` line naming the file and the reason, and exit
code 3 (a data error, :mod:`pr2prod.errors`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from pr2prod.errors import EXIT_DATA
from pr2prod.models.persist import METADATA_FILE, MODEL_FILE, SCHEMA_FILE, loads_model


def artifact_problem(model_dir: Path, trusted_packages: Sequence[str] = ()) -> str | None:
    """Why the artifact in ``model_dir`` cannot be served, or None (it loads).

    ``trusted_packages``: the team's own packages the artifact may hold classes of (the
    service's ``trusted_packages`` setting); any other type outside the libraries' allow-list
    is refused before anything is unpickled.
    """
    from pr2prod.data.schema import DataSchema

    steps = (
        (MODEL_FILE, lambda p: loads_model(p.read_bytes(), trusted_packages=trusted_packages)),
        (SCHEMA_FILE, DataSchema.load),
        (METADATA_FILE, lambda p: json.loads(p.read_text(encoding="utf-8"))),
    )
    for name, load in steps:
        path = model_dir / name
        if not path.exists():
            return (
                f"{path}: no model artifact to serve (run `dvc repro train` or `dvc pull`, "
                "or pass --model DIR)"
            )
        if path.is_file() and path.stat().st_size == 0:
            return f"{path}: cannot load the model artifact: the file is empty (0 bytes)"
        try:
            load(path)
        except Exception as exc:  # any failure to load is a reason to refuse to start
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "no detail"
            return f"{path}: cannot load the model artifact: {type(exc).__name__}: {reason}"
    return None


def check_artifact(model_dir: Path, trusted_packages: Sequence[str] = ()) -> None:
    """Exit with the data-error code (3) and one ``error:`` line when it cannot be loaded."""
    problem = artifact_problem(model_dir, trusted_packages)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr, flush=True)
        raise SystemExit(EXIT_DATA)
