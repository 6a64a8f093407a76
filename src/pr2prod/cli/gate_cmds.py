"""``pr2prod gate`` and ``pr2prod diff``: the differential gate from the command line."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import typer

from pr2prod.cli._app import app, pin_envelope
from pr2prod.config.gate_schema import GateConfig, OnMissing

AllowDifferent = Annotated[
    bool,
    typer.Option(
        "--allow-different-data", help="Compare even when the models were built on different data."
    ),
]


@app.command()
def gate(
    baseline: Annotated[
        str | None,
        typer.Option(
            help="Production override: an artifact directory or a git revision "
            "(default: gate.baseline.ref from params.yaml)."
        ),
    ] = None,
    allow_different_data: AllowDifferent = False,
    on_missing: Annotated[
        OnMissing | None,
        typer.Option(
            "--on-missing",
            help="When production's artifact is in no DVC cache or remote: rebuild it from "
            "its commit, or fail (default: gate.baseline.on_missing from params.yaml).",
        ),
    ] = None,
    params: Annotated[Path, typer.Option("--params", help="Composed params file.")] = Path(
        "params.yaml"
    ),
) -> None:
    """Compare the workspace's model with production; write reports/gate.{json,md}."""
    pin_envelope()
    from pr2prod.compare.report import verdict_line
    from pr2prod.compare.workspace import gate_workspace
    from pr2prod.config import load_params
    from pr2prod.errors import CheckFailedError
    from pr2prod.stages._common import GATE_MD
    from pr2prod.stages.gate import workspace, write_reports

    cfg = load_params(params)
    report = gate_workspace(
        workspace(cfg.allowed_targets),
        gate_config(cfg.gate, on_missing),
        baseline,
        allow_different_data,
        registry=(cfg.release.model_name, cfg.release.stage),
    )
    write_reports(report)
    typer.echo(verdict_line(report) + f" (see {GATE_MD})")
    if report["verdict"] == "fail" and report["enforced"]:
        failed = ", ".join(report.get("failed", [])) or "see the report"
        raise CheckFailedError(f"gate FAIL: {failed} (see {GATE_MD})")


def gate_config(cfg: GateConfig, on_missing: OnMissing | None) -> GateConfig:
    """``cfg`` with the command line's ``--on-missing`` (if given) over ``gate.baseline``."""
    if on_missing is None:
        return cfg
    baseline = dataclasses.replace(cfg.baseline, on_missing=OnMissing(on_missing))
    return dataclasses.replace(cfg, baseline=baseline)


@app.command()
def diff(
    rev_a: Annotated[str, typer.Argument(help="Baseline revision (commit, branch or tag).")],
    rev_b: Annotated[str, typer.Argument(help="Candidate revision.")],
    md: Annotated[bool, typer.Option("--md", help="Markdown (a PR comment).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The full diff as JSON.")] = False,
    allow_different_data: AllowDifferent = False,
) -> None:
    """Params diff, metrics diff and the differential verdict of REV_B against REV_A."""
    pin_envelope()
    from pr2prod.compare.diff import diff_revisions, diff_text

    result = diff_revisions(Path("."), rev_a, rev_b, allow_different_data=allow_different_data)
    typer.echo(
        json.dumps(result, indent=2, default=str) if as_json else diff_text(result, markdown=md),
        nl=False,
    )
