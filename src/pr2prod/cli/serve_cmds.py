"""``pr2prod build``, ``serve`` and ``shadow-report``: package, run and watch the service."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from pr2prod.cli._app import app
from pr2prod.errors import DataError, PlatformError

SERVICE = "pr2prod.serving.service:Pr2ProdService"
ParamsFile = Annotated[Path, typer.Option("--params", help="Composed params file.")]
ModelDir = Annotated[
    Path | None, typer.Option("--model", help="Model artifact directory [paths.model].")
]


def _serve_config(params: Path):  # noqa: ANN202 - ServeConfig, imported lazily
    from pr2prod.config import load_params

    return load_params(params).serve


@app.command()
def build(
    params: ParamsFile = Path("params.yaml"),
    report: Annotated[
        Path | None, typer.Option(help="Where to record the tags [paths.bento_json].")
    ] = None,
) -> None:
    """Build the Bento of the model PARAMS names, if the gate passed it.

    The package stage's implementation: the sealed verdict must be bound to this model and
    current production, and passing; a FAIL is refused (exit 1) and nothing is written.
    """
    from pr2prod.stages.package import build_candidate

    record = build_candidate(params, record_failure=False, report=report)
    where = report or "paths.bento_json"
    typer.echo(f"built Bento {record.bento_tag} (model {record.model_tag}) -> {where}")


@app.command()
def serve(
    port: Annotated[int | None, typer.Option(help="Port (default: serve.port).")] = None,
    host: Annotated[str | None, typer.Option(help="Host (default: serve.host).")] = None,
    model: ModelDir = None,
    shadow: Annotated[Path | None, typer.Option(help="Shadow model artifact directory.")] = None,
    canary_model: Annotated[
        Path | None,
        typer.Option(help="Canary model artifact directory (enables serve.canary)."),
    ] = None,
    canary_share: Annotated[
        float | None,
        typer.Option(help="Share of records the canary answers, 0..1 (enables serve.canary)."),
    ] = None,
    params: ParamsFile = Path("params.yaml"),
) -> None:
    """Serve the model artifact over HTTP (``bentoml serve`` of pr2prod's service).

    With a canary (``--canary-model``/``--canary-share`` or ``serve.canary``) a share of the
    records is answered by the canary model, sticky by the record's id (docs/serving.md).
    """
    from pr2prod.config import load_params
    from pr2prod.config.serve_schema import check_serve
    from pr2prod.config.targets import project_packages
    from pr2prod.serving.launch import metrics_dir
    from pr2prod.serving.settings import (
        acceptance_config_json,
        serve_config_json,
        trusted_packages_json,
    )

    composed = load_params(params)
    cfg, acceptance = composed.serve, composed.acceptance
    model = model or Path(composed.paths.model)
    if not (model / "schema.json").exists():
        raise DataError(f"{model}: no model artifact (run `dvc repro train` or `dvc pull`)")
    if shadow is not None:
        cfg = dataclasses.replace(
            cfg,
            shadow=dataclasses.replace(cfg.shadow, enabled=True, model_path=str(shadow.resolve())),
        )
    if canary_model is not None or canary_share is not None:
        canary = dataclasses.replace(cfg.canary, enabled=True)
        if canary_model is not None:
            canary = dataclasses.replace(canary, model_path=str(canary_model.resolve()))
        if canary_share is not None:
            canary = dataclasses.replace(canary, share=canary_share)
        cfg = dataclasses.replace(cfg, canary=canary)
    check_serve(cfg)  # the options may have made a combination the config check refuses
    if importlib.util.find_spec("bentoml_cli") is None:
        raise PlatformError("bentoml is not installed in this environment")
    port = port or cfg.port
    argv = [
        sys.executable,
        "-m",
        "pr2prod.serving.launch",  # this server's own Prometheus multiprocess directory
        str(metrics_dir(port)),
        "serve",
        SERVICE,
        "--host",
        host or cfg.host,
        "--port",
        str(port),
        "--arg",
        f"model_dir={model.resolve()}",
        "--arg",
        f"serve_config={serve_config_json(cfg)}",
        "--arg",
        f"acceptance_config={acceptance_config_json(acceptance)}",
        "--arg",  # the team's own packages the artifact may hold classes of (allowed_targets)
        f"trusted_packages={trusted_packages_json(project_packages(composed.allowed_targets))}",
    ]
    os.execv(sys.executable, argv)  # noqa: S606 - replace this process with bentoml (no shell)


@app.command("shadow-report")
def shadow_report(
    log: Annotated[
        Path | None,
        typer.Argument(
            help="Prediction log (rotated files are read too); default: the server's "
            "[monitor.log], as for monitor and canary-report."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    params: ParamsFile = Path("params.yaml"),
) -> None:
    """Agreement rate, flip matrix per class and latency of production vs shadow."""
    from pr2prod.serving.predlog import read_log
    from pr2prod.serving.shadow_report import render, summarise

    if log is None:
        from pr2prod.config import load_params

        log = Path(load_params(params).monitor.log)
    entries = read_log(log)
    if not entries:
        raise DataError(f"{log}: no prediction log entries")
    summary = summarise(entries)
    typer.echo(json.dumps(summary, indent=2, sort_keys=True) if as_json else render(summary))
