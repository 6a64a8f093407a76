"""Every option composes; params.yaml follows conf/ without losing intended overrides."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from pr2prod.config import ConfigError, to_config
from pr2prod.config.compose import check, reconcile
from pr2prod.config.hydra_compose import compose_dict
from pr2prod.models.build import build_estimator

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "conf"
CLASSIFICATION_DATA = "data=breast_cancer"
REGRESSION_DATA = "data=diabetes"


def _options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    """A private copy of conf/ a test may edit."""
    return Path(shutil.copytree(CONF, tmp_path / "conf"))


@pytest.mark.parametrize("option", _options("model"))
def test_every_model_option_composes_and_instantiates(option: str) -> None:
    text = (CONF / "model" / f"{option}.yaml").read_text()
    data = REGRESSION_DATA if "[regression]" in text else CLASSIFICATION_DATA
    raw = compose_dict(CONF, [f"model={option}", data])
    cfg = to_config(raw)
    estimator = build_estimator(cfg.model, cfg.allowed_targets)
    assert type(estimator).__name__ == raw["model"]["_target_"].rsplit(".", 1)[-1]
    # the global seed reaches the estimator through interpolation
    if "random_state" in raw["model"]:
        assert estimator.get_params()["random_state"] == raw["seed"]


@pytest.mark.parametrize(
    ("group", "option"),
    [(g, o) for g in ("data", "features", "split", "validate", "evaluate") for o in _options(g)],
)
def test_every_group_option_composes(group: str, option: str) -> None:
    overrides = [f"{group}={option}"]
    if group == "data" and option == "diabetes":
        overrides.append("model=ridge")
    cfg = to_config(compose_dict(CONF, overrides))
    section = getattr(cfg, group)
    assert not hasattr(section, "name") or section.name


@pytest.mark.parametrize("experiment", _options("experiment"))
def test_every_experiment_composes_and_instantiates(experiment: str) -> None:
    raw = compose_dict(CONF, [f"experiment={experiment}"])
    cfg = to_config(raw)
    assert cfg.experiment == experiment
    assert build_estimator(cfg.model, cfg.allowed_targets) is not None


def test_repository_params_yaml_is_in_sync() -> None:
    assert check(CONF, ROOT / "params.yaml") == []


def test_conf_edit_recomposes_and_keeps_recorded_overrides(conf: Path, tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    reconcile(conf, params, ["model.max_iter=500"], reset=True)
    model_file = conf / "model" / "logistic_regression.yaml"
    model_file.write_text(model_file.read_text().replace("C: 1.0", "C: 0.25"))
    result = reconcile(conf, params)
    values = yaml.safe_load(params.read_text())
    assert result.written
    assert values["model"]["C"] == 0.25  # conf change picked up
    assert values["model"]["max_iter"] == 500  # recorded override kept
    assert check(conf, params) == []


def test_in_place_value_edit_becomes_a_recorded_override(conf: Path, tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    reconcile(conf, params, reset=True)
    values = yaml.safe_load(params.read_text())
    values["model"]["C"] = 0.1  # what `dvc exp run -S model.C=0.1` does to the file
    params.write_text(yaml.safe_dump(values, sort_keys=False))
    result = reconcile(conf, params)
    assert result.overrides == ["model.C=0.1"]
    assert yaml.safe_load(params.read_text())["model"]["C"] == 0.1
    assert check(conf, params) == []


def test_in_place_group_switch_expands_the_option(conf: Path, tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    reconcile(conf, params, ["model.C=0.5"], reset=True)
    values = yaml.safe_load(params.read_text())
    values["model"] = "random_forest"  # what `dvc exp run -S model=random_forest` writes
    params.write_text(yaml.safe_dump(values, sort_keys=False))
    result = reconcile(conf, params)
    model = yaml.safe_load(params.read_text())["model"]
    assert result.overrides == ["model=random_forest"]  # the C override inside it is dropped
    assert model["_target_"] == "sklearn.ensemble.RandomForestClassifier"
    assert model["n_estimators"] == 100


def test_edit_of_both_conf_and_params_is_refused_and_writes_nothing(
    conf: Path, tmp_path: Path
) -> None:
    params = tmp_path / "params.yaml"
    reconcile(conf, params, reset=True)
    values = yaml.safe_load(params.read_text())
    values["model"]["C"] = 0.1
    params.write_text(yaml.safe_dump(values, sort_keys=False))
    before = params.read_text()
    split = conf / "split" / "default.yaml"
    split.write_text(split.read_text().replace("test_size: 0.2", "test_size: 0.3"))
    with pytest.raises(ConfigError, match=r"model\.C=0\.1"):
        reconcile(conf, params)
    assert params.read_text() == before


def test_check_reports_a_hand_edit(conf: Path, tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    reconcile(conf, params, reset=True)
    params.write_text(params.read_text().replace("test_size: 0.2", "test_size: 0.5"))
    problems = check(conf, params)
    assert any("split.test_size=0.5" in p for p in problems)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["model.n_estimators=50"], r"model\.n_estimators"),  # key of another model family
        (["model.C=abc"], r"model\.C"),
        (["model=nope"], r"random_forest"),  # lists the available options
        (["data.task=ranking"], r"binary, multiclass, regression"),
        (["data=diabetes"], r"does not support regression"),
    ],
)
def test_bad_overrides_name_the_key_and_choices(
    conf: Path, tmp_path: Path, overrides: list[str], expected: str
) -> None:
    params = tmp_path / "params.yaml"
    reconcile(conf, params, reset=True)
    before = params.read_text()
    with pytest.raises(ConfigError, match=expected):
        reconcile(conf, params, overrides)
    assert params.read_text() == before


def test_unknown_key_in_an_option_file_is_named(conf: Path, tmp_path: Path) -> None:
    model_file = conf / "model" / "logistic_regression.yaml"
    model_file.write_text(model_file.read_text() + "penalty_typo: l2\n")
    with pytest.raises(ConfigError, match="penalty_typo"):
        reconcile(conf, tmp_path / "params.yaml")
    assert not (tmp_path / "params.yaml").exists()


def test_target_outside_allow_list_is_refused(conf: Path) -> None:
    model_file = conf / "model" / "linear_regression.yaml"
    text = model_file.read_text().replace("sklearn.linear_model.LinearRegression", "os.system")
    model_file.write_text(text)
    cfg = to_config(compose_dict(conf, ["model=linear_regression", REGRESSION_DATA]))
    with pytest.raises(ConfigError, match=r"'os\.system' is not allowed.*sklearn\."):
        build_estimator(cfg.model, cfg.allowed_targets)
    # a nested target (the torch optimizer) is checked too
    cfg = to_config(compose_dict(conf, ["model=torch_mlp", "model.optimizer._target_=os.system"]))
    with pytest.raises(ConfigError, match=r"model\.optimizer\._target_"):
        build_estimator(cfg.model, cfg.allowed_targets)


def test_the_allow_list_is_not_config() -> None:
    overrides = ["model=linear_regression", REGRESSION_DATA, "+allowed_targets=[collections.]"]
    with pytest.raises(ConfigError, match=r"allowed_targets: the trust policy is not config"):
        compose_dict(CONF, overrides)


def test_a_resolver_in_a_config_is_refused_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE", "s3cr3t-value")
    conf = tmp_path / "conf"
    shutil.copytree(ROOT / "conf", conf)
    params = tmp_path / "params.yaml"
    shutil.copy(ROOT / "params.yaml", params)
    before = params.read_bytes()
    with pytest.raises(ConfigError, match=r"model.max_features.*oc.env") as exc:
        reconcile(conf, params, ["model=random_forest", "model.max_features=${oc.env:FAKE}"])
    assert "s3cr3t-value" not in str(exc.value)
    assert params.read_bytes() == before


def test_a_model_needs_a_schema_registered_in_code(monkeypatch: pytest.MonkeyPatch):
    from pydantic import Field

    from pr2prod.config import registry

    raw = compose_dict(CONF, [])
    raw["model"] = {
        "name": "team_model",
        "_target_": "sklearn.linear_model.LogisticRegressionCV",  # no pr2prod schema for it
        "tasks": ["classification"],
        "Cs": 3,
        "max_iter": 77,
    }
    cfg = to_config(raw)
    with pytest.raises(ConfigError, match=r"model: .*LogisticRegressionCV.*no registered schema"):
        build_estimator(cfg.model, cfg.allowed_targets)

    class CVArgs(registry.TargetSchema):
        Cs: int = Field(10, ge=1, le=100)
        max_iter: int = Field(100, ge=1, le=10_000)

    name = "sklearn.linear_model.LogisticRegressionCV"
    monkeypatch.setitem(registry._REGISTRY, name, CVArgs)  # what a team package registers
    estimator = build_estimator(cfg.model, cfg.allowed_targets)
    assert (estimator.Cs, estimator.max_iter) == (3, 77)  # its keys reach the constructor
    raw["model"]["Cs"] = 0
    with pytest.raises(ConfigError, match=r"model\.Cs: Input should be greater than or equal"):
        build_estimator(to_config(raw).model, cfg.allowed_targets)
    raw["model"]["tasks"] = ["ranking"]  # the common keys are still validated
    with pytest.raises(ConfigError, match=r"model\.tasks"):
        to_config(raw)
