"""Write the monitoring outputs: JSON report, HTML, markdown, DVC plots data, alert flag."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pr2prod.fsio import atomic_dir, atomic_write_text, write_json
from pr2prod.monitor.render import render_html, render_markdown
from pr2prod.monitor.report import plots_data
from pr2prod.monitor.summary import validate_report

REPORT_JSON = "monitor.json"
REPORT_HTML = "monitor.html"
REPORT_MD = "monitor.md"


def write_outputs(report: dict[str, Any], report_dir: Path, plots_dir: Path) -> list[Path]:
    """Write every output (each atomically) and return their paths.

    The report is checked against :class:`~pr2prod.monitor.summary.MonitorSummary` first,
    the part of ``monitor.json`` other commands read.
    """
    validate_report(report)
    paths = [report_dir / REPORT_JSON, report_dir / REPORT_HTML, report_dir / REPORT_MD]
    plots = plots_data(report)
    write_json(paths[0], report)
    atomic_write_text(paths[1], render_html(report, plots))
    atomic_write_text(paths[2], render_markdown(report))
    with atomic_dir(plots_dir) as tmp:
        for name, rows in plots.items():
            write_json(tmp / f"{name}.json", rows)
    return [*paths, plots_dir]


def update_flag(flag_file: Path | None, report: dict[str, Any]) -> None:
    """Write the flag file (markdown summary) on alert; remove a stale one otherwise."""
    if flag_file is None:
        return
    if report["alert"]:
        atomic_write_text(flag_file, render_markdown(report))
    else:
        flag_file.unlink(missing_ok=True)
