"""The data meets the config: a wrong task or a contradicted column type fails at prepare.

Stage tests run the real stages (`python -m pr2prod.stages <name>`) in a copy of the
project's conf/ with a composed params.yaml; nothing is mocked.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _project import BIN, ROOT, env
from pr2prod.config import ConfigError
from pr2prod.config.schema import DataConfig
from pr2prod.data.sources import load_table
from pr2prod.data.target import check_target
from pr2prod.models.persist import load_artifact


def _table(path: Path, n: int = 240) -> pd.DataFrame:
    """A table with a numeric column, a string column with missing values and a 0/1 label."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=n)
    color = rng.choice(np.array(["red", "green", "blue"], dtype=object), size=n)
    color[rng.random(n) < 0.15] = None
    y = ((x + np.where(color == "red", 1.0, 0.0)) > 0.4).astype(int)
    df = pd.DataFrame({"x": x, "color": color, "y": y})
    df.to_csv(path, index=False)
    return df


def _project(dest: Path, *overrides: str) -> Path:
    """conf/ + params.yaml composed with ``overrides`` + data/raw/t.csv, in ``dest``."""
    shutil.copytree(ROOT / "conf", dest / "conf")
    (dest / "data" / "raw").mkdir(parents=True)
    _table(dest / "data" / "raw" / "t.csv")
    subprocess.run(
        [str(BIN / "pr2prod"), "compose", "--reset", *overrides],
        cwd=dest,
        env=env(),
        check=True,
        capture_output=True,
    )
    return dest


def _stage(project: Path, name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pr2prod.stages", name],
        cwd=project,
        env=env(),
        capture_output=True,
        text=True,
        check=False,
    )


FILE = ("data=file", "data.path=data/raw/t.csv", "data.target=y")


@pytest.mark.parametrize(
    ("values", "task", "message"),
    [
        (
            [0, 1, 2, 1, 0],
            "binary",
            r"'binary' needs exactly 2 classes.*has 3 \(0, 1, 2\).*multiclass",
        ),
        ([1, 1, 1], "binary", r"'binary' needs exactly 2 classes.*has 1 \(1\)"),
        (["a", "b", "a"], "multiclass", r"'multiclass' needs 3 or more.*has 2.*data\.task=binary"),
        ([0.5, 1.25, 3.0], "multiclass", r"fractional numbers.*data\.task=regression"),
        (["low", "high", "low"], "regression", r"'regression' needs a numeric target.*'high'"),
    ],
)
def test_a_target_that_contradicts_the_task_is_a_config_error(
    values: list[object], task: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=rf"^data\.task: .*{message}"):
        check_target(pd.Series(values, name="label"), task)


@pytest.mark.parametrize(
    ("values", "task"),
    [
        ([0, 1, 1, None], "binary"),
        (["a", "b", "c"], "multiclass"),
        ([1.0, 2.0, 3.0, 2.0], "multiclass"),  # integral floats are class labels
        ([0.5, 1.25, 3], "regression"),
    ],
)
def test_a_target_that_fits_the_task_passes(values: list[object], task: str) -> None:
    check_target(pd.Series(values, name="label"), task)


@pytest.mark.integration
def test_wrong_task_fails_at_prepare_and_writes_nothing(tmp_path: Path) -> None:
    """`task: binary` on iris (3 classes) stops at the first stage that sees the data."""
    project = _project(tmp_path / "p", "data.dataset=iris", "data.task=binary")
    proc = _stage(project, "prepare")
    assert proc.returncode == 2, proc.stderr
    assert "[prepare] config error: data.task: 'binary' needs exactly 2 classes" in proc.stderr
    assert "column 'target' has 3 (0, 1, 2); use data.task=multiclass" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (project / "data" / "prepared").exists()


@pytest.mark.integration
def test_numeric_declared_on_a_string_column_is_a_config_error(tmp_path: Path) -> None:
    table = _table(tmp_path / "t.csv")
    cfg = DataConfig(
        name="t",
        source="file",
        task="binary",
        path=str(tmp_path / "t.csv"),
        target="y",
        column_types={"color": "numeric"},
    )
    with pytest.raises(ConfigError) as err:
        load_table(cfg)
    n_bad = int(table["color"].notna().sum())
    assert str(err.value).startswith(
        f"data.column_types.color: declared numeric, but column 'color' holds {n_bad} "
        "non-numeric value(s)"
    )
    # at the stage: a config error, not a traceback
    project = _project(tmp_path / "p", *FILE, "+data.column_types.color=numeric")
    proc = _stage(project, "prepare")
    assert proc.returncode == 2
    assert "[prepare] config error: data.column_types.color: declared numeric" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_column_types_entry_for_a_missing_column_lists_the_columns(tmp_path: Path) -> None:
    _table(tmp_path / "t.csv")
    cfg = DataConfig(
        name="t",
        source="file",
        task="binary",
        path=str(tmp_path / "t.csv"),
        target="y",
        column_types={"colour": "categorical"},
    )
    with pytest.raises(ConfigError, match=r"data\.column_types\.colour: .*columns: x, color, y"):
        load_table(cfg)


def _train(project: Path) -> None:
    for name in ("prepare", "validate", "train"):
        proc = _stage(project, name)
        assert proc.returncode == 0, f"{name}\n{proc.stdout}\n{proc.stderr}"


@pytest.mark.integration
def test_declared_categorical_with_missing_values_trains_like_auto_detected(
    tmp_path: Path,
) -> None:
    declared = _project(tmp_path / "declared", *FILE, "+data.column_types.color=categorical")
    auto = _project(tmp_path / "auto", *FILE)
    _train(declared)
    _train(auto)
    models = {p.name: load_artifact(p / "models" / "model") for p in (declared, auto)}
    color = models["declared"].schema.feature("color")
    assert color.kind == "categorical" and color.nullable
    assert color == models["auto"].schema.feature("color")
    test = pd.read_parquet(declared / "data" / "prepared" / "test.parquet")
    assert test["color"].isna().any()  # the test rows include missing colours
    x = test[models["declared"].schema.feature_names]
    proba = {name: m.pipeline.predict_proba(x) for name, m in models.items()}
    np.testing.assert_array_equal(proba["declared"], proba["auto"])
