"""The one identity of a model artifact: the content hash ``dvc.lock`` records for it.

Serving, batch scoring, the gate, the registry and the prediction log all name a model by
this value, so one artifact has one ``model_version`` everywhere and it can be looked up in
``dvc.lock`` and the DVC cache. It is DVC's directory hash (``<md5>.dir`` in ``dvc.lock``,
without the suffix): the MD5 of the sorted JSON list of ``{"md5", "relpath"}`` of the
artifact's files. Only the artifact's own files count, so a model store's extra files next
to them do not change it.
"""

from __future__ import annotations

from pathlib import Path

from pr2prod.dvclock import dir_hash
from pr2prod.models.persist import METADATA_FILE, MODEL_FILE, SCHEMA_FILE

ARTIFACT_FILES = (METADATA_FILE, MODEL_FILE, SCHEMA_FILE)
VERSION_CHARS = 12  # a model_version without a registry version: the id's first 12 hex digits


def artifact_id(directory: str | Path) -> str:
    """DVC's content hash of the artifact directory (``dvc.lock``'s md5 without ``.dir``)."""
    return dir_hash(Path(directory), ARTIFACT_FILES)


def default_version(aid: str) -> str:
    """The ``model_version`` of an artifact no registry has versioned: ``aid``'s prefix."""
    return aid[:VERSION_CHARS]
