"""Rebuild production from its recorded commit when its artifact cannot be fetched.

The pipeline is reproducible (same commit => same hashes, inside the numerical envelope),
so production's artifact can be *recomputed* instead of downloaded: check its commit out
in a temporary git worktree, share this project's DVC cache (so the run-cache and stored
objects are reused), run the stages that produce the artifact with that commit's own code
and configs, and compare the result with the hash production's ``dvc.lock`` records.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pr2prod.compare.errors import GateError
from pr2prod.dvclock import LOCK, DvcLock
from pr2prod.fsio import atomic_dir

_TIMEOUT_S = 1800


@dataclass(frozen=True)
class Rebuilt:
    """A rebuilt production artifact and whether it is bit-identical to the record."""

    path: Path
    recorded_md5: str
    rebuilt_md5: str | None
    stage: str

    @property
    def bit_identical(self) -> bool:
        return self.rebuilt_md5 == self.recorded_md5


def _clean_env(worktree: Path) -> dict[str, str]:
    """The environment for the nested ``dvc repro``: that commit's code, no outer DVC run."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DVC_") and k != "PR2PROD_ENVELOPE_RECORD"
    }
    env["DVC_NO_ANALYTICS"] = "1"
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    # run production's own code, not ours: pr2prod's in this repository, the team's package
    # (src/<package>/, which an editable install would take from the workspace) in a project
    if (worktree / "src").is_dir():
        env["PYTHONPATH"] = str(worktree / "src")
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=_TIMEOUT_S, check=False
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
        raise GateError(f"rebuilding production failed at `{' '.join(args)}`:\n{tail}")


def rebuild_production(
    root: Path, commit: str, artifact: str, lock_text: str, dest: Path
) -> Rebuilt:
    """Recompute ``artifact`` as of ``commit`` in a temporary worktree; copy it to ``dest``.

    Raises:
        GateError: the commit's ``dvc.lock`` names no stage for the artifact, or its
            pipeline fails.
    """
    lock = DvcLock.from_text(lock_text)
    stage = lock.producing_stage(artifact)
    found = lock.out(artifact)
    recorded = (found.md5 if found else None) or ""
    if stage is None:
        raise GateError(f"cannot rebuild production: its dvc.lock has no stage writing {artifact}")
    from dvc.repo import Repo

    cache_dir = Path(Repo(str(root)).cache.local.path).parents[1]  # .../cache/files/md5
    with tempfile.TemporaryDirectory(prefix="pr2prod-production-") as tmp:
        worktree = Path(tmp) / "production"
        _run(["git", "worktree", "add", "--detach", "--quiet", str(worktree), commit], root)
        try:
            env = _clean_env(worktree)
            _run(["dvc", "config", "--local", "cache.dir", str(cache_dir)], worktree, env)
            print(
                f"[gate] rebuilding production ({commit[:12]}): dvc repro {stage} "
                "in a temporary worktree",
                file=sys.stderr,
                flush=True,
            )
            _run(["dvc", "repro", stage], worktree, env)
            locked = (worktree / LOCK).read_text(encoding="utf-8")
            rebuilt_out = DvcLock.from_text(locked).out(artifact)
            rebuilt = rebuilt_out.md5 if rebuilt_out else None
            with atomic_dir(dest) as out:
                shutil.copytree(worktree / artifact, out, dirs_exist_ok=True)
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(worktree)],
                cwd=root,
                capture_output=True,
                check=False,
            )
    return Rebuilt(dest, recorded, rebuilt, stage)
