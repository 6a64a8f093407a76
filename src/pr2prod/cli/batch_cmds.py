"""``pr2prod score`` and ``pr2prod monitor``: batch scoring and drift/performance monitoring."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pr2prod.cli._app import app, builtin_errors_as, pin_envelope
from pr2prod.errors import PlatformError, UsageError

if TYPE_CHECKING:  # imported lazily at run time: the CLI starts without pandas
    from pr2prod.batch.run import ScoreSummary, ScoreTargets
    from pr2prod.config.acceptance_schema import AcceptanceConfig
    from pr2prod.models.persist import LoadedModel

ParamsFile = Annotated[Path, typer.Option("--params", help="Composed params file.")]
# Where late labels come from (monitor and canary-report join them the same way).
LabelsSource = Annotated[
    str | None,
    typer.Option(
        "--labels",
        help="Labels: CSV/Parquet file or <sqlalchemy-url>#<table> [monitor.performance.labels].",
    ),
]


@app.command()
def score(
    input_path: Annotated[
        str | None,
        typer.Option(
            "--input",
            help="CSV/Parquet file or Parquet directory (ray: also s3://) [monitor.score.input].",
        ),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="Artifact directory [monitor.score.model].")
    ] = None,
    db: Annotated[
        str | None, typer.Option("--db", help="SQLAlchemy URL [monitor.score.database_url].")
    ] = None,
    no_db: Annotated[bool, typer.Option("--no-db", help="Do not write to a database.")] = False,
    table: Annotated[
        str | None, typer.Option("--table", help="Predictions table [monitor.score.table].")
    ] = None,
    parquet: Annotated[
        Path | None,
        typer.Option("--parquet", help="Parquet output directory [monitor.score.parquet_dir]."),
    ] = None,
    no_parquet: Annotated[bool, typer.Option("--no-parquet", help="Do not write Parquet.")] = False,
    chunk_rows: Annotated[
        int | None, typer.Option("--chunk-rows", help="Rows per chunk [monitor.score.chunk_rows].")
    ] = None,
    summary: Annotated[
        Path | None, typer.Option("--summary", help="Summary JSON [monitor.score.summary].")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    engine: Annotated[str, typer.Option("--engine", help="local | ray.")] = "local",
    address: Annotated[
        str | None, typer.Option("--address", help="Ray cluster (default: embedded local Ray).")
    ] = None,
    params: ParamsFile = Path("params.yaml"),
) -> None:
    """Score a table; predictions (+ model version, row id) go to a database and/or Parquet."""
    pin_envelope()
    from pr2prod.batch.resolve import resolve_model
    from pr2prod.batch.run import ScoreTargets, score_table
    from pr2prod.config import load_params
    from pr2prod.config.targets import project_packages
    from pr2prod.fsio import write_json
    from pr2prod.models.persist import load_artifact

    full = load_params(params)
    cfg = full.monitor.score
    targets = ScoreTargets(
        database_url=None if no_db else (db or cfg.database_url),
        table=table or cfg.table,
        parquet_dir=None if no_parquet else (parquet or _opt_path(cfg.parquet_dir)),
    )
    if engine not in ("local", "ray"):
        raise UsageError(f"--engine: expected local or ray, got {engine!r}")
    trusted = project_packages(full.allowed_targets)
    loaded = load_artifact(resolve_model(model, cfg.model), trusted_packages=trusted)
    source, rows = input_path or cfg.input, chunk_rows or cfg.chunk_rows
    acceptance = full.acceptance  # the one acceptance rule, as `serve` applies it
    with builtin_errors_as(UsageError, ValueError):  # batch/run.py: no output configured
        if engine == "ray":
            result = _score_ray(
                loaded,
                source,
                targets,
                rows,
                progress,
                address=address,
                acceptance=acceptance,
                trusted_packages=trusted,
            )
        else:
            result = score_table(loaded, source, targets, rows, progress, acceptance=acceptance)
    write_json(summary or Path(cfg.summary), result.to_dict())
    typer.echo(
        f"scored {result.rows_scored} of {result.rows_in} rows "
        f"({result.rows_rejected} rejected) with {result.model['name']} "
        f"{result.model['version']}"
    )


def _score_ray(
    model: LoadedModel,
    source: str | Path,
    targets: ScoreTargets,
    chunk_rows: int,
    progress: bool,
    *,
    address: str | None,
    acceptance: AcceptanceConfig,
    trusted_packages: tuple[str, ...],
) -> ScoreSummary:
    try:
        import ray  # noqa: F401  (the `ray` extra)
    except ImportError as exc:
        raise PlatformError(f"ray is not installed: pip install -e '.[ray]' ({exc})") from exc
    from pr2prod.batch.ray_engine import score_table_ray

    return score_table_ray(
        model,
        source,
        targets,
        chunk_rows,
        progress,
        address=address,
        acceptance=acceptance,
        trusted_packages=trusted_packages,
    )


def _monitor_config(params: Path):  # noqa: ANN202 - MonitorConfig, imported lazily
    from pr2prod.config import load_params
    from pr2prod.config.schema import Config

    cfg: Config = load_params(params)
    return cfg.monitor


def _opt_path(value: str | None) -> Path | None:
    return Path(value) if value else None


@app.command()
def monitor(
    source: Annotated[
        str | None, typer.Option("--source", help="log | scored [monitor.source].")
    ] = None,
    log: Annotated[
        Path | None, typer.Option("--log", help="Prediction log file/dir [monitor.log].")
    ] = None,
    scored_input: Annotated[
        Path | None,
        typer.Option("--scored-input", help="Batch input table [monitor.scored_input]."),
    ] = None,
    scored_predictions: Annotated[
        Path | None,
        typer.Option(
            "--scored-predictions", help="Its predictions.parquet [monitor.scored_predictions]."
        ),
    ] = None,
    labels: LabelsSource = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="Artifact directory (its schema.json is the reference) [monitor.score.model].",
        ),
    ] = None,
    start: Annotated[str | None, typer.Option("--start", help="Window start (ISO time).")] = None,
    end: Annotated[
        str | None, typer.Option("--end", help="Window end (ISO time; default: newest record).")
    ] = None,
    exit_code: Annotated[
        int | None,
        typer.Option("--exit-code", help="Exit code on alert [monitor.alert.exit_code]."),
    ] = None,
    params: ParamsFile = Path("params.yaml"),
) -> None:
    """Drift and performance of a window of predictions against the training reference."""
    from pr2prod.monitor.run import MonitorOverrides, run_monitor

    cfg = _monitor_config(params)
    given = MonitorOverrides(
        source, log, scored_input, scored_predictions, labels, model, start, end
    )
    # monitor/ still raises ValueError for a bad monitor.* setting or window
    with builtin_errors_as(UsageError, ValueError):
        result = run_monitor(cfg, given)
    typer.echo(f"monitored {result.rows} rows; wrote {', '.join(map(str, result.outputs))}")
    if result.alert:
        for line in result.alerts:
            typer.secho(f"ALERT {line}", fg=typer.colors.RED, err=True)
        code = cfg.alert.exit_code if exit_code is None else exit_code
        if code:
            raise typer.Exit(code)
