"""What the gate's defaults decide on the default data: the figures behind docs/gate.md.

Trains candidates on the prepared split of this workspace (run ``dvc repro`` first) and
gates each against ``models/model`` under every rule at several tolerances and levels:
- a reproduction (same config: identical predictions);
- genuinely equivalent models (other regularisation, other model families);
- real regressions (a 4-point accuracy drop, made by under-regularising).

Prints a table and saves ``benchmarks/results/gate_power.json``. Not a speed benchmark:
it records the accuracy check's estimate, one-sided bound and detectable worsening.

    python benchmarks/gate_power.py
"""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
from pathlib import Path

import pandas as pd

from pr2prod.compare.gate import run_gate
from pr2prod.config.gate_schema import Rule
from pr2prod.config.hydra_compose import compose_dict
from pr2prod.config.loader import to_config
from pr2prod.data.schema import DataSchema
from pr2prod.models.persist import load_artifact, write_artifact
from pr2prod.models.train import fit_pipeline

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks/results/gate_power.json"
CANDIDATES = {
    "reproduction": [],
    "logistic C=0.5 (same labels)": ["model.C=0.5"],
    "logistic C=2 (same labels)": ["model.C=2.0"],
    "logistic C=0.1 (1 row worse)": ["model.C=0.1"],
    "logistic C=10 (2 rows worse)": ["model.C=10.0"],
    "torch MLP (2 rows worse)": ["model=torch_mlp"],
    "hist gradient boosting": ["model=hist_gradient_boosting"],
    "random forest": ["model=random_forest"],
    "logistic C=0.001 (6 rows worse)": ["model.C=0.001"],
}
LEVELS = (0.9, 0.95)


def _train(overrides: list[str], schema: DataSchema, train: pd.DataFrame, where: Path) -> Path:
    cfg = to_config(compose_dict(ROOT / "conf", overrides))
    pipeline = fit_pipeline(cfg, schema, train)
    write_artifact(where, pipeline, schema, {"model_name": cfg.model.name})
    return where


def main() -> None:
    base = to_config(compose_dict(ROOT / "conf", []))
    prepared = ROOT / base.paths.prepared
    schema = DataSchema.load(prepared / "schema.json")
    train, test = (pd.read_parquet(prepared / f"{s}.parquet") for s in ("train", "test"))
    production = load_artifact(ROOT / base.paths.model)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, overrides in CANDIDATES.items():
            cand = load_artifact(_train(overrides, schema, train, Path(tmp) / name))
            for level in LEVELS:
                boot = dataclasses.replace(base.gate.bootstrap, level=level)
                for rule in Rule:
                    cfg = dataclasses.replace(base.gate, rule=rule, bootstrap=boot)
                    report = run_gate(cfg, cand, production, test)
                    acc = next(c for c in report["checks"] if c["id"] == "metric:accuracy")
                    rows.append(
                        {
                            "candidate": name,
                            "level": level,
                            "rule": str(rule),
                            "verdict": report["verdict"],
                            "failed": report["failed"],
                            "accuracy_delta": acc["delta"],
                            "accuracy_bound": acc["bound"],
                            "accuracy_detectable": acc["detectable"],
                            "flip_rate": report["stability"].get("flip_rate"),
                        }
                    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"test_rows": len(test), "runs": rows}, indent=2) + "\n")
    print(f"{'candidate':32} {'lvl':>4} {'rule':16} {'Δacc':>7} {'bound':>7} {'det':>6} verdict")
    for r in rows:
        print(
            f"{r['candidate']:32} {r['level']:>4} {r['rule']:16} {r['accuracy_delta']:+.4f} "
            f"{r['accuracy_bound'] or 0:+.4f} {r['accuracy_detectable'] or 0:.4f} "
            f"{r['verdict']} {','.join(r['failed'])}"
        )
    print(f"saved {OUT.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
