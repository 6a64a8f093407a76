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
    "ReleaseRefusedError",
    "ReleaseResult",
    "VerdictTarget",
    "release",
    "release_problems",
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
    previous: str | None
    notes: Path


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
    version = registry.plan_next(base, cfg.model_name, level)
    commit = _head(base)
    card = model_card(base, cfg.model_name, version, commit, previous, target)
    notes = base / cfg.notes_path
    atomic_write_text(notes, card)
    vtag = registry.register(base, cfg.model_name, version, commit, message=f"Release {version}")
    stag = registry.assign(base, cfg.model_name, version, cfg.stage)
    if push:
        push_tags(base, cfg.git_remote, [vtag, stag])
    return ReleaseResult(version, vtag, stag, previous, notes)


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
