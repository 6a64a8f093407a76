"""The search space is checked before Ray starts: errors name the key and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pr2prod.config.errors import ConfigError
from pr2prod.config.sweep_schema import FROZEN_KEYS
from pr2prod.sweep.spec import load_sweep, split_overrides, to_sweep_config, trial_overrides

ROOT = Path(__file__).resolve().parents[2]


def _raw(**changes: object) -> dict:
    raw: dict = {
        "name": "s",
        "metric": "accuracy",
        "parameters": {"model.C": {"type": "loguniform", "low": 0.001, "high": 100.0}},
    }
    raw.update(changes)
    return raw


def test_default_sweep_composes_from_conf() -> None:
    cfg = load_sweep(ROOT / "conf", ["sweep.num_samples=3", "model.max_iter=500"])
    assert cfg.num_samples == 3
    assert cfg.parameters["model.C"].type == "loguniform"
    assert cfg.overrides == ["model.max_iter=500"]  # non-sweep overrides apply to every trial


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"search": "bayes"}, "sweep.search: 'bayes' is not one of optuna, random, grid"),
        ({"direction": "up"}, "sweep.direction: 'up' is not one of max, min"),
        (
            {"parameters": {"model.C": {"type": "normal", "low": 0, "high": 1}}},
            "sweep.parameters.model.C.type: 'normal' is not one of uniform, loguniform, int, "
            "choice",
        ),
        (
            {"parameters": {"model.C": {"type": "loguniform", "low": 0.0, "high": 1}}},
            "sweep.parameters.model.C.low: a loguniform range needs low > 0",
        ),
        (
            {"parameters": {"model.C": {"type": "uniform", "low": 2, "high": 1}}},
            "sweep.parameters.model.C: low (2.0) must be below high (1.0)",
        ),
        (
            {"parameters": {"model.C": {"type": "choice", "values": []}}},
            "sweep.parameters.model.C.values: a choice needs a non-empty list",
        ),
        (
            {"search": "grid"},
            "sweep.parameters.model.C.type: grid search needs every parameter to be a choice",
        ),
        (
            {"parameters": {"split.test_size": {"type": "uniform", "low": 0.1, "high": 0.3}}},
            "sweep.parameters.split.test_size: 'split' cannot vary between trials",
        ),
        ({"overrides": ["data=wine"]}, "sweep.overrides: 'data=wine' changes 'data'"),
        ({"parameters": {}}, "sweep.parameters: name at least one parameter"),
        ({"num_samples": 0}, "sweep.num_samples: must be at least 1"),
        ({"name": "../x"}, "sweep.name: '../x' must start with a letter"),
        ({"resources": {"cpus": 0}}, "sweep.resources: cpus must be > 0"),
    ],
)
def test_invalid_space_is_refused_naming_the_key(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        to_sweep_config(_raw(**changes))
    assert message in str(err.value)


def test_unknown_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="bogus"):
        load_sweep(ROOT / "conf", ["sweep.bogus=1"])


def test_frozen_keys_are_the_prepare_stage_params() -> None:
    assert {"data", "split", "seed", "paths"} <= set(FROZEN_KEYS)


def test_trial_overrides_round_trip_values() -> None:
    cfg = to_sweep_config(
        _raw(
            overrides=["model.max_iter=500"],
            parameters={
                "model.C": {"type": "loguniform", "low": 0.001, "high": 100.0},
                "features": {"type": "choice", "values": ["minimal", "standard"]},
                "model.class_weight": {"type": "choice", "values": [None, "balanced"]},
            },
        )
    )
    got = trial_overrides(
        cfg, {"model.C": 0.1234567890123, "features": "minimal", "model.class_weight": None}
    )
    assert got == [
        "model.max_iter=500",
        "model.C=0.1234567890123",
        "features=minimal",
        "model.class_weight=null",
    ]


def test_split_overrides() -> None:
    assert split_overrides(["sweep=x", "sweep.seed=1", "model=ridge"]) == (
        "x",
        ["sweep.seed=1"],
        ["model=ridge"],
    )
