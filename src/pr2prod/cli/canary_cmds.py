"""``pr2prod canary-report`` and ``promote``: judge the canary on live traffic, move it on.

``pr2prod rollback --canary`` (abort) lives with ``rollback`` in :mod:`release_cmds`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from pr2prod.cli._app import app, builtin_errors_as, pin_envelope
from pr2prod.cli.batch_cmds import LabelsSource
from pr2prod.errors import UsageError

ParamsFile = Annotated[Path, typer.Option("--params", help="Composed params file.")]


def stage_artifact(params: Path, stage: str) -> str | None:
    """Artifact id ``dvc.lock`` records at the commit of the version in ``stage``."""
    from pr2prod.compare.baseline import production_id
    from pr2prod.config import load_params

    cfg = load_params(params)
    registry = (cfg.release.model_name, stage)
    return production_id(Path("."), None, cfg.gate.baseline.artifact, registry)


def _since(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise UsageError(f"--since {value!r}: not an ISO time (e.g. 2026-12-01T00:00:00Z)") from exc
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


@app.command("canary-report")
def canary_report(
    log: Annotated[
        Path | None, typer.Option("--log", help="Prediction log file/dir [monitor.log].")
    ] = None,
    labels: LabelsSource = None,
    metrics: Annotated[
        str | None,
        typer.Option("--metrics", help="The server's /metrics: an http(s) URL or a saved file."),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only records from this ISO time on.")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Report JSON [canary.report].")] = None,
    params: ParamsFile = Path("params.yaml"),
) -> None:
    """Compare the canary with production: non-inferiority, latency, errors; recommend."""
    pin_envelope()
    from pr2prod.canary.build import build_report
    from pr2prod.canary.render import markdown, table
    from pr2prod.config import load_params
    from pr2prod.data.sources import ID_COLUMN
    from pr2prod.fsio import atomic_write_text

    cfg = load_params(params)
    report_path = out or Path(cfg.canary.report)
    summary_path = report_path.with_suffix(".md") if out else Path(cfg.canary.summary)
    with builtin_errors_as(UsageError, ValueError):  # a labels table without its columns
        report = build_report(
            cfg.canary,
            log or cfg.monitor.log,
            labels=labels or cfg.monitor.performance.labels,
            metrics=metrics,
            id_column=cfg.data.id_column or ID_COLUMN,
            label_column=cfg.monitor.performance.label_column or cfg.data.target,
            since=_since(since),
        )
    atomic_write_text(report_path, report.model_dump_json(indent=2) + "\n")
    atomic_write_text(summary_path, markdown(report))
    typer.echo(table(report))
    typer.echo(f"wrote {report_path}, {summary_path}")


@app.command()
def promote(
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="Refuse unless this canary report recommends promote and is about the "
            "canary and production the registry holds now.",
        ),
    ] = None,
    push: Annotated[bool, typer.Option(help="Push the new tags to release.git_remote.")] = False,
    params: ParamsFile = Path("params.yaml"),
) -> None:
    """Move the canary's version to production and retire the canary assignment."""
    from pr2prod.canary.admit import check_promotable, read_report
    from pr2prod.config import load_params
    from pr2prod.release.flow import canary_version
    from pr2prod.release.flow import promote as do_promote

    cfg = load_params(params)
    rel = cfg.release
    expected = None
    if report is not None:
        judged = read_report(report)
        expected = canary_version(".", rel).version
        check_promotable(
            judged,
            cfg.canary,
            stage_artifact(params, rel.canary_stage),
            stage_artifact(params, rel.stage),
        )
    result = do_promote(".", rel, expected=expected, push=push)
    typer.echo(
        f"{rel.stage} -> {rel.model_name}@{result.version} ({result.stage_tag}); previous: "
        f"{result.previous}; {rel.canary_stage} retired ({result.retired_tag})"
    )
