"""Stage ``evaluate``: metrics JSON and DVC plots data on the test split."""

from __future__ import annotations

from pr2prod.config import load_params
from pr2prod.config.targets import project_packages
from pr2prod.data.tables import read_split
from pr2prod.evaluate.report import evaluate_model
from pr2prod.fsio import atomic_dir, write_json
from pr2prod.models.persist import load_artifact
from pr2prod.stages._common import METRICS, MODEL_DIR, PARAMS, PLOTS, TEST, run_stage


def main() -> None:
    def body() -> None:
        cfg = load_params(PARAMS)
        model = load_artifact(MODEL_DIR, trusted_packages=project_packages(cfg.allowed_targets))
        # only the columns the model reads and the label (not the row ids)
        columns = [*model.schema.feature_names, model.schema.target]
        metrics, plots = evaluate_model(model, read_split(TEST, columns), cfg.evaluate)
        with atomic_dir(PLOTS) as tmp:
            for name, rows in plots.items():
                write_json(tmp / f"{name}.json", rows)
        write_json(METRICS, metrics)
        shown = {k: round(v, 4) for k, v in metrics.items() if isinstance(v, float)}
        print(f"[evaluate] {shown}")

    run_stage("evaluate", body)
