"""Benchmark: the differential gate on 1,000,000 synthetic test rows.

Floor   = scoring the two models only (``predict`` + ``predict_proba`` for each, what any
          comparison must pay).
Gate    = ``run_gate``: both models scored, every default check, flip rate, per-class
          changes and a paired bootstrap with 200 resamples (plus one categorical slice).
Goal    : gate <= 1.5x floor. Prints the figures and writes benchmarks/results/gate.json.

Run: ``python benchmarks/gate.py [--rows N] [--resamples B] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import statistics
import time
from pathlib import Path

from pr2prod.compare.gate import run_gate
from pr2prod.config import load_params
from pr2prod.config.gate_schema import SliceConfig
from pr2prod.data.schema import infer_schema
from pr2prod.data.sources import make_synthetic
from pr2prod.evaluate.metrics import predict
from pr2prod.models.build import build_pipeline
from pr2prod.models.persist import LoadedModel

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "gate.json"
TRAIN_ROWS = 20_000


def models(rows: int):
    """Two logistic-regression pipelines (C=1 and C=0.01) and a test split of ``rows``."""
    cfg = load_params(ROOT / "params.yaml")
    syn = dataclasses.replace(
        cfg.data.synthetic,
        n_rows=rows + TRAIN_ROWS,
        n_features=20,
        n_informative=10,
        n_categorical=2,
    )
    df = make_synthetic(syn, "binary")
    df.insert(0, "row_id", range(len(df)))
    train, test = df.iloc[:TRAIN_ROWS], df.iloc[TRAIN_ROWS:].reset_index(drop=True)
    schema = infer_schema(train, test.head(1000), "binary", "target", "row_id")
    out = []
    for c in (1.0, 0.01):
        model = dataclasses.replace(cfg.model, C=c)
        pipe = build_pipeline(cfg.features, model, schema, cfg.allowed_targets)
        pipe.fit(train[schema.feature_names], train["target"])
        out.append(LoadedModel(pipe, schema, {"model_name": f"lr_C{c:g}"}, Path(".")))
    return cfg, out[0], out[1], test


def timed(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--resamples", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    cfg, cand, base, test = models(args.rows)
    gate = dataclasses.replace(
        cfg.gate,
        bootstrap=dataclasses.replace(cfg.gate.bootstrap, resamples=args.resamples),
        slices={"c0": SliceConfig(column="c0", values=["cat0", "cat1"], metrics=["accuracy"])},
    )

    def floor() -> None:
        for m in (cand, base):
            predict(m.pipeline, test[m.schema.feature_names], "binary")

    floor_s = timed(floor, args.repeats)
    gate_s = timed(lambda: run_gate(gate, cand, base, test), args.repeats)
    report = run_gate(gate, cand, base, test)
    result = {
        "benchmark": "gate",
        "rows": args.rows,
        "resamples": args.resamples,
        "units": report["bootstrap"]["units"],
        "checks": len(report["checks"]),
        "models": ["logistic_regression C=1", "logistic_regression C=0.01"],
        "floor_s": round(floor_s, 3),
        "gate_s": round(gate_s, 3),
        "ratio": round(gate_s / floor_s, 3),
        "goal_ratio": 1.5,
        "meets_goal": gate_s / floor_s <= 1.5,
        "repeats": args.repeats,
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
    }
    print(f"floor (score both models): {floor_s:.3f}s")
    print(
        f"gate  (score + {len(report['checks'])} checks + {args.resamples} resamples): "
        f"{gate_s:.3f}s"
    )
    print(f"ratio {result['ratio']:.2f}x (goal <= 1.5x)")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
