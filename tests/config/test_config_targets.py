"""A config cannot run code: every ``_target_`` is checked by what it is, before it runs.

The payloads are the three that got through the old prefix check. Each writes a marker
file when it runs; a control test proves that, and every refusal test then asserts the
marker is still absent and ``params.yaml`` is byte-for-byte unchanged.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from pr2prod.config import ConfigError, to_config
from pr2prod.config.compose import check, reconcile
from pr2prod.config.hydra_compose import compose_dict
from pr2prod.config.targets import check_targets
from pr2prod.data.schema import infer_schema
from pr2prod.fsio import atomic_write_text
from pr2prod.models.build import build_estimator
from pr2prod.models.train import fit_pipeline

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "conf"
PREFIXES = ["sklearn.", "skorch.", "torch.", "pr2prod."]
PAYLOADS = ("sklearn_testing", "torch_load", "atomic_write_text")
# Why each payload is refused (the message says it).
REASONS = {
    "sklearn_testing": r"'_testing' is private",
    "torch_load": r"resolves to function torch\.serialization\.load",
    "atomic_write_text": r"resolves to function pr2prod\.fsio\.atomic_write_text",
}


class _WriteMarkerOnUnpickle:
    """A pickle that writes the marker when loaded (what ``torch.load`` of a crafted file does)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        return atomic_write_text, (str(self.marker), "pwned")


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "pwned"


def _payload(name: str, marker: Path) -> dict[str, Any]:
    """A ``_target_`` mapping that writes ``marker`` when Hydra instantiates it."""
    if name == "sklearn_testing":
        return {
            "_target_": "sklearn.utils._testing.assert_run_python_script_without_output",
            "source_code": f"open({str(marker)!r}, 'w').write('pwned')",
        }
    if name == "torch_load":
        crafted = marker.parent / "weights.pt"
        crafted.write_bytes(pickle.dumps(_WriteMarkerOnUnpickle(marker)))
        return {"_target_": "torch.load", "f": str(crafted), "weights_only": False}
    return {"_target_": "pr2prod.fsio.atomic_write_text", "path": str(marker), "text": "pwned"}


def _model(placement: str, payload: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """A model config carrying ``payload`` at ``placement``, and the key path it sits at."""
    head = {"name": "evil", "tasks": ["classification"]}
    if placement == "estimator":
        return {**head, **payload}, "model._target_"
    if placement == "nested":
        nested = {"_target_": "sklearn.ensemble.BaggingClassifier", "estimator": payload}
        return {**head, **nested}, r"model\.estimator\._target_"
    if placement == "list":
        stack = {"_target_": "sklearn.ensemble.StackingClassifier", "estimators": [["a", payload]]}
        return {**head, **stack}, r"model\.estimators\[0\]\[1\]\._target_"
    if placement == "any_field":  # a typed family whose field is typed Any
        forest = {"_target_": "sklearn.ensemble.RandomForestClassifier", "max_features": payload}
        return {**head, **forest}, r"model\.max_features\._target_"
    # an optimizer spec, built right away (``_partial_: false``) as Hydra would
    net = {
        "_target_": "skorch.NeuralNetClassifier",
        "module": "torch.nn.Linear",
        "optimizer": {**payload, "_partial_": False},
    }
    return {**head, **net}, r"model\.optimizer\._target_"


PLACEMENTS = ("estimator", "nested", "list", "any_field", "optimizer")


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    return Path(shutil.copytree(CONF, tmp_path / "conf"))


@pytest.fixture
def params(conf: Path, tmp_path: Path) -> Path:
    """A params.yaml composed from the untouched conf/ copy."""
    path = tmp_path / "params.yaml"
    reconcile(conf, path)
    return path


# --- the payloads are live: without the check each one runs -------------------------------


@pytest.mark.integration
@pytest.mark.parametrize("name", PAYLOADS)
def test_each_payload_runs_when_instantiated_unchecked(name: str, marker: Path) -> None:
    from hydra.utils import instantiate

    with contextlib.suppress(Exception):  # torch.load fails after unpickling: it ran
        instantiate(_payload(name, marker))
    assert marker.read_text() == "pwned"


# --- refused by the check itself, before anything runs ------------------------------------


@pytest.mark.parametrize("placement", PLACEMENTS)
@pytest.mark.parametrize("name", PAYLOADS)
def test_payload_anywhere_in_the_config_is_refused(name: str, placement: str, marker: Path) -> None:
    model, key = _model(placement, _payload(name, marker))
    tree = {"model": model}  # the trust policy: this repository's pyproject.toml
    with pytest.raises(ConfigError, match=rf"{key}: .*{REASONS[name]}"):
        check_targets(tree)
    assert not marker.exists()


@pytest.mark.parametrize("name", PAYLOADS)
def test_payload_inside_features_is_refused(name: str, marker: Path) -> None:
    tree = {"features": {"name": "standard", "extra": [_payload(name, marker)]}}
    with pytest.raises(ConfigError, match=rf"features\.extra\[0\]\._target_: .*{REASONS[name]}"):
        check_targets(tree, PREFIXES, [])
    assert not marker.exists()


@pytest.mark.integration
def test_private_path_is_refused_before_import_and_sklearn_configs_never_load_torch() -> None:
    script = """
import json, sys
from pr2prod.config import ConfigError
from pr2prod.config.hydra_compose import compose_dict
from pr2prod.config.targets import check_targets
check_targets(compose_dict(sys.argv[1]))  # the default config: a scikit-learn model
try:
    check_targets({"_target_": "sklearn.utils._testing.assert_run_python_script_without_output"})
except ConfigError:
    pass
print(json.dumps({m: m in sys.modules for m in ("sklearn.utils._testing", "torch", "skorch")}))
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run(  # a fresh interpreter shows what was imported
        [sys.executable, "-c", script, str(CONF)], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert loaded == {"sklearn.utils._testing": False, "torch": False, "skorch": False}


def test_a_reexported_function_is_refused_even_when_listed() -> None:
    # sklearn.utils.validation re-exports inspect.signature: the real module is checked
    tree = {"model": {"_target_": "sklearn.utils.validation.signature"}}
    with pytest.raises(ConfigError, match=r"resolves to inspect\.signature, defined outside"):
        check_targets(tree, PREFIXES, ["sklearn.utils.validation.signature"])


def test_malformed_and_unresolvable_targets_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"model\._target_: .*not a dotted Python name"):
        check_targets({"model": {"_target_": "sklearn..linear_model"}}, PREFIXES, [])
    with pytest.raises(
        ConfigError, match=r"model\._target_: 'sklearn\.nope\.X' cannot be resolved"
    ):
        check_targets({"model": {"_target_": "sklearn.nope.X"}}, PREFIXES, [])


# --- pr2prod compose / check refuse and write nothing -------------------------------------


@pytest.mark.parametrize("placement", PLACEMENTS)
@pytest.mark.parametrize("name", PAYLOADS)
def test_compose_refuses_and_leaves_params_untouched(
    name: str, placement: str, conf: Path, params: Path, marker: Path
) -> None:
    model, key = _model(placement, _payload(name, marker))
    (conf / "model" / "evil.yaml").write_text(yaml.safe_dump(model))
    before = params.read_bytes()
    with pytest.raises(ConfigError, match=rf"{key}: .*{REASONS[name]}"):
        reconcile(conf, params, ["model=evil"])
    assert params.read_bytes() == before
    assert not marker.exists()


@pytest.mark.parametrize("name", PAYLOADS)
def test_compose_refuses_a_payload_as_the_torch_optimizer(
    name: str, conf: Path, params: Path, marker: Path
) -> None:
    target = _payload(name, marker)["_target_"]
    before = params.read_bytes()
    with pytest.raises(ConfigError, match=rf"model\.optimizer\._target_: .*{REASONS[name]}"):
        reconcile(conf, params, ["model=torch_mlp", f"model.optimizer._target_={target}"])
    assert params.read_bytes() == before
    assert not marker.exists()


@pytest.mark.parametrize("name", PAYLOADS)
def test_compose_refuses_a_payload_in_features(
    name: str, conf: Path, params: Path, marker: Path
) -> None:
    features = conf / "features" / "standard.yaml"
    extra = yaml.safe_dump({"extra": _payload(name, marker)})
    features.write_text(features.read_text() + extra)
    before = params.read_bytes()
    with pytest.raises(ConfigError, match=r"features"):
        reconcile(conf, params)
    assert params.read_bytes() == before
    assert not marker.exists()


@pytest.mark.parametrize("name", PAYLOADS)
def test_check_refuses_a_payload_edited_into_params(
    name: str, conf: Path, params: Path, marker: Path
) -> None:
    text = params.read_text()
    target = _payload(name, marker)["_target_"]
    edited = text.replace("sklearn.linear_model.LogisticRegression", target)
    assert edited != text
    params.write_text(edited)
    with pytest.raises(ConfigError, match=rf"model\._target_: .*{REASONS[name]}"):
        check(conf, params)
    assert params.read_text() == edited
    assert not marker.exists()


# --- the train build path refuses too (a params.yaml that skipped compose) ----------------


def _train_frame() -> tuple[pd.DataFrame, Any]:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(40, 3)), columns=["a", "b", "c"])
    frame["target"] = (frame["a"] > 0).astype(int)
    return frame, infer_schema(frame, frame, "binary", "target", "id")


@pytest.mark.parametrize("placement", PLACEMENTS)
@pytest.mark.parametrize("name", PAYLOADS)
def test_train_refuses_before_building(name: str, placement: str, marker: Path) -> None:
    cfg = to_config(compose_dict(CONF))
    # whatever mapping reaches the build step (a model family without a schema, say)
    cfg.model, key = _model(placement, _payload(name, marker))
    frame, schema = _train_frame()
    with pytest.raises(ConfigError, match=rf"{key}: .*{REASONS[name]}"):
        fit_pipeline(cfg, schema, frame)
    assert not marker.exists()


@pytest.mark.parametrize("name", PAYLOADS)
def test_train_refuses_a_payload_in_a_typed_any_field(name: str, marker: Path) -> None:
    overrides = ["model=random_forest", "model.n_estimators=2"]
    raw = compose_dict(CONF, overrides)
    raw["model"]["max_features"] = _payload(name, marker)  # survives the typed schema
    cfg = to_config(raw)
    frame, schema = _train_frame()
    with pytest.raises(ConfigError, match=rf"model\.max_features\._target_: .*{REASONS[name]}"):
        fit_pipeline(cfg, schema, frame)
    assert not marker.exists()


@pytest.mark.parametrize("name", PAYLOADS)
def test_a_persisted_optimizer_spec_is_checked_at_fit(name: str, marker: Path) -> None:
    from pr2prod.models.torch_mlp import TorchMLPClassifier

    frame, _ = _train_frame()
    spec = {**_payload(name, marker), "_partial_": True}
    model = TorchMLPClassifier(max_epochs=1, optimizer=spec, progress=False)
    with pytest.raises(ConfigError, match=r"optimizer\._target_"):
        model.fit(frame[["a", "b", "c"]], frame["target"])
    assert not marker.exists()


def test_a_torch_module_is_not_accepted_as_the_optimizer() -> None:
    from pr2prod.models.torch_mlp import TorchMLPClassifier

    frame, _ = _train_frame()
    spec = {"_target_": "torch.optim.swa_utils.AveragedModel", "_partial_": True}
    model = TorchMLPClassifier(max_epochs=1, optimizer=spec, progress=False)
    # a torch module, not an optimizer: it has no registered schema as a target
    with pytest.raises(ConfigError, match=r"optimizer: .*AveragedModel.*no registered schema"):
        model.fit(frame[["a", "b", "c"]], frame["target"])


# --- legitimate targets still pass --------------------------------------------------------


@pytest.mark.parametrize("option", sorted(p.stem for p in (CONF / "model").glob("*.yaml")))
def test_every_model_option_passes_compose_and_check(option: str, conf: Path, params: Path) -> None:
    data = (
        "data=diabetes"
        if "[regression]" in (CONF / "model" / f"{option}.yaml").read_text()
        else "data=breast_cancer"
    )
    reconcile(conf, params, [f"model={option}", data])
    assert check(conf, params) == []
    cfg = to_config(compose_dict(conf, [f"model={option}", data]))
    assert build_estimator(cfg.model, cfg.allowed_targets, cfg.allowed_callables) is not None


def test_torch_mlp_fits_with_its_configured_and_persisted_optimizer() -> None:
    import torch

    from pr2prod.models.torch_mlp import TorchMLPClassifier

    cfg = to_config(compose_dict(CONF, ["model=torch_mlp"]))
    frame, _ = _train_frame()
    model = build_estimator(cfg.model, cfg.allowed_targets, cfg.allowed_callables)
    assert model.optimizer.func is torch.optim.Adam
    persisted = TorchMLPClassifier(**{**model.get_params(), "max_epochs": 1, "progress": False})
    persisted.__setstate__(persisted.__getstate__())  # the spec form a saved model keeps
    assert persisted.optimizer["_target_"] == "torch.optim.adam.Adam"
    persisted.fit(frame[["a", "b", "c"]], frame["target"])
    assert len(persisted.loss_curve_) == 1


def test_allowed_callables_extends_by_exact_name_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from pr2prod.config import registry

    raw = compose_dict(CONF, ["model=linear_regression", "data=diabetes"])
    raw["model"]["_target_"] = "collections.OrderedDict"
    del raw["model"]["fit_intercept"]
    cfg = to_config(raw)
    policy = ["sklearn.", "collections."]  # as pyproject.toml [tool.pr2prod] would list it
    with pytest.raises(ConfigError, match=r"resolves to class collections\.OrderedDict"):
        build_estimator(cfg.model, policy, [])
    with pytest.raises(ConfigError, match=r"no registered schema"):  # listed, still no schema
        build_estimator(cfg.model, policy, ["collections.OrderedDict"])
    monkeypatch.setitem(registry._REGISTRY, "collections.OrderedDict", registry.TargetSchema)
    estimator = build_estimator(cfg.model, policy, ["collections.OrderedDict"])
    assert type(estimator).__name__ == "OrderedDict"
