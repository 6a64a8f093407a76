"""Schema of the ``monitor`` config group (conf/monitor/)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class MonitorConfig:
    """Settings of the monitor feature (filled in by that feature)."""
