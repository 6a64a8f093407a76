"""Run git and DVC as subprocesses (their own command lines, as a person would)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from pr2prod.errors import PlatformError, Pr2prodError

TAIL_LINES = 20


class ToolError(Pr2prodError):
    """git or DVC failed; the message names the command and ends with its output."""

    category = "failed"


def executable(name: str) -> str:
    """``name`` next to this Python first (the venv's dvc), else on PATH.

    Raises:
        PlatformError: not installed.
    """
    local = Path(sys.executable).parent / name
    if local.is_file():
        return str(local)
    found = shutil.which(name)
    if found is None:
        raise PlatformError(f"{name} is not installed (needed by pr2prod retrain)")
    return found


def tail(text: str, lines: int = TAIL_LINES) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def run_tool(
    args: list[str], cwd: Path, *, check: bool = True, timeout: float = 3600
) -> subprocess.CompletedProcess[str]:
    """Run ``args`` (``args[0]`` is ``git`` or ``dvc``) in ``cwd``; no shell.

    Raises:
        ToolError: a non-zero exit when ``check``, with the output's last lines.
    """
    cmd = [executable(args[0]), *args[1:]]
    proc = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and proc.returncode != 0:
        raise ToolError(
            f"`{' '.join(args)}` exited {proc.returncode}:\n{tail(proc.stdout + proc.stderr)}"
        )
    return proc
