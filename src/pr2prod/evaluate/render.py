"""Plot tables drawn as SVG images with ``dvc.yaml``'s own plot definitions.

A table (the rows ``evaluate`` writes for ``dvc plots``, or the gate's curves of both models)
is drawn with the template, ``x`` and ``y`` that ``dvc.yaml``'s top-level ``plots:`` gives its
file (``dvc_render``), and rendered to SVG with vl-convert: the images look like
``dvc plots diff`` and a CML report, with no browser and no image service.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml


def plot_specs(dvc_yaml: Path = Path("dvc.yaml")) -> dict[str, dict[str, Any]]:
    """``dvc.yaml``'s ``plots:`` definitions keyed by the data file's stem (``roc``, ``pr``)."""
    specs: dict[str, dict[str, Any]] = {}
    for entry in yaml.safe_load(dvc_yaml.read_text(encoding="utf-8")).get("plots") or []:
        if isinstance(entry, dict):
            for target, props in entry.items():
                specs[Path(target).stem] = props or {}
    return specs


def _renumber_clips(svg: str) -> str:
    """vl-convert numbers clip paths per process; number them per image instead."""
    order: dict[str, str] = {}

    def one(match: re.Match[str]) -> str:
        return order.setdefault(match.group(0), f"clip{len(order) + 1}")

    return re.sub(r"clip\d+", one, svg)


def render_svg(rows: list[dict[str, Any]], name: str, spec: dict[str, Any]) -> str:
    """One SVG image of ``rows`` drawn with a ``dvc.yaml`` plot ``spec`` (template, x, y)."""
    import vl_convert
    from dvc_render import VegaRenderer

    props = {k: spec[k] for k in ("template", "x", "y", "title") if k in spec}
    chart = VegaRenderer(rows, name, **props).get_filled_template()
    return _renumber_clips(vl_convert.vegalite_to_svg(chart))
