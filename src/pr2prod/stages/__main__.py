"""``python -m pr2prod.stages <name>``: pin the numerical envelope, then run one stage.

The envelope (``pr2prod.envelope``) must be in place before NumPy, SciPy or torch load, so
this runner imports nothing numerical itself and imports the stage module only afterwards.
"""

from __future__ import annotations

import importlib
import json
import os
import sys

from pr2prod import envelope
from pr2prod.stages import STAGES

ENVELOPE_VAR = "PR2PROD_ENVELOPE_RECORD"  # the applied envelope, for the stage's run facts


def main(argv: list[str]) -> int:
    """Run the stage named in ``argv``; return the process exit code."""
    if len(argv) != 1 or argv[0] not in STAGES:
        print(f"usage: python -m pr2prod.stages {{{'|'.join(STAGES)}}}", file=sys.stderr)
        return 2
    try:
        record = envelope.apply()
    except envelope.EnvelopeError as exc:
        print(f"[{argv[0]}] {exc}", file=sys.stderr)
        return envelope.EXIT_CODE
    os.environ[ENVELOPE_VAR] = json.dumps(record, sort_keys=True)
    importlib.import_module(f"pr2prod.stages.{argv[0]}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
