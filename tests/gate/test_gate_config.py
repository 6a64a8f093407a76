"""The gate config: defaults compose, bad values are refused naming the key, slices."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pr2prod.compare.slices import build_slices
from pr2prod.compare.validate import validate_gate_config
from pr2prod.config.errors import ConfigError
from pr2prod.config.gate_schema import GateConfig, MetricCheck, SliceConfig
from pr2prod.config.loader import load_params

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def gate_cfg() -> GateConfig:
    return load_params(ROOT / "params.yaml").gate


def test_default_gate_config_is_typed_and_valid(gate_cfg):
    validate_gate_config(gate_cfg)
    assert not hasattr(gate_cfg, "enforce")  # the release enforces; the stage records
    assert gate_cfg.baseline.ref == "main"
    assert gate_cfg.metrics["accuracy"].direction == "higher"
    assert gate_cfg.metrics["rmse"].direction == "lower"
    assert gate_cfg.slices["tumour_size"].bins[0] == -math.inf


def test_every_gate_key_is_commented_in_the_yaml():
    lines = (ROOT / "conf/gate/default.yaml").read_text().splitlines()
    for i, line in enumerate(lines):
        if ":" in line and not line.lstrip().startswith(("#", "-", "defaults")):
            before = lines[i - 1].strip() if i else ""
            assert "#" in line or before.startswith("#"), f"uncommented key: {line!r}"


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"metrics": {"acuracy": MetricCheck()}}, "gate.metrics.acuracy"),
        ({"metrics": {"accuracy": MetricCheck(direction="up")}}, "gate.metrics.accuracy.direction"),
        ({"metrics": {"f1": MetricCheck(abs_tol=-1)}}, "gate.metrics.f1.abs_tol"),
        ({"slices": {"s": SliceConfig(column="a")}}, "gate.slices.s"),
        ({"slices": {"s": SliceConfig(bins=[1.0, 2.0])}}, "gate.slices.s.column"),
        ({"slices": {"s": SliceConfig(column="a", bins=[2.0, 1.0])}}, "gate.slices.s.bins"),
        ({"slices": {"s": SliceConfig(query="a > 1", metrics=["nope"])}}, "gate.slices.s.metrics"),
    ],
)
def test_invalid_gate_config_names_the_key(gate_cfg, change, key):
    with pytest.raises(ConfigError, match=key.replace("[", r"\[")):
        validate_gate_config(dataclasses.replace(gate_cfg, **change))


def test_bootstrap_level_must_be_a_probability(gate_cfg):
    bad = dataclasses.replace(gate_cfg.bootstrap, level=95)
    with pytest.raises(ConfigError, match=r"gate\.bootstrap\.level"):
        validate_gate_config(dataclasses.replace(gate_cfg, bootstrap=bad))


FRAME = pd.DataFrame(
    {"size": [1.0, 5.0, 9.0, 12.0], "colour": ["r", "g", "r", "b"], "target": [0, 1, 1, 0]}
)


def test_bins_slices_are_half_open_intervals():
    slices, note = build_slices(
        "sz", SliceConfig(column="size", bins=[-math.inf, 5, math.inf]), FRAME
    )
    assert note is None
    assert [s.name for s in slices] == ["sz[-inf, 5)", "sz[5, inf)"]
    assert [int(s.mask.sum()) for s in slices] == [1, 3]


def test_value_and_query_slices():
    by_value, _ = build_slices("c", SliceConfig(column="colour", values=["r", "b"]), FRAME)
    assert [s.name for s in by_value] == ["c=r", "c=b"]
    assert np.array_equal(by_value[0].mask, [True, False, True, False])
    query, _ = build_slices("pos", SliceConfig(query="target == 1 and size > 6"), FRAME)
    assert np.array_equal(query[0].mask, [False, False, True, False])


def test_missing_column_is_skipped_with_a_note_and_bad_query_is_an_error():
    slices, note = build_slices("x", SliceConfig(column="absent", values=["a"]), FRAME)
    assert slices == []
    assert "absent" in note
    with pytest.raises(ConfigError, match=r"gate.slices.q.query"):
        build_slices("q", SliceConfig(query="no_such_column > 1"), FRAME)


def test_planned_check_ids_are_task_aware(gate_cfg):
    from pr2prod.compare.plan import planned_check_ids

    binary = planned_check_ids(gate_cfg, "binary")
    assert binary[:6] == [
        "metric:accuracy",
        "floor:accuracy",
        "metric:f1",
        "metric:roc_auc",
        "metric:log_loss",
        "stability:flip_rate",
    ]
    assert "slice:tumour_size[12, 15):accuracy" in binary
    assert "metric:rmse" not in binary
    regression = planned_check_ids(gate_cfg, "regression")
    assert regression == ["metric:rmse", "metric:r2", "stability:mean_abs_change"]
