"""The Bento record (``reports/bento.json``): the one format the package stage writes.

``pr2prod build`` and the ``package`` stage write it; the model card, the release
workflow's containerise step and the tests read it. A candidate the gate failed gets a
record too (``built: false`` with the reason), so ``dvc exp run`` still records the
experiment; only a passing candidate has a ``bento_tag``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, model_validator

from pr2prod.fsio import write_json

GATE_FAILED = "not built: the gate failed"


class BentoRecord(BaseModel):
    """What ``reports/bento.json`` holds: a built Bento's tags, or why none was built."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    built: bool
    bento_tag: str | None = None  # ``name:version``; None when not built
    model_tag: str | None = None  # the BentoML model store entry
    artifact_hash: str  # the model artifact the record is about (``artifact_id``)
    labels: dict[str, str] = {}
    reason: str | None = None  # why nothing was built (``GATE_FAILED: <checks>``)
    failed: list[str] = []  # the gate's failed check ids, when the gate failed

    @model_validator(mode="after")
    def _consistent(self) -> BentoRecord:
        if self.built and not (self.bento_tag and self.model_tag):
            raise ValueError("a built record names its bento_tag and model_tag")
        if not self.built and (self.bento_tag or not self.reason):
            raise ValueError("a record of nothing built has a reason and no bento_tag")
        return self


def write_record(path: str | Path, record: BentoRecord) -> None:
    """Write ``record`` as stable JSON (sorted keys), atomically."""
    write_json(path, record.model_dump(mode="json"))


def read_record(path: str | Path) -> BentoRecord | None:
    """The record at ``path``, or None when there is none (never built)."""
    where = Path(path)
    if not where.exists():
        return None
    return BentoRecord.model_validate_json(where.read_text(encoding="utf-8"))
