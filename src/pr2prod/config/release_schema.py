"""Schema of the ``release`` config group (conf/release/)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ReleaseConfig:
    """Settings of the release feature (filled in by that feature)."""
