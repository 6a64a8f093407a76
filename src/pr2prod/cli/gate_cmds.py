"""``pr2prod gate`` and ``pr2prod diff``: the differential gate from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from pr2prod.cli._app import app, pin_envelope
from pr2prod.config.gate_schema import OnMissing

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
    """Compare the model PARAMS names with production; write its paths.gate_* reports.

    The same implementation as the pipeline's gate stage; unlike the stage (which records a
    FAIL and exits 0, so every experiment is kept), this command refuses a FAIL: exit 1,
    naming the failed checks (CI's gate job).
    """
    pin_envelope()
    from pr2prod.errors import CheckFailedError
    from pr2prod.stages.gate import record_gate

    report = record_gate(params, baseline, allow_different_data, on_missing)
    if report.blocks_release():
        failed = ", ".join(report.failed) or "see the report"
        raise CheckFailedError(
            f"gate FAIL: {failed}: the candidate is not releasable "
            "(no Bento is built and `pr2prod release` refuses it)"
        )


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
