"""Stage ``gate``: candidate vs production on the same test rows; fails when enforced.

The baseline lives outside the workspace (another commit's ``dvc.lock``), so DVC reruns this
stage when the candidate, the test split or ``params.yaml:gate`` change, not when
production moves; ``pr2prod gate`` re-checks explicitly.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import yaml

from pr2prod.compare.curves import render_svg
from pr2prod.compare.report import to_markdown, verdict_line
from pr2prod.compare.workspace import Workspace, gate_workspace
from pr2prod.config import load_params
from pr2prod.config.targets import project_packages
from pr2prod.fsio import atomic_dir, atomic_write_text, write_json
from pr2prod.stages._common import (
    GATE_JSON,
    GATE_MD,
    GATE_PLOTS,
    MODEL_DIR,
    PARAMS,
    TEST,
    TRAIN,
    StageFailedError,
    run_stage,
)

WORKSPACE = Workspace(Path("."), MODEL_DIR, TRAIN, TEST)


def workspace(allowed_targets: list[str]) -> Workspace:
    """This project's workspace, trusting the team's own packages when loading models."""
    return dataclasses.replace(WORKSPACE, trusted_packages=project_packages(allowed_targets))


def plot_specs(dvc_yaml: Path = Path("dvc.yaml")) -> dict[str, dict[str, Any]]:
    """``dvc.yaml``'s ``plots:`` definitions keyed by the data file's stem (``roc``, ``pr``)."""
    specs: dict[str, dict[str, Any]] = {}
    for entry in yaml.safe_load(dvc_yaml.read_text(encoding="utf-8")).get("plots") or []:
        if isinstance(entry, dict):
            for target, props in entry.items():
                specs[Path(target).stem] = props or {}
    return specs


def write_curves(curves: dict[str, list[dict]], plots_dir: Path) -> dict[str, Path]:
    """Render each curve table to ``plots_dir/<name>.svg`` (the directory is replaced).

    ``index.json`` lists the images, so the directory exists in git even with none (a
    classifier without probabilities).
    """
    specs = plot_specs()
    with atomic_dir(plots_dir) as tmp:
        for name, rows in curves.items():
            atomic_write_text(tmp / f"{name}.svg", render_svg(rows, name, specs.get(name, {})))
        write_json(tmp / "index.json", {"images": [f"{name}.svg" for name in curves]})
    return {name: plots_dir / f"{name}.svg" for name in curves}


def write_reports(
    report: dict[str, Any],
    json_path: Path = GATE_JSON,
    md_path: Path = GATE_MD,
    plots_dir: Path = GATE_PLOTS,
) -> None:
    """Write the curves' images, ``gate.json`` and ``gate.md`` (each atomically)."""
    images = write_curves(report.get("curves") or {}, plots_dir)
    write_json(json_path, report)
    links = {n: os.path.relpath(p, md_path.parent) for n, p in images.items()}
    atomic_write_text(md_path, to_markdown(report, links))


def main() -> None:
    def body() -> None:
        cfg = load_params(PARAMS)
        report = gate_workspace(  # a GateError ("cannot compare") exits 3, as in the CLI
            workspace(cfg.allowed_targets),
            cfg.gate,
            registry=(cfg.release.model_name, cfg.release.stage),
        )
        write_reports(report)
        print(f"[gate] {verdict_line(report)} (see {GATE_MD})")
        if report["verdict"] == "fail" and report["enforced"]:
            raise StageFailedError(f"differential gate failed: {', '.join(report['failed'])}")

    run_stage("gate", body)
