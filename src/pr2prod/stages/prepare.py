"""Stage ``prepare``: load the source, split deterministically, write Parquet + schema."""

from __future__ import annotations

import json

from pr2prod.config import load_params
from pr2prod.data.feedback import apply_feedback_guard
from pr2prod.data.schema import infer_schema
from pr2prod.data.sources import ID_COLUMN, load_table
from pr2prod.data.split import split_frame
from pr2prod.fsio import atomic_dir
from pr2prod.stages._common import PARAMS, PREPARED, run_stage


def main() -> None:
    def body() -> None:
        cfg = load_params(PARAMS)
        df, excluded = apply_feedback_guard(load_table(cfg.data), cfg.data.feedback_guard)
        if cfg.data.feedback_guard.column:
            print(
                f"[prepare] feedback guard: left out {excluded} row(s) marked in "
                f"{cfg.data.feedback_guard.column!r}"
            )
        if cfg.data.target not in df.columns:
            raise FileNotFoundError(f"target column {cfg.data.target!r} not in the data")
        train, test = split_frame(
            df, cfg.data.target, cfg.split.test_size, cfg.split.stratify, cfg.seed, cfg.data.task
        )
        del df  # the two parts hold their rows: the whole table is not kept a third time
        schema = infer_schema(
            train, test, cfg.data.task, cfg.data.target, cfg.data.id_column or ID_COLUMN
        )
        with atomic_dir(PREPARED) as tmp:
            train.to_parquet(tmp / "train.parquet", index=False)
            test.to_parquet(tmp / "test.parquet", index=False)
            (tmp / "schema.json").write_text(
                json.dumps(schema.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8"
            )
        print(
            f"[prepare] {cfg.data.name}: {len(train)} train / {len(test)} test rows, "
            f"{len(schema.features)} features ({len(schema.categorical)} categorical)"
        )

    run_stage("prepare", body)
