"""Which model scores: one function, so a registry lookup can slot in later."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pr2prod.models.identity import artifact_id, default_version
from pr2prod.models.persist import METADATA_FILE, MODEL_FILE, SCHEMA_FILE, LoadedModel


@dataclass(frozen=True)
class ModelVersion:
    """What every prediction row records about the model that made it."""

    name: str
    version: str
    artifact_hash: str


def resolve_model(ref: str | Path | None, default: str | Path) -> Path:
    """Return the artifact directory for ``ref`` (a path; ``None`` means ``default``, the
    config's ``monitor.score.model``).

    Version/registry references (e.g. ``v1.2.0`` or ``prod``) are resolved here once the
    release feature provides a registry; today a reference must be an artifact directory.

    Raises:
        FileNotFoundError: naming the reference and what a valid one looks like.
    """
    path = Path(ref) if ref is not None else Path(default)
    if (path / MODEL_FILE).is_file():
        return path
    raise FileNotFoundError(
        f"model {str(ref if ref is not None else default)!r}: not an artifact directory "
        f"(expected {MODEL_FILE}, {SCHEMA_FILE} and {METADATA_FILE}; run `dvc pull` or "
        "`dvc repro train`, or pass --model PATH)"
    )


def model_version(model: LoadedModel) -> ModelVersion:
    """Name, version (a registry version when the metadata has one, else the hash) and hash."""
    digest = artifact_id(model.path)
    version = str(model.metadata.get("version") or default_version(digest))
    return ModelVersion(name=model.name, version=version, artifact_hash=digest)
