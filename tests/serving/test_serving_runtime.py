"""The runtime in-process: the prediction log can be switched off, batching answers alike,
a failing canary fails only its own records."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path

import pandas as pd
import pytest

from pr2prod.config.serve_schema import ServeConfig
from pr2prod.logrecord.variant import Variant
from pr2prod.serving.predictor import Predictor
from pr2prod.serving.predlog import read_log
from pr2prod.serving.recorder import Recorder
from pr2prod.serving.routing import ScoringError
from pr2prod.serving.runtime import Runtime


def _cfg(tmp_path: Path, log: bool, batching: bool) -> ServeConfig:
    cfg = ServeConfig()
    return dataclasses.replace(
        cfg,
        prediction_log=dataclasses.replace(
            cfg.prediction_log, enabled=log, path=str(tmp_path / "p.jsonl")
        ),
        batching=dataclasses.replace(cfg.batching, enabled=batching),
    )


def _records(project: Path, names: list[str], n: int) -> list[dict]:
    test = pd.read_parquet(project / "data" / "prepared" / "test.parquet")
    return test[names].iloc[:n].to_dict("records")


def test_log_switched_off_writes_nothing(trained_project: Path, tmp_path: Path) -> None:
    rt = Runtime.start(trained_project / "models" / "model", None, _cfg(tmp_path, False, False))
    recs = _records(trained_project, rt.predictor.names, 3)
    rt.after(recs, rt.score_many(recs), "r1", "predict_batch", time.perf_counter())
    rt.close()
    assert not rt.recorder.active
    assert not (tmp_path / "p.jsonl").exists()


def test_batched_single_calls_equal_direct_scoring(trained_project: Path, tmp_path: Path) -> None:
    rt = Runtime.start(trained_project / "models" / "model", None, _cfg(tmp_path, True, True))
    recs = _records(trained_project, rt.predictor.names, 40)

    async def concurrently() -> list[dict]:
        return list(await asyncio.gather(*(rt.score_one(r) for r in recs)))

    batched = asyncio.run(concurrently())
    direct = [rt.score_many([r])[0] for r in recs]
    assert [b["label"] for b in batched] == [d["label"] for d in direct]
    rt.after(recs, batched, "r2", "predict", time.perf_counter())
    rt.close()
    entries = read_log(tmp_path / "p.jsonl")
    assert len(entries) == 40
    assert entries[0].model.model_version == entries[0].model.artifact_hash[:12]


@pytest.mark.parametrize("batching", [True, False], ids=["batching", "no-batching"])
def test_scoring_runs_off_the_event_loop(
    trained_project: Path, tmp_path: Path, batching: bool
) -> None:
    """While a slow model call runs, the event loop keeps serving other coroutines."""
    rt = Runtime.start(trained_project / "models" / "model", None, _cfg(tmp_path, False, batching))
    rec = _records(trained_project, rt.predictor.names, 1)[0]
    real = rt.score_routed

    def slow(items: list) -> list:
        end = time.perf_counter() + 0.5
        while time.perf_counter() < end:  # CPU-bound, holds the GIL in bursts
            pass
        return real(items)

    rt.score_routed = slow  # type: ignore[method-assign]

    async def scenario() -> tuple[dict, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.create_task(ticker())
        out = await rt.score_one(rec)
        task.cancel()
        return out, ticks

    out, ticks = asyncio.run(scenario())
    rt.close()
    assert out == rt.score_many([rec])[0]
    assert ticks >= 10, ticks  # scored on the loop, it would be 0 during the 0.5 s


class _BrokenCanary:
    """A canary whose model raises on every call (it loads, then fails while scoring)."""

    def __init__(self, prod: Predictor) -> None:
        self.info = dataclasses.replace(prod.info, version="broken", artifact_hash="b" * 32)
        self.to_array = prod.to_array

    def score(self, x: object) -> object:
        raise ValueError("broken canary")


def test_a_failing_canary_fails_only_its_own_records(trained_project: Path, tmp_path: Path) -> None:
    """In a merged batch, a canary that raises fails its records; production's are answered."""
    cfg = _cfg(tmp_path, False, True)
    prod = Predictor.from_dir(trained_project / "models" / "model")
    recorder = Recorder(None, None, 1.0, 10)
    rt = Runtime(prod, None, recorder, cfg, canary=_BrokenCanary(prod))  # type: ignore[arg-type]
    recs = _records(trained_project, prod.names, 20)
    variants = [Variant.canary if i % 3 == 0 else Variant.prod for i in range(len(recs))]

    async def concurrently() -> list:
        calls = (rt.score_one(r, v) for r, v in zip(recs, variants, strict=True))
        return list(await asyncio.gather(*calls, return_exceptions=True))

    answers = asyncio.run(concurrently())
    routed = rt.score_routed(list(zip(recs, variants, strict=True)))
    rt.close()
    expected = rt.score_many([r for r, v in zip(recs, variants, strict=True) if v == "prod"])
    for got in (answers, routed):
        assert [a for a, v in zip(got, variants, strict=True) if v == "prod"] == expected
        failed = [a for a, v in zip(got, variants, strict=True) if v == "canary"]
        assert all(isinstance(a, ScoringError) and a.variant == "canary" for a in failed)
        assert all(isinstance(a.__cause__, ValueError) for a in failed)
    with pytest.raises(ScoringError, match="canary model failed"):
        rt.score_many(recs, variants)
