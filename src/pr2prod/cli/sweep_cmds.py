"""``pr2prod sweep``: a hyperparameter search on Ray (local or a cluster)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pr2prod.cli._app import app, fail
from pr2prod.config.errors import ConfigError


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
    from pr2prod import envelope

    try:
        import ray  # noqa: F401  (the `ray` extra)

        from pr2prod.sweep.results import table
        from pr2prod.sweep.run import run_sweep
        from pr2prod.sweep.spec import load_sweep
    except ModuleNotFoundError as exc:  # pragma: no cover - the `ray` extra is missing
        fail(f"{exc.name} is not installed: pip install -e '.[ray]' ({exc})")

    root = Path.cwd()
    try:
        cfg = load_sweep(root / "conf", overrides or [])
        typer.echo(
            f"sweep {cfg.name}: {cfg.search} search of {', '.join(cfg.parameters)} "
            f"({cfg.direction} {cfg.metric}) on {address or 'an embedded local Ray'}"
        )
        outcome = run_sweep(root, cfg, address or None, resume, node_ip, num_cpus)
    except (ConfigError, envelope.EnvelopeError) as exc:
        fail(str(exc))
    typer.echo(table(outcome.records, cfg.metric))
    typer.echo(f"wrote {outcome.report_path.relative_to(root)}")
    if not outcome.complete:
        fail(
            f"sweep interrupted: resume with `pr2prod sweep --resume {' '.join(overrides or [])}`",
            1,
        )
    if outcome.best is None:
        fail("every trial failed (errors above); no experiment written", 1)
    assert outcome.experiment_path is not None
    typer.echo(
        f"best: {cfg.metric}={outcome.best.metric} -> {outcome.experiment_path.relative_to(root)}"
        f"\nreproduce it: {outcome.reproduce} && dvc repro"
    )
