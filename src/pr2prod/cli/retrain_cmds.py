"""``pr2prod retrain``: evaluate the trigger rules and, when one fires, retrain on a branch."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated

import typer

from pr2prod.cli._app import app
from pr2prod.errors import UsageError

_REMOTE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@app.command()
def retrain(
    monitor: Annotated[
        Path | None,
        typer.Option(
            "--monitor", help="Monitor report to read [<monitor.report_dir>/monitor.json]."
        ),
    ] = None,
    event: Annotated[
        str, typer.Option("--event", help="What started the run: schedule | manual.")
    ] = "manual",
    plan: Annotated[
        bool,
        typer.Option("--plan", help="Only evaluate the rules and write the evidence (read-only)."),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Retrain even when no rule fires.")
    ] = False,
    push: Annotated[
        str | None,
        typer.Option("--push", help="After committing: `dvc push` and push the branch to REMOTE."),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--end", help="End of a SQL snapshot window (ISO time; default: now)."),
    ] = None,
    params: Annotated[Path, typer.Option("--params", help="Composed params file.")] = Path(
        "params.yaml"
    ),
    conf: Annotated[Path, typer.Option("--conf", help="Hydra config directory.")] = Path("conf"),
) -> None:
    """Evaluate retrain.rules on the monitor report; when one fires (or --force), refresh the
    data snapshot, recompose, `dvc repro` and commit on retrain.branch with the evidence."""
    from pr2prod.config.choices import choose
    from pr2prod.retrain.rules import Event
    from pr2prod.retrain.run import RetrainOptions, run_retrain

    if push is not None and not _REMOTE.fullmatch(push):
        raise UsageError(f"--push: {push!r} is not a git remote name (letters, digits, ._-)")
    opts = RetrainOptions(
        monitor_report=monitor,
        event=choose(Event, event, "--event"),
        force=force,
        plan_only=plan,
        push=push,
        end=_parse_end(end),
        params=params,
        conf=conf,
    )
    report = run_retrain(Path("."), opts)
    for rule in report.plan.rules:
        state = "FIRED" if rule.fired else ("no" if rule.evaluated else "not evaluated")
        typer.echo(f"{rule.rule:<12} {state:<14} {rule.evidence}")
    w = report.plan.window
    if w is not None:
        typer.echo(f"window: {w.start} .. {w.end}, {w.rows} rows ({w.source} {w.path})")
    typer.echo(f"retrain: {'yes' if report.retrain else 'no'}")
    if report.snapshot is not None:
        s = report.snapshot
        typer.echo(
            f"snapshot: {s.path} ({s.source}) {s.old_md5} -> {s.new_md5}, "
            f"{s.old_rows} -> {s.new_rows} rows"
        )
    if report.pipeline is not None:
        p = report.pipeline
        where = f" at stage {p.failed_stage}" if p.failed_stage else ""
        typer.echo(f"dvc repro: exit {p.repro_exit_code}{where}; gate: {p.gate_verdict}")
        if p.repro_exit_code != 0:
            typer.secho(
                "the pipeline failed; committed anyway: the pull request's gate decides",
                err=True,
                fg=typer.colors.YELLOW,
            )
    if report.commit:
        typer.echo(f"committed {report.commit} on {report.branch}")


def _parse_end(end: str | None) -> dt.datetime | None:
    if end is None:
        return None
    try:
        value = dt.datetime.fromisoformat(end)
    except ValueError:
        raise UsageError(f"--end: {end!r} is not an ISO time (e.g. 2026-01-31T00:00:00Z)") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
