"""``pytest -m differential``: the differential gate's checks as tests, one per check.

A project's test module imports :func:`test_gate_check` and :func:`gate_report` (this
repository's ``tests/differential/``, a generated project's ``tests/test_differential.py``);
pytest collects them there, marked ``differential``. Runs the same library code as the
``gate`` stage on the project in the working directory (or ``$PR2PROD_PROJECT``): the
workspace's model is the candidate, production is resolved from ``params.yaml:gate`` (or
``$PR2PROD_BASELINE``, a revision or artifact directory).
Skips cleanly when the project has no trained model.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from pr2prod.compare.errors import GateError
from pr2prod.compare.plan import planned_check_ids
from pr2prod.compare.workspace import Workspace, gate_workspace
from pr2prod.config import load_params
from pr2prod.config.targets import project_packages
from pr2prod.data.schema import DataSchema
from pr2prod.release.gate_record import GateCheck, GateVerdict
from pr2prod.stages._common import MODEL_DIR, PARAMS, TEST, TRAIN

PROJECT = Path(os.environ.get("PR2PROD_PROJECT", ".")).resolve()


def _plan() -> list[Any]:
    needed = [PROJECT / PARAMS, PROJECT / MODEL_DIR / "model.skops", PROJECT / TEST]
    missing = [str(p) for p in needed if not p.exists()]
    if missing:
        reason = (
            f"no candidate artifacts in {PROJECT} (missing {', '.join(missing)}); "
            "run `dvc repro` or `dvc pull` first"
        )
        return [pytest.param("none", id="no-artifacts", marks=pytest.mark.skip(reason=reason))]
    cfg = load_params(PROJECT / PARAMS)
    schema = DataSchema.load(PROJECT / MODEL_DIR / "schema.json")
    return planned_check_ids(cfg.gate, schema.task, labels=[str(v) for v in schema.labels or []])


@pytest.fixture(scope="module")
def gate_report() -> GateVerdict:
    cfg = load_params(PROJECT / PARAMS)
    # the team's own packages are trusted, as the gate stage trusts them (trust policy)
    trusted = project_packages(cfg.allowed_targets)
    ws = Workspace(PROJECT, MODEL_DIR, TRAIN, TEST, trusted_packages=trusted)
    try:
        return gate_workspace(ws, cfg.gate, os.environ.get("PR2PROD_BASELINE"))
    except GateError as exc:
        pytest.fail(f"the gate cannot compare: {exc}", pytrace=False)


def _describe(c: GateCheck) -> str:
    if c.kind == "floor":
        return f"{c.metric} = {c.candidate:.4f}, beyond floor {c.tolerance}"
    if c.kind == "stability":
        return f"{c.metric} = {c.candidate:.4f} > limit {c.tolerance}"
    return (
        f"{c.metric}{' on ' + c.slice if c.slice else ''}: production "
        f"{c.baseline:.4f} -> candidate {c.candidate:.4f} (delta {c.delta:+.4f}, "
        f"interval {c.ci}, worsening bound {c.bound}, tolerance {c.tolerance:.4f}; "
        f"{c.note})"
    )


@pytest.mark.differential
@pytest.mark.xdist_group("differential")
@pytest.mark.parametrize("check_id", _plan())
def test_gate_check(check_id: str, gate_report: GateVerdict) -> None:
    """One gate check passes (skipped: a first release, or not computed for this data)."""
    check = gate_report.check(check_id)
    if check is None:
        skipped = {s.id: s.reason for s in gate_report.skipped}
        key = next((k for k in skipped if check_id.startswith(k)), None)
        if gate_report.verdict == "first release":
            pytest.skip(f"first release: {gate_report.baseline_reason}")
        pytest.skip(skipped[key] if key else "not computed for this data")
    assert check.passed, _describe(check)
