"""Check prepared data against its schema and quality rules (pandera + a few rules)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
import pandera.pandas as pa

from pr2prod.config.choices import OutOfRange, choose
from pr2prod.config.schema import ValidateConfig
from pr2prod.data.schema import DataSchema


@dataclass
class Finding:
    """One failed rule."""

    check: str
    column: str | None
    split: str
    detail: str


@dataclass
class ValidationReport:
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "errors": [asdict(f) for f in self.errors],
            "warnings": [asdict(f) for f in self.warnings],
        }

    def lines(self) -> list[str]:
        out = []
        for level, items in (("ERROR", self.errors), ("WARN", self.warnings)):
            for f in items:
                col = f" [{f.column}]" if f.column else ""
                out.append(f"{level} {f.split}{col} {f.check}: {f.detail}")
        return out


def pandera_schema(schema: DataSchema, with_ranges: bool) -> pa.DataFrameSchema:
    """A pandera schema generated from ``schema.json``."""
    cols: dict[str, pa.Column] = {
        schema.target: pa.Column(nullable=False, checks=_label_checks(schema)),
        schema.id_column: pa.Column(nullable=False, unique=True),
    }
    for f in schema.features:
        checks = []
        if f.kind == "numeric" and with_ranges and f.min is not None and f.max is not None:
            checks.append(pa.Check.in_range(f.min, f.max, name="in_training_range"))
        if f.kind == "numeric":
            cols[f.name] = pa.Column(float, checks=checks, nullable=True, coerce=True)
        else:
            cols[f.name] = pa.Column(nullable=True)
    return pa.DataFrameSchema(cols, strict=True)


def _label_checks(schema: DataSchema) -> list[pa.Check]:
    if schema.labels is None:
        return []
    return [pa.Check.isin(schema.labels, name="known_label")]


def validate_split(
    df: pd.DataFrame,
    schema: DataSchema,
    split: str,
    rules: ValidateConfig,
    report: ValidationReport,
) -> None:
    """Run every rule on one split, adding findings to ``report``.

    Test values outside the training range are warnings or errors by
    ``rules.out_of_range`` (``warn`` | ``error``), or not checked (``ignore``).
    """
    out_of_range = choose(OutOfRange, rules.out_of_range, "validate.out_of_range")
    with_ranges = split != "train" and out_of_range is not OutOfRange.ignore
    try:
        pandera_schema(schema, with_ranges).validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        for (col, check), group in exc.failure_cases.groupby(["column", "check"], dropna=False):
            sample = ", ".join(str(v) for v in group["failure_case"].head(3))
            finding = Finding(
                str(check),
                None if pd.isna(col) else str(col),
                split,
                f"{len(group)} failing value(s), e.g. {sample}",
            )
            range_only = str(check).startswith(("in_range", "in_training_range"))
            target = (
                report.warnings if range_only and out_of_range is OutOfRange.warn else report.errors
            )
            target.append(finding)
    for f in schema.features:
        s = df[f.name]
        if s.isna().all():
            report.errors.append(Finding("all_null", f.name, split, "every value is missing"))
            continue
        share = float(s.isna().mean())
        if share > rules.max_null_share:
            report.errors.append(
                Finding(
                    "null_share", f.name, split, f"{share:.1%} missing > {rules.max_null_share:.1%}"
                )
            )
        if split == "train" and _constant(s):
            report.errors.append(Finding("constant", f.name, split, "a single distinct value"))
    if schema.labels is not None and split == "train":
        counts = df[schema.target].value_counts()
        for label in schema.labels:
            n = int(counts.get(label, 0))
            if n < rules.min_rows_per_class:
                report.errors.append(
                    Finding(
                        "rows_per_class",
                        schema.target,
                        split,
                        f"class {label!r} has {n} rows < {rules.min_rows_per_class}",
                    )
                )


def _constant(s: pd.Series) -> bool:
    """At most one distinct non-missing value (``nunique(dropna=True) <= 1``); for numbers
    read from the minimum and maximum, which needs no hash table of the values."""
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return bool(s.min() == s.max())
    return bool(s.nunique(dropna=True) <= 1)


def validate_data(
    train: pd.DataFrame, test: pd.DataFrame, schema: DataSchema, rules: ValidateConfig
) -> ValidationReport:
    report = ValidationReport()
    validate_split(train, schema, "train", rules, report)
    validate_split(test, schema, "test", rules, report)
    return report
