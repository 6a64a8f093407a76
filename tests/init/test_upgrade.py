"""``pr2prod upgrade`` (copier update): template A -> B keeps the team's edits.

Template A is the packaged template; B is A plus changes a new pr2prod would bring (a line in
a file the team also edited, and a new file). The project is made with A at version 0.0.1,
edited and committed, then upgraded to B at 0.0.2 through the real copier and git.
On a fresh machine (a new HOME: an empty template cache) the A template comes from the wheel of
pr2prod 0.0.1, built in the test from this source tree and served to pip from a directory.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from _project import BIN, run
from pr2prod import __version__
from pr2prod.init import TEMPLATE_DIR
from pr2prod.init.answers import Answers
from pr2prod.init.cache import CACHE_VAR, DEFAULT_CACHE, version_tag
from pr2prod.init.project import init_project
from pr2prod.init.upgrade import upgrade_project

pytestmark = [pytest.mark.e2e]

PR2PROD = str(BIN / "pr2prod")
ROOT = Path(__file__).resolve().parents[2]


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
    out = run(["dvc", "repro"], project, timeout=900).stdout
    assert "Running stage 'train'" in out and "Running stage 'package'" in out


def _wheel_of_this_source(version: str, wheels: Path, tmp_path: Path) -> Path:
    """This source tree (with its packaged template) built as the wheel of pr2prod ``version``."""
    src = tmp_path / f"pr2prod-{version}"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        text = (ROOT / name).read_text()
        if name == "pyproject.toml":
            assert f'version = "{__version__}"' in text
            text = text.replace(f'version = "{__version__}"', f'version = "{version}"', 1)
        (src / name).write_text(text)
    shutil.copytree(
        ROOT / "src/pr2prod", src / "src/pr2prod", ignore=shutil.ignore_patterns("__pycache__")
    )
    init = src / "src/pr2prod/__init__.py"
    init.write_text(init.read_text().replace(f'"{__version__}"', f'"{version}"'))
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "-q"),
            *("--no-deps", "--no-build-isolation", "--no-index", "-w", str(wheels), str(src)),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = wheels.glob(f"pr2prod-{version}-*.whl")
    return wheel


@pytest.mark.slow
def test_upgrade_on_a_fresh_machine_takes_the_old_template_from_its_wheel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CACHE_VAR)  # the default cache, under ~: what a team's machines have
    monkeypatch.setenv("HOME", str(tmp_path / "home-a"))
    project = tmp_path / "proj"
    init_project(project, Answers(project_name="proj"), version="0.0.1")
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert (answers["_src_path"], answers["_commit"]) == (DEFAULT_CACHE, "v0.0.1")
    model_file = project / "conf/model/logistic_regression.yaml"
    model_file.write_text(model_file.read_text().replace("C: 1.0", "C: 0.5"))
    run([PR2PROD, "compose"], project)
    run(["git", "commit", "-qam", "team: C=0.5"], project)

    # a teammate's machine: nothing cached; pip finds pr2prod 0.0.1 in the team's wheel index
    wheels = tmp_path / "wheels"
    _wheel_of_this_source("0.0.1", wheels, tmp_path)
    home_b = tmp_path / "home-b"
    monkeypatch.setenv("HOME", str(home_b))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    monkeypatch.setenv("PIP_CONFIG_FILE", str(tmp_path / "no-pip.conf"))

    result = upgrade_project(project, version="0.0.2", template_dir=_template_b(tmp_path))

    assert result.conflicts == []
    assert "C: 0.5" in model_file.read_text()  # the edit survives
    assert (project / "conf/config.yaml").read_text().startswith("# template B: a new first line")
    assert (project / "conf/features/robust.yaml").is_file()
    assert '"pr2prod==0.0.2"' in (project / "pyproject.toml").read_text()
    cache = Path(DEFAULT_CACHE.replace("~", str(home_b), 1))
    tags = run(["git", "tag"], cache).stdout.split()
    assert sorted(tags) == [version_tag("0.0.1"), version_tag("0.0.2")]
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert params["model"]["C"] == 0.5
    # the same upgraded tree as the test above, which runs its `dvc repro`; here the check
    # is that the composed config the pipeline would read is consistent (no second repro)
    run([PR2PROD, "check"], project)


def test_an_old_version_pip_cannot_get_is_refused_naming_the_way_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "proj"
    init_project(project, Answers(project_name="proj"), version="0.0.1")
    monkeypatch.setenv(CACHE_VAR, str(tmp_path / "empty-cache"))  # another machine
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "no-wheels"))
    monkeypatch.setenv("PIP_CONFIG_FILE", str(tmp_path / "no-pip.conf"))
    from pr2prod.errors import CheckFailedError

    with pytest.raises(
        CheckFailedError, match=r"(?s)pr2prod 0\.0\.1.*PIP_INDEX_URL / PIP_FIND_LINKS"
    ):
        upgrade_project(project, version="0.0.2", template_dir=_template_b(tmp_path))


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
