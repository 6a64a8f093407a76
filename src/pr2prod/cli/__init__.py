"""The ``pr2prod`` command line. Each module registers its commands on the shared app."""

from __future__ import annotations

from pr2prod.cli import (
    batch_cmds,  # noqa: F401  (registers score, monitor)
    canary_cmds,  # noqa: F401  (registers canary-report, promote)
    config_cmds,  # noqa: F401  (registers compose, check, stage)
    gate_cmds,  # noqa: F401  (registers gate, diff)
    init_cmds,  # noqa: F401  (registers init, upgrade)
    release_cmds,  # noqa: F401  (registers registry, release, rollback, verify-repro, report, ci)
    retrain_cmds,  # noqa: F401  (registers retrain)
    serve_cmds,  # noqa: F401  (registers build, serve, shadow-report)
    sweep_cmds,  # noqa: F401  (registers sweep)
)
from pr2prod.cli._app import app

__all__ = ["app"]
