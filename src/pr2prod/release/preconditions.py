"""What must hold before a model version is released; each failure is one clear message."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from pr2prod.config import catalog
from pr2prod.remote_auth import CREDENTIALS_HINT, mentions_auth_failure


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)


def _regenerated(path: str, ignore: Sequence[str]) -> bool:
    """``path`` is one of ``ignore`` or inside one of its directories."""
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in ignore)


def clean_tree(root: Path, ignore: Sequence[str] = ()) -> str | None:
    """Refuse uncommitted changes: a version must name exactly one commit's content.

    Args:
        root: the repository.
        ignore: paths the release job regenerates itself (``release.ci_outputs``).
    """
    out = _run(["git", "status", "--porcelain", "--untracked-files=no"], root)
    if out.returncode != 0:
        return f"not a git repository: {out.stderr.strip()}"
    dirty = [line[3:] for line in out.stdout.splitlines() if line.strip()]
    dirty = [path for path in dirty if not _regenerated(path, ignore)]
    if dirty:
        return f"git tree is dirty (commit or stash first): {', '.join(dirty[:10])}"
    return None


def _git_modified(root: Path) -> set[str]:
    out = _run(["git", "status", "--porcelain", "--untracked-files=no"], root)
    return {line[3:] for line in out.stdout.splitlines() if line.strip()}


def _stale_entries(stage_status: list[Any], skip: Sequence[str]) -> list[str]:
    """What changed in one stage's ``dvc status`` entry, minus the paths in ``skip``."""
    left = []
    for entry in stage_status:
        if isinstance(entry, str):  # "changed command", "always changed"
            left.append(entry)
            continue
        for kind, changed in entry.items():
            if not isinstance(changed, dict):
                left.append(kind)
                continue
            left += [f"{kind}: {p}" for p in changed if not _regenerated(p, skip)]
    return left


def lock_fresh(root: Path, ignore: Sequence[str] = ()) -> str | None:
    """Refuse a stale ``dvc.lock``: every stage's committed outputs, the gate's and the
    package's included, must be what its committed deps and params make.

    Args:
        root: the repository.
        ignore: outputs the release job regenerates itself (``release.ci_outputs``); a
            change to one is allowed only while it is uncommitted (regenerated in this
            run). A committed file that differs from what ``dvc.lock`` records (a verdict
            edited after the gate ran, say) is stale like any other.
    """
    dirty = _git_modified(root)
    regenerated = [i for i in ignore if any(_regenerated(d, [i]) for d in dirty)]
    out = _run(["dvc", "status", "--json", "dvc.yaml"], root)
    if out.returncode != 0:
        return f"`dvc status` failed: {out.stderr.strip()}"
    status = json.loads(out.stdout or "{}")
    stale = {
        stage: left
        for stage, entries in sorted(status.items())
        if (left := _stale_entries(entries, regenerated))
    }
    if stale:
        detail = "; ".join(f"{s} ({', '.join(c)})" for s, c in stale.items())
        return f"dvc.lock is stale (run `dvc repro` and commit): changed stages {detail}"
    return None


def params_in_sync(root: Path) -> str | None:
    """Refuse when ``params.yaml`` is not the composition of ``conf/``."""
    from pr2prod.config.compose import check
    from pr2prod.config.errors import ConfigError

    try:
        problems = check(root / "conf", root / "params.yaml")
    except ConfigError as exc:
        return f"params.yaml cannot be checked: {exc}"
    if problems:
        return "params.yaml is out of sync with conf/ (run `pr2prod compose`): " + "; ".join(
            problems
        )
    return None


@dataclass(frozen=True)
class VerdictTarget:
    """What a release's gate verdict must be about (see :mod:`pr2prod.release.verdict`)."""

    model_dir: Path  # the artifact being released
    production_id: str | None  # current production's artifact id (None: first release)
    verdict: Path = field(default_factory=lambda: Path(catalog.default_factory("gate_json")()))


def gate_passed(root: Path, target: VerdictTarget) -> str | None:
    """Refuse without a sealed, bound and passing gate verdict for this very model."""
    from pr2prod.models.identity import artifact_id
    from pr2prod.release.verdict import VerdictError, bound_verdict

    if not (root / target.model_dir).is_dir():
        return f"{target.model_dir} is missing: nothing to release (run `dvc repro`)"
    try:
        verdict = bound_verdict(
            root / target.verdict, artifact_id(root / target.model_dir), target.production_id
        )
    except VerdictError as exc:
        return str(exc)
    if verdict.blocks_release():
        return (
            f"the gate did not pass (verdict {verdict.verdict!r}; "
            f"failed checks: {', '.join(verdict.failed)})"
        )
    return None


def artifacts_on_remote(root: Path) -> str | None:
    """Refuse while DVC outputs are not on the DVC remote: a release must be pullable."""
    out = _run(["dvc", "status", "--cloud", "--json"], root)
    if out.returncode != 0:
        said = out.stderr.strip() or out.stdout.strip()
        if mentions_auth_failure(said):
            return (
                f"`dvc status --cloud` failed: the DVC remote refused access or no credentials "
                f"were found ({said}). {CREDENTIALS_HINT}"
            )
        return f"`dvc status --cloud` failed: {said}"
    missing = sorted(json.loads(out.stdout or "{}"))
    if missing:
        return f"artifacts missing from the DVC remote (run `dvc push`): {', '.join(missing)}"
    return None


def release_problems(
    root: str | Path,
    target: VerdictTarget | None,
    require_remote: bool = True,
    ignore: Sequence[str] = (),
) -> list[str]:
    """Every precondition that fails, as messages; empty when a release may proceed.

    ``target`` None skips the gate check (``release.require_gate: false``).
    """
    checks: list[Callable[[Path], str | None]] = [
        partial(clean_tree, ignore=ignore),
        params_in_sync,
        partial(lock_fresh, ignore=ignore),
    ]
    if target is not None:
        checks.append(partial(gate_passed, target=target))
    if require_remote:
        checks.append(artifacts_on_remote)
    path = Path(root)
    return [msg for check in checks if (msg := check(path)) is not None]
