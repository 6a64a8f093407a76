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


def build_report(root: str | Path, base: str = "main", images: dict[str, str] | None = None) -> str:
    """Markdown comparing the working tree with ``base`` (branch, tag or commit); the gate
    report and the plots are where the project's ``paths`` (params.yaml) put them.

    ``images`` maps each image's source file to its published URL (:mod:`.pr_images`): the
    gate's curves and the evaluation plots are then embedded, as GitHub renders them.
    Without it, the plots are listed and the gate report's relative image links are kept.
    """
    path = Path(root)
    ref = resolve_base(path, base)
    paths = load_params(path / "params.yaml").paths
    gate = path / paths.gate_md
    gate_text = gate.read_text(encoding="utf-8").strip() if gate.exists() else "_no gate report_"
    plots = sorted(p.relative_to(path).as_posix() for p in (path / paths.plots).glob("*.json"))
    if images:
        # gate.md links its curves relative to itself: point them at the published images
        here = Path(paths.gate_md).parent
        for source, url in images.items():
            relative = (
                Path(source).relative_to(here).as_posix()
                if Path(source).is_relative_to(here)
                else source
            )
            gate_text = gate_text.replace(f"]({relative})", f"]({url})")
        plot_lines = [f"![{Path(p).stem}]({images[p]})" for p in plots if p in images]
    else:
        plot_lines = [
            *([f"- `{p}`" for p in plots] or ["_no plots_"]),
            "",
            f"Render them with `dvc plots diff {ref}`.",
        ]
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
        gate_text,
        "",
        "### Plots",
        "",
        *(plot_lines or ["_no plots_"]),
    ]
    return "\n".join(lines) + "\n"
