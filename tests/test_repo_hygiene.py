"""The repository passes its own checks: lint, format, import layering, params in sync."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from _project import ROOT, run

BIN = Path(sys.executable).parent


@pytest.mark.integration
@pytest.mark.parametrize(
    "cmd",
    [
        ["ruff", "check", "src", "tests", "benchmarks"],
        ["ruff", "format", "--check", "src", "tests", "benchmarks"],
        ["lint-imports"],
        ["pr2prod", "check"],
        ["pre-commit", "validate-config"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_repository_check_passes(cmd: list[str]) -> None:
    run([str(BIN / cmd[0]), *cmd[1:]], ROOT)


def test_every_option_file_key_is_commented() -> None:
    """Reviewers read configs in PRs: each key in conf/ has a comment above it or beside it."""
    missing = []
    for path in sorted((ROOT / "conf").rglob("*.yaml")):
        lines = path.read_text().splitlines()
        in_defaults = False
        for i, line in enumerate(lines):
            stripped = line.strip()
            if stripped.startswith("defaults:"):
                in_defaults = True
                continue
            if in_defaults and (stripped.startswith("-") or not stripped):
                continue
            in_defaults = False
            if not stripped or stripped.startswith("#") or stripped.startswith("- "):
                continue
            commented = " #" in stripped or lines[i - 1].strip().startswith("#")
            if ":" in stripped and not commented:
                missing.append(f"{path.relative_to(ROOT)}:{i + 1}: {stripped}")
    assert missing == []
