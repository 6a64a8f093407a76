"""A throw-away repository driven through its real workflows with act on the host.

Shared by the GitOps loop (tests/gitops/test_gitops_e2e.py) and the continuous-training and
canary loop (tests/continuous/test_continuous_e2e.py): a project (``make_project``) with a
local bare "origin" and a directory DVC remote; ``act`` runs one workflow through
``pr2prod ci`` and keeps its job results, log and artifacts (the act stub of upload-artifact
copies them to ``$PR2PROD_ACT_ARTIFACTS``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from _project import BIN, job_results, run

PR2PROD = str(BIN / "pr2prod")


class Loop:
    """The throw-away repository and helpers to drive act and read origin."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.origin = base / "origin.git"
        self.remote = base / "dvc-remote"
        self.project = base / "proj"
        self.runs = 0

    def git(self, *args: str, cwd: Path | None = None) -> str:
        return run(["git", *args], cwd or self.project).stdout.strip()

    def origin_tags(self) -> dict[str, str]:
        """tag -> commit, as the bare origin holds them."""
        out = self.git(
            "for-each-ref",
            "--format=%(refname:short) %(*objectname)",
            "refs/tags/",
            cwd=self.origin,
        )
        return dict(line.split() for line in out.splitlines())

    def act(self, event: str, workflow: str, *extra: str) -> tuple[dict[str, str], Path]:
        """Run one workflow through `pr2prod ci`; return job results and its artifacts dir."""
        self.runs += 1
        artifacts = self.base / f"artifacts-{self.runs}"
        os.environ["PR2PROD_ACT_ARTIFACTS"] = str(artifacts)
        proc = run(
            [
                PR2PROD,
                "ci",
                event,
                "-W",
                f".github/workflows/{workflow}",
                *extra,
                "--json",
                "--action-cache-path",
                str(self.base / "act-cache"),
            ],
            self.project,
            check=False,
            timeout=1200,
        )
        results = job_results(proc.stdout)
        self.last_log().write_text(proc.stdout + proc.stderr)
        return results, artifacts

    def last_log(self) -> Path:
        """The output of the latest act run."""
        return self.base / f"act-{self.runs}.log"

    def tail(self, chars: int = 4000) -> str:
        """The end of the latest act run's output (for assertion messages)."""
        return self.last_log().read_text()[-chars:]

    def pr_event(self, branch: str, number: int) -> Path:
        event = {
            "number": number,
            "pull_request": {
                "number": number,
                "head": {"ref": branch, "repo": {"fork": False}},
                "base": {"ref": "main"},
                "labels": [],
            },
        }
        path = self.base / f"event-{number}.json"
        path.write_text(json.dumps(event))
        return path
