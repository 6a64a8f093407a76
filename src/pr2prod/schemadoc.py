"""A record's JSON Schema as committed in ``docs/``, and the small CLI that prints or writes it.

One helper for every record model (the prediction record, the gate verdict): the text is
``model_json_schema()`` with sorted keys, so the committed file changes only with the model.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pydantic import BaseModel


def schema_text(model: type[BaseModel]) -> str:
    """``model``'s JSON Schema, as committed (sorted keys, 2-space indent, final newline)."""
    return json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n"


def main(prog: str, what: str, model: type[BaseModel], argv: list[str] | None = None) -> int:
    """``python -m <prog> [--out PATH]``: print ``model``'s schema, or write it to ``--out``."""
    parser = argparse.ArgumentParser(prog=prog, description=f"Print the {what}'s JSON Schema.")
    parser.add_argument("--out", type=Path, help="write the schema to this file instead of stdout")
    args = parser.parse_args(argv)
    if args.out is None:
        sys.stdout.write(schema_text(model))
    else:
        args.out.write_text(schema_text(model), encoding="utf-8")
    return 0
