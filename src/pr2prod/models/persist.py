"""Safe, byte-deterministic persistence of the fitted pipeline through skops.

skops archives are not byte-stable: member names and ``__id__`` fields come from Python
object ids and zip entries carry the current time. :func:`canonical_skops` renumbers ids in
order of appearance, fixes timestamps and sorts entries, so the same model gives the same
bytes. Loading never unpickles: skops rebuilds objects from its schema and refuses every
type outside the explicit trusted list.
"""

from __future__ import annotations

import importlib
import importlib.abc
import io
import json
import re
import sys
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pr2prod.data.schema import DataSchema
from pr2prod.errors import DataError

MODEL_FILE = "model.skops"
SCHEMA_FILE = "schema.json"
METADATA_FILE = "metadata.json"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_ID_FILE = re.compile(r"^(\d+)(\.\w+)$")

# Types skops does not trust by default that pr2prod's own estimators need. Anything else
# found in an artifact is refused before a single object is built.
TRUSTED_TYPES: tuple[str, ...] = (
    "pr2prod.models.torch_mlp.TorchMLPClassifier",
    "pr2prod.models.torch_mlp.TorchMLPRegressor",
    "collections.OrderedDict",
    "numpy.dtype",
    # scikit-learn's own fitted-state types, used by the estimators conf/model/ offers
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.feature_selection._univariate_selection.f_classif",
    "sklearn.feature_selection._univariate_selection.f_regression",
)


class UntrustedArtifactError(DataError, RuntimeError):
    """The artifact holds types outside the trusted list."""


def canonical_skops(data: bytes) -> bytes:
    """Rewrite a skops archive so that equal models give equal bytes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    schema = json.loads(src.read("schema.json"))
    ids: dict[int, int] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "__id__" in node:
                node["__id__"] = ids.setdefault(node["__id__"], len(ids) + 1)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    renames: dict[str, str] = {}

    def rename_files(node: Any) -> None:
        if isinstance(node, dict):
            f = node.get("file")
            if isinstance(f, str) and (m := _ID_FILE.match(f)):
                new = f"{ids.setdefault(int(m.group(1)), len(ids) + 1)}{m.group(2)}"
                renames[f] = new
                node["file"] = new
            for value in node.values():
                rename_files(value)
        elif isinstance(node, list):
            for value in node:
                rename_files(value)

    rename_files(schema)
    members = {renames.get(n, n): src.read(n) for n in src.namelist() if n != "schema.json"}
    members["schema.json"] = json.dumps(schema, sort_keys=True).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, members[name], compresslevel=6)
    return out.getvalue()


class _NoTorchDuringImport(importlib.abc.MetaPathFinder):
    """Makes ``import torch`` fail while skops builds its trusted-type list.

    ``import skops.io`` walks every scikit-learn package to list its estimators, and the
    walk imports ``sklearn.externals.array_api_compat.torch``, i.e. all of torch: ~1.3 s
    of every stage's start-up, for a list that holds no torch type. The walk skips
    packages that fail to import, so the list is the same. torch imports normally
    afterwards, when a torch model is actually built or loaded.
    """

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"torch is not needed to import skops.io ({name})")


def _skops_io() -> Any:
    """``skops.io``, imported without torch unless torch is already loaded."""
    if "skops.io" in sys.modules or "torch" in sys.modules:
        return importlib.import_module("skops.io")
    blocker = _NoTorchDuringImport()
    sys.meta_path.insert(0, blocker)
    try:
        return importlib.import_module("skops.io")
    finally:
        sys.meta_path.remove(blocker)


def dumps_model(model: Any) -> bytes:
    sio = _skops_io()
    return canonical_skops(sio.dumps(model))


def loads_model(
    data: bytes, extra_trusted: Iterable[str] = (), trusted_packages: Iterable[str] = ()
) -> Any:
    """Load a skops archive, refusing any type outside the trusted list.

    ``trusted_packages`` (dotted prefixes such as ``"acme_ml."``) trust the team's own code:
    the packages ``allowed_targets`` already lets a config instantiate.

    Raises:
        UntrustedArtifactError: naming the types that are not trusted.
    """
    sio = _skops_io()
    trusted = set(TRUSTED_TYPES) | set(extra_trusted)
    packages = tuple(trusted_packages)
    unknown = sio.get_untrusted_types(data=data)
    refused = sorted(
        t for t in unknown if t not in trusted and not t.startswith(packages or ("\0",))
    )
    if refused:
        raise UntrustedArtifactError(
            "refusing to load a model artifact with untrusted types: "
            + ", ".join(refused)
            + " (trust them explicitly only if you know where the artifact came from)"
        )
    return sio.loads(data, trusted=list(unknown))


@dataclass
class LoadedModel:
    """The fitted pipeline with its schema and metadata: the one artifact that ships."""

    pipeline: Any
    schema: DataSchema
    metadata: dict[str, Any]
    path: Path

    @property
    def name(self) -> str:
        return str(self.metadata.get("model_name", "model"))


def write_artifact(
    directory: str | Path, pipeline: Any, schema: DataSchema, metadata: dict[str, Any]
) -> None:
    """Write the artifact files into an (empty) directory."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    (d / MODEL_FILE).write_bytes(dumps_model(pipeline))
    (d / SCHEMA_FILE).write_text(
        json.dumps(schema.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    (d / METADATA_FILE).write_text(
        json.dumps(metadata, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def load_artifact(
    directory: str | Path, extra_trusted: Iterable[str] = (), trusted_packages: Iterable[str] = ()
) -> LoadedModel:
    """Load the artifact directory written by the train stage (the only model loader).

    ``trusted_packages``: the team's own packages (``config.targets.project_packages``).
    """
    d = Path(directory)
    if not (d / MODEL_FILE).exists():
        raise FileNotFoundError(f"{d}: no {MODEL_FILE} (run `dvc repro train` or `dvc pull`)")
    pipeline = loads_model((d / MODEL_FILE).read_bytes(), extra_trusted, trusted_packages)
    schema = DataSchema.load(d / SCHEMA_FILE)
    metadata = json.loads((d / METADATA_FILE).read_text(encoding="utf-8"))
    return LoadedModel(pipeline=pipeline, schema=schema, metadata=metadata, path=d)
