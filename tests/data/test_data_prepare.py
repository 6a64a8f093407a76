"""Sources, deterministic split, schema inference and validation rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pr2prod.config import ConfigError
from pr2prod.config.schema import DataConfig, SyntheticConfig, ValidateConfig
from pr2prod.data.schema import DataSchema, infer_schema
from pr2prod.data.sources import load_table, make_synthetic
from pr2prod.data.split import split_frame
from pr2prod.data.validate import validate_data


def _bc() -> pd.DataFrame:
    return load_table(
        DataConfig(name="bc", source="sklearn", task="binary", dataset="breast_cancer")
    )


def test_sklearn_source_has_clean_names_target_and_ids() -> None:
    df = _bc()
    assert "mean_radius" in df.columns
    assert df["row_id"].is_unique
    assert set(df["target"].unique()) == {0, 1}


def test_split_is_deterministic_stratified_and_ordered() -> None:
    df = _bc()
    a_train, a_test = split_frame(df, "target", 0.25, True, seed=1, task="binary")
    b_train, _ = split_frame(df, "target", 0.25, True, seed=1, task="binary")
    pd.testing.assert_frame_equal(a_train, b_train)
    assert a_train["row_id"].is_monotonic_increasing
    assert abs(a_train["target"].mean() - a_test["target"].mean()) < 0.02
    c_train, _ = split_frame(df, "target", 0.25, True, seed=2, task="binary")
    assert not a_train["row_id"].equals(c_train["row_id"])
    assert set(a_train["row_id"]).isdisjoint(a_test["row_id"])


def test_synthetic_is_seeded_and_has_categoricals() -> None:
    cfg = SyntheticConfig(n_rows=300, n_features=4, n_informative=2, n_categorical=2, seed=5)
    a, b = make_synthetic(cfg, "binary"), make_synthetic(cfg, "binary")
    pd.testing.assert_frame_equal(a, b)
    assert {"c0", "c1", "f3", "target"} <= set(a.columns)
    assert len(a) == 300


def test_schema_records_types_ranges_categories_and_reference_stats() -> None:
    df = make_synthetic(SyntheticConfig(n_rows=400, n_features=3, n_categorical=1), "binary")
    df.insert(0, "row_id", np.arange(len(df)))
    train, test = split_frame(df, "target", 0.2, True, 0, "binary")
    schema = infer_schema(train, test, "binary", "target", "row_id")
    assert schema.categorical == ["c0"] and schema.numeric == ["f0", "f1", "f2"]
    f0 = schema.feature("f0")
    assert f0.min == train["f0"].min() and f0.max == train["f0"].max()
    assert sum(f0.stats["histogram"]["counts"]) == len(train)
    assert schema.feature("c0").categories == sorted(train["c0"].unique())
    assert schema.labels == [0, 1]
    assert DataSchema.from_dict(schema.to_dict()) == schema


def _frames(n: int = 60) -> tuple[pd.DataFrame, pd.DataFrame, DataSchema]:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "row_id": np.arange(n),
            "a": rng.normal(size=n),
            "b": rng.normal(size=n),
            "target": np.arange(n) % 2,
        }
    )
    train, test = df.iloc[: n - 20].reset_index(drop=True), df.iloc[n - 20 :].reset_index(drop=True)
    return train, test, infer_schema(train, test, "binary", "target", "row_id")


RULES = ValidateConfig(min_rows_per_class=5, max_null_share=0.5, out_of_range="warn")


def test_clean_data_passes() -> None:
    train, test, schema = _frames()
    test["a"] = test["a"].clip(schema.feature("a").min, schema.feature("a").max)
    test["b"] = test["b"].clip(schema.feature("b").min, schema.feature("b").max)
    report = validate_data(train, test, schema, RULES)
    assert report.passed and not report.warnings


@pytest.mark.parametrize(
    ("breakage", "check", "column"),
    [
        (
            lambda tr, te: tr.__setitem__("target", tr["target"].astype(float).where(tr.index > 0)),
            "not_nullable",
            "target",
        ),
        (lambda tr, te: tr.__setitem__("a", 1.0), "constant", "a"),
        (lambda tr, te: tr.__setitem__("b", np.nan), "all_null", "b"),
        (lambda tr, te: tr.__setitem__("row_id", 0), "field_uniqueness", "row_id"),
        (
            lambda tr, te: tr.__setitem__("target", (tr.index < 2).astype(int)),
            "rows_per_class",
            "target",
        ),
    ],
)
def test_each_quality_rule_fails_the_data(breakage, check: str, column: str) -> None:
    train, test, schema = _frames()
    breakage(train, test)
    report = validate_data(train, test, schema, RULES)
    assert not report.passed
    assert any(check in f.check and f.column == column for f in report.errors), report.lines()


def test_out_of_range_is_a_warning_an_error_or_ignored_by_config() -> None:
    train, test, schema = _frames()
    test.loc[0, "a"] = 1e6
    warn = validate_data(train, test, schema, RULES)
    assert warn.passed and any(f.column == "a" for f in warn.warnings)
    assert not warn.errors
    strict = ValidateConfig(min_rows_per_class=5, max_null_share=0.5, out_of_range="error")
    error = validate_data(train, test, schema, strict)
    assert not error.passed and any(f.column == "a" for f in error.errors)
    lax = ValidateConfig(min_rows_per_class=5, max_null_share=0.5, out_of_range="ignore")
    ignored = validate_data(train, test, schema, lax)
    assert ignored.passed and not ignored.warnings and not ignored.errors
    # ignore skips only the range rule: any other finding still fails the data
    test.loc[1, "row_id"] = test.loc[2, "row_id"]
    assert not validate_data(train, test, schema, lax).passed


def test_file_source_reads_csv_and_names_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    pd.DataFrame({"ID": [1, 2, 3], "Size (cm)": [1.0, 2.0, 3.0], "y": [0, 1, 0]}).to_csv(
        path, index=False
    )
    cfg = DataConfig(
        name="t",
        source="file",
        task="binary",
        path=str(path),
        target="y",
        id_column="id",
        column_types={"size_cm": "numeric"},
    )
    df = load_table(cfg)
    assert list(df.columns) == ["id", "size_cm", "y"]
    bad = DataConfig(name="t", source="file", task="binary", path=str(path), target="label")
    with pytest.raises(ConfigError, match=r"data\.target: column 'label'.*size_cm"):
        load_table(bad)
    missing = DataConfig(name="t", source="file", task="binary", path=str(tmp_path / "no.csv"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_table(missing)
