"""Stage ``gate``: candidate vs production on the same test rows; fails when enforced.

The baseline lives outside the workspace (another commit's ``dvc.lock``), so DVC reruns this
stage when the candidate, the test split or ``params.yaml:gate`` change, not when
production moves; ``pr2prod gate`` re-checks explicitly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pr2prod.compare.errors import GateError
from pr2prod.compare.report import to_markdown, verdict_line
from pr2prod.compare.workspace import Workspace, gate_workspace
from pr2prod.config import load_params
from pr2prod.fsio import atomic_write_text, write_json
from pr2prod.stages._common import (
    GATE_JSON,
    GATE_MD,
    MODEL_DIR,
    PARAMS,
    TEST,
    TRAIN,
    StageFailedError,
    run_stage,
)

WORKSPACE = Workspace(Path("."), MODEL_DIR, TRAIN, TEST)


def write_reports(
    report: dict[str, Any], json_path: Path = GATE_JSON, md_path: Path = GATE_MD
) -> None:
    """Write ``gate.json`` and ``gate.md`` (each atomically)."""
    write_json(json_path, report)
    atomic_write_text(md_path, to_markdown(report))


def main() -> None:
    def body() -> None:
        cfg = load_params(PARAMS)
        try:
            report = gate_workspace(
                WORKSPACE, cfg.gate, registry=(cfg.release.model_name, cfg.release.stage)
            )
        except GateError as exc:
            raise StageFailedError(str(exc)) from exc
        write_reports(report)
        print(f"[gate] {verdict_line(report)} (see {GATE_MD})")
        if report["verdict"] == "fail" and report["enforced"]:
            raise StageFailedError(f"differential gate failed: {', '.join(report['failed'])}")

    run_stage("gate", body)
