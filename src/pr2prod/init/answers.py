"""The template's questions as a typed record, checked with clear errors before rendering.

The copier validators in ``template/copier.yml`` say the same for plain ``copier copy``;
this module is what ``pr2prod init`` relies on, so a bad answer never leaves a half-written
directory behind. Each message names the answer (and its flag) and the allowed values.
"""

from __future__ import annotations

import dataclasses
import keyword
import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from pr2prod import __version__
from pr2prod.config.choices import SklearnDataset, Task, values
from pr2prod.errors import UsageError
from pr2prod.init import TEMPLATE_DIR

FILE_SOURCE = "file"


def copier_default(question: str) -> str:
    """The default ``copier.yml`` gives a question (what plain ``copier copy`` asks with)."""
    spec = yaml.safe_load((TEMPLATE_DIR / "copier.yml").read_text(encoding="utf-8")) or {}
    return str(spec[question]["default"])


#: The task of each bundled scikit-learn set (the only one it can be).
DATASET_TASKS: dict[str, str] = {
    SklearnDataset.breast_cancer: Task.binary,
    SklearnDataset.wine: Task.multiclass,
    SklearnDataset.iris: Task.multiclass,
    SklearnDataset.diabetes: Task.regression,
}
DATA_SOURCES: tuple[str, ...] = (*values(SklearnDataset), FILE_SOURCE)
TASKS: tuple[str, ...] = tuple(values(Task))
#: Names a team package may not take: it would shadow a package pr2prod imports.
RESERVED_PACKAGES = frozenset({"pr2prod", "sklearn", "skorch", "torch", "tests", "conf", "data"})

_PROJECT = re.compile(r"^[A-Za-z][A-Za-z0-9._-]*$")
_PACKAGE = re.compile(r"^[a-z][a-z0-9_]*$")
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_DATA_PATH = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*\.(csv|parquet)$")
_S3 = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True)
class Answers:
    """One answer per template question (``None``: the template's default).

    ``remote`` is an ``s3://`` URL or a directory relative to the project root (the command
    line converts a directory given relative to the working directory).
    """

    project_name: str
    package_name: str | None = None
    data_source: str | None = None
    data_path: str | None = None
    target: str | None = None
    id_column: str | None = None
    task: str | None = None
    model: str | None = None
    remote: str | None = None

    def resolved(self, template: Path) -> Answers:
        """Every answer filled in with the template's defaults, then checked.

        Raises:
            UsageError: the first invalid answer, naming its flag and the allowed values.
        """
        models = model_tasks(template)
        project = _check(
            "project_name",
            self.project_name,
            _PROJECT.match(self.project_name) is not None,
            "must start with a letter and hold only letters, digits, '.', '_' and '-'",
        )
        package = self.package_name or re.sub(r"[-.]", "_", project.lower())
        _check(
            "package_name",
            package,
            _PACKAGE.match(package) is not None and not keyword.iskeyword(package),
            "must be a lower-case Python identifier (letters, digits, '_'); pass --package-name",
        )
        if package in RESERVED_PACKAGES:
            raise UsageError(
                f"package_name (--package-name): {package!r} is reserved (it would shadow a "
                f"package pr2prod imports: {', '.join(sorted(RESERVED_PACKAGES))})"
            )
        source = self.data_source or SklearnDataset.breast_cancer.value
        _choice("data_source", source, DATA_SOURCES)
        data_path = None
        if source == FILE_SOURCE:
            data_path = self.data_path or copier_default("data_path")
            _check(
                "data_path",
                data_path,
                _DATA_PATH.match(data_path) is not None and ".." not in data_path,
                "must be a relative path inside the project ending in .csv or .parquet",
            )
        elif self.data_path is not None:
            raise UsageError(
                f"data_path (--data-path): only for --data-source {FILE_SOURCE}; "
                f"{source!r} is a bundled scikit-learn set"
            )
        target = self.target or "target"
        _check("target", target, _COLUMN.match(target) is not None, _COLUMN_RULE)
        id_column = self.id_column or ""
        if id_column:
            _check("id_column", id_column, _COLUMN.match(id_column) is not None, _COLUMN_RULE)
            if id_column == target:
                raise UsageError(f"id_column (--id-column): {id_column!r} is the target column")
        task = self.task or DATASET_TASKS.get(source, Task.binary.value)
        _choice("task", task, TASKS)
        fixed = DATASET_TASKS.get(source)
        if fixed is not None and task != fixed:
            raise UsageError(
                f"task (--task): {source} is a {fixed} data set, not {task}; "
                f"drop --task or pass --task {fixed}"
            )
        kind = "regression" if task == Task.regression else "classification"
        model = self.model or ("ridge" if kind == "regression" else "logistic_regression")
        _choice("model", model, tuple(models))
        if kind not in models[model]:
            fitting = [m for m, kinds in models.items() if kind in kinds]
            raise UsageError(
                f"model (--model): {model!r} cannot learn a {task} task; "
                f"models for {kind}: {', '.join(fitting)}"
            )
        remote = self.remote or f"../{project}-dvc-remote"
        check_remote(remote)
        return dataclasses.replace(
            self,
            project_name=project,
            package_name=package,
            data_source=source,
            data_path=data_path,
            target=target,
            id_column=id_column,
            task=task,
            model=model,
            remote=remote,
        )

    def as_data(self, version: str = __version__) -> dict[str, str]:
        """The answers copier renders with (unset ones left to the template's defaults)."""
        data = {k: v for k, v in dataclasses.asdict(self).items() if v is not None}
        data["pr2prod_version"] = version
        return data


_COLUMN_RULE = "must be a column name of letters, digits, '_', '.' and '-'"


def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def _check(key: str, value: str, ok: bool, rule: str) -> str:
    if not ok:
        raise UsageError(f"{key} ({_flag(key)}): {value!r} {rule}")
    return value


def _choice(key: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise UsageError(f"{key} ({_flag(key)}): {value!r} is not one of {', '.join(allowed)}")


def check_remote(remote: str) -> None:
    """An ``s3://bucket[/prefix]`` URL or a directory; anything else is refused."""
    if remote.startswith("s3://"):
        if not _S3.match(remote):
            raise UsageError(f"remote (--remote): {remote!r} is not s3://<bucket>[/prefix]")
    elif _URL.match(remote):
        raise UsageError(
            f"remote (--remote): {remote!r}: only s3:// URLs and directories are supported"
        )
    elif not remote.strip():
        raise UsageError("remote (--remote): give s3://<bucket>[/prefix] or a directory")


def remote_for_project(remote: str, project_dir: Path, cwd: Path | None = None) -> str:
    """A ``--remote`` as the template wants it: a directory relative to the project root.

    A relative directory on the command line means relative to the working directory.
    """
    if remote.startswith("s3://") or _URL.match(remote) or os.path.isabs(remote):
        return remote
    base = (cwd or Path.cwd()).resolve()
    return Path(os.path.relpath(base / remote, project_dir.resolve())).as_posix()


def model_tasks(template: Path) -> dict[str, list[str]]:
    """``model option -> tasks it can learn`` from the template's ``conf/model/*.yaml``."""
    result: dict[str, list[str]] = {}
    for path in sorted((template / "project" / "conf" / "model").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        result[path.stem] = [str(t) for t in doc.get("tasks", ["classification", "regression"])]
    return result
