"""Release and rollback as steps over the registry: check, register, assign, write the card."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from pr2prod.config.release_schema import ReleaseConfig
from pr2prod.errors import CheckFailedError
from pr2prod.fsio import atomic_write_text
from pr2prod.release import registry, versions
from pr2prod.release.card import model_card
from pr2prod.release.preconditions import VerdictTarget, release_problems

__all__ = [
    "PromoteResult",
    "ReleaseRefusedError",
    "ReleaseResult",
    "VerdictTarget",
    "abort_canary",
    "promote",
    "release",
    "release_problems",
    "release_stage",
    "rollback",
]
from pr2prod.release.versions import check_bump


class ReleaseRefusedError(CheckFailedError, RuntimeError):
    """A precondition failed; ``problems`` holds one message per failed check."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("release refused:\n  - " + "\n  - ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ReleaseResult:
    """What a release did."""

    version: str
    version_tag: str
    stage_tag: str
    previous: str | None  # the version in production (release.stage) before this release
    notes: Path
    stage: str  # the stage the release was assigned to (release.stage or canary_stage)


def _head(root: Path) -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()


def push_tags(root: str | Path, remote: str, tags: list[str]) -> None:
    """Push the given tags to ``remote`` (the registry lives in the remote's tags)."""
    subprocess.run(["git", "push", "-q", remote, *tags], cwd=root, check=True)


def release(
    root: str | Path,
    cfg: ReleaseConfig,
    bump: str | None = None,
    push: bool = False,
    *,
    target: VerdictTarget,
) -> ReleaseResult:
    """Check preconditions, register the next version at HEAD, assign it to the stage.

    ``target`` names the model being released and current production: the gate verdict
    must be sealed, about that model and that production, and passing
    (``release.require_gate``).

    Raises:
        ReleaseRefusedError: when any precondition fails (nothing is tagged then).
    """
    base = Path(root)
    level = check_bump(bump or cfg.bump)
    problems = release_problems(
        base,
        target if cfg.require_gate else None,
        cfg.require_remote_artifacts,
        ignore=cfg.ci_outputs,
    )
    if problems:
        raise ReleaseRefusedError(problems)
    holder = registry.stage_version(base, cfg.model_name, cfg.stage)
    previous = holder.version if holder else None
    stage = release_stage(cfg, has_production=holder is not None)
    version = registry.plan_next(base, cfg.model_name, level)
    commit = _head(base)
    card = model_card(base, cfg.model_name, version, commit, previous, target)
    notes = base / cfg.notes_path
    atomic_write_text(notes, card)
    vtag = registry.register(base, cfg.model_name, version, commit, message=f"Release {version}")
    stag = registry.assign(base, cfg.model_name, version, stage)
    if push:
        push_tags(base, cfg.git_remote, [vtag, stag])
    return ReleaseResult(version, vtag, stag, previous, notes, stage)


def release_stage(cfg: ReleaseConfig, has_production: bool) -> str:
    """The stage a new release is assigned to.

    ``release.canary_stage`` when ``release.via_canary`` is on and a version is already in
    production (the gate compared with it; ``pr2prod promote`` moves the canary on after
    the live comparison); otherwise, and for the first release, ``release.stage``.
    """
    return cfg.canary_stage if cfg.via_canary and has_production else cfg.stage


def rollback(root: str | Path, cfg: ReleaseConfig, version: str, push: bool = False) -> str:
    """Assign the stage back to ``version``; rebuild nothing. Returns the assignment tag.

    Raises:
        registry.RegistryError: ``version`` is not ``vMAJOR.MINOR.PATCH``, or not registered.
    """
    try:
        versions.parse(version)
    except versions.VersionError as exc:
        raise registry.RegistryError(f"rollback: {exc}") from exc
    tag = registry.rollback(root, cfg.model_name, version, cfg.stage)
    if push:
        push_tags(root, cfg.git_remote, [tag])
    return tag


@dataclass(frozen=True)
class PromoteResult:
    """What a promotion did: ``version`` now in production, the canary retired."""

    version: str
    previous: str | None  # the version in production before
    stage_tag: str  # the production assignment tag
    retired_tag: str  # the canary's unassignment tag


def canary_version(root: str | Path, cfg: ReleaseConfig) -> registry.ModelVersion:
    """The version in ``release.canary_stage``.

    Raises:
        registry.RegistryError: when no version is in the canary stage.
    """
    held = registry.stage_version(root, cfg.model_name, cfg.canary_stage)
    if held is None:
        raise registry.RegistryError(
            f"no version of {cfg.model_name} is in {cfg.canary_stage} "
            "(release.canary_stage): nothing to promote or abort"
        )
    return held


def promote(
    root: str | Path, cfg: ReleaseConfig, expected: str | None = None, push: bool = False
) -> PromoteResult:
    """Assign the canary's version to ``release.stage`` and retire the canary assignment.

    Args:
        expected: the version the caller checked (a canary report's); refuse if the canary
            stage holds another one by now.

    Raises:
        registry.RegistryError: no canary, or not the ``expected`` version.
    """
    held = canary_version(root, cfg)
    if expected is not None and held.version != expected:
        raise registry.RegistryError(
            f"{cfg.canary_stage} holds {held.version}, not {expected}: nothing promoted"
        )
    prod = registry.stage_version(root, cfg.model_name, cfg.stage)
    stag = registry.assign(
        root,
        cfg.model_name,
        held.version,
        cfg.stage,
        message=f"Promote {cfg.model_name} {held.version} from {cfg.canary_stage} to {cfg.stage}",
    )
    retired = registry.unassign(
        root,
        cfg.model_name,
        cfg.canary_stage,
        message=f"Retire {cfg.canary_stage} {held.version}: promoted to {cfg.stage}",
    )
    if push:
        push_tags(root, cfg.git_remote, [stag, retired])
    return PromoteResult(held.version, prod.version if prod else None, stag, retired)


def abort_canary(root: str | Path, cfg: ReleaseConfig, push: bool = False) -> tuple[str, str]:
    """Retire the canary assignment; production is untouched. Returns (version, tag).

    Raises:
        registry.RegistryError: when no version is in the canary stage.
    """
    held = canary_version(root, cfg)
    tag = registry.unassign(
        root,
        cfg.model_name,
        cfg.canary_stage,
        message=f"Abort {cfg.canary_stage} {held.version}: production unchanged",
    )
    if push:
        push_tags(root, cfg.git_remote, [tag])
    return held.version, tag
