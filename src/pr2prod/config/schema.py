"""Typed schemas for every config group (Hydra structured configs).

Each group has a base dataclass registered in Hydra's ConfigStore as ``base_<group>``
(see :mod:`pr2prod.config.store`); option files in ``conf/<group>/`` start with
``defaults: [base_<group>]`` and hold only values. Core code receives these dataclasses,
never a ``DictConfig``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING

from pr2prod.config.acceptance_schema import AcceptanceConfig
from pr2prod.config.canary_schema import CanaryConfig
from pr2prod.config.choices import (
    CategoricalImputer,
    ClassWeight,
    ColumnType,
    ModelKind,
    NumericImputer,
    OutOfRange,
    Scaler,
    SklearnDataset,
    Source,
    Task,
    values,
)
from pr2prod.config.gate_schema import GateConfig
from pr2prod.config.monitor_schema import MonitorConfig
from pr2prod.config.paths_schema import PathsConfig
from pr2prod.config.release_schema import ReleaseConfig
from pr2prod.config.retrain_schema import RetrainConfig
from pr2prod.config.serve_schema import ServeConfig

TASKS = values(Task)
SOURCES = values(Source)
SKLEARN_DATASETS = values(SklearnDataset)


@dataclass
class SyntheticConfig:
    """Parameters of the synthetic table generator (scale tests, benchmarks)."""

    n_rows: int = 1000
    n_features: int = 10
    n_informative: int = 5
    n_classes: int = 2
    noise: float = 0.1
    n_categorical: int = 0
    n_categories: int = 4
    seed: int = 0


@dataclass
class FeedbackGuardConfig:
    """Rows whose label the current model influenced, left out of training (prepare stage).

    Attributes:
        column: marker column (dropped from the features); null: the guard is off.
        values: marker values (compared as text) whose rows are excluded.
    """

    column: str | None = None
    values: list[str] = field(default_factory=list)


@dataclass
class DataConfig:
    """Where the rows come from and what the task is."""

    name: str = MISSING
    source: Source = MISSING
    task: Task = MISSING
    dataset: SklearnDataset | None = None
    path: str | None = None
    target: str = "target"
    id_column: str | None = None
    column_types: dict[str, ColumnType] = field(default_factory=dict)
    synthetic: SyntheticConfig = field(default_factory=SyntheticConfig)
    feedback_guard: FeedbackGuardConfig = field(default_factory=FeedbackGuardConfig)


@dataclass
class SplitConfig:
    """Train/test split."""

    test_size: float = 0.2
    stratify: bool = True


@dataclass
class ValidateConfig:
    """Data-quality rules checked by the validate stage."""

    min_rows_per_class: int = 5
    max_null_share: float = 0.5
    out_of_range: OutOfRange = OutOfRange.warn


@dataclass
class FeaturesConfig:
    """Preprocessing fitted inside the model pipeline (the same at training and serving)."""

    name: str = MISSING
    numeric_imputer: NumericImputer = NumericImputer.median
    scaler: Scaler = Scaler.standard
    categorical_imputer: CategoricalImputer = CategoricalImputer.most_frequent
    one_hot: bool = True
    max_categories: int | None = None
    polynomial_degree: int = 1
    select_k_best: int | None = None


@dataclass
class ModelConfig:
    """Common part of every model option: a name and an allow-listed ``_target_``.

    Every other key of a model option is passed to the estimator's constructor.
    """

    name: str = MISSING
    _target_: str = MISSING
    tasks: list[ModelKind] = field(
        default_factory=lambda: [ModelKind.classification, ModelKind.regression]
    )


@dataclass
class LogisticRegressionConfig(ModelConfig):
    C: float = 1.0
    max_iter: int = 1000
    class_weight: ClassWeight | None = None
    random_state: int = 0


@dataclass
class LinearRegressionConfig(ModelConfig):
    fit_intercept: bool = True


@dataclass
class RidgeConfig(ModelConfig):
    alpha: float = 1.0
    random_state: int = 0


@dataclass
class RandomForestConfig(ModelConfig):
    n_estimators: int = 100
    max_depth: int | None = None
    min_samples_leaf: int = 1
    max_features: Any = "sqrt"
    n_jobs: int = 1
    random_state: int = 0


@dataclass
class HistGradientBoostingConfig(ModelConfig):
    learning_rate: float = 0.1
    max_iter: int = 100
    max_leaf_nodes: int = 31
    max_depth: int | None = None
    l2_regularization: float = 0.0
    early_stopping: bool = False
    random_state: int = 0


@dataclass
class OptimizerConfig:
    _target_: str = "torch.optim.Adam"
    _partial_: bool = True
    weight_decay: float = 0.0


@dataclass
class TorchMLPConfig(ModelConfig):
    hidden_sizes: list[int] = field(default_factory=lambda: [64, 32])
    dropout: float = 0.1
    max_epochs: int = 30
    batch_size: int = 64
    lr: float = 0.001
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    random_state: int = 0
    progress: bool = True


@dataclass
class EvaluateConfig:
    """What the evaluate stage computes."""

    calibration_bins: int = 10
    curve_points: int = 101


@dataclass
class Config:
    """The whole composed config (``params.yaml`` minus its ``compose`` record)."""

    seed: int = 42
    paths: PathsConfig = MISSING
    data: DataConfig = MISSING
    split: SplitConfig = MISSING
    validate: ValidateConfig = MISSING
    features: FeaturesConfig = MISSING
    model: Any = MISSING
    evaluate: EvaluateConfig = MISSING
    gate: GateConfig = MISSING
    serve: ServeConfig = MISSING
    acceptance: AcceptanceConfig = MISSING
    release: ReleaseConfig = MISSING
    monitor: MonitorConfig = MISSING
    canary: CanaryConfig = MISSING
    retrain: RetrainConfig = MISSING
    experiment: str | None = None

    # The trust policy is not config: read from pyproject.toml [tool.pr2prod] (config/trust.py).
    @property
    def allowed_targets(self) -> list[str]:
        """Module prefixes a ``_target_`` may start with (the project's trust policy)."""
        from pr2prod.config.trust import load_trust_policy

        return list(load_trust_policy().allowed_targets)

    @property
    def allowed_callables(self) -> list[str]:
        """Exact names of other callables a ``_target_`` may name (the trust policy)."""
        from pr2prod.config.trust import load_trust_policy

        return list(load_trust_policy().allowed_callables)


MODEL_SCHEMAS: dict[str, type[ModelConfig]] = {
    "base_logistic_regression": LogisticRegressionConfig,
    "base_linear_regression": LinearRegressionConfig,
    "base_ridge": RidgeConfig,
    "base_random_forest": RandomForestConfig,
    "base_hist_gradient_boosting": HistGradientBoostingConfig,
    "base_torch_mlp": TorchMLPConfig,
}
