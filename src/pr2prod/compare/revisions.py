"""Read a git revision's files and materialise its DVC outputs (no checkout, no rerun)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pr2prod.compare.errors import GateError
from pr2prod.remote_auth import CREDENTIALS_HINT, is_auth_failure

_is_auth_failure = is_auth_failure  # the gate's name for it (tests/s3/test_s3_errors.py)


class RemoteAccessError(GateError):
    """The DVC remote could not be read: credentials missing or refused (content unknown)."""


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=False, timeout=60
    )


def resolve_commit(root: Path, rev: str) -> str | None:
    """Commit hash of ``rev`` (also tried as ``origin/<rev>``), None when it does not exist."""
    for candidate in (rev, f"origin/{rev}"):
        out = _git(root, "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}")
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    return None


def show_file(root: Path, commit: str, path: str) -> str | None:
    """Text of ``path`` at ``commit``, None when the file is not in that commit."""
    out = _git(root, "show", f"{commit}:{path}")
    return out.stdout if out.returncode == 0 else None


def materialise(root: Path, commit: str, path: str, dest: Path) -> Path:
    """Copy the DVC-tracked ``path`` as of ``commit`` into ``dest``.

    DVC finds the content by the hash that commit's ``dvc.lock`` records: from the local
    cache when it is there, else from the default remote. Nothing is rerun.

    Raises:
        RemoteAccessError: not in the cache, and the remote's credentials are missing or
            refused (S3: ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``).
        GateError: the content is in neither the cache nor the remote.
    """
    from dvc.api import DVCFileSystem

    try:
        fs = DVCFileSystem(str(root), rev=commit)
        fs.get(path, str(dest), recursive=True)
    except Exception as exc:  # DVC raises many types (missing cache, remote, auth)
        if _is_auth_failure(exc):
            raise RemoteAccessError(
                f"cannot fetch {path} as of {commit[:12]}: not in the DVC cache, and the DVC "
                f"remote refused access or no credentials were found ({exc}). {CREDENTIALS_HINT}"
            ) from exc
        raise GateError(
            f"cannot fetch {path} as of {commit[:12]} from the DVC cache or remote ({exc}); "
            f"push it from that revision with `dvc push`, or pass --baseline PATH"
        ) from exc
    return dest
