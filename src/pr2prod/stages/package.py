"""Stage ``package``: model store import + Bento build; records ``reports/bento.json``."""

from __future__ import annotations

import time
from pathlib import Path

from pr2prod.compare.baseline import production_id
from pr2prod.config import load_params
from pr2prod.config.targets import project_packages
from pr2prod.fsio import write_json
from pr2prod.models.identity import artifact_id
from pr2prod.models.metadata import git_commit
from pr2prod.release.verdict import VerdictError, bound_verdict
from pr2prod.serving.package import package
from pr2prod.stages._common import (
    BENTO_JSON,
    GATE_JSON,
    MODEL_DIR,
    PARAMS,
    StageFailedError,
    run_stage,
)

BENTOFILE = Path("bentofile.yaml")
BUILD_CTX = Path("src")
BENTO_REPORT = BENTO_JSON


def main() -> None:
    def body() -> None:
        cfg = load_params(PARAMS)
        registry = (cfg.release.model_name, cfg.release.stage)
        base = cfg.gate.baseline
        current = production_id(Path("."), base.ref, base.artifact, registry)
        try:  # package only the model a sealed verdict names
            verdict = bound_verdict(GATE_JSON, artifact_id(MODEL_DIR), current)
        except VerdictError as exc:
            raise StageFailedError(str(exc)) from exc
        if not verdict["passed"] and verdict["enforced"]:
            raise StageFailedError(f"the gate failed: {', '.join(verdict['failed'])}")
        started = time.perf_counter()
        result = package(
            MODEL_DIR,
            cfg.serve,
            BENTOFILE,
            BUILD_CTX,
            git_commit(),
            cfg.acceptance,
            project_packages(cfg.allowed_targets),
        )
        write_json(BENTO_REPORT, result.as_dict())
        print(
            f"[package] {result.model_tag} -> Bento {result.bento_tag} "
            f"in {time.perf_counter() - started:.2f}s"
        )

    run_stage("package", body)
