"""``pip install pr2prod`` from a wheel built here, then ``pr2prod init`` from that install.

The wheel is built in the test from a copy of the package sources (``pip wheel``, no build
isolation: the build backend is this environment's setuptools) and installed into a new
virtual environment that does not see this source tree: its site-packages gets a ``.pth``
line naming this environment's site-packages, for the dependencies only (``.pth`` files
there, such as the editable install of this checkout, are not processed through it), and
``PYTHONPATH`` is unset. The console scripts the projects call (dvc, pytest, bentoml) are
re-pointed at the new interpreter, so every ``python -m pr2prod.stages ...`` DVC runs and
every server imports the wheel's pr2prod.

From that install: a project with the defaults, and one with a file data source and the
team's own estimator + transformer (``src/<package>/``) in the pipeline. Each runs its own
``dvc repro`` and its own tests (``make test``: every tier, a unit and an integration test, on
two xdist workers). The
custom model is packaged into a Bento and served over HTTP (``pr2prod serve`` and the Bento
itself); an artifact holding a class from a package outside ``allowed_targets`` is refused
before anything is unpickled.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import httpx
import pandas as pd
import pytest
import yaml

from _project import BIN, env
from _serving import HOST, Server, free_port
from pr2prod import __version__
from pr2prod.config.targets import project_packages
from pr2prod.config.trust import load_trust_policy
from pr2prod.errors import EXIT_DATA
from pr2prod.init import TEMPLATE_DIR
from pr2prod.init.cache import CACHE_VAR
from pr2prod.release.equivalence import compare_models

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("init_wheel")]

ROOT = Path(__file__).resolve().parents[2]
#: What a wheel build reads: the package metadata, its readme and the package itself.
SOURCES = ("pyproject.toml", "README.md", "src")
#: Console scripts the projects call, re-pointed at the new environment's interpreter.
TOOLS = ("dvc", "pytest", "bentoml")
STAGES = ("compose", "prepare", "validate", "train", "evaluate", "gate", "package")
#: What the init issue lists as the shape of a project.
GENERATED = (
    "conf/config.yaml",
    "conf/data/project.yaml",
    "conf/model/example_pipeline.yaml",
    "params.yaml",
    "dvc.yaml",
    ".pr2prod-version",
    "pipelines/score/dvc.yaml",
    "pipelines/monitor/dvc.yaml",
    ".github/workflows/pr.yml",
    ".github/workflows/release.yml",
    ".github/act-stubs/setup-python/action.yml",
    ".actrc",
    "tests/test_project.py",
    "bentofile.yaml",
    "Makefile",
    ".pre-commit-config.yaml",
    ".dvc/config",
    "README.md",
    "pyproject.toml",
    ".copier-answers.yml",
)
SPECIES = ("setosa", "versicolor", "virginica")
PACKAGE = "team_models"
PIP = (sys.executable, "-m", "pip")
INIT_FILE_SOURCE = (
    *("pr2prod", "init", "proj", "--defaults", "--data-source", "file", "--target", "species"),
    *("--id-column", "id", "--task", "multiclass", "--package-name", PACKAGE),
)
#: Template files under dot-directories or named with a dot (setuptools' globs skip those).
DOTTED = (
    ".github/workflows/pr.yml",
    ".github/act-stubs/setup-python/action.yml",
    ".dvc/config.jinja",
    ".actrc",
    ".ci/run",
    ".gitignore",
    "data/.gitignore",
)


def all_passed(out: str, least: int = 2) -> None:
    """The generated project's suite: at least ``least`` tests passed (its own two, and the
    differential checks, which run or skip by what production holds), nothing failed."""
    summary = re.search(r"=+ (.*) in [\d.]+s", out)
    assert summary, out
    passed = re.search(r"(\d+) passed", summary.group(1))
    assert passed and int(passed.group(1)) >= least, out
    assert "failed" not in summary.group(1) and "error" not in summary.group(1), out


@dataclass(frozen=True)
class Wheel:
    path: Path
    build_tree: Path
    seconds: float


@dataclass(frozen=True)
class Install:
    """A fresh virtual environment holding the wheel's pr2prod."""

    venv: Path
    env: dict[str, str]

    @property
    def python(self) -> str:
        return str(self.venv / "bin" / "python")

    def run(
        self,
        args: list[str],
        cwd: Path,
        timeout: float = 600,
        extra: dict[str, str] | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        e = {**self.env, **(extra or {})}
        proc = subprocess.run(
            args, cwd=cwd, env=e, capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} exited {proc.returncode}\n--- stdout\n{proc.stdout}\n"
                f"--- stderr\n{proc.stderr}"
            )
        return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Wheel:
    tree = tmp_path_factory.mktemp("wheel_build") / "pr2prod"
    tree.mkdir()
    for name in SOURCES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(
                src, tree / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
            )
        else:
            shutil.copy2(src, tree / name)
    out = tree.parent / "dist"
    started = time.perf_counter()
    proc = subprocess.run(
        [*PIP, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(tree)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    seconds = time.perf_counter() - started
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (path,) = out.glob("pr2prod-*.whl")
    print(f"wheel {path.name}: {path.stat().st_size} bytes, built in {seconds:.1f}s")
    return Wheel(path, tree, seconds)


@pytest.fixture(scope="module")
def install(wheel: Wheel, tmp_path_factory: pytest.TempPathFactory) -> Install:
    base = tmp_path_factory.mktemp("wheel_venv")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = sysconfig.get_paths()
    deps = dict.fromkeys([ours["purelib"], ours["platlib"]])  # the dependencies, not pr2prod
    (Path(site) / "_pr2prod_test_deps.pth").write_text("\n".join(deps) + "\n")
    for tool in TOOLS:
        lines = (BIN / tool).read_text().splitlines(keepends=True)
        assert lines[0].startswith("#!"), f"{BIN / tool} is not a Python console script"
        script = venv / "bin" / tool
        script.write_text(f"#!{python}\n" + "".join(lines[1:]))
        script.chmod(0o755)
    e = env()
    keep = [
        d
        for d in e["PATH"].split(os.pathsep)
        if d and Path(d).resolve() != BIN.resolve() and not (Path(d) / "pr2prod").exists()
    ]
    e["PATH"] = os.pathsep.join([str(venv / "bin"), *keep])
    e["VIRTUAL_ENV"] = str(venv)
    e[CACHE_VAR] = str(base / "template-cache")
    # a store of its own: the default project's artifact is byte-identical to this
    # repository's, and the first import of an artifact fixes its model-store labels
    e["BENTOML_HOME"] = str(base / "bentoml")
    e["PYTHONPATH"] = ""  # empty is unset for Python, and overrides an inherited one
    for var in ("PYTHONHOME", "PYTHONSTARTUP"):
        e.pop(var, None)
    installed = Install(venv, e)
    installed.run(
        [
            *PIP,
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel.path),
        ],
        base,
        timeout=300,
    )
    return installed


def test_the_wheel_holds_the_library_the_cli_and_the_template(wheel: Wheel) -> None:
    dist_info = f"pr2prod-{__version__}.dist-info"
    with zipfile.ZipFile(wheel.path) as archive:
        names = set(archive.namelist())
        entry_points = archive.read(f"{dist_info}/entry_points.txt").decode()
        contents = {name: archive.read(name) for name in names}
    assert {n.split("/")[0] for n in names} == {"pr2prod", dist_info}
    for module in (
        "pr2prod/__init__.py",
        "pr2prod/py.typed",
        "pr2prod/cli/__init__.py",
        "pr2prod/stages/__main__.py",
        "pr2prod/serving/service.py",
        "pr2prod/init/project.py",
    ):
        assert module in names, module
    assert "pr2prod = pr2prod.cli:app" in entry_points
    # every template file, dot-files and dot-directories included, with nothing else beside
    template = {
        f"pr2prod/template/{p.relative_to(TEMPLATE_DIR).as_posix()}"
        for p in TEMPLATE_DIR.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert template <= names, sorted(template - names)
    assert {n for n in names if n.startswith("pr2prod/template/")} == template
    for dotted in DOTTED:
        assert f"pr2prod/template/project/{dotted}" in names, dotted
    assert not [n for n in names if n.endswith((".pyc", ".egg-info"))]
    # nothing in it names this checkout or the tree it was built from
    for name, data in contents.items():
        for path in (str(ROOT), str(wheel.build_tree)):
            assert path.encode() not in data, f"{name} names {path}"


def test_the_installed_pr2prod_is_the_wheels(install: Install, tmp_path: Path) -> None:
    probe = (
        "import importlib.metadata, json, pr2prod, pr2prod.init; print(json.dumps(["
        "pr2prod.__file__, str(pr2prod.init.TEMPLATE_DIR), importlib.metadata.version('pr2prod')"
        "]))"
    )
    where, template, version = json.loads(
        install.run([install.python, "-c", probe], tmp_path).stdout
    )
    assert Path(where).is_relative_to(install.venv), where
    assert Path(template).is_relative_to(install.venv), template
    assert not Path(where).is_relative_to(ROOT)
    assert version == __version__
    assert shutil.which("pr2prod", path=install.env["PATH"]) == str(install.venv / "bin/pr2prod")
    assert "init" in install.run(["pr2prod", "--help"], tmp_path).stdout


def _timed(install: Install, args: list[str], cwd: Path, **kw: object) -> str:
    started = time.perf_counter()
    out = install.run(args, cwd, **kw).stdout  # type: ignore[arg-type]
    print(f"{' '.join(args[:3])}: {time.perf_counter() - started:.1f}s")
    return out


def _ran(output: str) -> list[str]:
    return [ln.split("'")[1] for ln in output.splitlines() if ln.startswith("Running stage '")]


def test_init_with_defaults_reproduces_and_passes_its_own_tests(
    install: Install, tmp_path: Path
) -> None:
    """The default project from the wheel: its shape, its pipeline, its own tests.

    (It replaced tests/init/test_init.py's default-project walk, which did the same from
    this source tree: its shape checks are here, and its custom-transformer leg is the
    file-source project's, below.)
    """
    _timed(install, ["pr2prod", "init", "proj", "--defaults"], tmp_path, timeout=300)
    project = tmp_path / "proj"
    for name in GENERATED:
        assert (project / name).is_file(), name
    assert (project / "src/proj/transformers.py").is_file()
    # one commit, nothing left over
    assert install.run(["git", "status", "--porcelain"], project).stdout == ""
    assert "pr2prod init" in install.run(["git", "log", "--format=%s"], project).stdout
    # the framework is tracked by version, not by this repository's source paths
    assert (project / ".pr2prod-version").read_text().strip() == __version__
    dvc_yaml = (project / "dvc.yaml").read_text()
    assert "src/pr2prod" not in dvc_yaml
    stages = yaml.safe_load(dvc_yaml)["stages"]
    assert set(stages) == set(STAGES)
    assert all(".pr2prod-version" in s["deps"] for s in stages.values())
    assert f'"pr2prod=={__version__}"' in (project / "pyproject.toml").read_text()
    params = yaml.safe_load((project / "params.yaml").read_text())
    policy = load_trust_policy(project)  # the trust policy is pyproject.toml, not params.yaml
    assert "proj." in policy.allowed_targets and "allowed_targets" not in params
    assert params["data"]["dataset"] == "breast_cancer"
    assert params["model"]["name"] == "logistic_regression"
    assert os.access(project / ".ci" / "run", os.X_OK)  # modes survive the wheel
    assert "url = ../../proj-dvc-remote" in (project / ".dvc/config").read_text()
    install.run(["pr2prod", "check"], project)

    out = _timed(install, ["dvc", "repro"], project)
    assert _ran(out) == list(STAGES)
    assert json.loads((project / "metrics/metrics.json").read_text())["roc_auc"] > 0.9
    assert json.loads((project / "reports/bento.json").read_text())["bento_tag"]
    assert "up to date" in install.run(["dvc", "status", "dvc.yaml"], project).stdout

    tests = _timed(install, ["make", "test"], project)  # every tier, on two workers
    all_passed(tests)


@dataclass(frozen=True)
class FileProject:
    root: Path
    src_env: dict[str, str]  # the team's src/ importable (what `make install` gives a team)
    row: dict[str, object]  # one row of its data, as a request record


@pytest.fixture(scope="module")
def file_project(install: Install, tmp_path_factory: pytest.TempPathFactory) -> FileProject:
    """A file-source project on iris, trained with the team's own estimator, packaged."""
    where = tmp_path_factory.mktemp("file_project")
    _timed(
        install,
        [*INIT_FILE_SOURCE, "--remote", str(where / "store")],
        where,
        timeout=120,
    )
    project = where / "proj"
    data = project / "data/raw/data.csv"
    make_data = (
        "import sys\nfrom sklearn.datasets import load_iris\n"
        "df = load_iris(as_frame=True).frame\n"
        "df.columns = [c.replace(' (cm)', '').replace(' ', '_') for c in df.columns]\n"
        f"df['species'] = df.pop('target').map(dict(enumerate({list(SPECIES)!r})))\n"
        "df.insert(0, 'id', range(1000, 1000 + len(df)))\n"
        "df.to_csv(sys.argv[1], index=False)\n"
    )
    install.run([install.python, "-c", make_data, str(data)], project)
    install.run(["dvc", "add", "-q", str(data.relative_to(project))], project)
    install.run(["git", "add", "-A"], project)
    install.run(["git", "commit", "-qm", "data: iris"], project)
    src_env = {"PYTHONPATH": str(project / "src")}
    install.run(["pr2prod", "compose", "model=example_pipeline"], project, extra=src_env)
    out = _timed(install, ["dvc", "repro"], project, extra=src_env)
    assert _ran(out) == list(STAGES), out
    assert "example_pipeline fitted" in out
    header, first = data.read_text().splitlines()[:2]
    row: dict[str, object] = {
        k: (v if k == "species" else float(v) if "." in v else int(v))
        for k, v in zip(header.split(","), first.split(","), strict=True)
    }
    return FileProject(project, src_env, row)


def test_a_file_source_project_trains_packages_and_tests_the_teams_model(
    install: Install, file_project: FileProject
) -> None:
    project = file_project.root
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert f"{PACKAGE}." in load_trust_policy(project).allowed_targets
    assert params["model"]["_target_"].startswith(f"{PACKAGE}.models.")
    meta = json.loads((project / "models/model/metadata.json").read_text())
    assert meta["model_name"] == "example_pipeline"
    bento = json.loads((project / "reports/bento.json").read_text())
    assert bento["model_tag"].startswith("example_pipeline:")
    tests = _timed(install, ["make", "test"], project)  # every tier, on two workers
    all_passed(tests)


def test_verify_repro_compares_the_teams_artifacts_only_with_the_teams_trust(
    file_project: FileProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    """verify-repro's numerical comparison loads both artifacts: the team's classes load only
    through the project's trust policy (its packages), never by default."""
    project = file_project.root
    monkeypatch.syspath_prepend(str(project / "src"))
    model = project / "models/model"
    test = pd.read_parquet(project / "data/prepared/test.parquet")
    with pytest.raises(Exception, match=rf"untrusted types: {PACKAGE}\."):
        compare_models(model, model, test, 1e-9)
    policy = load_trust_policy(project)
    same = compare_models(model, model, test, 1e-9, project_packages(policy.allowed_targets))
    assert same.equivalent and all(d.max_abs_delta == 0.0 for d in same.deltas)


def _predict(server: Server, row: dict[str, object]) -> dict[str, object]:
    record = {k: v for k, v in row.items() if k != "species"}
    try:
        server.wait_ready()
        reply = httpx.post(f"{server.base_url}/predict", json={"record": record}, timeout=60)
    finally:
        server.stop()
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def test_pr2prod_serve_answers_with_the_teams_model(
    install: Install, file_project: FileProject, tmp_path: Path
) -> None:
    port = free_port()
    cmd = ["pr2prod", "serve", "--host", HOST, "--port", str(port)]
    server = Server(
        cmd,
        cwd=file_project.root,
        log=tmp_path / "serve.log",
        extra_env={**install.env, **file_project.src_env},
        port=port,
    )
    body = _predict(server, file_project.row)
    assert body["model_name"] == "example_pipeline"
    assert body["label"] == file_project.row["species"] == "setosa"
    assert body["id"] == file_project.row["id"]
    assert set(body["probabilities"]) == set(SPECIES)  # type: ignore[arg-type]


def test_the_bento_carries_the_teams_package_and_its_trust(
    install: Install, file_project: FileProject, tmp_path: Path
) -> None:
    tag = json.loads((file_project.root / "reports/bento.json").read_text())["bento_tag"]
    port = free_port()
    server = Server(
        ["bentoml", "serve", tag, "--host", HOST, "--port", str(port)],
        cwd=tmp_path,  # not the project, no PYTHONPATH: the team's code comes from the Bento
        log=tmp_path / "bento.log",
        extra_env=install.env,
        port=port,
    )
    body = _predict(server, file_project.row)
    assert body["model_name"] == "example_pipeline"
    assert body["label"] == "setosa"


ROGUE = '''\
"""A package nobody listed in allowed_targets; importing it leaves a mark."""
import os
from pathlib import Path

from sklearn.base import BaseEstimator, TransformerMixin

Path(os.environ["ROGUE_MARK"]).write_text("imported")


class Payload(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X
'''

MAKE_ROGUE_ARTIFACT = f"""\
import sys
from sklearn.pipeline import Pipeline
from pr2prod.models.persist import MODEL_FILE, dumps_model
from rogue import Payload
from {PACKAGE}.transformers import QuantileClipper

pipeline = Pipeline([("clip", QuantileClipper()), ("payload", Payload())])
open(sys.argv[1] + "/" + MODEL_FILE, "wb").write(dumps_model(pipeline))
"""


def test_an_artifact_with_a_class_outside_allowed_targets_is_refused_unloaded(
    install: Install, file_project: FileProject, tmp_path: Path
) -> None:
    rogue_root = tmp_path / "rogue_src"
    (rogue_root / "rogue").mkdir(parents=True)
    (rogue_root / "rogue" / "__init__.py").write_text(ROGUE)
    mark = tmp_path / "rogue-imported"
    model = tmp_path / "model"
    shutil.copytree(file_project.root / "models/model", model)
    # importable on purpose: the refusal is the allow-list's, not a failed import
    importable = {
        "PYTHONPATH": os.pathsep.join([str(rogue_root), file_project.src_env["PYTHONPATH"]]),
        "ROGUE_MARK": str(mark),
    }
    install.run([install.python, "-c", MAKE_ROGUE_ARTIFACT, str(model)], tmp_path, extra=importable)
    assert mark.exists()
    mark.unlink()

    port = free_port()
    proc = install.run(
        ["pr2prod", "serve", "--host", HOST, "--port", str(port), "--model", str(model)],
        file_project.root,
        timeout=180,
        extra=importable,
        check=False,
    )
    assert proc.returncode == EXIT_DATA, proc.stdout + proc.stderr
    error = [ln for ln in proc.stderr.splitlines() if ln.startswith("error: ")]
    assert error, proc.stderr
    assert "untrusted types: rogue.Payload (" in error[0], error[0]  # the team's class is fine
    assert str(model / "model.skops") in error[0]
    assert not mark.exists(), "the rogue package was imported"
