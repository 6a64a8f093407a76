"""``pytest -m differential``: the differential gate's checks as tests, one per check
(defined once in :mod:`pr2prod.differential`, which a generated project imports too)."""

import pytest

from pr2prod.differential import gate_report, test_gate_check

# the gate reads production through git and DVC (subprocesses): integration tier
pytestmark = [pytest.mark.integration]

__all__ = ["gate_report", "test_gate_check"]
