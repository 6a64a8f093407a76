"""What every trial needs from the project, checked and packed for shipping to Ray workers.

Trials run on any node of a cluster, where the project's files may not be, so the driver
packs the inputs (``conf/``, the recorded overrides, the prepared split) into one value that
Ray ships through its object store. The split is the one ``dvc.lock`` records: its hash and
its ``prepare`` params are checked against the workspace before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pr2prod.config.compose import params_digest
from pr2prod.config.errors import ConfigError
from pr2prod.config.hydra_compose import compose_dict
from pr2prod.config.loader import RECORD_KEY, load_params, read_params_file
from pr2prod.dvclock import LOCK, DvcLock, dir_hash
from pr2prod.errors import DataError

PREPARE_STAGE = "prepare"
SPLIT_FILES = ("train.parquet", "test.parquet", "schema.json")


@dataclass(frozen=True)
class TrialInputs:
    """Everything a trial reads, as bytes: no file of the project is needed on a worker."""

    conf_files: dict[str, str]  # relative path under conf/ -> text
    recorded_overrides: list[str]
    prepared: dict[str, bytes]  # file name -> bytes (train.parquet, test.parquet, schema.json)
    prepared_md5: str  # dvc.lock's hash of the split (without `.dir`)
    run_facts: str  # paths.run_facts: train's DVCLive directory lives under it


def locked_split(root: Path, prepared: str) -> tuple[str, dict[str, Any]]:
    """``(md5, params)`` of the ``prepare`` stage in ``dvc.lock``.

    Raises:
        DataError: no dvc.lock, or it records no prepared split at ``prepared``.
    """
    lock_path = root / LOCK
    if not lock_path.is_file():
        raise DataError(f"{lock_path}: not found; run `dvc repro prepare` first")
    lock = DvcLock.from_path(lock_path)
    out = lock.out(prepared, PREPARE_STAGE)
    if out is not None and out.is_dir and out.content_id:
        return out.content_id, lock.params(PREPARE_STAGE)
    raise DataError(f"{lock_path}: the {PREPARE_STAGE} stage records no {prepared}/")


def read_inputs(root: Path) -> TrialInputs:
    """Check the project and pack what trials read.

    Raises:
        ConfigError: params.yaml is not conf/ + its recorded overrides.
        DataError: the workspace split differs from dvc.lock's, or dvc.lock's split was
            made with other data/split/seed params.
    """
    conf, params_path = root / "conf", root / "params.yaml"
    raw = read_params_file(params_path)
    record = raw.get(RECORD_KEY) or {}
    recorded = [str(o) for o in record.get("overrides") or []]
    body = {k: v for k, v in raw.items() if k != RECORD_KEY}
    # Trials compose conf/ + the recorded overrides: that must be what params.yaml holds.
    # (A new conf/experiment file alone, e.g. a previous sweep's, changes nothing here.)
    if params_digest(compose_dict(conf, recorded)) != params_digest(body):
        raise ConfigError(
            "params.yaml differs from conf/ + its recorded overrides: run `pr2prod compose` "
            "(and `dvc repro prepare` if the data changed) first"
        )
    cfg = load_params(params_path)
    prepared = root / cfg.paths.prepared
    md5, locked_params = locked_split(root, cfg.paths.prepared)
    for key in ("seed", "data", "split"):
        if key in locked_params and locked_params[key] != raw.get(key):
            raise DataError(
                f"{LOCK}: the prepared split was made with other `{key}` params than "
                "params.yaml holds; run `dvc repro prepare` first"
            )
    if not prepared.is_dir():
        raise DataError(f"{prepared}: not found; run `dvc checkout {cfg.paths.prepared}`")
    actual = dir_hash(prepared)
    if actual != md5:
        raise DataError(
            f"{prepared}: differs from dvc.lock (workspace {actual}, locked {md5}); run "
            f"`dvc checkout {cfg.paths.prepared}` or `dvc repro prepare`"
        )
    return TrialInputs(
        conf_files={
            p.relative_to(conf).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(conf.rglob("*.yaml"))
        },
        recorded_overrides=recorded,
        prepared={name: (prepared / name).read_bytes() for name in SPLIT_FILES},
        prepared_md5=md5,
        run_facts=cfg.paths.run_facts,
    )
