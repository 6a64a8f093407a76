"""Every config payload found so far, refused before anything runs (docs/security.md).

Each payload is first shown live (a control test: run unchecked, it writes the marker); each
refusal test then asserts the refusal names the key, the marker is absent, and params.yaml,
dvc.lock and models/ are untouched.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import yaml
from _security_payloads import WriteMarkerOnUnpickle
from typer.testing import CliRunner

from pr2prod.cli import app
from pr2prod.config import ConfigError, load_params
from pr2prod.config.compose import check, reconcile
from pr2prod.fsio import atomic_dir
from pr2prod.models.build import build_estimator

pytestmark = [pytest.mark.unit]
Fingerprint = Callable[[Path], dict[str, str]]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _refused(project: Path, fingerprint: Fingerprint, overrides: list[str], match: str) -> None:
    """``pr2prod compose OVERRIDES`` is refused (exit 2 in the CLI) and writes nothing."""
    before = fingerprint(project)
    with pytest.raises(ConfigError, match=match):
        reconcile(project / "conf", project / "params.yaml", overrides)
    result = CliRunner().invoke(app, ["compose", *overrides])
    assert result.exit_code == 2, result.output
    assert fingerprint(project) == before


# --- 1. Pipeline `memory:` loads a poisoned joblib cache ------------------------------------


def _poison_cache(cache: Path, marker: Path) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = np.arange(40.0).reshape(20, 2), np.arange(20) % 2
    steps = [("scale", StandardScaler()), ("clf", LogisticRegression())]
    Pipeline(steps, memory=str(cache)).fit(x, y)  # what the pull request commits
    for pkl in cache.rglob("output.pkl"):
        joblib.dump(WriteMarkerOnUnpickle(marker), pkl)
    return x, y


PIPELINE = """name: cached
_target_: sklearn.pipeline.Pipeline
tasks: [classification]
memory: .skcache
steps:
  - [scale, {_target_: sklearn.preprocessing.StandardScaler}]
  - [clf, {_target_: sklearn.linear_model.LogisticRegression}]
"""


def test_pipeline_memory_payload_is_live(project: Path, marker: Path) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = _poison_cache(project / ".skcache", marker)
    steps = [("scale", StandardScaler()), ("clf", LogisticRegression())]
    with pytest.raises(TypeError):  # the unpickled payload is no transformer: too late
        Pipeline(steps, memory=str(project / ".skcache")).fit(x, y)
    assert marker.read_text() == "pwned"


def test_pipeline_memory_is_refused_at_compose_check_and_train(
    project: Path, marker: Path, fingerprint: Fingerprint
) -> None:
    _poison_cache(project / ".skcache", marker)
    _write(project / "conf/model/cached.yaml", PIPELINE)
    _refused(project, fingerprint, ["model=cached"], r"model\.memory: not an argument")
    model = yaml.safe_load(PIPELINE)
    with pytest.raises(ConfigError, match=r"model\.memory: not an argument"):
        build_estimator(model)  # what train builds: refused before anything is constructed
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["model"] = model  # `dvc exp run -S` edits params.yaml in place
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    with pytest.raises(ConfigError, match=r"model\.memory: not an argument"):
        check(project / "conf", project / "params.yaml")
    assert not marker.exists()


def test_a_pipeline_without_memory_is_a_registered_target(project: Path) -> None:
    model = yaml.safe_load(PIPELINE)
    del model["memory"]
    pipe = build_estimator(model)
    assert pipe.memory is None and [n for n, _ in pipe.steps] == ["scale", "clf"]


# --- 2. the allow-list widened by an experiment file (or params.yaml) -----------------------


def _widening_experiment(project: Path, marker: Path) -> Path:
    pkl = project / "data" / "evil.pkl"
    pkl.parent.mkdir(parents=True, exist_ok=True)
    pkl.write_bytes(pickle.dumps(WriteMarkerOnUnpickle(marker)))
    _write(
        project / "conf/experiment/widen.yaml",
        "# @package _global_\n"
        'allowed_targets: ["sklearn.", "skorch.", "torch.", "pr2prod.", "pandas."]\n'
        "allowed_callables: [pandas.read_pickle]\n"
        f"model:\n  _target_: pandas.read_pickle\n  filepath_or_buffer: {pkl}\n",
    )
    return pkl


def test_read_pickle_payload_is_live(project: Path, marker: Path) -> None:
    pd.read_pickle(_widening_experiment(project, marker))
    assert marker.read_text() == "pwned"


def test_an_experiment_cannot_widen_the_allow_list(
    project: Path, marker: Path, fingerprint: Fingerprint
) -> None:
    _widening_experiment(project, marker)
    _refused(
        project, fingerprint, ["experiment=widen"], r"allowed_targets: the trust policy is not"
    )
    assert not marker.exists()


@pytest.mark.parametrize("key", ["allowed_targets", "allowed_callables"])
def test_params_yaml_edited_in_place_cannot_widen_it(project: Path, marker: Path, key: str) -> None:
    params = project / "params.yaml"
    data = yaml.safe_load(params.read_text())
    data[key] = ["pandas.read_pickle"] if key == "allowed_callables" else ["pandas."]
    params.write_text(yaml.safe_dump(data))  # what `dvc exp run -S allowed_targets=...` does
    edited = params.read_bytes()
    for run in (
        lambda: reconcile(project / "conf", params),
        lambda: check(project / "conf", params),
        lambda: load_params(params),
    ):
        with pytest.raises(ConfigError, match=rf"{key}: the trust policy is not config"):
            run()
    assert params.read_bytes() == edited and not marker.exists()


# --- 3. a computed resolver name --------------------------------------------------------------

COMPUTED = (
    "# @package _global_\n"
    "data:\n  feedback_guard:\n    values: [env]\n"
    "model:\n  max_features: ${oc.${data.feedback_guard.values.0}:AWS_SECRET_ACCESS_KEY}\n"
)


def test_computed_resolver_payload_is_live(monkeypatch: pytest.MonkeyPatch) -> None:
    from omegaconf import OmegaConf

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t-value")
    cfg = OmegaConf.create(yaml.safe_load(COMPUTED.replace("# @package _global_\n", "")))
    assert cfg.model.max_features == "s3cr3t-value"


def test_a_computed_resolver_is_refused(
    project: Path, fingerprint: Fingerprint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t-value")
    _write(project / "conf/experiment/leak.yaml", COMPUTED)
    before = fingerprint(project)
    overrides = ["model=random_forest", "experiment=leak"]
    with pytest.raises(ConfigError, match=r"model\.max_features: .* plain key reference") as exc:
        reconcile(project / "conf", project / "params.yaml", overrides)
    assert "s3cr3t-value" not in str(exc.value)
    assert fingerprint(project) == before
    assert "s3cr3t-value" not in (project / "params.yaml").read_text()


# --- 4. reading configs from outside conf/ ----------------------------------------------------


def _evil_option(outside: Path) -> None:
    _write(
        outside / "model/evil.yaml",
        "name: evil\n_target_: sklearn.linear_model.LogisticRegression\n"
        "tasks: [classification]\nC: 7.0\n",
    )


@pytest.mark.parametrize(
    ("attack", "match"),
    [
        ("searchpath", r"hydra: Hydra's own node"),
        ("package_hydra", r"# @package hydra"),
        ("override", r"hydra\.searchpath: overriding Hydra's own node"),
        ("defaults", r"defaults: .* not allowed"),
        ("symlink", r"a symlink to .*outside conf/"),
    ],
)
def test_configs_from_outside_conf_are_refused(
    project: Path, outside: Path, fingerprint: Fingerprint, attack: str, match: str
) -> None:
    _evil_option(outside)
    conf = project / "conf"
    overrides = ["model=evil"]
    if attack == "searchpath":
        with (conf / "config.yaml").open("a") as fh:
            fh.write(f"hydra:\n  searchpath: [file://{outside}]\n")
    elif attack == "package_hydra":
        _write(conf / "split/extra.yaml", f"# @package hydra\nsearchpath: [file://{outside}]\n")
    elif attack == "override":
        overrides = [f"hydra.searchpath=[file://{outside}]", "model=evil"]
    elif attack == "defaults":
        rel = os.path.relpath(outside / "model" / "evil", conf / "model")
        _write(conf / "model/evil.yaml", f"defaults:\n  - {rel}\n")
    else:
        (conf / "model/evil.yaml").symlink_to(outside / "model/evil.yaml")
    _refused(project, fingerprint, overrides, match)


# --- 5. output paths leaving the project ------------------------------------------------------


def test_an_output_path_outside_the_project_is_refused(
    project: Path, outside: Path, fingerprint: Fingerprint
) -> None:
    _refused(
        project,
        fingerprint,
        [f"monitor.score.parquet_dir={outside}"],
        r"monitor\.score\.parquet_dir: .* relative path inside the project",
    )
    _refused(project, fingerprint, ["canary.report=../canary.json"], r"canary\.report: ")
    assert (outside / "keep.txt").read_text() == "mine"


def test_a_committed_symlink_cannot_carry_an_output_outside(
    project: Path, outside: Path, fingerprint: Fingerprint
) -> None:
    (project / "facts").symlink_to(outside, target_is_directory=True)  # committed in the PR
    _refused(
        project,
        fingerprint,
        ["paths.run_facts=facts/train"],
        r"paths\.run_facts: 'facts/train' resolves to .*outside the project",
    )
    assert sorted(p.name for p in outside.iterdir()) == ["keep.txt"]


def test_an_atomic_replace_deletes_only_what_it_moved(project: Path, outside: Path) -> None:
    link = project / "data" / "scored"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(outside, target_is_directory=True)
    leftover = link.with_name(".scored.999999999.crash.tmp")  # a crashed run's, pid gone
    leftover.mkdir()
    with atomic_dir(link) as tmp:
        (tmp / "part-0.parquet").write_bytes(b"rows")
    assert (outside / "keep.txt").read_text() == "mine"  # the link was replaced, not followed
    assert not link.is_symlink() and (link / "part-0.parquet").exists()
    assert not leftover.exists()
    assert not [p for p in link.parent.iterdir() if p.name.startswith(".scored.")]


# --- 6. a YAML python tag ---------------------------------------------------------------------


def _tag(marker: Path) -> str:
    return f"evil: !!python/object/apply:pr2prod.fsio.atomic_write_text [{marker}, pwned]\n"


def test_yaml_tag_payload_is_live(marker: Path) -> None:
    marker.parent.mkdir(parents=True, exist_ok=True)
    yaml.load(_tag(marker), Loader=yaml.UnsafeLoader)
    assert marker.read_text() == "pwned"


def test_a_yaml_tag_in_conf_is_a_config_error(
    project: Path, marker: Path, fingerprint: Fingerprint
) -> None:
    with (project / "conf/split/default.yaml").open("a") as fh:
        fh.write(_tag(marker))
    _refused(project, fingerprint, [], r"conf/split/default\.yaml: line \d+: not plain YAML")
    assert not marker.exists()


def test_a_yaml_tag_in_params_is_a_config_error(project: Path, marker: Path) -> None:
    params = project / "params.yaml"
    with params.open("a") as fh:
        fh.write(_tag(marker))
    result = CliRunner().invoke(app, ["check"])
    assert result.exit_code == 2
    assert "params.yaml: line" in result.output and "not plain YAML" in result.output
    assert "bug in pr2prod" not in result.output and not marker.exists()
