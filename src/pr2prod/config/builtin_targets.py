"""Schemas of the targets pr2prod itself lets a config build (see :mod:`.registry`).

Each types every argument a config may set, with the domain the library accepts (bounded
where an unbounded value only burns CI time). What is not listed cannot be set from a config:
``memory`` (joblib loads pickles from it), ``n_jobs`` beyond a small pool, ``verbose``
streams, callables given as strings, warm-start state, file paths.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from pr2prod.config.registry import NestedTarget, TargetSchema, register_target

Seed = int | None
_SEED = Field(None, ge=0, le=2**32 - 1)
Share = Annotated[float, Field(gt=0.0, le=1.0)]
Units = Annotated[int, Field(ge=1, le=65_536)]


class LogisticRegressionArgs(TargetSchema):
    C: float = Field(1.0, gt=0.0, le=1e6)
    max_iter: int = Field(100, ge=1, le=100_000)
    tol: float = Field(1e-4, gt=0.0, le=1.0)
    class_weight: Literal["balanced"] | None = None
    fit_intercept: bool = True
    solver: Literal["lbfgs", "liblinear", "newton-cg", "newton-cholesky", "sag", "saga"] = "lbfgs"
    random_state: Seed = _SEED


class LinearRegressionArgs(TargetSchema):
    fit_intercept: bool = True
    positive: bool = False


class RidgeArgs(TargetSchema):
    alpha: float = Field(1.0, ge=0.0, le=1e6)
    fit_intercept: bool = True
    random_state: Seed = _SEED


class RandomForestArgs(TargetSchema):
    n_estimators: int = Field(100, ge=1, le=5000)
    max_depth: int | None = Field(None, ge=1, le=1000)
    min_samples_leaf: int = Field(1, ge=1, le=100_000)
    min_samples_split: int = Field(2, ge=2, le=100_000)
    max_features: Literal["sqrt", "log2"] | Share | None = "sqrt"
    class_weight: Literal["balanced", "balanced_subsample"] | None = None
    bootstrap: bool = True
    n_jobs: int | None = Field(None, ge=1, le=64)
    random_state: Seed = _SEED


class RandomForestRegressorArgs(RandomForestArgs):
    class_weight: None = None  # a regressor has no classes
    max_features: Literal["sqrt", "log2"] | Share | None = 1.0


class HistGradientBoostingArgs(TargetSchema):
    learning_rate: float = Field(0.1, gt=0.0, le=10.0)
    max_iter: int = Field(100, ge=1, le=100_000)
    max_leaf_nodes: int | None = Field(31, ge=2, le=100_000)
    max_depth: int | None = Field(None, ge=1, le=1000)
    min_samples_leaf: int = Field(20, ge=1, le=100_000)
    l2_regularization: float = Field(0.0, ge=0.0, le=1e6)
    max_bins: int = Field(255, ge=2, le=255)
    early_stopping: Literal["auto"] | bool = "auto"
    random_state: Seed = _SEED


class TorchMLPArgs(TargetSchema):
    hidden_sizes: list[Units] = Field(default_factory=lambda: [64, 32], min_length=1, max_length=16)
    dropout: float = Field(0.1, ge=0.0, lt=1.0)
    max_epochs: int = Field(30, ge=1, le=100_000)
    batch_size: int = Field(64, ge=1, le=1_000_000)
    lr: float = Field(1e-3, gt=0.0, le=10.0)
    optimizer: NestedTarget | None = None
    random_state: int = Field(0, ge=0, le=2**32 - 1)
    progress: bool = True


class AdamArgs(TargetSchema):
    lr: float = Field(1e-3, gt=0.0, le=10.0)
    weight_decay: float = Field(0.0, ge=0.0, le=1.0)
    amsgrad: bool = False


class SGDArgs(TargetSchema):
    lr: float = Field(1e-3, gt=0.0, le=10.0)
    momentum: float = Field(0.0, ge=0.0, lt=1.0)
    weight_decay: float = Field(0.0, ge=0.0, le=1.0)
    nesterov: bool = False


class PipelineArgs(TargetSchema):
    """A scikit-learn pipeline of registered steps. No ``memory`` (joblib would load
    ``output.pkl`` pickles from that directory), no ``transform_input``."""

    steps: list[tuple[str, NestedTarget]] = Field(min_length=1, max_length=32)
    verbose: bool = False


class QuantileTransformerArgs(TargetSchema):
    n_quantiles: int = Field(1000, ge=2, le=100_000)
    output_distribution: Literal["uniform", "normal"] = "uniform"
    random_state: Seed = _SEED


def register_builtin() -> None:
    """Register every schema above (idempotent)."""
    for name, schema in (
        ("sklearn.linear_model.LogisticRegression", LogisticRegressionArgs),
        ("sklearn.linear_model.LinearRegression", LinearRegressionArgs),
        ("sklearn.linear_model.Ridge", RidgeArgs),
        ("sklearn.ensemble.RandomForestClassifier", RandomForestArgs),
        ("sklearn.ensemble.RandomForestRegressor", RandomForestRegressorArgs),
        ("sklearn.ensemble.HistGradientBoostingClassifier", HistGradientBoostingArgs),
        ("sklearn.ensemble.HistGradientBoostingRegressor", HistGradientBoostingArgs),
        ("sklearn.pipeline.Pipeline", PipelineArgs),
        ("sklearn.preprocessing.QuantileTransformer", QuantileTransformerArgs),
        ("sklearn.preprocessing.StandardScaler", TargetSchema),
        ("pr2prod.models.torch_mlp.TorchMLPClassifier", TorchMLPArgs),
        ("pr2prod.models.torch_mlp.TorchMLPRegressor", TorchMLPArgs),
    ):
        register_target(name, schema)
    register_target("torch.optim.Adam", AdamArgs, partial=True)
    register_target("torch.optim.AdamW", AdamArgs, partial=True)
    register_target("torch.optim.SGD", SGDArgs, partial=True)


register_builtin()
