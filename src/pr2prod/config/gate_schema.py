"""Schema of the ``gate`` config group (conf/gate/)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class GateConfig:
    """Settings of the gate feature (filled in by that feature)."""
