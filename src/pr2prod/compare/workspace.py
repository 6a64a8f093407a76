"""The gate on a project's workspace: what the ``gate`` stage and ``pr2prod gate`` run."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from pr2prod.compare.baseline import Baseline, resolve_baseline
from pr2prod.compare.datacheck import check_candidate_data, check_same_data
from pr2prod.compare.executor import sync_production_refs
from pr2prod.compare.gate import run_gate
from pr2prod.config.gate_schema import GateConfig
from pr2prod.models.identity import artifact_id
from pr2prod.models.persist import load_artifact
from pr2prod.release.gate_record import Binding, GateVerdict
from pr2prod.release.verdict import gate_params_hash, seal


@dataclasses.dataclass
class Workspace:
    """Where the candidate and its prepared split live (paths relative to ``root``)."""

    root: Path
    model_dir: Path
    train: Path
    test: Path
    trusted_packages: tuple[str, ...] = ()  # the team's own packages (allowed_targets)


def gate_workspace(
    ws: Workspace,
    cfg: GateConfig,
    override: str | None = None,
    allow_different_data: bool = False,
    registry: tuple[str, str] | None = None,
) -> GateVerdict:
    """Gate the workspace's candidate model against the production baseline; the sealed
    verdict.

    Raises:
        GateError: a stale candidate, different data (unless allowed) or an unreachable
            baseline.
        ConfigError: an invalid gate config.
    """
    allow = allow_different_data or cfg.allow_different_data
    sync_production_refs(ws.root)  # a `dvc exp run --temp/--queue` repo has no branches/tags
    candidate = load_artifact(ws.root / ws.model_dir, trusted_packages=ws.trusted_packages)
    current = check_candidate_data(candidate.metadata, [ws.root / ws.train, ws.root / ws.test])
    test = pd.read_parquet(ws.root / ws.test)
    with tempfile.TemporaryDirectory(prefix="pr2prod-gate-") as tmp:
        found = resolve_baseline(
            ws.root,
            cfg.baseline.ref,
            cfg.baseline.artifact,
            Path(tmp),
            override,
            registry,
            on_missing=cfg.baseline.on_missing.value,
        )
        baseline = (
            None
            if found.path is None
            else load_artifact(found.path, trusted_packages=ws.trusted_packages)
        )
        data: dict[str, Any] = {"test_split": str(ws.test), "hash": current}
        if baseline is not None:
            data.update(check_same_data(candidate.metadata, baseline.metadata, allow))
        report = run_gate(
            cfg,
            candidate,
            baseline,
            test,
            baseline_info={**found.info, "reason": found.reason},
            data_info=data,
        )
    binding = Binding(
        candidate=artifact_id(ws.root / ws.model_dir),
        production=None if found.path is None else _production_id(found),
        test_data=current,
        gate_params=gate_params_hash(cfg),
    )
    return seal(report, binding, found.reason)


def _production_id(found: Baseline) -> str:
    md5 = found.info.get("md5")
    return str(md5).removesuffix(".dir") if md5 else artifact_id(found.path or "")
