"""Registration of the structured-config schemas in Hydra's ConfigStore."""

from __future__ import annotations

from hydra.core.config_store import ConfigStore

from pr2prod.config import schema
from pr2prod.config.canary_schema import CanaryConfig
from pr2prod.config.retrain_schema import RetrainConfig
from pr2prod.config.sweep_schema import SweepConfig

_GROUP_SCHEMAS: dict[str, type] = {
    "paths": schema.PathsConfig,
    "data": schema.DataConfig,
    "split": schema.SplitConfig,
    "validate": schema.ValidateConfig,
    "features": schema.FeaturesConfig,
    "evaluate": schema.EvaluateConfig,
    "gate": schema.GateConfig,
    "serve": schema.ServeConfig,
    "acceptance": schema.AcceptanceConfig,
    "release": schema.ReleaseConfig,
    "monitor": schema.MonitorConfig,
    "canary": CanaryConfig,
    "retrain": RetrainConfig,
    "sweep": SweepConfig,  # composed on its own (pr2prod sweep), never into params.yaml
}

_registered = False


def register_schemas() -> None:
    """Register ``base_<group>`` schemas (and one per model family) once per process."""
    global _registered
    if _registered:
        return
    cs = ConfigStore.instance()
    cs.store(name="base_config", node=schema.Config)
    for group, node in _GROUP_SCHEMAS.items():
        cs.store(group=group, name=f"base_{group}", node=node)
    for name, node in schema.MODEL_SCHEMAS.items():
        cs.store(group="model", name=name, node=node)
    _registered = True
