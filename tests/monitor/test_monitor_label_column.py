"""The labels' column defaults to the model's target; a wrong one is named by its key."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from _monitor_data import setup, small_integers

from pr2prod.config.monitor_schema import PerformanceConfig
from pr2prod.monitor.run import run_monitor

pytestmark = [pytest.mark.unit]


def test_labels_join_on_the_target_column_by_default_and_a_wrong_one_names_its_key(
    tmp_path: Path,
) -> None:
    m = setup(tmp_path, *small_integers())
    labels = tmp_path / "labels.csv"
    m.train[["row_id", "target"]].to_csv(labels, index=False)  # as the training data has it
    cfg = replace(m.cfg, performance=PerformanceConfig(labels=str(labels)))
    assert cfg.performance.label_column is None
    assert run_monitor(cfg).report["performance"]["labelled_rows"] == len(m.train)
    wrong = replace(cfg, performance=PerformanceConfig(labels=str(labels), label_column="y"))
    with pytest.raises(ValueError, match=r"^monitor\.performance\.label_column: 'y' .*target"):
        run_monitor(wrong)
    pd.DataFrame({"target": [1]}).to_csv(labels, index=False)
    with pytest.raises(ValueError, match=r"monitor\.performance\.labels: no row id column"):
        run_monitor(cfg)
