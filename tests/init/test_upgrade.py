"""``pr2prod upgrade`` (copier update): template A -> B keeps the team's edits.

Template A is the packaged template; B is A plus changes a new pr2prod would bring (a line in
a file the team also edited, and a new file). The project is made with A at version 0.0.1,
edited and committed, then upgraded to B at 0.0.2 through the real copier and git.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from _project import BIN, run
from pr2prod.init import TEMPLATE_DIR
from pr2prod.init.answers import Answers
from pr2prod.init.project import init_project
from pr2prod.init.upgrade import upgrade_project

PR2PROD = str(BIN / "pr2prod")


def _template_b(tmp_path: Path) -> Path:
    b = tmp_path / "template_b"
    shutil.copytree(TEMPLATE_DIR, b)
    config = b / "project/conf/config.yaml.jinja"
    config.write_text("# template B: a new first line\n" + config.read_text())
    robust = b / "project/conf/features/robust.yaml"
    standard = (b / "project/conf/features/standard.yaml").read_text()
    robust.write_text(
        standard.replace("name: standard", "name: robust").replace(
            "scaler: standard", "scaler: robust"
        )
    )
    return b


@pytest.mark.slow
def test_upgrade_a_to_b_keeps_conf_edits_and_still_reproduces(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    init_project(project, Answers(project_name="proj"), version="0.0.1")
    assert (project / ".pr2prod-version").read_text().strip() == "0.0.1"

    # the team's edits: a model setting and the seed (conf/config.yaml changes in B too)
    model_file = project / "conf/model/logistic_regression.yaml"
    model_file.write_text(model_file.read_text().replace("C: 1.0", "C: 0.5"))
    config = project / "conf/config.yaml"
    config.write_text(config.read_text().replace("seed: 42", "seed: 7"))
    run([PR2PROD, "compose"], project)
    run(["git", "commit", "-qam", "team: C=0.5, seed 7"], project)

    result = upgrade_project(project, version="0.0.2", template_dir=_template_b(tmp_path))

    assert result.conflicts == []
    assert "C: 0.5" in model_file.read_text()  # the edits survive
    merged = config.read_text()
    assert "seed: 7" in merged
    assert merged.startswith("# template B: a new first line\n")  # B's change, same file
    assert (project / "conf/features/robust.yaml").is_file()  # B's new file
    assert (project / ".pr2prod-version").read_text().strip() == "0.0.2"
    assert '"pr2prod==0.0.2"' in (project / "pyproject.toml").read_text()
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert (answers["_commit"], answers["pr2prod_version"]) == ("v0.0.2", "0.0.2")
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert (params["seed"], params["model"]["C"]) == (7, 0.5)
    run([PR2PROD, "check"], project)

    # still reproduces, and the version change reran every stage
    out = run(["dvc", "repro"], project, timeout=120).stdout
    assert "Running stage 'train'" in out and "Running stage 'package'" in out


@pytest.mark.slow
def test_a_conflicting_edit_is_marked_the_way_copier_does(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    init_project(project, Answers(project_name="proj"), version="0.0.1")
    b = _template_b(tmp_path)
    makefile = b / "project/Makefile"
    makefile.write_text(makefile.read_text().replace("PY ?= python", "PY ?= python3.11"))
    mine = project / "Makefile"
    mine.write_text(mine.read_text().replace("PY ?= python", "PY ?= .venv/bin/python"))
    run(["git", "commit", "-qam", "team: our python"], project)

    result = upgrade_project(project, version="0.0.2", template_dir=b)

    assert result.conflicts == ["Makefile"]
    text = mine.read_text()
    assert "<<<<<<< before updating" in text
    assert "PY ?= .venv/bin/python" in text and "PY ?= python3.11" in text


def test_upgrade_refuses_a_directory_init_did_not_make(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from pr2prod.cli import app

    result = CliRunner().invoke(app, ["upgrade", str(tmp_path)])
    assert result.exit_code == 2
    assert "no .copier-answers.yml" in result.output
