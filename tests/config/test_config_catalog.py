"""The catalog (conf/paths/) names every artifact once: no path literal in src/, the other
groups and the Python defaults read it, ``pr2prod paths KEY`` prints it (issue 21 §1)."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from pr2prod.cli import app
from pr2prod.config import catalog
from pr2prod.config.canary_schema import CanaryConfig
from pr2prod.config.errors import ConfigError
from pr2prod.config.hydra_compose import compose_dict
from pr2prod.config.monitor_schema import MonitorConfig
from pr2prod.config.paths_schema import PathsConfig
from pr2prod.config.release_schema import ReleaseConfig
from pr2prod.config.retrain_schema import RetrainConfig
from pr2prod.config.schema import GateConfig
from pr2prod.config.serve_schema import ServeConfig

pytestmark = [pytest.mark.unit]

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "pr2prod"
# The scan's rule: a string constant (docstrings aside) that starts with one of these
# project directories and a slash is a path literal; so is `Path("<dir>")` with a bare one.
ARTIFACT_DIRS = ("reports", "models", "data", "logs", "metrics", "plots")
LITERAL = re.compile(rf"^({'|'.join(ARTIFACT_DIRS)})/")
# Path literals that must stay, as "file:line-free text" -> why. Empty: every artifact path
# in src/ comes from the catalog (the template's own files are the catalog's copy).
ALLOWED: dict[str, str] = {}


def _docstrings(tree: ast.AST) -> set[int]:
    docs = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = body[0] if body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docs.add(id(first.value))
    return docs


def path_literals(source: str) -> list[str]:
    """The path literals of one module's source (the rule above)."""
    tree = ast.parse(source)
    docs = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docs and LITERAL.match(node.value):
                found.append(node.value)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) == "Path"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value in ARTIFACT_DIRS
        ):
            found.append(str(node.args[0].value))
    return found


def test_the_scan_finds_what_it_looks_for() -> None:
    source = '''
"""Writes reports/gate.json (a docstring: not a literal)."""
A = "models/model"
B = Path("reports") / "sweep.json"
C = "model.skops"
D = f"{x}/reports/a.json"
'''
    assert path_literals(source) == ["models/model", "reports"]


def test_no_path_literal_in_src_outside_the_catalog() -> None:
    found = {}
    for module in sorted(SRC.rglob("*.py")):
        if SRC / "template" in module.parents:
            continue  # the generated project's own files
        rel = module.relative_to(ROOT).as_posix()
        for value in path_literals(module.read_text(encoding="utf-8")):
            if f"{rel}: {value}" not in ALLOWED:
                found.setdefault(rel, []).append(value)
    assert not found, f"path literals outside conf/paths/ (read pr2prod.config.catalog): {found}"


def test_the_packaged_catalog_is_this_repositorys_and_the_schemas() -> None:
    ours = yaml.safe_load((ROOT / "conf/paths/default.yaml").read_text(encoding="utf-8"))
    ours.pop("defaults")
    assert catalog.packaged_entries() == ours
    assert [f.name for f in dataclasses.fields(PathsConfig)] == list(ours)


# The keys of other groups that name an artifact, and their catalog entry.
INTERPOLATED = {
    "serve.prediction_log.path": "prediction_log",
    "monitor.log": "prediction_log",
    "monitor.score.input": "score_input",
    "monitor.score.model": "model",
    "monitor.score.parquet_dir": "scored",
    "monitor.score.summary": "score_json",
    "monitor.alert.flag_file": "monitor_alert",
    "monitor.report_dir": "monitor_reports",
    "monitor.plots_dir": "monitor_plots",
    "canary.report": "canary_json",
    "canary.summary": "canary_md",
    "retrain.report_json": "retrain_json",
    "retrain.report_md": "retrain_md",
    "release.notes_path": "model_card",
    "gate.baseline.artifact": "model",
}
DEFAULTS = {
    "serve": ServeConfig(),
    "monitor": MonitorConfig(),
    "canary": CanaryConfig(),
    "retrain": RetrainConfig(),
    "release": ReleaseConfig(),
    "gate": GateConfig(),
}


def _get(node: object, dotted: str) -> object:
    for part in dotted.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return node


@pytest.fixture(scope="module")
def conf_composed() -> dict:
    return compose_dict(ROOT / "conf", [])


@pytest.mark.parametrize("key", sorted(INTERPOLATED))
def test_conf_and_the_python_default_both_read_the_catalog(conf_composed: dict, key: str) -> None:
    raw = yaml.safe_load((ROOT / f"conf/{key.split('.')[0]}/default.yaml").read_text())
    written = _get(raw, key.split(".", 1)[1])
    assert isinstance(written, str) and written.startswith("${"), (key, written)
    entry = INTERPOLATED[key]
    assert _get(conf_composed, key) == conf_composed["paths"][entry] == catalog.default(entry)
    assert _get(DEFAULTS[key.split(".")[0]], key.split(".", 1)[1]) == catalog.default(entry)


def test_derived_defaults_read_the_catalog_too(conf_composed: dict) -> None:
    warehouse = f"sqlite:///{catalog.default('warehouse')}"
    assert conf_composed["monitor"]["score"]["database_url"] == warehouse
    assert MonitorConfig().score.database_url == warehouse
    outputs = ["gate_json", "gate_md", "gate_plots", "gate_metrics", "bento_json"]
    expected = [catalog.default(k) for k in outputs]
    assert conf_composed["release"]["ci_outputs"] == ReleaseConfig().ci_outputs == expected


def test_pr2prod_paths_prints_a_project_entry(tmp_path: Path, monkeypatch) -> None:
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["paths"]["gate_json"] = "elsewhere/verdict.json"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["paths", "gate_json"])
    assert (result.exit_code, result.output) == (0, "elsewhere/verdict.json\n")
    listing = runner.invoke(app, ["paths"]).output.splitlines()
    assert "gate_json: elsewhere/verdict.json" in listing
    assert len(listing) == len(dataclasses.fields(PathsConfig))


def test_pr2prod_paths_outside_a_project_prints_the_packaged_entry(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["paths", "model"])
    assert (result.exit_code, result.output) == (0, f"{catalog.default('model')}\n")


def test_pr2prod_paths_names_the_entries_of_an_unknown_key(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["paths", "nope"])
    assert result.exit_code == 2
    assert "paths.nope" in result.output and "gate_json" in result.output
    assert not list(tmp_path.iterdir())  # nothing written


@pytest.fixture
def no_packaged_catalog(tmp_path: Path, monkeypatch):
    """pr2prod as a Bento carries it: its .py files only (bentofile.yaml), no catalog."""
    monkeypatch.setattr(catalog, "PACKAGED", tmp_path / "absent.yaml")
    catalog.packaged_entries.cache_clear()
    yield
    catalog.packaged_entries.cache_clear()


def test_a_bento_without_the_packaged_catalog_serves_from_its_arguments(
    no_packaged_catalog: None, tmp_path: Path, monkeypatch
) -> None:
    from pr2prod.serving import settings

    log = dataclasses.replace(ServeConfig().prediction_log, path="logs/served.jsonl")
    served = dataclasses.replace(ServeConfig(), prediction_log=log)  # what `build` passes
    monkeypatch.chdir(tmp_path)  # no params.yaml: everything from the Bento's arguments
    assert ServeConfig().prediction_log.path == "???"  # a default nobody gave stays MISSING
    with pytest.raises(ConfigError, match=r"paths\.model: not in the catalog"):
        catalog.default("model")
    args = {"serve_config": settings.serve_config_json(served), "model_tag": "m:1"}
    resolved = settings.resolve(args)
    assert resolved.serve.prediction_log.path == "logs/served.jsonl"
    assert resolved.model_tag == "m:1"
