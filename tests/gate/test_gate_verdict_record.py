"""The gate verdict's one record: the real writer into the real reader, the block rule, its
committed JSON Schema.

The writer is the gate's own code (``run_gate`` on two real fitted models, ``seal``,
``write_json``, as the gate stage writes ``paths.gate_json``); the reader is
``read_verdict``. A verdict read and dumped again must be byte-identical: ``dvc.lock``
records the file's hash and the digest covers its content.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from _models import fit_binary_artifact
from pr2prod.compare.gate import run_gate
from pr2prod.compare.report import verdict_line, verdict_metrics
from pr2prod.config.gate_schema import (
    BootstrapConfig,
    GateConfig,
    GateMetric,
    MetricCheck,
    Rule,
    SliceConfig,
)
from pr2prod.fsio import write_json
from pr2prod.models.persist import LoadedModel
from pr2prod.release.gate_record import (
    SCHEMA_VERSION,
    Binding,
    BootstrapRecord,
    GateCheck,
    GateVerdict,
    json_schema,
)
from pr2prod.release.verdict import (
    VerdictError,
    check_bound,
    digest,
    gate_params_hash,
    read_verdict,
    seal,
)

pytestmark = [pytest.mark.unit]

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DOC = ROOT / "docs" / "gate_verdict.schema.json"
ID = "row_id"
Models = tuple[LoadedModel, LoadedModel, pd.DataFrame]


def _table(n: int, seed: int, noise: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {ID: np.arange(n), "x1": rng.normal(size=n), "x2": rng.uniform(0, 10, n).round(2)}
    )
    flip = rng.random(n) < noise
    df["y"] = (((df["x1"] + df["x2"] / 5) > 1) ^ flip).astype(int)
    return df


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Models:
    """Candidate and production: the same features, fitted on different noisy rows."""
    where = tmp_path_factory.mktemp("verdict")
    test = _table(120, seed=9, noise=0.0)
    cand = fit_binary_artifact(_table(200, 1, 0.05), test, "y", ID, where / "cand", "cand")
    prod = fit_binary_artifact(_table(200, 2, 0.30), test, "y", ID, where / "prod", "prod")
    return cand, prod, test


# integer tolerances and floors, as a YAML config may give them: they must stay integers
CONFIG = GateConfig(
    rule=Rule.non_inferiority,
    metrics={
        GateMetric.accuracy: MetricCheck(abs_tol=0, floor=0),  # type: ignore[arg-type]
        GateMetric.roc_auc: MetricCheck(rel_tol=0.05, floor=0.5),
        GateMetric.rmse: MetricCheck(abs_tol=0.1),  # skipped: not a binary metric
    },
    bootstrap=BootstrapConfig(resamples=200, seed=3),
    slices={"x2": SliceConfig(column="x2", bins=[0, 5, 9.5, 10], min_rows=10)},
)


def _sealed(models: Models, first_release: bool, cfg: GateConfig) -> GateVerdict:
    cand, prod, test = models
    baseline = None if first_release else prod
    report = run_gate(
        cfg,
        cand,
        baseline,
        test,
        baseline_info=None if first_release else {"source": "path", "path": str(prod.path)},
        data_info={"test_split": "data/prepared/test.parquet", "hash": "d" * 32},
    )
    binding = Binding(
        candidate="c" * 32,
        production=None if first_release else "p" * 32,
        test_data="d" * 32,
        gate_params=gate_params_hash(cfg),
    )
    return seal(report, binding, "none" if first_release else "a path")


def _write(verdict: GateVerdict, path: Path) -> bytes:
    write_json(path, verdict.record())  # what the gate stage writes (stages.gate.write_reports)
    return path.read_bytes()


@pytest.mark.parametrize(
    ("first_release", "cfg"),
    [
        (False, CONFIG),
        (True, CONFIG),
        (False, GateConfig(rule=Rule.point, metrics={GateMetric.accuracy: MetricCheck(abs_tol=0)})),  # type: ignore[arg-type]
    ],
    ids=["against-production", "first-release", "point-rule-int-tolerance"],
)
def test_the_writers_verdict_round_trips_byte_identically(
    models: Models,
    tmp_path: Path,
    first_release: bool,
    cfg: GateConfig,
) -> None:
    written = _write(_sealed(models, first_release, cfg), tmp_path / "gate.json")
    read = read_verdict(tmp_path / "gate.json")
    assert _write(read, tmp_path / "again.json") == written
    raw = json.loads(written)
    assert read.digest == raw["digest"] == digest(read.record())
    assert read.record() == raw
    # integers stay integers (a float field would write 0.0 and break the digest)
    if cfg is CONFIG:  # `floor: 0` is the check's tolerance, as written
        floor = read.check("floor:accuracy")
        assert floor is not None and floor.tolerance == 0 and isinstance(floor.tolerance, int)
        assert '"tolerance": 0\n' in written.decode()


def test_the_checks_cover_every_kind_the_record_names(
    models: Models,
) -> None:
    verdict = _sealed(models, False, CONFIG)
    kinds = {c.kind for c in verdict.checks}
    assert kinds == {"metric", "floor", "stability", "class"}, kinds
    assert any(c.slice for c in verdict.checks)  # slice checks are metric checks on a slice
    assert "metric:rmse" in {s.id for s in verdict.skipped}


def test_the_committed_verdict_round_trips(tmp_path: Path) -> None:
    """The repository's own ``reports/gate.json`` (written by ``dvc repro``) reads and dumps
    to the same bytes."""
    committed = ROOT / "reports" / "gate.json"
    verdict = read_verdict(committed)
    assert _write(verdict, tmp_path / "gate.json") == committed.read_bytes()


def _check(check_id: str, passed: bool) -> GateCheck:
    return GateCheck(
        id=check_id, kind="metric", metric="accuracy", slice=None, direction="higher",
        baseline=0.90, candidate=0.85 if not passed else 0.91, delta=-0.05 if not passed else 0.01,
        ci=[-0.08, -0.02] if not passed else [-0.01, 0.03], tolerance=0.02, passed=passed,
        rows=500, note="", bound=0.08 if not passed else 0.01, detectable=0.02, rows_needed=None,
    )  # fmt: skip


def _verdict(verdict: str, passed: bool, checks: list[GateCheck], **extra: object) -> GateVerdict:
    fields: dict[str, object] = {
        "schema_version": SCHEMA_VERSION,
        "verdict": verdict,
        "passed": passed,
        "rule": "non_inferiority",
        "task": "binary",
        "rows": 500,
        "failed": [c.id for c in checks if not c.passed],
        "candidate": {"path": "models/model", "model_name": "m"},
        "baseline": None if verdict == "first release" else {"source": "ref", "ref": "main"},
        "data": {},
        "bootstrap": BootstrapRecord(
            enabled=True, resamples=1000, level=0.95, seed=0, max_units=10000, units=500
        ),
        "checks": checks,
        "underpowered": [],
        "skipped": [],
        "stability": {},
        "slices": [],
        "per_class": {},
        "curves": {},
        "baseline_reason": "models/model at main",
        "binding": Binding(candidate="c", production="p", test_data="d", gate_params="g"),
        "digest": "sha256:0",
        **extra,
    }
    return GateVerdict(**fields)  # type: ignore[arg-type]


def test_a_pass_and_a_first_release_do_not_block() -> None:
    assert not _verdict("pass", True, [_check("metric:accuracy", True)]).blocks_release()
    assert not _verdict("first release", True, []).blocks_release()


def test_a_failed_check_blocks_and_is_named() -> None:
    verdict = _verdict("fail", False, [_check("metric:accuracy", False), _check("floor:f1", True)])
    assert verdict.blocks_release()
    assert verdict.failed == ["metric:accuracy"]
    assert verdict_line(verdict).startswith("FAIL: 1 of 2 checks failed (metric:accuracy)")
    assert verdict_metrics(verdict)["passed"] == 0


@pytest.mark.parametrize(
    ("verdict", "passed", "check_passes", "failed"),
    [
        ("pass", True, False, None),  # a failing check under a "pass"
        ("fail", True, False, None),  # "fail" but passed
        ("pass", False, True, None),  # "pass" but not passed
        ("fail", False, True, None),  # "fail" with every check passing
        ("pass", True, True, ["metric:accuracy"]),  # failed names a passing check
    ],
)
def test_fields_that_disagree_are_not_a_verdict(
    verdict: str, passed: bool, check_passes: bool, failed: list[str] | None
) -> None:
    extra = {} if failed is None else {"failed": failed}
    with pytest.raises(ValidationError):
        _verdict(verdict, passed, [_check("metric:accuracy", check_passes)], **extra)


def test_an_edited_verdict_with_a_recomputed_digest_is_refused(
    models: Models, tmp_path: Path
) -> None:
    """The digest is not a signature; the record's own consistency still refuses a verdict
    whose ``passed`` was flipped without its checks."""
    raw = _sealed(models, False, CONFIG).record()
    raw["checks"][0]["passed"] = not raw["checks"][0]["passed"]
    raw["digest"] = digest(raw)
    write_json(tmp_path / "gate.json", raw)
    with pytest.raises(VerdictError, match="not a gate verdict this version reads"):
        read_verdict(tmp_path / "gate.json")


def test_the_binding_is_checked_on_the_model(
    models: Models,
) -> None:
    verdict = _sealed(models, False, CONFIG)
    check_bound(verdict, "c" * 32, "p" * 32)
    with pytest.raises(VerdictError, match="not the artifact being released"):
        check_bound(verdict, "x" * 32, "p" * 32)
    with pytest.raises(VerdictError, match="production is now none"):
        check_bound(verdict, "c" * 32, None)


def test_committed_json_schema_is_generated_from_the_model() -> None:
    assert SCHEMA_DOC.read_text(encoding="utf-8") == json_schema(), (
        f"{SCHEMA_DOC} is stale: run "
        f"`python -m pr2prod.release.gate_record --out {SCHEMA_DOC.relative_to(ROOT)}`"
    )


def test_the_writers_verdict_follows_the_committed_schema(models: Models, tmp_path: Path) -> None:
    # jsonschema comes with the [test] extra (check-jsonschema), not the 3.12/3.13 base locks
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA_DOC.read_text(encoding="utf-8"))
    for first_release in (False, True):
        written = _write(_sealed(models, first_release, CONFIG), tmp_path / "gate.json")
        jsonschema.validate(json.loads(written), schema)
    bad = json.loads(written)
    bad["verdict"] = "maybe"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_another_schema_version_is_not_read() -> None:
    with pytest.raises(ValidationError, match="schema_version 2, not 3"):
        _verdict("pass", True, [_check("metric:accuracy", True)], schema_version=2)
