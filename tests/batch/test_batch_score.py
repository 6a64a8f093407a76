"""`pr2prod score`: the artifact's own predictions, rejects accounted for, idempotent re-runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from _project import BIN, run
from pr2prod.batch.resolve import model_version
from pr2prod.models.persist import load_artifact

BAD_ROWS = {  # input position -> what is wrong with it
    2: "mean_radius: missing (not nullable)",
    5: "mean_texture: not a number",
    7: "row_id: duplicate within the input",
    9: "row_id: missing",
}


@pytest.fixture(scope="module")
def scoring_input(trained_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test split as CSV (target dropped) with four bad rows."""
    df = pd.read_parquet(trained_project / "data/prepared/test.parquet").drop(columns="target")
    df = df.astype({"mean_texture": object, "row_id": object})
    df.loc[2, "mean_radius"] = np.nan
    df.loc[5, "mean_texture"] = "abc"
    df.loc[7, "row_id"] = df.loc[6, "row_id"]
    df.loc[9, "row_id"] = None
    path = tmp_path_factory.mktemp("score_input") / "input.csv"
    df.to_csv(path, index=False)
    return path


def score(project: Path, cwd: Path, *args: str, check: bool = True):
    return run(
        [
            str(BIN / "pr2prod"),
            "score",
            "--no-progress",
            "--params",
            str(project / "params.yaml"),
            "--model",
            str(project / "models/model"),
            *args,
        ],
        cwd,
        check=check,
    )


def expected_predictions(model_dir: Path, input_csv: Path) -> pd.DataFrame:
    model = load_artifact(model_dir)
    df = pd.read_csv(input_csv).drop(index=list(BAD_ROWS))
    x = df[model.schema.feature_names].astype({"mean_texture": "float64"})
    return pd.DataFrame(
        {
            "row_id": df["row_id"].astype("int64").to_numpy(),
            "prediction": model.pipeline.predict(x),
            "proba_1": model.pipeline.predict_proba(x)[:, 1],
        }
    )


def read_sql(url: str, query: str) -> pd.DataFrame:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return pd.read_sql(sa.text(query), conn)
    finally:
        engine.dispose()


def test_sqlite_and_parquet_hold_the_artifacts_predictions(
    trained_project, trained_model_dir, scoring_input, tmp_path
):
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    score(
        trained_project,
        tmp_path,
        "--input",
        str(scoring_input),
        "--db",
        url,
        "--parquet",
        "scored",
        "--summary",
        "score.json",
        "--chunk-rows",
        "13",
    )
    expected = expected_predictions(trained_model_dir, scoring_input)
    version = model_version(load_artifact(trained_model_dir)).version
    for got in (
        pd.read_parquet(tmp_path / "scored/predictions.parquet"),
        read_sql(url, "SELECT * FROM predictions ORDER BY row_id"),
    ):
        got = got.sort_values("row_id").reset_index(drop=True)
        want = expected.sort_values("row_id").reset_index(drop=True)
        assert got["row_id"].tolist() == want["row_id"].tolist()  # one row per valid row
        assert got["prediction"].tolist() == want["prediction"].tolist()
        np.testing.assert_allclose(got["proba_1"], want["proba_1"], rtol=1e-12)
        assert set(got["model_version"]) == {version}
    summary = json.loads((tmp_path / "score.json").read_text())
    n_in = len(pd.read_csv(scoring_input))
    assert summary["rows_in"] == n_in == summary["rows_scored"] + summary["rows_rejected"]
    assert summary["rows_rejected"] == len(BAD_ROWS)
    for rejects in (
        pd.read_parquet(tmp_path / "scored/rejects.parquet"),
        read_sql(url, "SELECT * FROM predictions_rejects"),
    ):
        assert dict(zip(rejects["input_row"], rejects["reason"], strict=True)) == BAD_ROWS


def test_rerun_adds_no_rows_and_parquet_is_byte_identical(trained_project, scoring_input, tmp_path):
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    args = ("--input", str(scoring_input), "--db", url, "--parquet", "scored")
    score(trained_project, tmp_path, *args, "--chunk-rows", "10")
    first = (tmp_path / "scored/predictions.parquet").read_bytes()
    counts = read_sql(
        url,
        "SELECT (SELECT COUNT(*) FROM predictions) AS p, "
        "(SELECT COUNT(*) FROM predictions_rejects) AS r",
    )
    score(trained_project, tmp_path, *args, "--chunk-rows", "10")
    again = read_sql(
        url,
        "SELECT (SELECT COUNT(*) FROM predictions) AS p, "
        "(SELECT COUNT(*) FROM predictions_rejects) AS r",
    )
    assert again.to_dict() == counts.to_dict()
    assert counts["p"][0] == len(pd.read_csv(scoring_input)) - len(BAD_ROWS)
    assert (tmp_path / "scored/predictions.parquet").read_bytes() == first


def test_postgres_gets_the_same_rows_and_reruns_are_idempotent(
    trained_project, trained_model_dir, scoring_input, postgres_url, tmp_path
):
    table = f"preds_{tmp_path.name[-12:].replace('-', '_').lower()}"
    args = (
        "--input",
        str(scoring_input),
        "--db",
        postgres_url,
        "--table",
        table,
        "--no-parquet",
        "--summary",
        "s.json",
        "--chunk-rows",
        "25",
    )
    score(trained_project, tmp_path, *args)
    score(trained_project, tmp_path, *args)
    got = read_sql(postgres_url, f"SELECT * FROM {table} ORDER BY row_id")
    want = expected_predictions(trained_model_dir, scoring_input).sort_values("row_id")
    assert got["row_id"].tolist() == want["row_id"].tolist()
    assert got["prediction"].tolist() == want["prediction"].tolist()
    rejects = read_sql(postgres_url, f"SELECT input_row, reason FROM {table}_rejects")
    assert dict(zip(rejects["input_row"], rejects["reason"], strict=True)) == BAD_ROWS
    keys = read_sql(
        postgres_url,
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON "
        "a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indisprimary "
        f"AND i.indrelid = '{table}'::regclass",
    )
    assert set(keys["attname"]) == {"row_id", "model_version"}


def test_missing_feature_column_is_a_clear_error(trained_project, tmp_path):
    df = pd.read_parquet(trained_project / "data/prepared/test.parquet")
    df.drop(columns=["target", "worst_area"]).to_parquet(tmp_path / "in.parquet")
    proc = score(
        trained_project,
        tmp_path,
        "--input",
        str(tmp_path / "in.parquet"),
        "--no-db",
        "--parquet",
        "out",
        check=False,
    )
    assert proc.returncode == 3  # a data error (README: exit codes)
    assert "worst_area" in proc.stderr
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_unknown_model_path_names_the_reference(trained_project, tmp_path):
    proc = run(
        [
            str(BIN / "pr2prod"),
            "score",
            "--params",
            str(trained_project / "params.yaml"),
            "--model",
            "nowhere/model",
            "--no-db",
        ],
        tmp_path,
        check=False,
    )
    assert proc.returncode == 3
    assert "nowhere/model" in proc.stderr


def test_existing_table_of_another_shape_is_refused_and_nothing_half_written(
    trained_project, scoring_input, tmp_path
):
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE predictions (row_id INTEGER, other TEXT)"))
    engine.dispose()
    proc = score(
        trained_project,
        tmp_path,
        "--input",
        str(scoring_input),
        "--db",
        url,
        "--parquet",
        "out",
        check=False,
    )
    assert proc.returncode == 3
    assert "'predictions' exists with columns other, row_id" in proc.stderr
    assert not (tmp_path / "out").exists()
