"""Compare two revisions: params diff, metrics diff and the differential verdict.

Each side's model and the candidate side's test split are materialised through DVC by the
hashes their ``dvc.lock`` records (cache first, then remote): nothing is retrained. Where
they lie is each revision's own catalog (its ``params.yaml``'s ``paths``).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from pr2prod.compare.datacheck import check_same_data
from pr2prod.compare.errors import GateError
from pr2prod.compare.gate import run_gate
from pr2prod.compare.report import to_markdown, verdict_line
from pr2prod.compare.revisions import materialise, resolve_commit, show_file
from pr2prod.config import catalog
from pr2prod.config.loader import to_config
from pr2prod.config.targets import project_packages
from pr2prod.dvclock import LOCK, out_md5
from pr2prod.models.persist import load_artifact
from pr2prod.release.gate_record import GateReport

IGNORED_PARAMS = ("compose.conf_digest", "compose.params_digest")
PARAMS = "params.yaml"


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as ``{"a.b.c": value}`` (lists stay values)."""
    if not isinstance(data, dict):
        return {prefix: data} if prefix else {}
    out: dict[str, Any] = {}
    for key, value in data.items():
        out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def dict_diff(a: dict[str, Any], b: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Keys whose values differ: ``{key: {"a": ..., "b": ..., "delta": b - a | None}}``."""
    fa, fb = flatten(a), flatten(b)
    out = {}
    for key in sorted(set(fa) | set(fb)):
        va, vb = fa.get(key), fb.get(key)
        if va == vb or key in IGNORED_PARAMS:
            continue
        delta = None
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in (va, vb)):
            delta = float(vb) - float(va)  # type: ignore[arg-type]
        out[key] = {"a": va, "b": vb, "delta": delta}
    return out


def _side(root: Path, rev: str) -> dict[str, Any]:
    commit = resolve_commit(root, rev)
    if commit is None:
        raise GateError(f"{rev}: no such git commit, branch or tag")
    params = yaml.safe_load(show_file(root, commit, PARAMS) or "") or {}
    paths = catalog.of_params(params, root)
    metrics = json.loads(show_file(root, commit, paths["metrics"]) or "{}")
    lock = show_file(root, commit, LOCK)
    md5 = out_md5(lock, paths["model"]) if lock else None
    return {
        "rev": rev,
        "commit": commit,
        "params": params,
        "paths": paths,
        "metrics": metrics,
        "md5": md5,
    }


def _gate(root: Path, a: dict, b: dict, allow: bool) -> dict[str, Any]:
    for side in (a, b):
        if side["md5"] is None:
            raise GateError(f"{side['rev']}: its dvc.lock records no {side['paths']['model']}")
    test = f"{b['paths']['prepared']}/test.parquet"
    full = to_config(b["params"])
    cfg = full.gate
    trusted = project_packages(full.allowed_targets)  # the team's classes, as the gate stage
    with tempfile.TemporaryDirectory(prefix="pr2prod-diff-") as tmp:
        base_dir = materialise(root, a["commit"], a["paths"]["model"], Path(tmp) / "a")
        cand_dir = materialise(root, b["commit"], b["paths"]["model"], Path(tmp) / "b")
        base = load_artifact(base_dir, trusted_packages=trusted)
        cand = load_artifact(cand_dir, trusted_packages=trusted)
        test_file = materialise(root, b["commit"], test, Path(tmp) / "test.parquet")
        try:
            data = check_same_data(cand.metadata, base.metadata, allow or cfg.allow_different_data)
        except GateError as exc:
            return {"verdict": "refused", "reason": str(exc)}  # not a gate report: no model
        info = {"source": "ref", "ref": a["rev"], "commit": a["commit"], "md5": a["md5"]}
        return run_gate(
            cfg,
            cand,
            base,
            pd.read_parquet(test_file),
            baseline_info=info,
            data_info={**data, "test_split": f"{test}@{b['rev']}"},
        ).record()


def diff_revisions(
    root: Path,
    rev_a: str,
    rev_b: str,
    allow_different_data: bool = False,
) -> dict[str, Any]:
    """Params diff, metrics diff and the gate of ``rev_b`` (candidate) vs ``rev_a``.

    Raises:
        GateError: a revision that does not exist or records no model, or artifacts that
            are in neither the DVC cache nor the remote.
    """
    a, b = _side(root, rev_a), _side(root, rev_b)
    return {
        "a": {k: a[k] for k in ("rev", "commit", "md5")},
        "b": {k: b[k] for k in ("rev", "commit", "md5")},
        "params": dict_diff(a["params"], b["params"]),
        "metrics": dict_diff(a["metrics"], b["metrics"]),
        "gate": _gate(root, a, b, allow_different_data),
    }


def _fmt(v: Any) -> str:
    return f"{v:.6g}" if isinstance(v, float) else json.dumps(v)


def diff_text(d: dict[str, Any], markdown: bool = False) -> str:
    """The diff as plain text or, with ``markdown``, as a PR comment."""
    title = f"{d['a']['rev']} ({d['a']['commit'][:12]}) → {d['b']['rev']} ({d['b']['commit'][:12]})"
    refused = d["gate"]["verdict"] == "refused"
    gate = None if refused else GateReport.model_validate(d["gate"])
    verdict = d["gate"]["reason"] if gate is None else verdict_line(gate)
    if not markdown:
        lines = [f"diff {title}", "params:"]
        lines += [f"  {k}: {_fmt(v['a'])} -> {_fmt(v['b'])}" for k, v in d["params"].items()]
        lines += ["metrics:"] + [
            f"  {k}: {_fmt(v['a'])} -> {_fmt(v['b'])}"
            + (f" ({v['delta']:+.4f})" if v["delta"] is not None else "")
            for k, v in d["metrics"].items()
        ]
        return "\n".join([*lines, f"gate: {verdict}"]) + "\n"
    lines = [
        f"# pr2prod diff: {title}",
        "",
        "## Params",
        "",
        "| key | a | b |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {k} | {_fmt(v['a'])} | {_fmt(v['b'])} |" for k, v in d["params"].items()]
    lines += ["", "## Metrics", "", "| metric | a | b | delta |", "| --- | ---: | ---: | ---: |"]
    lines += [
        f"| {k} | {_fmt(v['a'])} | {_fmt(v['b'])} | "
        f"{'' if v['delta'] is None else format(v['delta'], '+.4f')} |"
        for k, v in d["metrics"].items()
    ]
    body = f"**Verdict: refused** — {verdict}\n" if gate is None else to_markdown(gate)
    return "\n".join(lines) + "\n\n" + body
