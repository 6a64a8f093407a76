"""Numbers with a known domain are checked at compose: exit 2 naming the key and the range,
params.yaml untouched (issue 20, item 5)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pr2prod.cli import app
from pr2prod.config.compose import reconcile

pytestmark = [pytest.mark.unit]
ROOT = Path(__file__).resolve().parents[2]

CASES = [
    (["split.test_size=1.5"], r"split\.test_size: 1\.5 is outside its range \(0 < value < 1\)"),
    (["model.C=-1"], r"model\.C: Input should be greater than 0"),
    (
        ["model=random_forest", "model.n_estimators=0"],
        r"model\.n_estimators: Input should be greater than or equal to 1",
    ),
    (
        ["model=hist_gradient_boosting", "model.learning_rate=0"],
        r"model\.learning_rate: Input should be greater than 0",
    ),
    (["features.polynomial_degree=9"], r"features\.polynomial_degree: 9 is outside its range"),
]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(ROOT / "conf", tmp_path / "conf")
    shutil.copy2(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    monkeypatch.chdir(tmp_path)
    reconcile(tmp_path / "conf", tmp_path / "params.yaml")
    return tmp_path


@pytest.mark.parametrize(("overrides", "message"), CASES)
def test_a_value_outside_its_range_is_refused_at_compose(
    project: Path, overrides: list[str], message: str
) -> None:
    import re

    before = (project / "params.yaml").read_bytes()
    result = CliRunner().invoke(app, ["compose", *overrides])
    assert result.exit_code == 2, result.output
    assert re.search(message, result.output), result.output
    assert (project / "params.yaml").read_bytes() == before


def test_values_inside_their_range_compose(project: Path) -> None:
    result = CliRunner().invoke(app, ["compose", "split.test_size=0.3", "model.C=0.1"])
    assert result.exit_code == 0, result.output
    assert "test_size: 0.3" in (project / "params.yaml").read_text()
