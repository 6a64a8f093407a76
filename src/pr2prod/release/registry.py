"""The model registry is the git repository: GTO tags ``NAME@vX.Y.Z`` and ``NAME#STAGE#N``.

Thin over :mod:`gto.api`: this module only turns GTO's records into small typed values and
decides the next version. Nothing here builds or moves artifacts.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pr2prod.errors import CheckFailedError
from pr2prod.release.versions import VersionError, next_version, parse


class RegistryError(CheckFailedError, RuntimeError):
    """A registry operation that cannot be done (unknown version, no such artifact...)."""


@dataclass(frozen=True)
class ModelVersion:
    """One registered version of the model."""

    version: str
    commit: str
    created_at: str
    stages: list[str] = field(default_factory=list)


def version_tag(name: str, version: str) -> str:
    """The git tag GTO writes for a registered version."""
    return f"{name}@{version}"


def _gto() -> Any:
    import gto.api  # lazy: GTO pulls in scmrepo/pydantic at import time

    return gto.api


def list_versions(
    repo: str | Path, name: str, stage: str | tuple[str, ...] = "prod"
) -> list[ModelVersion]:
    """Registered versions of ``name``, newest first; ``stages`` marks who holds ``stage``.

    ``stage`` may name several stages (e.g. production and canary); each version's
    ``stages`` lists those it holds, in the order given.
    """
    from gto.exceptions import ArtifactNotFound

    try:
        raw = _gto().show(str(repo), name=name, registered_only=True)
    except ArtifactNotFound:
        return []
    wanted = (stage,) if isinstance(stage, str) else stage
    holders = {s: _stage_commit(repo, name, s) for s in wanted}
    versions = [
        ModelVersion(
            version=str(v["version"]),
            commit=str(v["commit_hexsha"]),
            created_at=str(v["created_at"]),
            stages=[s for s in wanted if holders[s] == str(v["commit_hexsha"])],
        )
        for v in raw
        if _is_semver(str(v["version"]))
    ]
    return sorted(versions, key=lambda v: parse(v.version), reverse=True)


@dataclass(frozen=True)
class StageEvent:
    """One GTO tag about a stage: ``name#stage#N`` assigns, ``name#stage!#N`` unassigns."""

    counter: int
    tag: str
    commit: str
    assigned: bool


def _stage_events(repo: str | Path, name: str, stage: str) -> list[StageEvent]:
    """Every assignment and unassignment tag of ``stage``, oldest first.

    GTO numbers the events of an artifact with one counter; ordering by it rather than by
    tag timestamps (1 s resolution) keeps quick successive events (a release then a
    rollback, a promotion then the canary's retirement) unambiguous.
    """
    out = subprocess.run(
        ["git", "for-each-ref", "--format=%(refname:short) %(*objectname)", "refs/tags/"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    events = []
    for line in out.splitlines():
        tag, _, commit = line.partition(" ")
        for prefix, assigned in ((f"{name}#{stage}#", True), (f"{name}#{stage}!#", False)):
            rest = tag[len(prefix) :]
            if tag.startswith(prefix) and rest.isdigit():
                events.append(StageEvent(int(rest), tag, commit, assigned))
    return sorted(events, key=lambda e: e.counter)


def _stage_commit(repo: str | Path, name: str, stage: str) -> str | None:
    """Commit holding ``stage``: the latest assignment, unless that version was unassigned."""
    holder = None
    for event in _stage_events(repo, name, stage):
        if event.assigned:
            holder = event.commit
        elif event.commit == holder:
            holder = None
    return holder


def _is_semver(version: str) -> bool:
    try:
        parse(version)
    except VersionError:
        return False
    return True


def latest_version(repo: str | Path, name: str) -> str | None:
    """Highest registered version of ``name``, or None before the first release."""
    versions = list_versions(repo, name)
    return versions[0].version if versions else None


def stage_version(repo: str | Path, name: str, stage: str = "prod") -> ModelVersion | None:
    """The version currently assigned to ``stage`` (GTO: the most recent assignment wins)."""
    for version in list_versions(repo, name, stage):
        if stage in version.stages:
            return version
    return None


def production_ref(repo_root: str | Path, name: str, stage: str = "prod") -> str | None:
    """Git commit of the version currently in ``stage`` (production), None if there is none.

    This is the differential gate's baseline: that commit's ``dvc.lock`` names the artifact.
    """
    version = stage_version(repo_root, name, stage)
    return version.commit if version else None


def plan_next(repo: str | Path, name: str, bump: str) -> str:
    """The version a release with ``bump`` would register now."""
    return next_version(latest_version(repo, name), bump)


def register(
    repo: str | Path, name: str, version: str, ref: str = "HEAD", message: str = ""
) -> str:
    """Tag ``ref`` as ``name@version`` (annotated git tag); return the tag name."""
    parse(version)
    if any(v.version == version for v in list_versions(repo, name)):
        raise RegistryError(f"{version_tag(name, version)} already exists")
    _gto().register(
        str(repo), name, ref, version=version, message=message or f"Register {name} {version}"
    )
    return version_tag(name, version)


def assign(
    repo: str | Path, name: str, version: str, stage: str = "prod", message: str = ""
) -> str:
    """Assign ``stage`` to an existing ``version``; return the assignment tag's name.

    Raises:
        RegistryError: when ``version`` is not registered (the message lists the known ones).
    """
    known = [v.version for v in list_versions(repo, name)]
    if version not in known:
        raise RegistryError(
            f"{name} has no version {version!r}; registered: {', '.join(known) or 'none'}"
        )
    from gto.exceptions import WrongArgs

    try:
        _gto().assign(
            str(repo),
            name,
            stage,
            version=version,
            message=message or f"Assign {name} {version} to {stage}",
            skip_registration=True,
            # GTO's own guard refuses a version that already holds the stage. GTO keeps old
            # assignments active, so only a version that held it before (a rollback, a
            # re-promotion) needs force; the highest assignment counter decides who holds it.
            force=_held_before(repo, name, stage, version),
        )
    except WrongArgs as exc:  # GTO's guard: the version is in the stage already
        raise RegistryError(f"{name} {version}: {exc}") from exc
    return _latest_stage_tag(repo, name, stage)


def _held_before(repo: str | Path, name: str, stage: str, version: str) -> bool:
    """Whether ``version`` held ``stage`` once but does not now: re-assigning it needs force.

    A version holding ``stage`` now gets ``False``, so GTO's own guard refuses it.
    """
    commit = next(v.commit for v in list_versions(repo, name, stage) if v.version == version)
    if _stage_commit(repo, name, stage) == commit:
        return False
    return any(e.assigned and e.commit == commit for e in _stage_events(repo, name, stage))


def _latest_stage_tag(repo: str | Path, name: str, stage: str) -> str:
    return _stage_events(repo, name, stage)[-1].tag


def unassign(repo: str | Path, name: str, stage: str, message: str = "") -> str:
    """Retire ``stage``: GTO unassigns it from the version holding it. Returns the tag.

    Raises:
        RegistryError: when no version holds ``stage``.
    """
    holder = stage_version(repo, name, stage)
    if holder is None:
        raise RegistryError(f"no version of {name} is in {stage}")
    _gto().unassign(
        str(repo),
        name,
        version=holder.version,
        stage=stage,
        message=message or f"Unassign {stage} from {name} {holder.version}",
    )
    return _latest_stage_tag(repo, name, stage)


def rollback(repo: str | Path, name: str, version: str, stage: str = "prod") -> str:
    """Point ``stage`` back at an earlier ``version``; nothing is rebuilt. Returns the tag."""
    current = stage_version(repo, name, stage)
    if current is not None and current.version == version:
        raise RegistryError(f"{name} {version} is already in {stage}")
    return assign(repo, name, version, stage, message=f"Rollback {name} {stage} to {version}")
