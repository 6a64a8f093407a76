"""The template as copier wants it for updates: a git repository with one tag per version.

The wheel ships the template as plain files; ``copier update`` needs the *old* template
version too (it re-renders it to find the team's edits). So each pr2prod version that
renders or upgrades a project first commits its packaged template into a local cache
repository and tags it ``v<version>``; projects record that cache as their ``_src_path``
(``~/.cache/pr2prod/template`` by default, written with ``~`` so it means the same on
every machine; ``PR2PROD_TEMPLATE_CACHE`` overrides it). A version this machine never ran
comes from its released wheel (:mod:`pr2prod.init.released`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from pr2prod.errors import CheckFailedError

CACHE_VAR = "PR2PROD_TEMPLATE_CACHE"
DEFAULT_CACHE = "~/.cache/pr2prod/template"
_IDENTITY = ("-c", "user.name=pr2prod", "-c", "user.email=pr2prod@localhost")


def cache_location() -> tuple[str, Path]:
    """``(what projects record as _src_path, where it is on this machine)``."""
    recorded = os.environ.get(CACHE_VAR) or DEFAULT_CACHE
    return recorded, Path(recorded).expanduser()


def version_tag(version: str) -> str:
    return f"v{version}"


def has_version(version: str) -> bool:
    """Whether the cache on this machine holds the template of ``version``."""
    _, repo = cache_location()
    if not (repo / ".git").exists():
        return False
    proc = subprocess.run(
        ["git", "rev-parse", "-q", "--verify", f"refs/tags/{version_tag(version)}"],
        cwd=repo,
        capture_output=True,
        check=False,
    )
    return proc.returncode == 0


def register(template_dir: Path, version: str) -> str:
    """Commit ``template_dir`` into the cache, tagged ``v<version>``; return the _src_path.

    Idempotent: a tag that already holds exactly this template is left alone. A tag that
    holds other content (a development build re-using its version) is moved.
    """
    recorded, repo = cache_location()
    if not (repo / ".git").exists():
        repo.mkdir(parents=True, exist_ok=True)
        _git(repo, "init", "-q", "-b", "main")
    for child in repo.iterdir():
        if child.name != ".git":
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    shutil.copytree(
        template_dir, repo, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__")
    )
    _git(repo, "add", "-A")
    tree = _git(repo, "write-tree")
    tag = version_tag(version)
    tagged = subprocess.run(
        ["git", "rev-parse", "-q", "--verify", f"{tag}^{{tree}}"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if tagged != tree:
        _git(repo, *_IDENTITY, "commit", "-q", "--allow-empty", "-m", f"pr2prod template {tag}")
        _git(repo, "tag", "-f", tag)
    return recorded


def _git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise CheckFailedError(
            f"template cache {repo}: `git {' '.join(args)}` exited {proc.returncode}: "
            f"{proc.stderr.strip()}"
        )
    return proc.stdout.strip()
