"""Stage ``gate``: candidate vs production on the same test rows; records the verdict.

One implementation for the stage and ``pr2prod gate`` (:func:`record_gate`): it reads the
params file it is given, writes the sealed verdict, its Markdown, the curves and the verdict
metrics (``paths.gate_metrics``, shown by ``dvc exp show``) at that file's ``paths``. The
stage exits 0 on a FAIL, so ``dvc repro`` and ``dvc exp run`` record every experiment; what
is enforced is the release (the package stage builds no Bento for a FAIL, and
``pr2prod gate``, ``pr2prod build`` and ``pr2prod release`` refuse one).

The baseline lives outside the workspace (another commit's ``dvc.lock``), so DVC reruns this
stage when the candidate, the test split or ``params.yaml:gate`` change, not when
production moves; ``pr2prod gate`` re-checks explicitly.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from pr2prod.compare import workspace as gate_ws
from pr2prod.compare.report import to_markdown, verdict_line, verdict_metrics
from pr2prod.compare.workspace import Workspace
from pr2prod.config import load_params
from pr2prod.config.gate_schema import GateConfig, OnMissing
from pr2prod.config.paths_schema import PathsConfig
from pr2prod.config.targets import project_packages
from pr2prod.evaluate.plots import REGRESSION_PLOTS
from pr2prod.evaluate.render import plot_specs, render_svg
from pr2prod.fsio import atomic_dir, atomic_write_text, write_json
from pr2prod.release.gate_record import GateVerdict
from pr2prod.stages._common import PARAMS, run_stage


def workspace(paths: PathsConfig, allowed_targets: list[str]) -> Workspace:
    """The project's workspace at ``paths``, trusting the team's own packages."""
    prepared = Path(paths.prepared)
    return Workspace(
        Path("."),
        Path(paths.model),
        prepared / "train.parquet",
        prepared / "test.parquet",
        trusted_packages=project_packages(allowed_targets),
    )


def write_curves(curves: dict[str, list[dict]], plots_dir: Path) -> dict[str, Path]:
    """Render each curve table to ``plots_dir/<name>.svg`` (the directory is replaced).

    ``index.json`` lists the images, so the directory exists in git even with none (a
    classifier without probabilities).
    """
    specs = {**REGRESSION_PLOTS, **plot_specs()}  # a regression experiment in a binary project
    with atomic_dir(plots_dir) as tmp:
        for name, rows in curves.items():
            atomic_write_text(tmp / f"{name}.svg", render_svg(rows, name, specs.get(name, {})))
        write_json(tmp / "index.json", {"images": [f"{name}.svg" for name in curves]})
    return {name: plots_dir / f"{name}.svg" for name in curves}


def write_reports(report: GateVerdict, paths: PathsConfig) -> None:
    """Write the curves' images, the verdict, its Markdown and its metrics (each atomically)."""
    md_path = Path(paths.gate_md)
    images = write_curves(report.curves, Path(paths.gate_plots))
    write_json(paths.gate_json, report.record())
    write_json(paths.gate_metrics, verdict_metrics(report))
    links = {n: os.path.relpath(p, md_path.parent) for n, p in images.items()}
    atomic_write_text(md_path, to_markdown(report, links))


def gate_config(cfg: GateConfig, on_missing: OnMissing | None) -> GateConfig:
    """``cfg`` with ``--on-missing`` (if given) over ``gate.baseline.on_missing``."""
    if on_missing is None:
        return cfg
    baseline = dataclasses.replace(cfg.baseline, on_missing=OnMissing(on_missing))
    return dataclasses.replace(cfg, baseline=baseline)


def record_gate(
    params: Path = PARAMS,
    baseline: str | None = None,
    allow_different_data: bool = False,
    on_missing: OnMissing | None = None,
) -> GateVerdict:
    """Gate the candidate ``params`` names against production; write and return the verdict.

    Everything is read from and written to ``params``' own ``paths``. A FAIL is returned,
    not raised: the caller decides (the stage records it, ``pr2prod gate`` refuses it).

    Raises:
        GateError: the models cannot be compared (exit 3).
        ConfigError: an invalid gate config (exit 2).
    """
    cfg = load_params(params)
    report = gate_ws.gate_workspace(
        workspace(cfg.paths, cfg.allowed_targets),
        gate_config(cfg.gate, on_missing),
        baseline,
        allow_different_data,
        registry=(cfg.release.model_name, cfg.release.stage),
    )
    write_reports(report, cfg.paths)
    print(f"[gate] {verdict_line(report)} (see {cfg.paths.gate_md})", flush=True)
    return report


def main() -> None:
    def body() -> None:
        record_gate(PARAMS)  # a FAIL is recorded; the release refuses it

    run_stage("gate", body)
