"""dvc.yaml declares every pr2prod module a stage imports, so a code change reruns its users.

The framework's code is one dependency per stage, ``src/pr2prod`` (one column in
``dvc exp show``): it covers every module a stage imports, whatever the stage.
"""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest
import yaml

from _project import ROOT

STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def _module_file(module: str) -> str:
    parts = module.split(".")
    package = ROOT / "src" / Path(*parts) / "__init__.py"
    path = package if package.exists() else ROOT / "src" / Path(*parts).with_suffix(".py")
    return path.relative_to(ROOT).as_posix()


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("pr2prod")


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_stage_deps_cover_its_import_closure(graph: grimp.ImportGraph, stage: str) -> None:
    roots = {f"pr2prod.stages.{stage}", "pr2prod.stages.__main__"}
    closure = set(roots)
    for module in roots:
        closure |= graph.find_upstream_modules(module)
    deps = [d if isinstance(d, str) else next(iter(d)) for d in STAGES[stage]["deps"]]
    missing = sorted(
        f
        for f in map(_module_file, closure)
        if not any(f == d or f.startswith(d.rstrip("/") + "/") for d in deps)
    )
    assert not missing, f"dvc.yaml stage {stage!r} imports but does not depend on: {missing}"


def test_a_change_to_a_shared_module_reruns_every_stage_that_imports_it() -> None:
    fsio = "src/pr2prod/fsio.py"
    users = [
        s
        for s, body in STAGES.items()
        if any(d == fsio or fsio.startswith(d.rstrip("/") + "/") for d in map(str, body["deps"]))
    ]
    assert set(users) == set(STAGES)  # every stage writes through fsio (package: all of src/)


PIPELINES = [ROOT / "dvc.yaml", *sorted((ROOT / "pipelines").glob("*/dvc.yaml"))]


@pytest.mark.parametrize("dvc_yaml", PIPELINES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_each_stage_has_one_code_dependency(dvc_yaml: Path) -> None:
    for name, stage in yaml.safe_load(dvc_yaml.read_text())["stages"].items():
        deps = [d if isinstance(d, str) else next(iter(d)) for d in stage["deps"]]
        code = [d for d in deps if d == "src" or d.startswith("src/")]
        # the package as a whole (package: all of src/, the Bento's build context)
        assert code in (["src/pr2prod"], ["src"]), (name, code)
