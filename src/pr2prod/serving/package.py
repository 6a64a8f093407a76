"""Package the artifact: import it into the BentoML model store and build the Bento.

The model store entry is named after the model (``metadata.json: model_name``), versioned by
the artifact hash (importing the same artifact twice is a no-op) and labelled with version,
artifact hash, data hash and git commit. The Bento is built from ``bentofile.yaml`` (the one
build configuration) with ``src/`` as build context and the model tag, serve config,
acceptance rule and trusted packages (the team's own, from ``allowed_targets``) as Bento
arguments; the build context carries the team's package (``bentofile.yaml: include``), so
the Bento can import it. The Bento's Python packages are ``bentofile.yaml``'s plus what the
artifact itself needs (:func:`model_packages`: torch and skorch for a torch model), pinned to
the versions the artifact was trained with. ``BENTOML_HOME`` selects the stores (tests point
it at a temp directory).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from pr2prod.config.acceptance_schema import AcceptanceConfig
from pr2prod.config.serve_schema import CanaryRouting, ServeConfig
from pr2prod.fsio import file_md5
from pr2prod.models.identity import ARTIFACT_FILES, artifact_id, default_version
from pr2prod.models.persist import METADATA_FILE, MODEL_FILE
from pr2prod.serving.lockpins import installed_lock_digest, pinned_python
from pr2prod.serving.settings import (
    acceptance_config_json,
    serve_config_json,
    trusted_packages_json,
)


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


def import_model(
    model_dir: Path, git_commit: str | None, lock: str | None = None
) -> tuple[str, dict[str, str]]:
    """Copy the artifact into the model store (once per artifact hash); return its tag.

    ``lock`` is the digest of the lock the project installs from (``pr2prod.lockfile``),
    recorded as the entry's ``lock_digest`` label."""
    import bentoml
    from bentoml.exceptions import NotFound

    meta = json.loads((model_dir / METADATA_FILE).read_text(encoding="utf-8"))
    labels = model_labels(model_dir, git_commit)
    if lock:
        labels["lock_digest"] = lock
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
    """MD5 over the build context's Python sources (pr2prod's own here, the team's package
    in a generated project; bytecode caches excluded)."""
    h = hashlib.md5(usedforsecurity=False)
    for f in sorted(build_ctx.glob("**/*.py")):
        h.update(f.relative_to(build_ctx).as_posix().encode() + file_md5(f).encode())
    return h.hexdigest()


# Distributions a module of the model archive needs, by module (longest prefix wins). The
# archive names every class it rebuilds; a pr2prod estimator names its own module, whose
# imports are listed here.
MODULE_PACKAGES: dict[str, tuple[str, ...]] = {
    "numpy": ("numpy",),
    "pandas": ("pandas",),
    "scipy": ("scipy",),
    "sklearn": ("scikit-learn",),
    "torch": ("torch",),
    "skorch": ("skorch", "torch"),
    "pr2prod.models.torch_mlp": ("torch", "skorch"),
}
# Every artifact is a skops archive.
ALWAYS = ("skops",)
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
# Wheels with a local version (torch 2.13.0+cpu) come from PyTorch's index, not PyPI.
_TORCH_INDEX = "https://download.pytorch.org/whl/{tag}"


@dataclass(frozen=True)
class ModelPackages:
    """What the artifact needs installed: pinned requirements and extra package indexes."""

    packages: list[str]
    extra_index_url: list[str]


def archive_modules(model_dir: Path) -> set[str]:
    """Modules of every object in the artifact's skops archive (read, never loaded)."""
    with zipfile.ZipFile(model_dir / MODEL_FILE) as archive:
        schema = json.loads(archive.read("schema.json"))
    found: set[str] = set()
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            module = node.get("__module__")
            if isinstance(module, str):
                found.add(module)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _needed(module: str) -> tuple[str, ...]:
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        hit = MODULE_PACKAGES.get(".".join(parts[:n]))
        if hit is not None:
            return hit
    return ()


def _base_names(packages: list[str]) -> dict[str, str]:
    """Distribution name (lower case) -> requirement, for ``bentofile.yaml``'s packages."""
    out = {}
    for req in packages:
        m = _NAME.match(req)
        if m:
            out[m.group(1).lower()] = req
    return out


def model_packages(model_dir: Path, base: list[str]) -> ModelPackages:
    """The distributions the artifact needs, pinned to ``metadata.json: libraries``.

    A needed library the metadata does not record keeps its ``base`` requirement
    (``bentofile.yaml``'s ``python.packages``).

    Raises:
        DataError: the artifact needs a library that neither its metadata records nor
            ``base`` lists, naming it.
    """
    from pr2prod.errors import DataError

    meta = json.loads((model_dir / METADATA_FILE).read_text(encoding="utf-8"))
    versions: dict[str, str] = meta.get("libraries", {})
    given = _base_names(base)
    names = set(ALWAYS)
    for module in archive_modules(model_dir):
        names.update(_needed(module))
    packages, indexes = [], []
    for name in sorted(names):
        version = versions.get(name)
        if version and version != "absent":
            packages.append(f"{name}=={version}")
            local = version.partition("+")[2]
            if name == "torch" and local:
                indexes.append(_TORCH_INDEX.format(tag=local))
        elif name in given:
            packages.append(given[name])
        else:
            raise DataError(
                f"{model_dir / METADATA_FILE}: the model needs {name}, but libraries.{name} is "
                f"{version or 'not recorded'} and bentofile.yaml python.packages lacks it"
            )
    return ModelPackages(packages, indexes)


def python_options(base: dict[str, Any], model_dir: Path) -> dict[str, Any]:
    """``bentofile.yaml``'s ``python`` section with the model's needs: each package the
    model needs pinned to the model's version (replacing the base requirement in place, or
    added after them), plus the package index its wheels come from."""
    packages = list(base.get("packages") or [])
    needs = model_packages(model_dir, packages)
    pins = _base_names(needs.packages)
    merged = [pins.pop(name, req) for name, req in _base_names(packages).items()]
    out = {**base, "packages": merged + list(pins.values())}
    if needs.extra_index_url:
        have = list(base.get("extra_index_url") or [])
        out["extra_index_url"] = have + [u for u in needs.extra_index_url if u not in have]
    return out


def bento_serve_config(serve: ServeConfig) -> str:
    """The serve config a Bento carries (JSON): ``canary`` off, the Bento holds one model."""
    return serve_config_json(replace(serve, canary=CanaryRouting()))


def build_bento(
    model_tag: str,
    serve: ServeConfig,
    bentofile: Path,
    build_ctx: Path,
    labels: dict[str, str],
    acceptance: AcceptanceConfig | None = None,
    trusted_packages: Sequence[str] = (),
) -> str:
    """``bentoml build`` with ``bentofile.yaml``; returns the Bento tag.

    ``trusted_packages`` (the team's packages, ``config.targets.project_packages``) becomes
    the Bento's ``trusted_packages`` argument: its start-up check and predictor load an
    artifact holding their classes, and refuse any other unknown type.

    The Bento version is a digest of everything that goes into it (model tag, serve config,
    build configuration, pr2prod's code; the model tag fixes the packages the model adds),
    so rebuilding the same inputs gives the same tag and reuses the stored Bento:
    ``reports/bento.json`` reproduces bit for bit. A Bento holds the production model only:
    its serve config has ``canary`` off (run canary routing with ``pr2prod serve``).
    """
    import bentoml
    from bentoml.exceptions import NotFound

    text = bentofile.read_text(encoding="utf-8")
    options = yaml.safe_load(text)
    service = options.pop("service")
    options["labels"] = {**options.get("labels", {}), **labels}
    # the store's copy of the artifact is what the Bento carries: its needs, its versions
    stored = Path(bentoml.models.get(model_tag).path)
    python, lock = pinned_python(options, bentofile.parent)  # versions from the lock
    options["python"] = python_options(python, stored)
    if lock:
        options["labels"]["lock_digest"] = lock
    args = {
        "model_tag": model_tag,
        "model_version": labels["version"],
        "serve_config": bento_serve_config(serve),
    }
    if acceptance is not None:  # the Bento applies the project's acceptance rule, not defaults
        args["acceptance_config"] = acceptance_config_json(acceptance)
    if trusted_packages:  # the team's own classes in the artifact (allowed_targets)
        args["trusted_packages"] = trusted_packages_json(trusted_packages)
    digest = hashlib.md5(usedforsecurity=False)
    for part in (json.dumps(args, sort_keys=True), text, _code_digest(build_ctx), lock or ""):
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
    trusted_packages: Sequence[str] = (),
) -> PackageResult:
    """Import the artifact and build the Bento (with the acceptance rule it must apply and
    the team's packages it may load classes of)."""
    model_tag, labels = import_model(model_dir, git_commit, installed_lock_digest(bentofile.parent))
    bento_tag = build_bento(
        model_tag, serve, bentofile, build_ctx, labels, acceptance, trusted_packages
    )
    return PackageResult(
        bento_tag=bento_tag,
        model_tag=model_tag,
        artifact_hash=labels["artifact_hash"],
        labels=labels,
    )
