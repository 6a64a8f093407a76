"""Create a project: ``git init``, ``dvc init``, render the template, compose, commit.

Answers are checked before the directory is created; if a later step fails, the directory
is removed again (when this call created it), so a failed ``pr2prod init`` leaves nothing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from pr2prod import __version__
from pr2prod.errors import PlatformError, UsageError
from pr2prod.init import TEMPLATE_DIR
from pr2prod.init.answers import Answers
from pr2prod.init.cache import register, version_tag

#: Used for the first commit only when git has no identity configured.
FALLBACK_IDENTITY = ("-c", "user.name=pr2prod init", "-c", "user.email=pr2prod-init@localhost")


def init_project(
    dest: Path,
    answers: Answers,
    *,
    ask: bool = False,
    version: str = __version__,
    template_dir: Path = TEMPLATE_DIR,
) -> Answers:
    """Render a new project into ``dest`` (missing or empty) and commit it.

    Args:
        dest: the new project's directory.
        answers: the answers; with ``ask=False`` unset ones take the template's defaults.
        ask: let copier ask the unset questions on the terminal.
        version: the pr2prod version the project pins (this one; tests pass others).
        template_dir: the template to render (the packaged one; tests pass others).

    Returns:
        The answers the project was rendered with (``ask=False``: all of them).

    Raises:
        UsageError: an invalid answer, or ``dest`` exists and is not empty.
        PlatformError: git or dvc is not installed.
        CheckFailedError: a step (git, dvc, copier, compose) failed; nothing is left behind.
    """
    if not ask:
        answers = answers.resolved(template_dir)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UsageError(f"{dest}: exists and is not an empty directory; pick a new PATH")
    tools = {tool: shutil.which(tool) for tool in ("git", "dvc")}
    missing = [tool for tool, found in tools.items() if found is None]
    if missing:
        raise PlatformError(f"pr2prod init needs {' and '.join(missing)} on PATH")
    created = not dest.exists()
    dest.mkdir(parents=True, exist_ok=True)
    try:
        _run(["git", "init", "-q", "-b", "main"], dest)
        _run(["dvc", "init", "-q"], dest)
        _render(dest, answers, ask, version, template_dir)
        _run([sys.executable, "-m", "pr2prod", "compose", "--reset"], dest)
        _run(["git", "add", "-A"], dest)
        identity = () if _has_identity(dest) else FALLBACK_IDENTITY
        _run(["git", *identity, "commit", "-qm", f"pr2prod init (pr2prod {version})"], dest)
    except BaseException:
        if created:
            shutil.rmtree(dest, ignore_errors=True)
        else:  # an empty directory the user made: empty it again
            for child in dest.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        raise
    return answers


def _render(dest: Path, answers: Answers, ask: bool, version: str, template_dir: Path) -> None:
    import copier

    src = register(template_dir, version)  # a git tag, so `pr2prod upgrade` can update later
    try:
        copier.run_copy(
            src,
            str(dest),
            vcs_ref=version_tag(version),
            data=answers.as_data(version),
            defaults=not ask,
            overwrite=True,  # dvc init wrote .dvc/config and .dvcignore; the template's win
            quiet=True,
            unsafe=False,
        )
    except ValueError as exc:  # copier's validators (when it asked the questions)
        raise UsageError(str(exc)) from exc


def _has_identity(repo: Path) -> bool:
    proc = subprocess.run(
        ["git", "config", "user.email"], cwd=repo, capture_output=True, text=True, check=False
    )
    return bool(proc.stdout.strip())


def _run(cmd: list[str], cwd: Path) -> None:
    from pr2prod.errors import CheckFailedError

    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise CheckFailedError(
            f"pr2prod init: `{' '.join(cmd)}` exited {proc.returncode}: "
            f"{(proc.stderr or proc.stdout).strip()}"
        )
