"""``pr2prod compose``, ``check``, ``paths`` and ``stage``: configs and pipeline stages."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from pr2prod.cli._app import app
from pr2prod.errors import CheckFailedError, UsageError

ConfDir = Annotated[Path, typer.Option("--conf", help="Hydra config directory.")]
ParamsFile = Annotated[Path, typer.Option("--params", help="Composed params file.")]


@app.command()
def compose(
    overrides: Annotated[
        list[str] | None,
        typer.Argument(help="Hydra overrides, e.g. model=random_forest model.n_estimators=50"),
    ] = None,
    reset: Annotated[
        bool, typer.Option(help="Drop the overrides recorded in params.yaml first.")
    ] = False,
    conf: ConfDir = Path("conf"),
    params: ParamsFile = Path("params.yaml"),
) -> None:
    """Write params.yaml from conf/ (+ OVERRIDES, + the overrides it already records)."""
    from pr2prod.config.compose import reconcile

    result = reconcile(conf, params, overrides or [], reset=reset)
    state = "wrote" if result.written else "unchanged:"
    typer.echo(f"{state} {params} (overrides: {', '.join(result.overrides) or 'none'})")


@app.command()
def check(conf: ConfDir = Path("conf"), params: ParamsFile = Path("params.yaml")) -> None:
    """Verify that params.yaml equals the composition of conf/ and its recorded overrides."""
    from pr2prod.config.compose import check as check_params

    problems = check_params(conf, params)
    if problems:
        for p in problems:
            typer.secho(f"  {p}", err=True)
        raise CheckFailedError(
            f"{params} is out of sync with {conf}/; run `pr2prod compose` to fix"
        )
    typer.echo(f"ok: {params} matches {conf}/")


@app.command()
def paths(
    key: Annotated[
        str | None, typer.Argument(help="Catalog entry, e.g. gate_json (default: all).")
    ] = None,
    params: ParamsFile = Path("params.yaml"),
) -> None:
    """Print where the catalog (paths group) puts KEY, or every entry as `key: path` lines.

    Workflows and scripts read artifact paths here instead of writing them again. Without
    PARAMS, the packaged catalog's defaults.
    """
    from pr2prod.config import catalog

    if key is not None:
        typer.echo(catalog.entry(key, params))
        return
    for name, value in catalog.entries(params).items():
        typer.echo(f"{name}: {value}")


@app.command("trust-diff")
def trust_diff(
    base: Annotated[
        str, typer.Option("--base", help="Git revision of the base branch, e.g. origin/main.")
    ] = "origin/main",
) -> None:
    """Fail when the working tree's trust policy (pyproject.toml, table tool.pr2prod) is wider
    than BASE's: a maintainer must approve that pull request."""
    from pr2prod.config.trust import (
        load_trust_policy,
        policy_at_ref,
        widening,
        widening_message,
    )

    widened = widening(policy_at_ref(base), load_trust_policy())
    if widened:
        raise CheckFailedError(widening_message(widened))
    typer.echo(f"ok: the trust policy is not wider than {base}'s")


@app.command()
def stage(
    name: Annotated[str, typer.Argument(help="compose | prepare | validate | train | evaluate")],
) -> None:
    """Run one pipeline stage (what `dvc repro` calls)."""
    from pr2prod.stages import STAGES

    if name not in STAGES:
        raise UsageError(f"unknown stage {name!r}; stages: {', '.join(STAGES)}")
    # The stage runner pins the numerical envelope before NumPy loads; this process
    # already imported it, so hand over to a fresh interpreter (same as `dvc repro`).
    os.execv(sys.executable, [sys.executable, "-m", "pr2prod.stages", name])  # noqa: S606
