"""The monitor's charts: its DVC plots data drawn with the DVC plot definitions.

``PLOT_SPECS`` are the monitor's DVC plot definitions (template, x, y). They are not in
``pipelines/monitor/dvc.yaml``'s ``plots:``: a side pipeline's plots would be in the main
project's ``dvc plots show`` (and a warning on every fresh clone, which has none of these
files). The HTML report draws them as DVC does: DVC's converter and templates
(``dvc_render``) make the Vega-Lite spec, vl-convert renders it to SVG (no scripts, no
network); ``dvc plots show reports/monitor_plots/drift.json --template bar_horizontal -x psi
-y feature`` draws one with DVC itself.
"""

from __future__ import annotations

import re
from typing import Any

# plot name -> dvc.yaml properties (template, x, and y as a field or a list of fields)
PLOT_SPECS: dict[str, dict[str, Any]] = {
    "drift": {"template": "bar_horizontal", "x": "psi", "y": "feature"},
    "performance": {
        "template": "linear",
        "x": "window_number",
        "y": ["value", "centre", "lcl", "ucl"],
    },
    "volume": {"template": "bar_horizontal", "x": "n", "y": "window"},
}
REVISION = "workspace"


def vega_lite(name: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The Vega-Lite spec DVC makes for plot ``name`` over ``rows`` ({} when no rows)."""
    from dvc.render.converter.vega import VegaConverter
    from dvc_render import VegaRenderer

    if not rows:
        return {}
    spec = PLOT_SPECS[name]
    source = f"{name}.json"
    props = {"template": spec["template"], "x": spec["x"], "y": {source: spec["y"]}}
    points, filled = VegaConverter(name, {source: rows}, props).flat_datapoints(REVISION)
    return VegaRenderer(points, name, **filled).get_filled_template()


def render_svg(name: str, rows: list[dict[str, Any]], threshold: float | None = None) -> str:
    """Plot ``name`` as one SVG image ("" when there is nothing to draw); ``threshold`` draws
    a line at that x value (the PSI threshold on the drift chart, see :func:`with_threshold`)."""
    import vl_convert

    spec = vega_lite(name, rows)
    if spec and threshold is not None:
        spec = with_threshold(spec, rows, threshold)
    return _own_ids(vl_convert.vegalite_to_svg(spec), name) if spec else ""


def with_threshold(
    spec: dict[str, Any], rows: list[dict[str, Any]], threshold: float
) -> dict[str, Any]:
    """The bar chart ``spec`` with a dashed rule at x = ``threshold`` and an x axis from 0 to
    at least 1.5 × the threshold, so small values look small (a PSI of 0.05 against a 0.2
    threshold fills a sixth of the axis, not all of it)."""
    x = dict(spec["encoding"]["x"])
    field = x["field"]
    top = max([threshold * 1.5, *(float(r[field]) for r in rows if r.get(field) is not None)])
    x["scale"] = {"domain": [0, top], "zero": True}
    bars = {"mark": spec["mark"], "params": spec.get("params", [])}
    bars["encoding"] = {k: v for k, v in spec["encoding"].items() if v and k != "x"} | {"x": x}
    rule = {
        "mark": {"type": "rule", "color": "#b00", "strokeDash": [4, 3], "strokeWidth": 2},
        "encoding": {"x": {"datum": threshold, "type": "quantitative"}},
    }
    label = {
        "mark": {"type": "text", "color": "#b00", "align": "left", "dx": 3, "baseline": "top"},
        "encoding": {
            "x": {"datum": threshold, "type": "quantitative"},
            "y": {"value": 0},
            "text": {"value": f"threshold {threshold:g}"},
        },
    }
    top_level = {k: v for k, v in spec.items() if k not in ("mark", "params", "encoding")}
    return {**top_level, "layer": [bars, rule, label]}


def _own_ids(svg: str, name: str) -> str:
    """vl-convert numbers clip paths per process; number them per image, prefixed with the
    plot name, so output is stable and the ids of images in one page never collide."""
    order: dict[str, str] = {}

    def one(match: re.Match[str]) -> str:
        return order.setdefault(match.group(0), f"{name}-clip{len(order) + 1}")

    return re.sub(r"\bclip\d+\b", one, svg)
