"""`pr2prod canary-report` on a log written by the server's writer, then `pr2prod promote
--report` / `rollback --canary` on a real git repository with GTO tags.

The records go through the serving writer (:func:`pr2prod.serving.recorder.log_records`
into :class:`pr2prod.serving.predlog.PredictionLog`) and are read back by the report through
the one record model; the registry's artifact ids come from each stage commit's dvc.lock.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry, Counter, generate_latest
from typer.testing import CliRunner

from _project import git, git_identity
from pr2prod.canary.admit import read_report
from pr2prod.canary.build import build_report
from pr2prod.canary.model import Recommendation
from pr2prod.cli import app
from pr2prod.config.canary_schema import CanaryConfig
from pr2prod.envelope import OFF_VAR
from pr2prod.logrecord import Variant
from pr2prod.logrecord.variant import OUTCOME_ERROR, OUTCOME_OK, VARIANT_REQUESTS_METRIC
from pr2prod.release import registry
from pr2prod.serving.predlog import PredictionLog
from pr2prod.serving.recorder import Job, log_records
from pr2prod.stages.__main__ import ENVELOPE_VAR

pytestmark = [pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[2]
NAME = "pr2prod-model"
PROD_HASH = "a" * 32
CANARY_HASH = "b" * 32
BATCH = 10  # records per request


@pytest.fixture(autouse=True)
def _identity(monkeypatch: pytest.MonkeyPatch) -> None:
    git_identity(monkeypatch)


def _lock(repo: Path, md5: str) -> None:
    lock = {"schema": "2.0", "stages": {"train": {"outs": [{"path": "models/model", "md5": md5}]}}}
    (repo / "dvc.lock").write_text(yaml.safe_dump(lock))
    git(repo, "add", "dvc.lock")
    git(repo, "commit", "-q", "-m", f"model {md5[:4]}")


def _release(repo: Path, md5: str, version: str, stage: str) -> None:
    _lock(repo, md5 + ".dir")
    registry.register(repo, NAME, version)
    registry.assign(repo, NAME, version, stage)


def _write_log(
    path: Path,
    variant: Variant,
    artifact: str,
    n: int,
    latency_ms: float,
    regression: bool = False,
    at: float | None = None,
) -> None:
    """``n`` records answered by ``variant`` in requests of BATCH, through the real writer."""
    log = PredictionLog(path, max_bytes=10_000_000)
    model = {"model_name": NAME, "model_version": artifact[:12], "artifact_hash": artifact}
    for r in range(n // BATCH):
        ids = [f"{variant.value}-{r * BATCH + i}" for i in range(BATCH)]
        outputs = (
            [{"value": 10.0} for _ in ids]
            if regression
            else [{"label": 1, "probabilities": {"0": 0.2, "1": 0.8}} for _ in ids]
        )
        job = Job(
            request_id=f"{variant.value}-req-{r}",
            endpoint="predict_batch",
            records=[{"x": float(i)} for i in range(BATCH)],
            outputs=outputs,
            model=model,
            latency_ms=latency_ms + r % 3,
            timestamp=time.time() if at is None else at,
            ids=ids,
        )
        for record in log_records(job):
            # the server labels the answering variant; main's Job does not carry it yet
            log.write(record.model_copy(update={"variant": variant}))
    log.close()


def _labels(path: Path, hits: dict[Variant, tuple[int, int]]) -> None:
    """Label CSV: per variant, the first ``right`` of ``n`` ids match the prediction (1); the
    label column is the target's (monitor.performance.label_column: null)."""
    rows = ["row_id,target"]
    for variant, (right, n) in hits.items():
        rows += [f"{variant.value}-{i},{1 if i < right else 0}" for i in range(n)]
    path.write_text("\n".join(rows) + "\n")


def _metrics(path: Path, counts: dict[tuple[str, str], int]) -> None:
    reg = CollectorRegistry()
    counter = Counter(VARIANT_REQUESTS_METRIC, "test", ["variant", "outcome"], registry=reg)
    for (variant, outcome), n in counts.items():
        counter.labels(variant, outcome).inc(n)
    path.write_bytes(generate_latest(reg))


METRICS = {
    ("prod", OUTCOME_OK): 998,
    ("prod", OUTCOME_ERROR): 2,
    ("canary", OUTCOME_OK): 995,
    ("canary", OUTCOME_ERROR): 5,
}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """v1.0.0 in prod, v1.1.0 in canary; 250 logged records each, labelled; a scrape."""
    repo = tmp_path / "proj"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "params.yaml").write_text((ROOT / "params.yaml").read_text())
    git(repo, "add", "params.yaml")
    _release(repo, PROD_HASH, "v1.0.0", "prod")
    _release(repo, CANARY_HASH, "v1.1.0", "canary")
    log = repo / "logs" / "predictions.jsonl"
    log.parent.mkdir()
    _write_log(log, Variant.prod, PROD_HASH, 250, latency_ms=10.0)
    _write_log(log, Variant.canary, CANARY_HASH, 250, latency_ms=12.0)
    with log.open("a") as fh:
        fh.write('{"cut by a crash\n')
    _labels(repo / "labels.csv", {Variant.prod: (225, 250), Variant.canary: (230, 250)})
    _metrics(repo / "metrics.txt", METRICS)
    monkeypatch.chdir(repo)
    # in-process commands: never change this test process's numerical envelope
    monkeypatch.setenv(OFF_VAR, "off")
    monkeypatch.setenv(ENVELOPE_VAR, "")
    return repo


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


REPORT_ARGS = ("canary-report", "--labels", "labels.csv", "--metrics", "metrics.txt")


def test_report_figures_and_binding(repo: Path) -> None:
    code, out = _run(*REPORT_ARGS)
    assert code == 0, out
    assert "recommendation: PROMOTE" in out
    report = read_report(repo / "reports" / "canary.json")
    assert report.recommendation is Recommendation.promote
    assert report.binding.canary.artifact_hash == CANARY_HASH
    assert report.binding.production.artifact_hash == PROD_HASH
    assert report.counts.bad_lines == 1 and report.counts.records == 500
    p, c = report.production, report.canary
    assert (p.records, p.requests, p.labelled, p.hits) == (250, 25, 250, 225)
    assert (c.records, c.requests, c.labelled, c.hits) == (250, 25, 250, 230)
    assert (p.metric, c.metric) == (0.9, 0.92)
    # Newcombe, 230/250 vs 225/250 at 0.95: [-0.0226, +0.0629] (lower >= -0.03)
    comp = report.comparison
    assert (round(comp.lower, 4), round(comp.upper, 4)) == (-0.0226, 0.0629)
    # latencies per request 10, 11, 12, 10, ... (25 requests): p95 = 12 and 14
    assert (p.latency_p95_ms, c.latency_p95_ms) == (12.0, 14.0)
    assert report.latency_ratio == pytest.approx(14 / 12)
    assert (p.error_rate, c.error_rate) == (0.002, 0.005)
    assert report.error_rate_increase == pytest.approx(0.003)
    assert (repo / "reports" / "canary.md").read_text().startswith("# Canary report: PROMOTE")


def test_promote_with_the_report_moves_prod_and_retires_the_canary(repo: Path) -> None:
    assert _run(*REPORT_ARGS)[0] == 0
    code, out = _run("promote", "--report", "reports/canary.json")
    assert code == 0, out
    assert f"prod -> {NAME}@v1.1.0 ({NAME}#prod#3)" in out
    assert {f"{NAME}#prod#3", f"{NAME}#canary!#4"} <= set(git(repo, "tag").split())
    code, out = _run("registry")
    assert code == 0 and "v1.1.0" in out.splitlines()[0] and "<- prod" in out.splitlines()[0]
    assert "<-" not in out.splitlines()[1]


def test_an_edited_report_does_not_promote(repo: Path) -> None:
    assert _run(*REPORT_ARGS[:3])[0] == 0  # no --metrics: hold
    path = repo / "reports" / "canary.json"
    data = json.loads(path.read_text())
    assert data["recommendation"] == "hold"
    data["recommendation"] = "promote"
    path.write_text(json.dumps(data))
    code, out = _run("promote", "--report", str(path))
    assert code == 1 and "does not match its digest" in out
    assert registry.stage_version(repo, NAME, "prod").version == "v1.0.0"


def test_a_hold_report_does_not_promote(repo: Path) -> None:
    assert _run(*REPORT_ARGS[:3])[0] == 0
    code, out = _run("promote", "--report", "reports/canary.json")
    assert code == 1 and "recommends hold, not promote: error rates unknown" in out


def test_a_stale_report_does_not_promote(repo: Path) -> None:
    assert _run(*REPORT_ARGS)[0] == 0
    _release(repo, "c" * 32, "v1.2.0", "canary")  # another canary since the report
    code, out = _run("promote", "--report", "reports/canary.json")
    assert code == 1 and "the report is stale" in out and CANARY_HASH in out
    assert registry.stage_version(repo, NAME, "prod").version == "v1.0.0"
    assert registry.stage_version(repo, NAME, "canary").version == "v1.2.0"


def test_rollback_canary_aborts_and_keeps_prod(repo: Path) -> None:
    code, out = _run("rollback", "--canary")
    assert code == 0, out
    assert f"canary retired: {NAME}@v1.1.0 ({NAME}#canary!#3)" in out
    assert registry.stage_version(repo, NAME, "canary") is None
    assert registry.stage_version(repo, NAME, "prod").version == "v1.0.0"
    assert _run("rollback")[0] == 2  # neither a version nor --canary
    assert _run("promote")[0] == 1  # nothing in canary any more


def test_a_log_without_canary_traffic_is_a_data_error(tmp_path: Path) -> None:
    log = tmp_path / "p.jsonl"
    _write_log(log, Variant.prod, PROD_HASH, 20, latency_ms=5.0)
    with pytest.raises(Exception, match="no record answered by canary") as exc:
        build_report(
            CanaryConfig(), log, labels=None, metrics=None, id_column="row_id", label_column="label"
        )
    assert type(exc.value).__name__ == "DataError"


def test_regressor_compares_mean_absolute_errors(tmp_path: Path) -> None:
    log = tmp_path / "p.jsonl"
    _write_log(log, Variant.prod, PROD_HASH, 20, latency_ms=5.0, regression=True)
    _write_log(log, Variant.canary, CANARY_HASH, 20, latency_ms=5.0, regression=True)
    rows = ["row_id,label"]  # every prediction is 10.0
    rows += [f"prod-{i},{10.0 + (1.0 if i % 2 else 3.0)}" for i in range(20)]  # |e| 3,1,3,1...
    rows += [f"canary-{i},{10.0 - 1.0}" for i in range(20)]  # |e| = 1 everywhere
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    report = build_report(
        CanaryConfig(min_labelled=10),
        log,
        labels=str(tmp_path / "labels.csv"),
        metrics=None,
        id_column="row_id",
        label_column="label",
    )
    assert (report.production.metric, report.canary.metric) == (2.0, 1.0)
    comp = report.comparison
    assert comp.metric == "mae" and comp.improvement == 1.0
    # canary has no spread: se = sd(prod)/sqrt(20) = 1.0260/4.4721 = 0.2294, df = 19,
    # t(0.95, 19) = 1.7291: 1.0 -/+ 0.3967
    assert (round(comp.lower, 4), round(comp.upper, 4)) == (0.6033, 1.3967)
    assert report.recommendation is Recommendation.hold  # no --metrics


def test_a_variant_with_two_models_needs_since(tmp_path: Path) -> None:
    log = tmp_path / "p.jsonl"
    start = 1_700_000_000.0
    _write_log(log, Variant.canary, "d" * 32, 10, latency_ms=5.0, at=start)  # an older canary
    _write_log(log, Variant.canary, CANARY_HASH, 20, latency_ms=5.0, at=start + 3600)
    _write_log(log, Variant.prod, PROD_HASH, 20, latency_ms=5.0, at=start + 3600)
    args = {"labels": None, "metrics": None, "id_column": "row_id", "label_column": "label"}
    with pytest.raises(Exception, match=r"canary answered with 2 models .*pass --since"):
        build_report(CanaryConfig(), log, **args)
    since = dt.datetime.fromtimestamp(start + 1800, dt.UTC)
    report = build_report(CanaryConfig(), log, since=since, **args)
    assert report.binding.canary.artifact_hash == CANARY_HASH
    assert (report.counts.before_since, report.canary.records) == (10, 20)
    assert report.recommendation is Recommendation.hold  # no labels


@pytest.mark.parametrize("openmetrics", [False, True], ids=["prometheus", "openmetrics"])
def test_metrics_scrape_in_either_text_format(tmp_path: Path, openmetrics: bool) -> None:
    from prometheus_client.openmetrics.exposition import generate_latest as om_latest

    from pr2prod.canary.evidence import read_metrics

    reg = CollectorRegistry()
    labels = ["variant", "outcome", "endpoint"]
    counter = Counter(VARIANT_REQUESTS_METRIC, "t", labels, registry=reg)
    counter.labels("canary", OUTCOME_ERROR, "predict").inc(3)
    counter.labels("canary", OUTCOME_ERROR, "predict_batch").inc(1)  # summed over endpoints
    counter.labels("canary", OUTCOME_OK, "predict").inc(96)
    counter.labels("shadow", OUTCOME_OK, "predict").inc(7)  # not a variant: ignored
    path = tmp_path / "metrics.txt"
    path.write_bytes(om_latest(reg) if openmetrics else generate_latest(reg))
    got = read_metrics(str(path)).counts
    assert set(got) == {Variant.canary}
    assert (got[Variant.canary].ok, got[Variant.canary].error) == (96, 4)
    assert got[Variant.canary].rate == 0.04


def test_an_unreadable_scrape_is_a_data_error(tmp_path: Path) -> None:
    from pr2prod.canary.evidence import read_metrics
    from pr2prod.errors import DataError

    with pytest.raises(DataError, match="no such file"):
        read_metrics(str(tmp_path / "missing.txt"))
    with pytest.raises(DataError, match="cannot scrape"):
        read_metrics("http://127.0.0.1:9/metrics")  # discard port: refused
