"""The pull-request report: params diff, metrics diff, gate table and plots, in Markdown."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pr2prod.config import load_params

# Hidden marker that lets the workflow find and update its one comment instead of adding more.
MARKER = "<!-- pr2prod-report -->"


def _dvc_md(args: list[str], root: Path) -> str:
    proc = subprocess.run(["dvc", *args], cwd=root, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return f"_`dvc {' '.join(args)}` failed: {proc.stderr.strip().splitlines()[-1:]}_"
    return proc.stdout.strip() or "_no changes_"


def resolve_base(root: Path, base: str) -> str:
    """``origin/<base>`` when that ref exists (CI checkouts), else ``base`` as given."""
    for ref in (f"origin/{base}", base):
        ok = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
            cwd=root,
            capture_output=True,
            check=False,
        )
        if ok.returncode == 0:
            return ref
    raise ValueError(f"base ref {base!r} not found (fetch it: git fetch origin {base})")


def build_report(root: str | Path, base: str = "main") -> str:
    """Markdown comparing the working tree with ``base`` (branch, tag or commit); the gate
    report and the plots are where the project's ``paths`` (params.yaml) put them."""
    path = Path(root)
    ref = resolve_base(path, base)
    paths = load_params(path / "params.yaml").paths
    gate = path / paths.gate_md
    plots = sorted(p.relative_to(path).as_posix() for p in (path / paths.plots).glob("*.json"))
    lines = [
        MARKER,
        f"## pr2prod report (against `{ref}`)",
        "",
        "### Params diff",
        "",
        _dvc_md(["params", "diff", ref, "--md"], path),
        "",
        "### Metrics diff",
        "",
        _dvc_md(["metrics", "diff", ref, "--md"], path),
        "",
        "### Gate",
        "",
        gate.read_text(encoding="utf-8").strip() if gate.exists() else "_no gate report_",
        "",
        "### Plots",
        "",
        *([f"- `{p}`" for p in plots] or ["_no plots_"]),
        "",
        f"Render them with `dvc plots diff {ref}`.",
    ]
    return "\n".join(lines) + "\n"
