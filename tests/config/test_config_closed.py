"""Closed sets and unknown keys: `pr2prod compose` / `check` refuse, explain, and write nothing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from _project import BIN, ROOT, env
from pr2prod.config import ConfigError, to_config
from pr2prod.config.compose import reconcile
from pr2prod.config.hydra_compose import compose_dict

CONF = ROOT / "conf"
GATE_METRICS = (
    "accuracy",
    "balanced_accuracy",
    "f1",
    "precision",
    "recall",
    "roc_auc",
    "log_loss",
    "rmse",
    "mae",
    "r2",
)
LIST_KEYS = ("model.tasks", "gate.slices.tumour_size.metrics")  # lists of closed-set items

# Every closed-set key of the schema, with its allowed values in declaration order.
CLOSED_SETS: dict[str, tuple[str, ...]] = {
    "data.task": ("binary", "multiclass", "regression"),
    "data.source": ("sklearn", "synthetic", "file"),
    "data.dataset": ("breast_cancer", "wine", "diabetes", "iris"),
    "+data.column_types.mean_radius": ("numeric", "categorical"),
    "validate.out_of_range": ("warn", "error", "ignore"),
    "features.numeric_imputer": ("median", "mean", "most_frequent", "none"),
    "features.scaler": ("standard", "minmax", "robust", "none"),
    "features.categorical_imputer": ("most_frequent", "constant"),
    "model.class_weight": ("balanced",),
    "model.tasks": ("classification", "regression"),
    "gate.metrics.accuracy.direction": ("higher", "lower"),
    "gate.slices.tumour_size.metrics": GATE_METRICS,
    "gate.baseline.on_missing": ("rebuild", "fail"),
    "release.bump": ("patch", "minor", "major"),
    "monitor.source": ("log", "scored"),
    "monitor.drift.multiple_testing": ("bonferroni", "none"),
    "monitor.performance.metric": ("auto", "accuracy", "error_rate", "mae", "rmse"),
    "retrain.rules.new_rows.count": ("labelled", "records"),
    "retrain.snapshot.source": ("auto", "file", "dvc_import", "sql"),
}


def _override(key: str, value: str) -> str:
    return f"{key}=[{value}]" if key in LIST_KEYS else f"{key}={value}"


def _full_key(key: str) -> str:
    return key.lstrip("+") + ("[0]" if key in LIST_KEYS else "")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the repository's conf/ and params.yaml (what `pr2prod compose` works on)."""
    shutil.copytree(CONF, tmp_path / "conf")
    shutil.copy2(ROOT / "params.yaml", tmp_path / "params.yaml")
    return tmp_path


def _cli(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "pr2prod"), *args],
        cwd=project,
        env=env(),
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("key", sorted(CLOSED_SETS))
def test_a_value_outside_a_closed_set_is_refused_naming_key_and_choices(
    project: Path, key: str
) -> None:
    params = project / "params.yaml"
    before = params.read_bytes()
    allowed = ", ".join(CLOSED_SETS[key])
    with pytest.raises(ConfigError) as err:
        reconcile(project / "conf", params, [_override(key, "bogus")])
    assert f"{_full_key(key)}: 'bogus' is not one of {allowed}" in str(err.value)
    assert params.read_bytes() == before


@pytest.mark.parametrize(
    ("key", "value"), [(k, v) for k, values in CLOSED_SETS.items() for v in values]
)
def test_every_allowed_value_composes(key: str, value: str) -> None:
    overrides = [_override(key, value)]
    if (key, value) == ("data.task", "regression"):
        overrides.append("model=ridge")
    if (key, value) == ("model.tasks", "regression"):
        overrides += ["data=diabetes", "model=ridge"]
    raw = compose_dict(CONF, overrides)
    node = raw
    for part in key.lstrip("+").split("."):
        node = node[part]
    assert node == ([value] if key in LIST_KEYS else value)
    yaml.safe_dump(raw)  # plain values (no enum members) go into params.yaml
    to_config(raw)


@pytest.mark.integration
def test_cli_compose_refuses_a_bad_value_and_writes_nothing(project: Path) -> None:
    before = (project / "params.yaml").read_bytes()
    proc = _cli(project, "compose", "validate.out_of_range=sometimes")
    assert proc.returncode != 0
    assert "validate.out_of_range: 'sometimes' is not one of warn, error, ignore" in proc.stderr
    assert (project / "params.yaml").read_bytes() == before


@pytest.mark.integration
def test_cli_check_refuses_a_bad_value_in_conf(project: Path) -> None:
    option = project / "conf" / "features" / "standard.yaml"
    option.write_text(option.read_text().replace("scaler: standard", "scaler: zscore"))
    before = (project / "params.yaml").read_bytes()
    proc = _cli(project, "check")
    assert proc.returncode != 0
    assert "features.scaler: 'zscore' is not one of standard, minmax, robust, none" in proc.stderr
    assert (project / "params.yaml").read_bytes() == before


@pytest.mark.integration
@pytest.mark.parametrize("command", ["compose", "check"])
def test_a_bad_value_edited_into_params_yaml_is_refused(project: Path, command: str) -> None:
    """What `dvc exp run -S monitor.source=kafka` does: check and compose refuse it."""
    params = project / "params.yaml"
    values = yaml.safe_load(params.read_text())
    values["monitor"]["source"] = "kafka"
    params.write_text(yaml.safe_dump(values, sort_keys=False))
    before = params.read_bytes()
    proc = _cli(project, command)
    assert proc.returncode != 0
    assert "monitor.source: 'kafka' is not one of log, scored" in proc.stderr
    assert params.read_bytes() == before


@pytest.mark.integration
@pytest.mark.parametrize(
    ("override", "key", "allowed"),
    [
        ("model.Cc=1", "model.Cc", "name, _target_, tasks, C, max_iter, class_weight"),
        ("+model.Cc=1", "model.Cc", "name, _target_, tasks, C, max_iter, class_weight"),
        ("data.tsk=binary", "data.tsk", "name, source, task, dataset, path, target"),
        ("+gate.bootstrap.reps=5", "gate.bootstrap.reps", "enabled, resamples, level, seed"),
        ("gate.metrics.acc.floor=0.9", "gate.metrics.acc", ", ".join(GATE_METRICS)),
        ("+gate.metrics.acc.floor=0.9", "gate.metrics.acc", ", ".join(GATE_METRICS)),
    ],
)
def test_an_unknown_key_lists_the_keys_allowed_there(
    project: Path, override: str, key: str, allowed: str
) -> None:
    before = (project / "params.yaml").read_bytes()
    proc = _cli(project, "compose", override)
    assert proc.returncode != 0
    assert f"unknown config key '{key}'; allowed keys here: {allowed}" in proc.stderr
    assert (project / "params.yaml").read_bytes() == before


def test_an_unknown_key_in_an_option_file_lists_the_allowed_keys(project: Path) -> None:
    option = project / "conf" / "split" / "default.yaml"
    option.write_text(option.read_text() + "strategy: random\n")
    with pytest.raises(ConfigError) as err:
        compose_dict(project / "conf")
    assert "unknown config key 'split.strategy'; allowed keys here: test_size, stratify" in str(
        err.value
    )


def test_the_gate_metric_set_is_the_set_the_gate_computes() -> None:
    from pr2prod.compare.metrics import METRICS

    assert set(GATE_METRICS) == set(METRICS)


def test_every_closed_set_member_is_named_by_its_value() -> None:
    """OmegaConf parses and writes an enum by member name: the name must be the value."""
    import enum

    from pr2prod.config import choices, gate_schema, monitor_schema, release_schema

    modules = (choices, gate_schema, monitor_schema, release_schema)
    sets = {
        obj
        for module in modules
        for obj in vars(module).values()
        if isinstance(obj, enum.EnumType) and obj.__module__ == module.__name__
    }
    assert len(sets) >= 15
    for closed in sets:
        assert [m.name for m in closed] == [m.value for m in closed], closed
