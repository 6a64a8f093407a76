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


def list_versions(repo: str | Path, name: str, stage: str = "prod") -> list[ModelVersion]:
    """Registered versions of ``name``, newest first; ``stages`` marks the ``stage`` holder."""
    from gto.exceptions import ArtifactNotFound

    try:
        raw = _gto().show(str(repo), name=name, registered_only=True)
    except ArtifactNotFound:
        return []
    holder = _stage_commit(repo, name, stage)
    versions = [
        ModelVersion(
            version=str(v["version"]),
            commit=str(v["commit_hexsha"]),
            created_at=str(v["created_at"]),
            stages=[stage] if str(v["commit_hexsha"]) == holder else [],
        )
        for v in raw
        if _is_semver(str(v["version"]))
    ]
    return sorted(versions, key=lambda v: parse(v.version), reverse=True)


def _stage_tags(repo: str | Path, name: str, stage: str) -> list[tuple[int, str, str]]:
    """``(N, tag, commit)`` of every ``name#stage#N`` tag, oldest assignment first.

    GTO numbers assignments with a counter; the highest N is the current one. Ordering by the
    counter rather than by tag timestamps (1 s resolution) keeps quick successive assignments
    (a release then a rollback) unambiguous.
    """
    out = subprocess.run(
        ["git", "for-each-ref", "--format=%(refname:short) %(*objectname)", "refs/tags/"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    prefix = f"{name}#{stage}#"
    tags = []
    for line in out.splitlines():
        tag, _, commit = line.partition(" ")
        if tag.startswith(prefix) and tag[len(prefix) :].isdigit():
            tags.append((int(tag[len(prefix) :]), tag, commit))
    return sorted(tags)


def _stage_commit(repo: str | Path, name: str, stage: str) -> str | None:
    tags = _stage_tags(repo, name, stage)
    return tags[-1][2] if tags else None


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
    _gto().assign(
        str(repo),
        name,
        stage,
        version=version,
        message=message or f"Assign {name} {version} to {stage}",
        skip_registration=True,
        # GTO keeps old assignments active, so re-assigning an earlier version (a rollback)
        # needs force; the highest assignment counter decides who holds the stage.
        force=True,
    )
    return _latest_stage_tag(repo, name, stage)


def _latest_stage_tag(repo: str | Path, name: str, stage: str) -> str:
    return _stage_tags(repo, name, stage)[-1][1]


def rollback(repo: str | Path, name: str, version: str, stage: str = "prod") -> str:
    """Point ``stage`` back at an earlier ``version``; nothing is rebuilt. Returns the tag."""
    current = stage_version(repo, name, stage)
    if current is not None and current.version == version:
        raise RegistryError(f"{name} {version} is already in {stage}")
    return assign(repo, name, version, stage, message=f"Rollback {name} {stage} to {version}")
