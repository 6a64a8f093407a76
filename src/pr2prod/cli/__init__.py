"""The ``pr2prod`` command line. Each module registers its commands on the shared app."""

from __future__ import annotations

from pr2prod.cli import (
    config_cmds,  # noqa: F401  (registers compose, check, stage)
    release_cmds,  # noqa: F401  (registry, release, rollback, report, ci)
)
from pr2prod.cli._app import app

__all__ = ["app"]
