"""``pr2prod sweep``: a hyperparameter search on Ray (local or a cluster)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pr2prod.cli._app import app
from pr2prod.errors import CheckFailedError, PlatformError


@app.command()
def sweep(
    overrides: Annotated[
        list[str] | None,
        typer.Argument(
            help="sweep=<option> picks conf/sweep/<option>.yaml; sweep.KEY=VALUE changes it; "
            "any other override applies to every trial (e.g. model=random_forest)."
        ),
    ] = None,
    address: Annotated[
        str | None,
        typer.Option(
            "--address",
            envvar="RAY_ADDRESS",
            help="Ray cluster (HOST:PORT, or ray://HOST:PORT for Ray Client); "
            "default: an embedded local Ray.",
        ),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the interrupted sweep of this name.")
    ] = False,
    node_ip: Annotated[
        str, typer.Option("--node-ip", help="This machine's address as a Ray node.")
    ] = "127.0.0.1",
    num_cpus: Annotated[
        int | None, typer.Option("--num-cpus", help="CPUs of the embedded local Ray.")
    ] = None,
) -> None:
    """Search hyperparameters on Ray; write reports/sweep.json and the best trial's experiment."""
    try:
        import ray  # noqa: F401  (the `ray` extra)
    except ModuleNotFoundError as exc:
        raise PlatformError(f"ray is not installed: pip install -e '.[ray]' ({exc})") from exc
    from pr2prod.sweep.results import table
    from pr2prod.sweep.run import run_sweep
    from pr2prod.sweep.spec import load_sweep

    root = Path.cwd()
    cfg = load_sweep(root / "conf", overrides or [])
    typer.echo(
        f"sweep {cfg.name}: {cfg.search} search of {', '.join(cfg.parameters)} "
        f"({cfg.direction} {cfg.metric}) on {address or 'an embedded local Ray'}"
    )
    outcome = run_sweep(root, cfg, address or None, resume, node_ip, num_cpus)
    typer.echo(table(outcome.records, cfg.metric))
    typer.echo(f"wrote {outcome.report_path.relative_to(root)}")
    if not outcome.complete:
        again = " ".join(["--resume", *(overrides or [])])
        raise CheckFailedError(f"sweep interrupted: resume with `pr2prod sweep {again}`")
    if outcome.best is None or outcome.experiment_path is None:
        raise CheckFailedError("every trial failed (errors above); no experiment written")
    typer.echo(
        f"best: {cfg.metric}={outcome.best.metric} -> {outcome.experiment_path.relative_to(root)}"
        f"\nreproduce it: {outcome.reproduce} && dvc repro"
    )
