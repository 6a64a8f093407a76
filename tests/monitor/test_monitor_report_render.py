"""The HTML report draws the monitor's DVC plots (vl-convert SVG) and Chromium renders each.

The report is produced by the real ``run_monitor`` on a scored batch with timestamps and
labels, so all three charts (drift, performance control chart, volume) have data.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from _monitor_data import setup, small_integers

from _project import ROOT
from pr2prod.config.monitor_schema import PerformanceConfig
from pr2prod.monitor.plots import PLOT_SPECS, render_svg
from pr2prod.monitor.report import plots_data
from pr2prod.monitor.run import MonitorOverrides, run_monitor

DAYS = 10


@pytest.fixture
def monitored(tmp_path: Path) -> tuple[Path, dict]:
    """monitor.html and monitor.json of a 10-day labelled batch (small-integer data)."""
    m = setup(tmp_path, *small_integers())
    batch = pd.read_parquet(m.cfg.scored_input)
    start = pd.Timestamp("2026-01-01T00:00:00Z")
    batch["ts"] = start + pd.to_timedelta(np.arange(len(batch)) * DAYS * 86400 / len(batch), "s")
    batch.to_parquet(m.cfg.scored_input)
    batch[["row_id", "target"]].to_parquet(tmp_path / "labels.parquet")  # label column: target
    m.cfg.timestamp_column = "ts"
    m.cfg.performance = PerformanceConfig(labels=str(tmp_path / "labels.parquet"))
    report = run_monitor(m.cfg, MonitorOverrides(start=start.isoformat())).report
    assert report["performance"]["evaluated"], report["performance"]
    return tmp_path / "reports/monitor.html", report


def test_the_side_pipeline_draws_nothing_in_the_main_projects_plots():
    """The specs live in PLOT_SPECS, not in the side pipeline's `plots:` (a fresh clone of the
    main project would warn about files only a monitor run writes)."""
    dvc = yaml.safe_load((ROOT / "pipelines/monitor/dvc.yaml").read_text())
    assert "plots" not in dvc
    stage = dvc["stages"]["monitor"]
    assert "plots" not in stage and "metrics" not in stage
    assert set(PLOT_SPECS) == {"drift", "performance", "volume"}
    for spec in PLOT_SPECS.values():  # the properties a dvc.yaml plot definition takes
        assert set(spec) == {"template", "x", "y"}


def test_report_has_every_chart_and_no_python_reprs(monitored):
    html_path, report = monitored
    html = html_path.read_text()
    figures = re.findall(r"<figure class='plot' id='plot-(\w+)'>(.*?)</figure>", html, re.S)
    assert [name for name, _ in figures] == ["drift", "performance", "volume"]
    for name, body in figures:
        assert body.startswith("<svg") and "<path" in body, name
    text = re.sub(r"<svg.*?</svg>", "", html, flags=re.S)  # the prose, tables and captions
    assert not re.search(r"\bNone\b|\{'|\{\"|\[\]|\bnan\b", text)
    assert f"Window {report['window']['start']} to {report['window']['end']}" in text
    assert "v1 (2,400 rows)" in text
    assert "<script" not in html and "http" not in text  # self-contained


def test_svg_is_stable_and_its_ids_are_unique_in_the_page(monitored):
    html_path, report = monitored
    rows = plots_data(report)["performance"]
    assert render_svg("performance", rows) == render_svg("performance", rows)
    ids = re.findall(r"\bid=\"([^\"]+)\"", html_path.read_text())
    assert ids and len(ids) == len(set(ids))


# Added to a copy of the page: measures each inline chart as Chromium laid it out and paints
# it onto a canvas, then writes what it found into the DOM that --dump-dom prints.
PROBE = """<pre id="probe"></pre><script>
window.addEventListener("load", async () => {
  const out = {};
  for (const fig of document.querySelectorAll("figure.plot")) {
    const svg = fig.querySelector("svg");
    const box = svg.getBoundingClientRect();
    const paths = [...svg.querySelectorAll("path")].filter(p => p.getTotalLength() > 0).length;
    const img = new Image();
    const blob = new Blob([new XMLSerializer().serializeToString(svg)], {type: "image/svg+xml"});
    img.src = URL.createObjectURL(blob);
    await img.decode();
    const canvas = document.createElement("canvas");
    canvas.width = img.width; canvas.height = img.height;
    const ctx = canvas.getContext("2d");
    ctx.drawImage(img, 0, 0);
    const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let ink = 0;
    for (let i = 0; i < px.length; i += 4) if (px[i] + px[i + 1] + px[i + 2] < 600) ink++;
    out[fig.id] = {width: box.width, height: box.height, paths, ink};
  }
  document.getElementById("probe").textContent = JSON.stringify(out);
});
</script></body>"""


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip(
            "chromium is not installed (Debian: apt-get install -y chromium; .ci/run installs "
            "it when apt-get is available)"
        )
    return exe


@pytest.mark.integration
def test_chromium_renders_each_chart(monitored, tmp_path: Path):
    exe = chromium()
    html_path, _ = monitored
    page = tmp_path / "probe.html"
    page.write_text(html_path.read_text().replace("</body>", PROBE))
    proc = subprocess.run(
        [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--virtual-time-budget=10000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    found = re.search(r'<pre id="probe">(.*?)</pre>', proc.stdout, re.S)
    assert found and found.group(1), proc.stderr[-2000:]
    charts = json.loads(found.group(1).replace("&quot;", '"'))
    assert set(charts) == {"plot-drift", "plot-performance", "plot-volume"}
    for name, c in charts.items():
        assert c["width"] > 100 and c["height"] > 100, (name, c)
        assert c["paths"] >= 3, (name, c)  # axes, domain and marks
        assert c["ink"] > 0.01 * c["width"] * c["height"], (name, c)  # not blank


def test_the_psi_chart_draws_the_threshold_on_an_axis_scaled_to_it() -> None:
    from pr2prod.monitor.plots import vega_lite, with_threshold

    rows = [{"feature": "a", "psi": 0.05, "effect": 0.1, "drifted": False}]
    spec = with_threshold(vega_lite("drift", rows), rows, 0.2)
    bars, rule, _ = spec["layer"]
    assert bars["encoding"]["x"]["scale"]["domain"] == [0, pytest.approx(0.3)]  # not [0, 0.05]
    assert rule["mark"]["type"] == "rule" and rule["encoding"]["x"]["datum"] == 0.2
    high = [{"feature": "a", "psi": 0.9, "effect": 0.1, "drifted": True}]
    assert with_threshold(vega_lite("drift", high), high, 0.2)["layer"][0]["encoding"]["x"][
        "scale"
    ]["domain"] == [0, 0.9]
    assert "threshold 0.2" in render_svg("drift", rows, 0.2)
