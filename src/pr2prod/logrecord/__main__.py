"""``python -m pr2prod.logrecord [--out PATH]``: print (or write) the record's JSON Schema."""

from __future__ import annotations

from pr2prod.logrecord.record import PredictionRecord
from pr2prod.schemadoc import main as schema_main


def main(argv: list[str] | None = None) -> int:
    """Print the prediction record's JSON Schema, or write it to ``--out``."""
    return schema_main("python -m pr2prod.logrecord", "prediction record", PredictionRecord, argv)


if __name__ == "__main__":
    raise SystemExit(main())
