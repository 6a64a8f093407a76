"""The gate's verdict, sealed and bound to exactly what it judged (``reports/gate.json``).

The gate writes, and the package stage, ``pr2prod release``, the model card and
``pr2prod retrain`` read, one record (:class:`pr2prod.release.gate_record.GateVerdict`),
always through :func:`read_verdict`. Its ``binding`` names the candidate's and production's
artifact ids (:func:`pr2prod.models.identity.artifact_id`, the hashes ``dvc.lock``
records), the test data hash and the gate params hash; its ``digest`` is the SHA-256 of
the canonical JSON of everything else. A reader accepts a verdict only when the digest
matches, the candidate is the artifact at hand and production is still production.

The digest detects edits and stale verdicts; it is not a signature (anyone can recompute
it). The release workflow therefore runs the gate itself before releasing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pr2prod.config.gate_schema import GateConfig
from pr2prod.errors import CheckFailedError
from pr2prod.release.gate_record import SCHEMA_VERSION, Binding, GateReport, GateVerdict

__all__ = [
    "Binding",
    "GateVerdict",
    "VerdictError",
    "bound_verdict",
    "check_bound",
    "digest",
    "gate_params_hash",
    "read_verdict",
    "seal",
]

DIGEST_FIELD = "digest"


class VerdictError(CheckFailedError, ValueError):
    """A verdict that is missing, altered, or not about the model at hand (exit 1)."""


def gate_params_hash(cfg: GateConfig) -> str:
    """MD5 of the canonical JSON of the gate config."""
    text = json.dumps(dataclasses.asdict(cfg), sort_keys=True, default=str)
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def digest(report: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of ``report`` without its digest field."""
    body = {k: v for k, v in report.items() if k != DIGEST_FIELD}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def seal(report: GateReport, binding: Binding, baseline_reason: str) -> GateVerdict:
    """``report`` with why production is what it is, its binding and the digest over all."""
    body = {**report.record(), "baseline_reason": baseline_reason, "binding": binding.model_dump()}
    # round-trip first so the digest is over exactly what a reader will parse back
    sealed = json.loads(json.dumps(body, default=str))
    sealed[DIGEST_FIELD] = digest(sealed)
    return GateVerdict.model_validate(sealed)


def read_verdict(path: str | Path) -> GateVerdict:
    """The sealed verdict at ``path``, its digest checked and its fields validated.

    Raises:
        VerdictError: missing, not JSON, unsealed, altered after the gate wrote it, or not
            a verdict of this schema.
    """
    where = Path(path)
    if not where.exists():
        raise VerdictError(f"{where} is missing: run `pr2prod gate` (or `dvc repro`) first")
    try:
        report = json.loads(where.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise VerdictError(f"{where} is not valid JSON: {exc}") from exc
    if not isinstance(report, dict) or DIGEST_FIELD not in report or "binding" not in report:
        raise VerdictError(f"{where} is not a sealed gate verdict: rerun `pr2prod gate`")
    if report[DIGEST_FIELD] != digest(report):
        raise VerdictError(
            f"{where} does not match its digest: it was changed after the gate wrote it; "
            "rerun `pr2prod gate`"
        )
    try:
        return GateVerdict.model_validate(report)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(root)"
        raise VerdictError(
            f"{where} is not a gate verdict this version reads (schema_version "
            f"{SCHEMA_VERSION}): {field}: {first['msg']}; rerun `pr2prod gate`"
        ) from exc


def check_bound(verdict: GateVerdict, candidate_id: str, production_id: str | None) -> None:
    """Refuse a verdict about another model or another production.

    Raises:
        VerdictError: one message naming what differs and what to do.
    """
    binding = verdict.binding
    if binding.candidate != candidate_id:
        raise VerdictError(
            f"the gate verdict judged model {binding.candidate}, not the artifact being "
            f"released ({candidate_id}): the model changed after the gate; rerun `pr2prod gate`"
        )
    if binding.production != production_id:
        raise VerdictError(
            f"the gate verdict compared with production {binding.production or 'none'}, but "
            f"production is now {production_id or 'none'}: rerun `pr2prod gate`"
        )


def bound_verdict(path: str | Path, candidate_id: str, production_id: str | None) -> GateVerdict:
    """Read ``path`` and check it is sealed and about this candidate and production."""
    verdict = read_verdict(path)
    check_bound(verdict, candidate_id, production_id)
    return verdict
