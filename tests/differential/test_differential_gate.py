"""``pytest -m differential``: the differential gate's checks as tests, one per check
(defined once in :mod:`pr2prod.differential`, which a generated project imports too)."""

from pr2prod.differential import gate_report, test_gate_check

__all__ = ["gate_report", "test_gate_check"]
