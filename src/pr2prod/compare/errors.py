"""The gate's own error: a comparison that must not be made (message is for people)."""

from __future__ import annotations

from pr2prod.errors import DataError


class GateError(DataError, RuntimeError):
    """The gate cannot compare: different data, unavailable baseline, mismatched models."""
