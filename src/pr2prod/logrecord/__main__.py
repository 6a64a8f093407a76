"""``python -m pr2prod.logrecord [PATH]``: print (or write) the record's JSON Schema."""

from __future__ import annotations

import sys
from pathlib import Path

from pr2prod.logrecord.record import json_schema

if __name__ == "__main__":
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(json_schema(), encoding="utf-8")
    else:
        sys.stdout.write(json_schema())
