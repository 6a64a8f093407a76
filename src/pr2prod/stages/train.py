"""Stage ``train``: fit the whole pipeline and save ONE artifact directory."""

from __future__ import annotations

import time

import pandas as pd

from pr2prod.config import load_params
from pr2prod.data.schema import DataSchema
from pr2prod.fsio import atomic_dir, write_json
from pr2prod.models.metadata import artifact_metadata, run_info
from pr2prod.models.persist import write_artifact
from pr2prod.models.train import fit_pipeline
from pr2prod.stages._common import (
    MODEL_DIR,
    PARAMS,
    RUN_DIR,
    SCHEMA,
    TEST,
    TRAIN,
    envelope_facts,
    run_stage,
)


def main() -> None:
    def body() -> None:
        cfg = load_params(PARAMS)
        schema = DataSchema.load(SCHEMA)
        train = pd.read_parquet(TRAIN)
        started = time.perf_counter()
        pipeline = fit_pipeline(cfg, schema, train, live_dir=str(RUN_DIR / "dvclive"))
        wall = time.perf_counter() - started
        meta = artifact_metadata(cfg, PARAMS, [TRAIN, TEST])
        with atomic_dir(MODEL_DIR) as tmp:
            write_artifact(tmp, pipeline, schema, meta)
        write_json(RUN_DIR / "run.json", run_info(wall, envelope_facts()))
        print(
            f"[train] {meta['model_name']} fitted on {len(train)} rows in {wall:.2f}s "
            f"-> {MODEL_DIR}"
        )

    run_stage("train", body)
