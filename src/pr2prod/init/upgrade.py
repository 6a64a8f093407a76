"""``pr2prod upgrade``: apply this pr2prod's template to a project made by ``pr2prod init``.

It is ``copier update``: copier re-renders the template version the project was made with
(``_commit`` in ``.copier-answers.yml``), diffs it against the project to find the team's
edits, renders this version and re-applies the edits. Where both changed the same lines it
leaves git-style conflict markers in the file (copier's ``inline`` mode). The result is left
uncommitted for review; ``params.yaml`` is recomposed from the merged ``conf/``. When this
machine's template cache lacks the project's version, it is taken from that version's wheel
first (:mod:`pr2prod.init.released`).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pr2prod import __version__
from pr2prod.errors import CheckFailedError, UsageError
from pr2prod.init import TEMPLATE_DIR
from pr2prod.init.cache import has_version, register, version_tag
from pr2prod.init.released import download_template

ANSWERS_FILE = ".copier-answers.yml"
CONFLICT_MARK = "<<<<<<< "


@dataclass(frozen=True)
class UpgradeResult:
    """What an upgrade changed, and the files it left conflict markers in."""

    changed: list[str]
    conflicts: list[str]


def upgrade_project(
    project: Path, *, version: str = __version__, template_dir: Path = TEMPLATE_DIR
) -> UpgradeResult:
    """Update ``project`` to the template of pr2prod ``version``, keeping the team's edits.

    Raises:
        UsageError: not a project made by ``pr2prod init``, uncommitted changes, or a
            downgrade (copier's refusals, with its message).
    """
    if not (project / ANSWERS_FILE).is_file():
        raise UsageError(
            f"{project}: no {ANSWERS_FILE}; `pr2prod upgrade` updates projects made by "
            "`pr2prod init`"
        )
    made_with = _recorded_version(project)
    if not has_version(made_with):  # a fresh machine: the old template from its wheel
        with tempfile.TemporaryDirectory(prefix="pr2prod-template-") as tmp:
            register(download_template(made_with, Path(tmp)), made_with)
    register(template_dir, version)
    import copier
    from copier.errors import UserMessageError

    try:
        copier.run_update(
            str(project),
            data={"pr2prod_version": version},
            vcs_ref=version_tag(version),
            defaults=True,  # keep every recorded answer; only the version moves
            overwrite=True,
            quiet=True,
            conflict="inline",
            unsafe=False,
        )
    except UserMessageError as exc:
        raise UsageError(f"pr2prod upgrade: {exc}") from exc
    changed = _git(project, "status", "--porcelain").splitlines()
    paths = [line[3:] for line in changed]
    conflicts = [p for p in paths if _has_conflict(project / p)]
    if not conflicts:  # conf/ merged cleanly: params.yaml follows it
        proc = subprocess.run(
            [sys.executable, "-m", "pr2prod", "compose"],
            cwd=project,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise CheckFailedError(
                f"pr2prod upgrade: the merged conf/ does not compose: {proc.stderr.strip()}"
            )
        paths = [line[3:] for line in _git(project, "status", "--porcelain").splitlines()]
    return UpgradeResult(changed=paths, conflicts=conflicts)


def _recorded_version(project: Path) -> str:
    """The pr2prod version whose template the project was made with (or last upgraded to)."""
    import yaml

    answers = yaml.safe_load((project / ANSWERS_FILE).read_text(encoding="utf-8")) or {}
    version = answers.get("pr2prod_version")
    if not isinstance(version, str) or not version:
        raise UsageError(f"{project / ANSWERS_FILE}: no pr2prod_version answer")
    return version


def _has_conflict(path: Path) -> bool:
    if not path.is_file():
        return False
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return False
    return any(line.startswith(CONFLICT_MARK) for line in text.splitlines())


def _git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise CheckFailedError(f"`git {' '.join(args)}` exited {proc.returncode}: {proc.stderr}")
    return proc.stdout
