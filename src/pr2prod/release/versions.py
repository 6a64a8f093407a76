"""Semantic versions of the model: parse, order, bump."""

from __future__ import annotations

import re

from pr2prod.errors import UsageError

BUMPS = ("patch", "minor", "major")
FIRST_VERSION = "v1.0.0"
# ASCII digits only, whole string (no trailing newline): versions reach git tags and shells.
_SEMVER = re.compile(r"v([0-9]+)\.([0-9]+)\.([0-9]+)")


class VersionError(UsageError, ValueError):
    """A version or bump level that is not valid; the message names the allowed values."""


def parse(version: str) -> tuple[int, int, int]:
    """``"v1.2.3"`` -> ``(1, 2, 3)``; anything else raises :class:`VersionError`."""
    match = _SEMVER.fullmatch(version)
    if not match:
        raise VersionError(f"version {version!r} is not of the form vMAJOR.MINOR.PATCH")
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


def check_bump(bump: str) -> str:
    """Return ``bump`` if it is one of :data:`BUMPS`, else raise naming the allowed values."""
    if bump not in BUMPS:
        raise VersionError(f"release.bump={bump!r} is not one of {', '.join(BUMPS)}")
    return bump


def next_version(latest: str | None, bump: str) -> str:
    """The version after ``latest`` (``None``: nothing released yet -> ``v1.0.0``).

    pr2prod's policy is only the first version and the level; the bump itself is GTO's
    (``gto.versions.SemVer.bump``, what ``gto register --bump-*`` does).
    """
    check_bump(bump)
    if latest is None:
        return FIRST_VERSION
    parse(latest)
    from gto.versions import SemVer  # lazy: GTO pulls in scmrepo/pydantic at import time

    return str(SemVer(latest).bump(**{f"bump_{bump}": True}).version)


def bump_from_labels(labels: list[str] | str, default: str) -> str:
    """Bump level from PR labels ``release:patch|minor|major`` (comma list or list), else default.

    Raises:
        VersionError: when labels ask for two different levels, or the default is invalid.
    """
    items = labels.split(",") if isinstance(labels, str) else labels
    asked = {
        lab.strip().removeprefix("release:") for lab in items if lab.strip().startswith("release:")
    }
    asked &= set(BUMPS)
    if len(asked) > 1:
        raise VersionError(f"PR labels ask for several bump levels: {sorted(asked)}")
    return asked.pop() if asked else check_bump(default)
