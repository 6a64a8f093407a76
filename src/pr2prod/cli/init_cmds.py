"""``pr2prod init`` and ``pr2prod upgrade``: projects from the packaged copier template."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from pr2prod.cli._app import app
from pr2prod.errors import CheckFailedError, UsageError


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="New project directory (missing or empty).")],
    defaults: Annotated[
        bool, typer.Option("--defaults", help="Take the default of every unanswered question.")
    ] = False,
    project_name: Annotated[
        str | None, typer.Option(help="Project name (default: PATH's last part).")
    ] = None,
    package_name: Annotated[
        str | None,
        typer.Option(help="Package for your own estimators, src/<package>/ (default: from name)."),
    ] = None,
    data_source: Annotated[
        str | None,
        typer.Option(help="breast_cancer | wine | diabetes | iris | file (default breast_cancer)."),
    ] = None,
    data_path: Annotated[
        str | None, typer.Option(help="With --data-source file: the CSV/Parquet file.")
    ] = None,
    target: Annotated[str | None, typer.Option(help="Label column (default target).")] = None,
    id_column: Annotated[str | None, typer.Option(help="Unique row-id column.")] = None,
    task: Annotated[
        str | None,
        typer.Option(help="binary | multiclass | regression (default: the data set's)."),
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="First model option of conf/model/ (default: by task).")
    ] = None,
    remote: Annotated[
        str | None,
        typer.Option(help="DVC remote: s3://bucket/prefix or a directory (default: a sibling)."),
    ] = None,
) -> None:
    """Create a new pr2prod project at PATH: git + DVC repository, configs, pipeline, CI."""
    from pr2prod.init.answers import Answers, remote_for_project
    from pr2prod.init.project import init_project

    if not defaults and not sys.stdin.isatty():
        raise UsageError("pr2prod init: no terminal to ask the questions on; pass --defaults")
    answers = Answers(
        project_name=project_name or path.resolve().name,
        package_name=package_name,
        data_source=data_source,
        data_path=data_path,
        target=target,
        id_column=id_column,
        task=task,
        model=model,
        remote=remote_for_project(remote, path) if remote else None,
    )
    done = init_project(path, answers, ask=not defaults)
    typer.echo(
        f"created {path} ({done.data_source or 'asked'} data, model {done.model or 'asked'})"
    )
    if done.data_path:  # a file source: the project has no rows until the team adds them
        typer.echo(
            f"next: cd {path}, put your table at {done.data_path}, "
            f"`dvc add {done.data_path}`, commit, then `dvc repro`"
        )
    else:
        typer.echo(f"next: cd {path} && dvc repro")


@app.command()
def upgrade(
    path: Annotated[Path, typer.Argument(help="The project (made by `pr2prod init`).")] = Path("."),
) -> None:
    """Apply this pr2prod's template to a project (copier update): edits kept, conflicts marked."""
    from pr2prod.init.upgrade import upgrade_project

    result = upgrade_project(path)
    for name in result.changed:
        typer.echo(f"  changed: {name}")
    if result.conflicts:
        raise CheckFailedError(
            "pr2prod upgrade: conflicts (<<<<<<< markers) in "
            f"{', '.join(result.conflicts)}; resolve them, `pr2prod compose`, then commit"
        )
    typer.echo("upgraded; review with `git diff`, then `dvc repro` and commit")
