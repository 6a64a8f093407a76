"""``pytest -m differential``: the differential gate's checks as tests, one per check
(pr2prod's docs/gate.md). Production is resolved from params.yaml's `gate`, or
`PR2PROD_BASELINE`; skips with a reason until the project has a trained model."""

from pr2prod.differential import gate_report, test_gate_check

__all__ = ["gate_report", "test_gate_check"]
