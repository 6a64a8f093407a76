"""Stage ``validate``: check prepared data against schema and rules; errors fail it."""

from __future__ import annotations

import pandas as pd

from pr2prod.config import load_params
from pr2prod.data.schema import DataSchema
from pr2prod.data.validate import validate_data
from pr2prod.fsio import write_json
from pr2prod.stages._common import (
    PARAMS,
    SCHEMA,
    TEST,
    TRAIN,
    VALIDATION,
    StageFailedError,
    run_stage,
)


def main() -> None:
    def body() -> None:
        cfg = load_params(PARAMS)
        schema = DataSchema.load(SCHEMA)
        report = validate_data(pd.read_parquet(TRAIN), pd.read_parquet(TEST), schema, cfg.validate)
        for line in report.lines():
            print(f"[validate] {line}")
        if not report.passed:
            raise StageFailedError(f"{len(report.errors)} data error(s); see the lines above")
        write_json(VALIDATION, report.to_dict())
        print(f"[validate] passed with {len(report.warnings)} warning(s)")

    run_stage("validate", body)
