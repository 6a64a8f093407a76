"""This repository dogfoods the template: rendered with this repository's answers, the
template gives this repository's own files, up to a short, explicit list of differences.

Each ``_as_generated_*`` function below is the whole list for one file: what a generated
project does differently from this repository (which is also the framework's source). A
change to a workflow, the Makefile, the hooks, ``.dvc/config``, ``dvc.yaml`` or ``conf/`` on
either side only, and this test fails: the example project and the template cannot drift.
"""

from __future__ import annotations

import re
from pathlib import Path

import copier
import pytest
import yaml

from pr2prod import __version__
from pr2prod.init import TEMPLATE_DIR

pytestmark = [pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "example"  # the generated project's own package (this repository has pr2prod)
ANSWERS = {
    "project_name": "pr2prod",
    "package_name": PACKAGE,
    "data_source": "breast_cancer",
    "model": "logistic_regression",
    "remote": "../pr2prod-dvc-remote",
    "pr2prod_version": __version__,
}
RELEASE = "conf/release/default.yaml"  # a project's model is named after the project
VERSION_DEP = "      - .pr2prod-version  # the framework, by version (pr2prod upgrade changes it)\n"
CODE_DEP_NOTE = (  # dvc.yaml's note on the framework's code as one dependency
    "# The framework's code is one dependency per stage (src/pr2prod, not the modules each stage\n"
    "# imports): a change anywhere in it reruns the pipeline, and `dvc exp show` has one column\n"
    '# for it (docs/reproducibility.md, "Reading `dvc exp show`").\n'
)
PACKAGE_DEP = f"      - src/{PACKAGE}  # this project's own estimators and transformers\n"
# Copied as they are: every workflow, the local actions and the act settings.
SAME = [
    *sorted(
        str(p.relative_to(ROOT))
        for p in (ROOT / ".github").rglob("*")
        if p.is_file() and p.name != "pr.yml"  # see test_pr_workflow
    ),
    ".actrc",
    ".dvc/config",
    ".dvcignore",
    ".secrets.baseline",
    "data/raw/README.md",
    "data/.gitignore",
    ".gitignore",
    ".ci/run",
]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("dogfood") / "pr2prod"
    copier.run_copy(str(TEMPLATE_DIR), str(dest), data=ANSWERS, defaults=True, quiet=True)
    return dest


@pytest.mark.parametrize("name", SAME)
def test_copied_files_are_this_repositorys(rendered: Path, name: str) -> None:
    assert (rendered / name).read_text() == (ROOT / name).read_text(), name


# A project's data lies on its DVC remote: in pr.yml these jobs read it with the key of the
# protected environment `pr-dvc-read`; this repository's data ships with it (no secret at all).
DATA_JOBS = {"reproduce", "gate"}


def test_pr_workflow_differs_only_where_a_project_reads_its_remote(rendered: Path) -> None:
    ours = yaml.safe_load((ROOT / ".github/workflows/pr.yml").read_text())
    theirs = yaml.safe_load((rendered / ".github/workflows/pr.yml").read_text())
    assert {k: v for k, v in theirs.items() if k != "jobs"} == {
        k: v for k, v in ours.items() if k != "jobs"
    }
    assert theirs["jobs"].keys() == ours["jobs"].keys()
    for name, job in ours["jobs"].items():
        if name not in DATA_JOBS:  # lint (the trust check included), build, report: the same
            assert theirs["jobs"][name] == job, name
            continue
        other = dict(theirs["jobs"][name])
        assert other.pop("environment") == "pr-dvc-read", name
        assert {k: v for k, v in other.items() if k != "steps"} == {
            k: v for k, v in job.items() if k != "steps"
        }, name
        assert [s.get("uses") for s in other["steps"]] == [s.get("uses") for s in job["steps"]]
    secrets = [name for name, job in theirs["jobs"].items() if "secrets." in yaml.safe_dump(job)]
    assert set(secrets) == DATA_JOBS  # the key goes to the jobs that read the remote only


def test_every_conf_option_is_this_repositorys(rendered: Path) -> None:
    ours = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "conf").rglob("*.yaml")
        if p.parent.name != "experiment"  # this repository's experiments stay here
    }
    extra = {"conf/data/project.yaml", "conf/model/example_pipeline.yaml"}
    theirs = {p.relative_to(rendered).as_posix() for p in (rendered / "conf").rglob("*.yaml")}
    assert theirs - extra == ours
    for name in sorted(ours - {"conf/config.yaml", RELEASE}):
        assert (rendered / name).read_text() == (ROOT / name).read_text(), name


def test_release_conf_names_the_model_after_the_project(rendered: Path) -> None:
    s = (ROOT / RELEASE).read_text()
    s = s.replace("model_name: pr2prod-model\n", f"model_name: {ANSWERS['project_name']}\n")
    assert (rendered / RELEASE).read_text() == s


def test_conf_config(rendered: Path) -> None:
    s = (ROOT / "conf/config.yaml").read_text()
    s = s.replace(
        "  - data: breast_cancer\n",
        "  - data: project           # conf/data/project.yaml: this project's data\n",
    )
    s = s.replace(  # this repository's experiments stay here: a project starts with none
        "conf/experiment/, e.g. experiment=rf_tuned\n",
        "conf/experiment/ (`pr2prod sweep` writes one)\n",
    )
    assert (rendered / "conf/config.yaml").read_text() == s


def test_dvc_yaml_tracks_the_framework_by_version(rendered: Path) -> None:
    out: list[str] = []
    stage = ""
    in_code = False
    for line in (ROOT / "dvc.yaml").read_text().splitlines(keepends=True):
        if m := re.match(r"^  (\w+):$", line):
            stage = m.group(1)
        if re.match(r"      - src/pr2prod(  #.*)?$", line.rstrip("\n")):
            if not in_code:
                out.append(VERSION_DEP)
                if stage in ("train", "evaluate", "gate", "package"):
                    out.append(PACKAGE_DEP)
            in_code = True
            continue
        in_code = False
        out.append(line)
    s = "".join(out).replace(CODE_DEP_NOTE, "")  # a project's framework dep is its version
    s = s.replace(
        "declares exactly the params.yaml keys it reads.\n",
        "declares exactly the params.yaml keys it reads. The\n# framework is a dependency by"
        " version: `.pr2prod-version` records the installed pr2prod, so\n# upgrading it reruns"
        f" the stages; src/{PACKAGE} is this project's own code.\n",
    )
    s = s.replace("  pr2prod-model:\n", f"  {ANSWERS['project_name']}:\n")  # the artifact
    # a project's Bento pins the framework by version (it has no lock of its own) and its
    # build context is its own package
    s = s.replace(
        "version digests: the\n  # model, bentofile.yaml, serve/acceptance, the lock and the build"
        " context src/ (its\n  # .py files; the stage also reruns for src/'s other files, giving"
        " the same tag).\n",
        "version digests.\n",
    )
    s = s.replace(
        "      - requirements/py3.11.lock  # the Bento's packages are pinned from it; its digest is"
        " in the version\n      - src  # the build context: the Bento carries it, its version"
        " digests it\n",
        VERSION_DEP + "      - src  # the build context: this project's package; the Bento's"
        " version digests it\n",
    )
    assert (rendered / "dvc.yaml").read_text() == s
    for name in ("pipelines/score/dvc.yaml", "pipelines/monitor/dvc.yaml"):
        ours = re.sub(
            r"      - src/pr2prod  #.*\n", "      - .pr2prod-version\n", (ROOT / name).read_text()
        )
        assert (rendered / name).read_text() == ours, name


def test_makefile(rendered: Path) -> None:
    s = (ROOT / "Makefile").read_text()
    s = s.replace(
        "\truff check src tests benchmarks\n\truff format --check src tests benchmarks\n"
        "\tlint-imports\n\tmypy src\n",
        "\truff check src tests\n\truff format --check src tests\n",
    )
    s = s.replace(
        "lint: ## ruff, import contracts, types, params in sync", "lint: ## ruff, params in sync"
    )
    s = re.sub(r"bench-serving: ##.*?\n\t.*?\n\n", "", s)
    s = re.sub(r"bench-data-scale: ##.*?\n\t.*?\n\n", "", s)
    s = re.sub(r"bench: ##.*?\n(\t.*\n)+\n", "", s)
    # this repository installs from its lock (requirements/) and writes it (`make lock`)
    s = s.replace("UPGRADE ?=\n", "")
    s = re.sub(r"# The lock: .*?\n\ninstall:", "install:", s, flags=re.S)
    s = re.sub(
        r"install: ##[^\n]*\n(\t[^\n]*\n)+\nlock: ##[^\n]*\n(\t[^\n]*\n)+\n",
        "install: ## install this project (and the pinned pr2prod) with every dev tool\n"
        '\t$(PY) -m pip install -e ".[dev]"\n\n',
        s,
    )
    s = s.replace(" test-e2e bench serve bench-serving score", " test-e2e serve score")
    assert (rendered / "Makefile").read_text() == s


def test_pre_commit_hooks(rendered: Path) -> None:
    s = (ROOT / ".pre-commit-config.yaml").read_text()
    s = s.replace(
        "files: ^(conf/|params\\.yaml$|src/pr2prod/config/)",
        "files: ^(conf/|params\\.yaml$|\\.pr2prod-version$)",
    )
    s = s[: s.index("      - id: import-contracts")]  # no import contracts in a project
    assert (rendered / ".pre-commit-config.yaml").read_text() == s


def test_a_regression_project_lists_the_regression_plots(tmp_path: Path) -> None:
    """dvc.yaml's `plots:` are the task's: no classification plot a regressor never writes."""
    from pr2prod.evaluate.plots import REGRESSION_PLOTS

    answers = {**ANSWERS, "data_source": "diabetes", "task": "regression", "model": "ridge"}
    dest = tmp_path / "regression"
    copier.run_copy(str(TEMPLATE_DIR), str(dest), data=answers, defaults=True, quiet=True)
    plots = yaml.safe_load((dest / "dvc.yaml").read_text())["plots"]
    listed = {Path(next(iter(p))).stem: next(iter(p.values())) for p in plots}
    assert listed == REGRESSION_PLOTS
