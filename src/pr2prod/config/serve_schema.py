"""Schema of the ``serve`` config group (conf/serve/)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ServeConfig:
    """Settings of the serve feature (filled in by that feature)."""
