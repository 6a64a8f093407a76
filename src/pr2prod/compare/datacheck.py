"""Make sure both models are compared on held-out rows of the same data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pr2prod.compare.errors import GateError, new_lineage
from pr2prod.models.metadata import data_hash


def check_candidate_data(candidate_meta: dict[str, Any], split_files: list[Path]) -> str:
    """The prepared data's hash, which must be the one the candidate was trained on.

    Raises:
        GateError: the model is stale (trained on other prepared data).
    """
    current = data_hash(split_files)
    recorded = candidate_meta.get("data_hash")
    if recorded and recorded != current:
        raise GateError(
            f"the candidate model was trained on data {recorded}, but the prepared "
            f"split is {current}; run `dvc repro` first"
        )
    return current


def check_same_data(
    candidate_meta: dict[str, Any], baseline_meta: dict[str, Any], allow_different: bool
) -> dict[str, Any]:
    """Compare the two models' data hashes; refuse different data unless allowed.

    Raises:
        GateError: the hashes differ and ``allow_different`` is false.
    """
    cand, base = candidate_meta.get("data_hash"), baseline_meta.get("data_hash")
    same = cand == base
    if not same and not allow_different:
        raise new_lineage(
            f"refusing to compare models built on different data (candidate data hash {cand}, "
            f"production {base}; the candidate's test rows may be production's training rows)"
        )
    return {
        "same": same,
        "candidate_hash": cand,
        "baseline_hash": base,
        "allowed_different": allow_different,
    }
