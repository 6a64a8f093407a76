"""A pytest plugin for benchmarks/tests.py: after collection, write the tests per tier as JSON.

``pytest --collect-only -q -p tier_counts`` (with benchmarks/ on ``PYTHONPATH``) writes
``{"unit": n, "integration": n, "e2e": n, "all": n}`` to the file ``$TIER_COUNTS`` names. One
collection instead of one per tier; the tiers are the marks tests/_tiers.py leaves on each test.
"""

from __future__ import annotations

import json
import os

import pytest

TIERS = ("unit", "integration", "e2e")


def pytest_collection_finish(session: pytest.Session) -> None:
    counts = dict.fromkeys(TIERS, 0)
    for item in session.items:
        tier = next((m.name for m in item.iter_markers() if m.name in TIERS), None)  # closest
        if tier is None:
            raise pytest.UsageError(f"{item.nodeid} has no tier")
        counts[tier] += 1
    counts["all"] = len(session.items)
    with open(os.environ["TIER_COUNTS"], "w", encoding="utf-8") as fh:
        json.dump(counts, fh)
