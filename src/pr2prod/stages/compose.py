"""Stage ``compose``: keep params.yaml in line with conf/ (see pr2prod.config.compose)."""

from __future__ import annotations

from pr2prod.config.compose import reconcile
from pr2prod.stages._common import CONF, PARAMS, run_stage


def main() -> None:
    def body() -> None:
        result = reconcile(CONF, PARAMS)
        why = "; ".join(result.reasons) or "no change"
        state = "rewrote" if result.written else "unchanged"
        print(f"[compose] params.yaml {state} ({why}); overrides: {result.overrides or 'none'}")

    run_stage("compose", body)
