"""Files holding scored rows are owner-only whatever the umask; aggregates keep the umask's (unit).

``score_table`` (the domain function behind ``pr2prod score``) runs on a small table with a
real fitted model, under a permissive umask and under none, then the modes are read back:
the Parquet directory ``0o700`` and its files ``0o600``, a SQLite warehouse the sink created
``0o600``, a warehouse someone else made left as it was, and the summary JSON (counts only)
the umask's ``0o666`` minus it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from _models import fit_binary_artifact
from pr2prod.batch.parquet_sink import PREDICTIONS_FILE, REJECTS_FILE
from pr2prod.batch.run import ScoreTargets, score_table
from pr2prod.fsio import atomic_dir, write_json
from pr2prod.models.persist import LoadedModel

pytestmark = [pytest.mark.unit]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    """A real fitted pipeline on a small numeric table with an id column."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"row_id": np.arange(60), "x": rng.normal(size=60)})
    df["y"] = (df["x"] > 0).astype(int)
    dest = tmp_path_factory.mktemp("private") / "model"
    return fit_binary_artifact(df.iloc[:40], df.iloc[40:], "y", "row_id", dest, "private-test")


@pytest.fixture
def table(tmp_path: Path) -> Path:
    """Input rows, one of them rejected (so both Parquet files hold rows)."""
    path = tmp_path / "input.csv"
    frame = pd.DataFrame({"row_id": range(10), "x": [0.5, -1.0, None, *range(7)]})
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(params=[0o022, 0o000], ids=["umask-022", "umask-000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """The process umask for the test (put back after)."""
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def test_scored_parquet_and_a_new_sqlite_warehouse_are_owner_only(
    model: LoadedModel, table: Path, tmp_path: Path, umask: int
) -> None:
    out, db = tmp_path / "scored", tmp_path / "warehouse.sqlite"
    targets = ScoreTargets(database_url=f"sqlite:///{db}", parquet_dir=out)
    summary = score_table(model, table, targets, chunk_rows=4, progress=False)
    assert summary.rows_scored == 9 and summary.rows_rejected == 1
    assert mode(out) == 0o700
    assert sorted(p.name for p in out.iterdir()) == sorted([PREDICTIONS_FILE, REJECTS_FILE])
    assert {p.name: mode(p) for p in out.iterdir()} == {
        PREDICTIONS_FILE: 0o600,
        REJECTS_FILE: 0o600,
    }
    assert len(pd.read_parquet(out / PREDICTIONS_FILE)) == 9
    assert mode(db) == 0o600
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM predictions")).scalar_one() == 9
    engine.dispose()
    report = tmp_path / "reports/score.json"  # counts only: the umask's mode
    write_json(report, summary.to_dict())
    assert mode(report) == 0o666 & ~umask


def test_an_existing_warehouse_keeps_its_mode(
    model: LoadedModel, table: Path, tmp_path: Path
) -> None:
    db = tmp_path / "shared.sqlite"
    engine = sa.create_engine(f"sqlite:///{db}")
    pd.DataFrame({"a": [1]}).to_sql("other", engine, index=False)  # someone else's database
    engine.dispose()
    db.chmod(0o644)
    score_table(model, table, ScoreTargets(database_url=f"sqlite:///{db}"), progress=False)
    assert mode(db) == 0o644


def test_a_private_atomic_dir_makes_everything_written_in_it_owner_only(
    tmp_path: Path, umask: int
) -> None:
    """The Ray engine's layout: parts in subdirectories, written by pyarrow."""
    target = tmp_path / "scored"
    with atomic_dir(target, private=True) as tmp:
        parts = tmp / PREDICTIONS_FILE
        parts.mkdir()
        pd.DataFrame({"a": [1]}).to_parquet(parts / "part-00000.parquet")
        (tmp / "note.txt").write_text("rows")
    assert mode(target) == 0o700 and mode(target / PREDICTIONS_FILE) == 0o700
    assert mode(target / PREDICTIONS_FILE / "part-00000.parquet") == 0o600
    assert mode(target / "note.txt") == 0o600
    with atomic_dir(tmp_path / "plots") as tmp:  # not private: the umask's modes
        (tmp / "a.png").write_bytes(b"png")
    assert mode(tmp_path / "plots") == 0o777 & ~umask
    assert mode(tmp_path / "plots/a.png") == 0o666 & ~umask
