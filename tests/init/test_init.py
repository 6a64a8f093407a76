"""``pr2prod init``: a new project from the packaged copier template.

Runs the real CLI, git, DVC, copier and the generated project's own pipeline; nothing is
mocked. The generated ``pyproject.toml`` depends on ``pr2prod==<this version>``; it is not
installed again here: the tests run the venv's pr2prod (this source tree), which is that
version. The default project's walk (shape, ``dvc repro``, its own tests) is in
tests/init/test_wheel.py, from a wheel built in the test; this module keeps the file-source
project and init's refusals.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from _project import BIN, experiments, run
from pr2prod.cli import app
from pr2prod.config.trust import load_trust_policy
from pr2prod.errors import EXIT_USAGE

pytestmark = [pytest.mark.e2e]

PR2PROD = str(BIN / "pr2prod")


def _init(where: Path, *args: str) -> Path:
    run([PR2PROD, "init", "proj", *args], where, timeout=240)  # copier + git + dvc: ~10 s of CPU
    return where / "proj"


def _penguin_like(path: Path, n: int = 240) -> set[str]:
    """A multiclass CSV unlike the example's: three species, a categorical island, a year
    (small integers), a sex with gaps. Returns its columns."""
    import numpy as np

    rng = np.random.default_rng(7)
    species = rng.choice(["Adelie", "Chinstrap", "Gentoo"], n)
    shift = pd.Series(species).map({"Adelie": 0.0, "Chinstrap": 1.0, "Gentoo": 2.0}).to_numpy()
    frame = pd.DataFrame(
        {
            "id": np.arange(n),
            "bill_length": 40 + 5 * shift + rng.normal(0, 1.5, n),
            "flipper": 190 + 12 * shift + rng.normal(0, 4, n),
            "island": np.where(shift == 2, "Biscoe", rng.choice(["Dream", "Torgersen"], n)),
            "year": rng.choice([2007, 2008, 2009], n),
            "sex": rng.choice(["male", "female", None], n, p=[0.48, 0.48, 0.04]),
            "species": species,
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return set(frame.columns)


@pytest.mark.slow
@pytest.mark.e2e
def test_init_with_a_file_source_renders_its_answers(tmp_path: Path) -> None:
    remote = tmp_path / "store"
    project = _init(
        tmp_path,
        "--defaults",
        "--data-source",
        "file",
        "--target",
        "species",
        "--id-column",
        "id",
        "--task",
        "multiclass",
        "--model",
        "random_forest",
        "--package-name",
        "team_models",
        "--remote",
        str(remote),
    )
    data = yaml.safe_load((project / "conf/data/project.yaml").read_text())
    assert data["source"] == "file"
    assert data["path"] == "data/raw/data.csv"
    assert (data["target"], data["id_column"], data["task"]) == ("species", "id", "multiclass")
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert params["model"]["name"] == "random_forest"
    assert "team_models." in load_trust_policy(project).allowed_targets
    assert (project / "src/team_models/models.py").is_file()
    assert f"url = {remote}" in (project / ".dvc/config").read_text()
    run([PR2PROD, "check"], project)
    # the README names the Python the package requires
    assert 'requires-python = ">=3.11,<3.12"' in (project / "pyproject.toml").read_text()
    assert "python3.11 -m venv .venv" in (project / "README.md").read_text()
    assert "python -m venv" not in (project / "README.md").read_text()

    # the team's own multiclass data through the pipeline: nothing of the example's data
    # (breast-cancer slices, regression metrics) reaches its gate reports
    columns = _penguin_like(project / "data/raw/data.csv")
    run(["dvc", "add", "data/raw/data.csv"], project)  # as docs/adopting.md says
    gate = yaml.safe_load((project / "params.yaml").read_text())["gate"]
    assert gate["slices"] == {} and set(gate["metrics"]).isdisjoint({"rmse", "r2", "mae"})
    run(["dvc", "repro"], project, timeout=900)
    report = json.loads((project / "reports/gate.json").read_text())
    mentioned = json.dumps(report) + (project / "reports/gate.md").read_text()
    for leaked in ("mean_radius", "tumour", "rmse", "r2:", "slice:"):
        assert leaked not in mentioned, leaked
    named = {c.get("column") for c in report.get("checks", []) if c.get("column")}
    assert named <= columns
    # `pytest -m differential` (docs/gate.md) is a known marker there and runs the gate's checks
    tests = run(
        [str(BIN / "python"), "-m", "pytest", "-m", "differential", "-q", "-p", "no:cacheprovider"],
        project,
        timeout=600,
    ).stdout
    assert re.search(r"\d+ (passed|skipped)", tests), tests

    # docs/adopting.md's first release: commit to main, push, release; no gate re-run
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "first model"], project)
    run(["dvc", "push"], project, timeout=300)
    released = run([PR2PROD, "release"], project, timeout=300).stdout
    assert "released proj@v1.0.0" in released and "the first version in prod" in released
    assert "None" not in released

    # docs/adopting.md step 7: a failing experiment is recorded, and the workspace is as it was
    weak = ["-S", "model.n_estimators=1", "-S", "model.max_depth=1"]
    run(["dvc", "exp", "run", "--temp", "-n", "weak-forest", *weak], project, timeout=900)
    assert run(["git", "status", "--porcelain"], project).stdout == ""
    verdicts = {name: e["gate"].get("passed") for name, e in experiments(project).items()}
    assert verdicts == {"weak-forest": 0}, verdicts  # recorded, with its FAIL


BAD_ANSWERS = [
    (["--package-name", "Team-Models"], "package_name (--package-name)"),
    (["--package-name", "sklearn"], "is reserved"),
    (["--data-source", "titanic"], "breast_cancer, wine, diabetes, iris, file"),
    (["--task", "regression"], "breast_cancer is a binary data set, not regression"),
    (["--model", "ridge"], "'ridge' cannot learn a binary task"),
    (["--model", "xgboost"], "model (--model): 'xgboost' is not one of"),
    (["--data-source", "diabetes", "--model", "random_forest"], "cannot learn a regression"),
    (["--remote", "gs://bucket/x"], "only s3:// URLs and directories"),
    (["--remote", "s3://A_Bucket"], "is not s3://<bucket>[/prefix]"),
    (["--id-column", "target"], "is the target column"),
    (["--target", "my target"], "target (--target): 'my target'"),
    (["--data-path", "x.csv"], "only for --data-source file"),
    (["--data-source", "file", "--data-path", "../outside.csv"], "relative path inside"),
]


@pytest.mark.parametrize(("args", "message"), BAD_ANSWERS)
def test_an_invalid_answer_is_a_usage_error_and_writes_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    dest = tmp_path / "proj"
    result = CliRunner().invoke(app, ["init", str(dest), "--defaults", *args])
    assert result.exit_code == EXIT_USAGE, result.output
    assert message in result.output, result.output
    assert not dest.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_non_empty_directory_is_refused_and_left_alone(tmp_path: Path) -> None:
    dest = tmp_path / "proj"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    result = CliRunner().invoke(app, ["init", str(dest), "--defaults"])
    assert result.exit_code == EXIT_USAGE
    assert re.search(r"exists and is not an empty directory", result.output)
    assert [p.name for p in dest.iterdir()] == ["notes.txt"]


def test_without_a_terminal_init_asks_for_defaults(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["init", str(tmp_path / "proj")])
    assert result.exit_code == EXIT_USAGE
    assert "pass --defaults" in result.output
    assert not (tmp_path / "proj").exists()
