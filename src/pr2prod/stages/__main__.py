"""``python -m pr2prod.stages <name>``: pin the numerical envelope, then run one stage.

The envelope (``pr2prod.envelope``) must be in place before NumPy, SciPy or torch load, so
this runner imports nothing numerical itself and imports the stage module only afterwards.

Exit codes are the command line's (:mod:`pr2prod.errors`): a stage's known errors exit
with their category's code (``_common.run_stage``); an unexpected exception prints its
traceback (the stage log is where it is debugged) and exits 70.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback

from pr2prod import envelope
from pr2prod.errors import EXIT_INTERNAL, EXIT_USAGE, Pr2prodError
from pr2prod.stages import STAGES

ENVELOPE_VAR = "PR2PROD_ENVELOPE_RECORD"  # the applied envelope, for the stage's run facts


def main(argv: list[str]) -> int:
    """Run the stage named in ``argv``; return the process exit code."""
    if len(argv) != 1 or argv[0] not in STAGES:
        print(f"usage: python -m pr2prod.stages {{{'|'.join(STAGES)}}}", file=sys.stderr)
        return EXIT_USAGE
    try:
        record = envelope.apply()
    except envelope.EnvelopeError as exc:
        print(f"[{argv[0]}] {exc.category}: {exc}", file=sys.stderr)
        return exc.exit_code
    os.environ[ENVELOPE_VAR] = json.dumps(record, sort_keys=True)
    try:
        importlib.import_module(f"pr2prod.stages.{argv[0]}").main()
    except Pr2prodError as exc:  # a stage outside run_stage: same line, same code
        print(f"[{argv[0]}] {exc.category}: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:
        traceback.print_exc()
        print(f"[{argv[0]}] internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_INTERNAL
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
