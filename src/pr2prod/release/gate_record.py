"""The gate verdict's record format (``paths.gate_json``), defined once.

:class:`GateReport` is what :func:`pr2prod.compare.gate.run_gate` decides;
:class:`GateVerdict` is the sealed record the gate stage writes and every reader gets from
:func:`pr2prod.release.verdict.read_verdict`: the report, why production is what it is,
the :class:`Binding` and the digest. Whether a verdict blocks a release is one method,
:meth:`GateReport.blocks_release`.

The record's bytes are the writer's JSON (sorted keys): numbers keep their JSON type
(``0`` stays ``0``, ``0.0`` stays ``0.0``) and the free-form parts (the models' facts, the
data hashes, stability, slices, per-class changes, curves) are kept as written, so a record
read and dumped again is byte-identical and its digest still holds. Its JSON Schema is
committed in ``docs/gate_verdict.schema.json`` (:func:`json_schema`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from pr2prod.schemadoc import main as schema_main
from pr2prod.schemadoc import schema_text

SCHEMA_VERSION = 3  # 3: no `enforced` (the release enforces; the stage records)

# int or float, as written: a float field would turn a config's `abs_tol: 0` into 0.0
Number = int | float

Verdict = Literal["pass", "fail", "first release"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Binding(_Record):
    """What a verdict is about."""

    candidate: str  # artifact id of the judged model
    production: str | None  # artifact id of production; None for a first release
    test_data: str  # hash of the prepared split the checks ran on
    gate_params: str  # hash of the gate config that decided


class GateCheck(_Record):
    """One check (``checks`` entry), as :class:`pr2prod.compare.checks.CheckResult` writes it.

    ``ci`` is the two-sided interval of the delta, for reading; ``bound`` is the one-sided
    upper bound of the worsening that the rule compares with ``tolerance``; ``detectable``
    the smallest worsening the split can detect. Non-finite numbers are written as null.
    """

    id: str
    kind: Literal["metric", "floor", "stability", "class"]
    metric: str
    slice: str | None
    direction: Literal["higher", "lower"]
    baseline: Number | None
    candidate: Number | None
    delta: Number | None
    ci: list[Number | None] | None
    tolerance: Number | None
    passed: bool
    rows: int
    note: str
    bound: Number | None
    detectable: Number | None
    rows_needed: int | None


class SkippedCheck(_Record):
    """A planned check the gate could not compute, and why."""

    id: str
    reason: str


class BootstrapRecord(_Record):
    """The bootstrap the checks used: ``gate.bootstrap`` plus the units it resampled."""

    enabled: bool
    resamples: int
    level: Number
    seed: int
    max_units: int
    units: int


class GateReport(_Record):
    """The gate's decision on one candidate (unsealed: what ``pr2prod diff`` shows)."""

    schema_version: int  # SCHEMA_VERSION, the only one this version reads
    verdict: Verdict
    passed: bool
    rule: str
    task: str
    rows: int
    failed: list[str]  # ids of the failed checks
    candidate: dict[str, Any]  # path and the model's facts
    baseline: dict[str, Any] | None  # where production came from and its facts; None: none
    data: dict[str, Any]  # the test split and the data hashes compared
    bootstrap: BootstrapRecord
    checks: list[GateCheck]
    underpowered: list[str]  # ids of checks the split cannot show at their tolerance
    skipped: list[SkippedCheck]
    stability: dict[str, Any]
    slices: list[dict[str, Any]]
    per_class: dict[str, Any]
    curves: dict[str, Any]

    @model_validator(mode="after")
    def _consistent(self) -> GateReport:
        if self.schema_version != SCHEMA_VERSION:
            raise ValueError(f"schema_version {self.schema_version}, not {SCHEMA_VERSION}")
        failing = [c.id for c in self.checks if not c.passed]
        if self.failed != failing:
            raise ValueError(f"failed lists {self.failed}, but the failing checks are {failing}")
        if self.passed != (self.verdict != "fail") or self.passed == bool(failing):
            raise ValueError(
                f"verdict {self.verdict!r}, passed {self.passed} and {len(failing)} failed "
                "checks disagree"
            )
        return self

    def blocks_release(self) -> bool:
        """True when this verdict forbids building or releasing its candidate: a check failed.

        The one rule: the package stage, ``pr2prod gate``/``build``/``release``, the model
        card and ``pr2prod retrain`` all ask this method.
        """
        return self.verdict == "fail"

    def check(self, check_id: str) -> GateCheck | None:
        """The check ``check_id``, or None when it was not computed."""
        return next((c for c in self.checks if c.id == check_id), None)

    def record(self) -> dict[str, Any]:
        """The JSON object the writer writes (and the digest covers)."""
        return self.model_dump()


class GateVerdict(GateReport):
    """The sealed verdict (``paths.gate_json``): the report, bound and digested."""

    baseline_reason: str
    binding: Binding
    digest: str  # sha256 of the canonical JSON of everything else (release.verdict.digest)


def json_schema() -> str:
    """The verdict's JSON Schema as committed in ``docs/gate_verdict.schema.json``."""
    return schema_text(GateVerdict)


def main(argv: list[str] | None = None) -> int:
    """``python -m pr2prod.release.gate_record [--out PATH]``: print or write the schema."""
    return schema_main("python -m pr2prod.release.gate_record", "gate verdict", GateVerdict, argv)


if __name__ == "__main__":
    raise SystemExit(main())
