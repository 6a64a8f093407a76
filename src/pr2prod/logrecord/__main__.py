"""``python -m pr2prod.logrecord [--out PATH]``: print (or write) the record's JSON Schema."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pr2prod.logrecord.record import json_schema


def main(argv: list[str] | None = None) -> int:
    """Print the prediction record's JSON Schema, or write it to ``--out``."""
    parser = argparse.ArgumentParser(
        prog="python -m pr2prod.logrecord",
        description="Print the prediction record's JSON Schema.",
    )
    parser.add_argument("--out", type=Path, help="write the schema to this file instead of stdout")
    args = parser.parse_args(argv)
    if args.out is None:
        sys.stdout.write(json_schema())
    else:
        args.out.write_text(json_schema(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
