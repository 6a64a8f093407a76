"""Monitoring the training split against its own reference raises no alert (issue 11 §4).

Each data set is split, its reference built by the real ``infer_schema`` (what ``prepare``
writes as ``schema.json``), and the training split, scored by a real model, monitored with
``run_monitor`` (the function behind ``pr2prod monitor``) and with the CLI itself. Before
discrete numeric features were tested as categories, KS on their ties flagged ``year``,
``rooms`` (synthetic) and ``sex``, ``s4`` (diabetes) at PSI 0.000 and exited 1.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from _monitor_data import DATASETS, Monitored, default_drift, setup, small_integers

from _project import BIN, ROOT, run
from pr2prod.monitor.run import run_monitor


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_no_feature_of_the_training_split_drifts_from_its_own_reference(name: str, tmp_path: Path):
    m = setup(tmp_path, *DATASETS[name]())
    result = run_monitor(m.cfg)
    report = result.report
    assert report["drift_evaluated"] and result.rows == len(m.train)
    assert all(report["features"][f]["evaluated"] for f in m.features)
    assert report["drifted_features"] == [], report["alerts"]


REGRESSOR_PREDICTIONS = (
    "prediction drift compares a regressor's predictions with the training *target*'s "
    "distribution; a fit's predictions are narrower (diabetes: PSI 0.32, KS D 0.14 on the "
    "training split itself). Needs the training predictions' statistics in the artifact."
)


@pytest.mark.parametrize(
    "name",
    [
        "breast_cancer",
        "small_integers",
        pytest.param(
            "diabetes", marks=pytest.mark.xfail(strict=True, reason=REGRESSOR_PREDICTIONS)
        ),
    ],
)
def test_training_split_against_its_own_reference_raises_no_alert(name: str, tmp_path: Path):
    m = setup(tmp_path, *DATASETS[name]())
    result = run_monitor(m.cfg)
    assert not result.alert, result.alerts
    assert not (tmp_path / "reports/monitor_alert.md").exists()


def test_small_integer_features_are_tested_as_categories(tmp_path: Path):
    m = setup(tmp_path, *small_integers())
    features = run_monitor(m.cfg).report["features"]
    for name in ("year", "rooms", "garage"):
        assert features[name]["tested_as"] == "discrete"
        assert features[name]["test"] == "chi2"
        assert set(features[name]["frequencies"]) == {str(v) for v in m.train[name].unique()}
    assert features["x"]["tested_as"] == "continuous" and features["x"]["test"] == "ks"


def test_discrete_max_values_decides_from_the_reference(tmp_path: Path):
    m = setup(tmp_path, *small_integers())
    m.cfg.drift = default_drift(discrete_max_values=6)  # year has 8 values: continuous now
    features = run_monitor(m.cfg).report["features"]
    assert features["year"]["tested_as"] == "continuous"
    # its reference stores the 8 values, so KS compares exact step CDFs: ties cost nothing
    assert features["year"]["over"] == "reference values"
    assert features["year"]["statistic"] == pytest.approx(0.0, abs=1e-12)
    assert features["rooms"]["tested_as"] == "discrete"
    m.cfg.drift = default_drift(discrete_max_values=101)
    with pytest.raises(ValueError, match=r"monitor\.drift\.discrete_max_values: 101 .*0\.\.100"):
        run_monitor(m.cfg)


@pytest.mark.parametrize("shift", ["later_years", "unseen_year"])
def test_a_real_shift_of_a_small_integer_feature_is_still_flagged(tmp_path: Path, shift: str):
    m = setup(tmp_path, *small_integers())
    window = m.train.copy()
    if shift == "later_years":  # a third of the rows move to the newest year
        late = np.random.default_rng(3).random(len(window)) < 1 / 3
        window.loc[late, "year"] = 2017
    else:  # a year the model never saw
        window.loc[window.index[: len(window) // 4], "year"] = 2018
    window.to_parquet(m.cfg.scored_input)
    result = run_monitor(m.cfg)
    assert result.report["drifted_features"] == ["year"], result.alerts
    year = result.report["features"]["year"]
    assert year["test"] == "chi2" and year["p_value"] < 1e-6
    if shift == "unseen_year":
        assert year["unseen_share"] == pytest.approx(0.25, abs=0.01)


def params_file(tmp: Path, m: Monitored) -> Path:
    """This repository's composed params.yaml with the monitor pointed at ``m``."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    mon = params["monitor"]
    mon.update(
        source="scored",
        scored_input=m.cfg.scored_input,
        scored_predictions=m.cfg.scored_predictions,
        window_days=None,
        report_dir="reports",
        plots_dir="reports/monitor_plots",
    )
    mon["score"]["model"] = str(m.model_dir)
    mon["alert"].update(exit_code=1, flag_file="reports/monitor_alert.md")
    path = tmp / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


@pytest.mark.integration
@pytest.mark.parametrize("name", ["breast_cancer", "small_integers"])
def test_cli_exits_0_on_the_training_split_and_1_on_a_shift(name: str, tmp_path: Path):
    m = setup(tmp_path, *DATASETS[name]())
    cmd = [str(BIN / "pr2prod"), "monitor", "--params", str(params_file(tmp_path, m))]
    proc = run(cmd, tmp_path, check=False)
    assert proc.returncode == 0, proc.stderr
    assert f"monitored {len(m.train)} rows" in proc.stdout
    assert not (tmp_path / "reports/monitor_alert.md").exists()
    shifted = m.train.copy()
    col = "year" if name == "small_integers" else "mean_texture"
    shifted[col] = shifted[col] + (1 if name == "small_integers" else 2 * shifted[col].std())
    shifted.to_parquet(tmp_path / "shifted.parquet")
    proc = run([*cmd, "--scored-input", str(tmp_path / "shifted.parquet")], tmp_path, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"ALERT feature drift: {col}" in proc.stderr
    assert (tmp_path / "reports/monitor_alert.md").exists()
