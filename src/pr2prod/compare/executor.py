"""Production as seen from a DVC temp-dir experiment (``dvc exp run --temp`` / ``--queue``).

DVC runs such an experiment in a throw-away git repository under
``<project>/.dvc/tmp/exps/.../<tmp>/`` that holds only the experiment's own commits: no
branches, no tags. Production (``gate.baseline.ref``, the GTO registry's tags) would not
resolve there, and the gate would call every queued experiment a "first release".
:func:`sync_production_refs` fetches the project's branches and tags into that repository
first, so the gate and the package stage see the production the workspace sees.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from pr2prod.compare.errors import GateError

EXEC_BASELINE = "refs/exps/exec/EXEC_BASELINE"  # DVC's executor ref: we are in an executor


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=False, timeout=120
    )


def originating_project(root: Path) -> Path | None:
    """The project a DVC temp-dir executor at ``root`` runs for; None outside one."""
    here = root.resolve()
    exps = next(
        (
            p
            for p in here.parents
            if p.name == "exps" and [q.name for q in p.parents[:2]] == ["tmp", ".dvc"]
        ),
        None,
    )
    if exps is None:
        return None
    if _git(here, "rev-parse", "--verify", "--quiet", EXEC_BASELINE).returncode != 0:
        return None
    return exps.parents[2]


def sync_production_refs(root: Path) -> Path | None:
    """Inside a DVC temp-dir executor, fetch the project's branches and tags; else nothing.

    Returns the originating project, or None outside an executor.

    Raises:
        GateError: the project's refs could not be fetched (the gate would otherwise judge
            against no production).
    """
    origin = originating_project(root)
    if origin is None:
        return None
    out = _git(
        root.resolve(),
        "fetch",
        "--quiet",
        "--no-write-fetch-head",
        str(origin),
        "+refs/heads/*:refs/heads/*",
        "+refs/tags/*:refs/tags/*",
    )
    if out.returncode != 0:
        raise GateError(
            f"cannot read production's refs from {origin} in this DVC experiment: "
            f"{out.stderr.strip()}"
        )
    return origin
