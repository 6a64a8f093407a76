"""The gate's verdict, sealed and bound to exactly what it judged (``reports/gate.json``).

The gate writes, and the package stage, ``pr2prod release`` and the model card read, one
record. Its ``binding`` names the candidate's and production's artifact ids
(:func:`pr2prod.models.identity.artifact_id`, the hashes ``dvc.lock`` records), the test
data hash and the gate params hash; its ``digest`` is the SHA-256 of the canonical JSON of
everything else. A reader accepts a verdict only when the digest matches, the candidate is
the artifact at hand and production is still production.

The digest detects edits and stale verdicts; it is not a signature (anyone can recompute
it). The release workflow therefore runs the gate itself before releasing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from pr2prod.config.gate_schema import GateConfig
from pr2prod.errors import CheckFailedError

DIGEST_FIELD = "digest"


class VerdictError(CheckFailedError, ValueError):
    """A verdict that is missing, altered, or not about the model at hand (exit 1)."""


class Binding(BaseModel):
    """What a verdict is about."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    candidate: str  # artifact id of the judged model
    production: str | None  # artifact id of production; None for a first release
    test_data: str  # hash of the prepared split the checks ran on
    gate_params: str  # hash of the gate config that decided


def gate_params_hash(cfg: GateConfig) -> str:
    """MD5 of the canonical JSON of the gate config."""
    text = json.dumps(dataclasses.asdict(cfg), sort_keys=True, default=str)
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def digest(report: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of ``report`` without its digest field."""
    body = {k: v for k, v in report.items() if k != DIGEST_FIELD}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def seal(report: dict[str, Any], binding: Binding) -> dict[str, Any]:
    """``report`` with its binding and the digest over both."""
    sealed = {**report, "binding": binding.model_dump()}
    # round-trip first so the digest is over exactly what a reader will parse back
    sealed = json.loads(json.dumps(sealed, default=str))
    sealed[DIGEST_FIELD] = digest(sealed)
    return sealed


def read_verdict(path: str | Path) -> dict[str, Any]:
    """The sealed verdict at ``path``.

    Raises:
        VerdictError: missing, not JSON, unsealed, or altered after the gate wrote it.
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
    return report


def check_bound(report: dict[str, Any], candidate_id: str, production_id: str | None) -> None:
    """Refuse a verdict about another model or another production.

    Raises:
        VerdictError: one message naming what differs and what to do.
    """
    try:
        binding = Binding.model_validate(report.get("binding"))
    except ValidationError as exc:
        raise VerdictError(f"the gate verdict's binding is invalid: {exc}") from exc
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


def bound_verdict(path: str | Path, candidate_id: str, production_id: str | None) -> dict[str, Any]:
    """Read ``path`` and check it is sealed and about this candidate and production."""
    report = read_verdict(path)
    check_bound(report, candidate_id, production_id)
    return report
