"""Each stage reads only the params its ``dvc.yaml`` entry declares (else a change to an
undeclared key would not rerun it).

Read from the code: every ``cfg.<key>...`` a stage reads from ``load_params(...)``, following
the functions it hands the whole config to (``fit_pipeline(cfg, ...)``), must fall under a
declared key; the trust policy (``cfg.allowed_targets``) is ``pyproject.toml:tool.pr2prod``.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest
import yaml

from _project import ROOT

STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
POLICY = "pyproject.toml:tool.pr2prod"
POLICY_ATTRS = {"allowed_targets", "allowed_callables"}
# _common's paths (PEP 562 attributes) -> the params.yaml key each comes from
COMMON_PATHS = {
    **dict.fromkeys(("PREPARED", "TRAIN", "TEST", "SCHEMA"), "paths.prepared"),
    "VALIDATION": "paths.validation",
    "MODEL_DIR": "paths.model",
    "RUN_DIR": "paths.run_facts",
    "METRICS": "paths.metrics",
    "PLOTS": "paths.plots",
    "GATE_JSON": "paths.gate_json",
    "GATE_MD": "paths.gate_md",
    "GATE_PLOTS": "paths.gate_plots",
    "BENTO_JSON": "paths.bento_json",
}


def _declared(stage: str) -> set[str]:
    keys = set()
    for entry in STAGES[stage].get("params") or []:
        if isinstance(entry, str):
            keys.add(entry)
        else:
            for file, names in entry.items():
                keys |= {f"{file}:{name}" for name in names}
    return keys


def _module(name: str) -> ast.Module:
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.origin, name
    return ast.parse(Path(spec.origin).read_text(), spec.origin)


def _imports(tree: ast.Module, package: str) -> dict[str, str]:
    """Local name -> ``module:function`` for ``from pr2prod... import f``."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(package):
            for alias in node.names:
                found[alias.asname or alias.name] = f"{node.module}:{alias.name}"
    return found


def _chain(node: ast.Attribute) -> tuple[str, list[str]] | None:
    parts: list[str] = []
    cur: ast.expr = node
    while isinstance(cur, ast.Attribute):
        parts.insert(0, cur.attr)
        cur = cur.value
    return (cur.id, parts) if isinstance(cur, ast.Name) else None


def _reads(module: str, func: ast.AST, var: str, depth: int = 0) -> set[str]:
    """The params keys ``func`` reads from the config bound to ``var`` (calls followed)."""
    tree = _module(module)
    imported = _imports(tree, "pr2prod")
    local = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    inner = {id(n.value) for n in ast.walk(func) if isinstance(n, ast.Attribute)}
    keys: set[str] = set()
    for node in ast.walk(func):
        if isinstance(node, ast.Attribute) and id(node) not in inner:
            found = _chain(node)
            if found and found[0] == var:
                attrs = [a for a in found[1] if a not in ("value",)]
                keys.add(POLICY if attrs[0] in POLICY_ATTRS else ".".join(attrs))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and depth < 4:
            for i, arg in enumerate(node.args):
                if isinstance(arg, ast.Name) and arg.id == var:
                    target = node.func.id
                    where = imported.get(target) or (
                        f"{module}:{target}" if target in local else None
                    )
                    assert where, f"{module}: {target}(cfg) is not a pr2prod function I can read"
                    mod, name = where.split(":")
                    callee = next(
                        n
                        for n in ast.walk(_module(mod))
                        if isinstance(n, ast.FunctionDef) and n.name == name
                    )
                    keys |= _reads(mod, callee, callee.args.args[i].arg, depth + 1)
    return keys


def _stage_reads(stage: str) -> set[str]:
    module = f"pr2prod.stages.{stage}"
    tree = _module(module)
    keys = {
        COMMON_PATHS[n]
        for n, src in _imports(tree, "pr2prod.stages._common").items()
        if src.split(":")[1] in COMMON_PATHS
    }
    for node in ast.walk(tree):  # cfg = load_params(...)
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id == "load_params"
        ):
            (target,) = node.targets
            assert isinstance(target, ast.Name)
            func = next(
                f
                for f in ast.walk(tree)
                if isinstance(f, ast.FunctionDef) and node in list(ast.walk(f))
            )
            keys |= _reads(module, func, target.id)
    return keys


def _covered(key: str, declared: set[str]) -> bool:
    return any(key == d or key.startswith(f"{d}.") for d in declared)


@pytest.mark.parametrize("stage", sorted(set(STAGES) - {"compose"}))
def test_a_stage_reads_only_the_params_it_declares(stage: str) -> None:
    reads = _stage_reads(stage)
    assert reads, f"{stage}: found no params read (the scan is broken)"
    undeclared = sorted(k for k in reads if not _covered(k, _declared(stage)))
    assert not undeclared, f"dvc.yaml stage {stage!r} reads but does not declare: {undeclared}"


def test_the_scan_sees_what_train_hands_on() -> None:
    """fit_pipeline(cfg, ...) and artifact_metadata(cfg, ...) are followed into their bodies."""
    reads = _stage_reads("train")
    assert {"seed", "features", "model", POLICY, "data.task"} <= reads
    assert "paths.model" in reads  # MODEL_DIR from _common


def test_compose_reads_the_whole_file_as_a_dependency() -> None:
    assert {"conf", "params.yaml"} <= set(STAGES["compose"]["deps"])
