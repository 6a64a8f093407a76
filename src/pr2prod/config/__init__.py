"""Config schemas, composition of ``conf/`` into ``params.yaml``, and validation."""

from pr2prod.config.errors import ConfigError
from pr2prod.config.loader import load_params, to_config
from pr2prod.config.schema import Config

__all__ = ["Config", "ConfigError", "load_params", "to_config"]
