"""Schema of the ``acceptance`` config group (conf/acceptance/): which rows are scored.

One rule for ``pr2prod serve`` (the request model) and ``pr2prod score`` (batch
validation); the rule itself is :mod:`pr2prod.data.acceptance`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Decision(StrEnum):
    """What happens to a row that has a value of one case (``acceptance.<case>``)."""

    reject = "reject"  # not scored: 400 online, a reject row with its reason in batch
    flag = "flag"  # scored, and counted (batch summary `flagged`; online metrics)


@dataclass
class AcceptanceConfig:
    """The decision per case; a value larger than ``max_abs_value`` is always rejected."""

    unknown_category: Decision = Decision.reject
    missing_value: Decision = Decision.reject
    out_of_range: Decision = Decision.flag
    max_abs_value: float = 1e12
