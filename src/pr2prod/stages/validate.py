"""Stage ``validate``: check prepared data against schema and rules; errors fail it."""

from __future__ import annotations

from pr2prod.config import load_params
from pr2prod.data.schema import DataSchema
from pr2prod.data.tables import read_split
from pr2prod.data.validate import ValidationReport, validate_split
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
        # one split in memory at a time: validate_data's rules, train first, then test
        report = ValidationReport()
        for split, path in (("train", TRAIN), ("test", TEST)):
            validate_split(read_split(path), schema, split, cfg.validate, report)
        for line in report.lines():
            print(f"[validate] {line}")
        if not report.passed:
            raise StageFailedError(f"{len(report.errors)} data error(s); see the lines above")
        write_json(VALIDATION, report.to_dict())
        print(f"[validate] passed with {len(report.warnings)} warning(s)")

    run_stage("validate", body)
