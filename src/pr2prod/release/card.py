"""The model card: release notes that say what was released and where it came from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from pr2prod.release.bento import read_record
from pr2prod.release.gate_record import GateVerdict
from pr2prod.release.preconditions import VerdictTarget


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(data, dict):
        return {prefix: data}
    flat: dict[str, Any] = {}
    for key, value in data.items():
        flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def _table(rows: dict[str, Any], head: tuple[str, str]) -> list[str]:
    lines = [f"| {head[0]} | {head[1]} |", "| --- | --- |"]
    lines += [f"| `{k}` | {v} |" for k, v in rows.items()]
    return lines


def _bound_gate(base: Path, target: VerdictTarget | None) -> GateVerdict | str:
    """The verdict bound to the released model, or why there is none."""
    from pr2prod.models.identity import artifact_id
    from pr2prod.release.verdict import VerdictError, bound_verdict

    if target is None:
        return "No gate verdict: the release did not require one (release.require_gate)."
    try:
        return bound_verdict(
            base / target.verdict, artifact_id(base / target.model_dir), target.production_id
        )
    except VerdictError as exc:
        return f"No valid gate verdict for this model: {exc}"


def _gate_section(gate: GateVerdict | str) -> list[str]:
    if isinstance(gate, str):
        return [gate]
    binding = gate.binding
    lines = [
        f"Verdict: **{gate.verdict}** (passed: {not gate.blocks_release()}; rule "
        f"{gate.rule}) for artifact `{binding.candidate}` against production "
        f"`{binding.production or 'none'}`; verdict digest `{gate.digest}`.",
        "",
    ]
    if gate.checks:
        lines += ["| check | baseline | candidate | delta | tolerance | passed |"]
        lines += ["| --- | --- | --- | --- | --- | --- |"]
        lines += [
            f"| {c.id} | {c.baseline} | {c.candidate} | {c.delta} | {c.tolerance} | {c.passed} |"
            for c in gate.checks
        ]
    return lines


def model_card(
    root: str | Path,
    name: str,
    version: str,
    commit: str,
    previous: str | None,
    target: VerdictTarget | None = None,
) -> str:
    """Markdown model card for ``name`` ``version`` built from the files in ``root``.

    Args:
        root: project directory (reads params.yaml, then the model's metadata, the
            metrics, the gate verdict and the Bento record at ``paths.*`` when present).
        name: model (GTO artifact) name.
        version: the version being released.
        commit: git commit the version is registered on.
        previous: version in production before this one, None for the first release.
        target: the released model and current production; the gate section shows only
            a verdict sealed and bound to them.
    """
    base = Path(root)
    params = yaml.safe_load((base / "params.yaml").read_text(encoding="utf-8")) or {}
    params.pop("compose", None)
    paths = params["paths"]  # the one source of paths (conf/paths/)
    meta = _read_json(base / paths["model"] / "metadata.json") or {}
    metrics = _read_json(base / paths["metrics"]) or {}
    bento = read_record(base / paths["bento_json"])
    lines = [f"# {name} {version}", "", "## Lineage", ""]
    lineage = {
        "commit": commit,
        "previous production version": previous or "none (first release)",
        "data": meta.get("data_name", "?"),
        "data hash": meta.get("data_hash", "?"),
        "params hash": meta.get("params_hash", "?"),
        "model": meta.get("model_name", "?"),
        "task": meta.get("task", "?"),
    }
    if bento is not None:
        lineage["bento"] = bento.bento_tag or str(bento.reason)
    lines += _table(lineage, ("field", "value"))
    lines += ["", "## Metrics", ""]
    flat_metrics = {k: v for k, v in _flatten(metrics).items() if not isinstance(v, list)}
    lines += _table(flat_metrics, ("metric", "value"))
    lines += ["", "## Gate", "", *_gate_section(_bound_gate(base, target))]
    lines += ["", "## Parameters", ""]
    lines += _table(_flatten(params), ("param", "value"))
    return "\n".join(lines) + "\n"
