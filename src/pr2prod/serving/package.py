"""Package the artifact: import it into the BentoML model store and build the Bento.

The model store entry is named after the model (``metadata.json: model_name``), versioned by
the artifact hash (importing the same artifact twice is a no-op) and labelled with version,
artifact hash, data hash and git commit. The Bento is built from ``bentofile.yaml`` (the one
build configuration) with ``src/`` as build context and the model tag + serve config as
Bento arguments. ``BENTOML_HOME`` selects the stores (tests point it at a temp directory).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pr2prod.config.acceptance_schema import AcceptanceConfig
from pr2prod.config.serve_schema import ServeConfig
from pr2prod.fsio import file_md5
from pr2prod.models.identity import ARTIFACT_FILES, artifact_id, default_version
from pr2prod.models.persist import METADATA_FILE
from pr2prod.serving.settings import acceptance_config_json, serve_config_json


@dataclass
class PackageResult:
    """What ``reports/bento.json`` records."""

    bento_tag: str
    model_tag: str
    artifact_hash: str
    labels: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        """The reproducible part (the git commit label lives only in the model store)."""
        labels = {k: v for k, v in self.labels.items() if k != "git_commit"}
        return {
            "bento_tag": self.bento_tag,
            "model_tag": self.model_tag,
            "artifact_hash": self.artifact_hash,
            "labels": labels,
        }


def model_labels(model_dir: Path, git_commit: str | None) -> dict[str, str]:
    """Labels of the model store entry (all strings, as BentoML requires)."""
    meta = json.loads((model_dir / METADATA_FILE).read_text(encoding="utf-8"))
    digest = artifact_id(model_dir)
    return {
        "version": default_version(digest),
        "artifact_hash": digest,
        "data_hash": str(meta.get("data_hash", "")),
        "git_commit": git_commit or "unknown",
        "task": str(meta.get("task", "")),
    }


def import_model(model_dir: Path, git_commit: str | None) -> tuple[str, dict[str, str]]:
    """Copy the artifact into the model store (once per artifact hash); return its tag."""
    import bentoml
    from bentoml.exceptions import NotFound

    meta = json.loads((model_dir / METADATA_FILE).read_text(encoding="utf-8"))
    labels = model_labels(model_dir, git_commit)
    tag = f"{meta['model_name']}:{labels['version']}"
    try:
        bentoml.models.get(tag)
        return tag, labels
    except NotFound:
        pass
    with bentoml.models.create(tag, labels=labels, metadata=_flat(meta)) as model:
        for name in ARTIFACT_FILES:
            shutil.copy2(model_dir / name, Path(model.path) / name)
    return tag, labels


def _flat(meta: dict[str, Any]) -> dict[str, Any]:
    """Top-level scalar metadata (BentoML refuses None values)."""
    return {k: v for k, v in meta.items() if isinstance(v, str | int | float | bool)}


def _code_digest(build_ctx: Path) -> str:
    """MD5 over the package's source files (bytecode caches excluded)."""
    h = hashlib.md5(usedforsecurity=False)
    for f in sorted(build_ctx.glob("pr2prod/**/*.py")):
        h.update(f.relative_to(build_ctx).as_posix().encode() + file_md5(f).encode())
    return h.hexdigest()


def build_bento(
    model_tag: str,
    serve: ServeConfig,
    bentofile: Path,
    build_ctx: Path,
    labels: dict[str, str],
    acceptance: AcceptanceConfig | None = None,
) -> str:
    """``bentoml build`` with ``bentofile.yaml``; returns the Bento tag.

    The Bento version is a digest of everything that goes into it (model tag, serve config,
    build configuration, pr2prod's code), so rebuilding the same inputs gives the same tag
    and reuses the stored Bento: ``reports/bento.json`` reproduces bit for bit.
    """
    import bentoml
    from bentoml.exceptions import NotFound

    text = bentofile.read_text(encoding="utf-8")
    options = yaml.safe_load(text)
    service = options.pop("service")
    options["labels"] = {**options.get("labels", {}), **labels}
    args = {
        "model_tag": model_tag,
        "model_version": labels["version"],
        "serve_config": serve_config_json(serve),
    }
    if acceptance is not None:  # the Bento applies the project's acceptance rule, not defaults
        args["acceptance_config"] = acceptance_config_json(acceptance)
    digest = hashlib.md5(usedforsecurity=False)
    for part in (json.dumps(args, sort_keys=True), text, _code_digest(build_ctx)):
        digest.update(part.encode() + b"\0")
    version = digest.hexdigest()[:16]
    name = options.get("name") or "pr2prod"
    try:
        return str(bentoml.bentos.get(f"{name}:{version}").tag)
    except NotFound:
        pass
    bento = bentoml.build(service, build_ctx=str(build_ctx), args=args, version=version, **options)
    return str(bento.tag)


def package(
    model_dir: Path,
    serve: ServeConfig,
    bentofile: Path,
    build_ctx: Path,
    git_commit: str | None,
    acceptance: AcceptanceConfig | None = None,
) -> PackageResult:
    """Import the artifact and build the Bento (with the acceptance rule it must apply)."""
    model_tag, labels = import_model(model_dir, git_commit)
    bento_tag = build_bento(model_tag, serve, bentofile, build_ctx, labels, acceptance)
    return PackageResult(
        bento_tag=bento_tag,
        model_tag=model_tag,
        artifact_hash=labels["artifact_hash"],
        labels=labels,
    )
