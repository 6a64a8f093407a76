"""Build throw-away pr2prod projects: real git, real DVC, a real directory remote.

Used by the integration and end-to-end tests of every feature. Nothing here mocks DVC,
Hydra or git: a project is a copy of this repository's pipeline in a temp directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# What a project needs: the pipeline definition, the configs and the code DVC tracks as deps.
PROJECT_FILES = (
    ".dvcignore",
    "dvc.yaml",
    "conf",
    "data/raw",
    "src",
    "pyproject.toml",
    "pipelines",
    "bentofile.yaml",
    "requirements",  # the lock: bentofile.yaml's packages are pinned from it
    ".gto",  # GTO's declared stages
    # the GitOps loop: make targets, workflows, local act settings, lint hooks
    "Makefile",
    ".github",
    ".actrc",
    ".pre-commit-config.yaml",
    ".secrets.baseline",
)


def env() -> dict[str, str]:
    """Environment for subprocesses: this venv first on PATH, quiet, no analytics."""
    e = dict(os.environ)
    e["PATH"] = f"{BIN}{os.pathsep}{e.get('PATH', '')}"
    e["DVC_NO_ANALYTICS"] = "1"
    e["GIT_AUTHOR_NAME"] = e["GIT_COMMITTER_NAME"] = "pr2prod tests"
    e["GIT_AUTHOR_EMAIL"] = e["GIT_COMMITTER_EMAIL"] = "tests@pr2prod.invalid"
    e.pop("DVC_EXP_NAME", None)
    e.pop("DVC_EXP_BASELINE_REV", None)
    return e


def run(
    args: list[str] | str, cwd: Path, check: bool = True, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run a command in ``cwd``; on an unexpected exit code fail with its output."""
    cmd = args.split() if isinstance(args, str) else args
    proc = subprocess.run(
        cmd, cwd=cwd, env=env(), capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} exited {proc.returncode}\n--- stdout\n{proc.stdout}\n"
            f"--- stderr\n{proc.stderr}"
        )
    return proc


def git(repo: Path, *args: str) -> str:
    """``git ARGS`` in ``repo`` with the tests' identity; its stdout, stripped."""
    return run(["git", *args], repo).stdout.strip()


def git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give in-process git (GTO, scmrepo) the tests' identity (``env()``)."""
    for key in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        monkeypatch.setenv(key, env()[key])


def make_project(
    dest: Path,
    overrides: list[str] | tuple[str, ...] = (),
    remote: Path | None = None,
    commit: bool = True,
) -> Path:
    """Copy the pipeline into ``dest``, ``git init`` + ``dvc init``, compose, commit.

    Args:
        dest: an empty or missing directory.
        overrides: Hydra overrides composed into ``params.yaml``.
        remote: directory used as the default DVC remote (created); ``dest/../remote`` if None.
    """
    dest.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(
                src,
                dest / name,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
            )
        elif src.exists():
            shutil.copy2(src, dest / name)
    shutil.copy2(ROOT / ".gitignore", dest / ".gitignore")
    remote = remote or dest.parent / f"{dest.name}-remote"
    remote.mkdir(parents=True, exist_ok=True)
    run(["git", "init", "-q", "-b", "main"], dest)
    run(["dvc", "init", "-q"], dest)
    run(["dvc", "config", "core.autostage", "true"], dest)
    run(["dvc", "remote", "add", "-d", "local", str(remote)], dest)
    run([str(BIN / "pr2prod"), "compose", "--reset", *overrides], dest)
    if commit:
        run(["git", "add", "-A"], dest)
        run(["git", "commit", "-qm", "init project"], dest)
    return dest


def copy_project(src: Path, dest: Path, remote: Path | None = None) -> Path:
    """A writable copy of the project ``src`` (e.g. the ``trained_project`` fixture) at ``dest``.

    Git history, DVC cache and outputs are copied as they are; the copy gets its own DVC remote
    (``remote``, or ``dest/../<name>-remote`` as :func:`make_project` does), so pushing from it
    leaves the original's remote alone. Cheaper than ``make_project`` + ``repro``.
    """
    shutil.copytree(src, dest, symlinks=True)
    remote = remote or dest.parent / f"{dest.name}-remote"
    remote.mkdir(parents=True, exist_ok=True)
    run(["dvc", "remote", "modify", "local", "url", str(remote)], dest)
    run(["git", "add", ".dvc/config"], dest)  # staged, as `dvc repro` left its outputs
    return dest


def repro(project: Path, *targets: str) -> subprocess.CompletedProcess[str]:
    return run(["dvc", "repro", *targets], project)


def ran_stages(output: str) -> list[str]:
    """Names of the stages ``dvc repro`` actually ran, from its output."""
    return [
        line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage '")
    ]


def job_results(stdout: str) -> dict[str, str]:
    """``job id -> success|failure`` from ``act --json`` output lines."""
    results = {}
    for line in stdout.splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if rec.get("jobResult"):
            results[rec["jobID"]] = rec["jobResult"]
    return results


def experiments(project: Path) -> dict[str, dict]:
    """``name -> {overrides, gate, rev}`` of every experiment ``dvc exp show --json`` lists
    (``gate``: the verdict metrics, ``paths.gate_metrics`` of the project's params.yaml)."""
    gate_metrics = yaml.safe_load((project / "params.yaml").read_text())["paths"]["gate_metrics"]
    shown = json.loads(run(["dvc", "exp", "show", "--json"], project).stdout)
    found = {}
    for commit in shown:
        for exp in commit.get("experiments") or []:
            for rev in exp["revs"]:
                data = rev["data"]
                overrides = data["params"]["params.yaml"]["data"]["compose"]["overrides"]
                gate = (data["metrics"].get(gate_metrics) or {}).get("data") or {}
                found[rev["name"]] = {"overrides": overrides, "gate": gate, "rev": rev["rev"]}
    return found


def published_images(report: str, origin: Path) -> dict[str, bytes]:
    """Every image a PR report embeds -> its bytes, read from ``origin`` (a bare repository)
    at the commit its URL pins (``.../raw/<commit>/<content hash>.svg``); the name must be the
    content's hash."""
    urls = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report)
    assert urls, report
    found = {}
    for url in urls:
        pinned = re.search(r"/raw/([0-9a-f]{40})/([0-9a-f]+)\.svg$", url)
        assert pinned, url
        commit, digest = pinned.groups()
        blob = subprocess.run(
            ["git", "cat-file", "blob", f"{commit}:{digest}.svg"],
            cwd=origin,
            capture_output=True,
            check=True,
        ).stdout
        assert hashlib.sha256(blob).hexdigest().startswith(digest), url
        found[url] = blob
    return found
