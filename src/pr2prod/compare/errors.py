"""The gate's own error: a comparison that must not be made (message is for people)."""

from __future__ import annotations


class GateError(RuntimeError):
    """The gate cannot compare: different data, unavailable baseline, mismatched models."""
