"""The gate's own error: a comparison that must not be made (message is for people)."""

from __future__ import annotations

from pr2prod.errors import DataError


class GateError(DataError, RuntimeError):
    """The gate cannot compare: different data, unavailable baseline, mismatched models."""


def new_lineage(why: str) -> GateError:
    """The one message for a candidate that cannot take production's place: what to do."""
    return GateError(
        f"{why}: this is a new lineage, not a challenger for production. Either release it "
        "as a new model (`pr2prod compose release.model_name=<new-name> "
        "gate.baseline.ref=null`: a first release, floors only), or re-baseline explicitly "
        "with --allow-different-data (or gate.allow_different_data: true) when the test "
        "rows are comparable (same task and classes)"
    )
