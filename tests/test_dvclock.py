"""One reader of ``dvc.lock`` and DVC's directory hash (issue 21 §3): it answers from the
repository's real lock, and its hash is the one DVC itself computes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from dvc_data.hashfile.build import build
from dvc_data.hashfile.db import HashFileDB
from dvc_objects.fs.local import LocalFileSystem

from pr2prod.dvclock import LOCK, DvcLock, dir_hash, dir_listing, out_id, out_md5
from pr2prod.models.identity import ARTIFACT_FILES, artifact_id

pytestmark = [pytest.mark.unit]

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "pr2prod"
LOCK_TEXT = (ROOT / LOCK).read_text(encoding="utf-8")
PATHS = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))["paths"]


def _dvc_tree(directory: Path, odb: Path) -> Any:
    """DVC's tree object of ``directory`` (dvc-data, in process)."""
    fs = LocalFileSystem()
    return build(HashFileDB(fs, str(odb)), str(directory), fs, "md5")[2]


def _dvc_hash(directory: Path, odb: Path) -> str:
    """What DVC records for ``directory``: ``<md5>.dir``."""
    return str(_dvc_tree(directory, odb).hash_info.value)


def test_the_out_of_a_path_of_a_stage_from_the_repositorys_lock() -> None:
    raw = yaml.safe_load(LOCK_TEXT)["stages"]
    lock = DvcLock.from_text(LOCK_TEXT)
    model = lock.out(PATHS["model"], "train")
    assert model is not None and model.is_dir
    assert model.md5 == next(o["md5"] for o in raw["train"]["outs"] if o["path"] == PATHS["model"])
    assert model.content_id == model.md5.removesuffix(".dir")
    assert re.fullmatch(r"[0-9a-f]{32}", model.content_id)
    assert out_md5(LOCK_TEXT, PATHS["model"]) == model.md5
    assert out_id(LOCK_TEXT, PATHS["model"]) == model.content_id
    assert lock.out(PATHS["model"], "evaluate") is None  # another stage's outs only
    assert lock.producing_stage(PATHS["prepared"]) == "prepare"
    inputs = lock.stage_inputs(PATHS["model"])
    assert inputs == {"deps": raw["train"]["deps"], "params": raw["train"]["params"]}
    assert lock.params("prepare")["seed"] == raw["prepare"]["params"]["params.yaml"]["seed"]
    every = {(o.stage, o.path) for o in lock.outs()}
    assert every == {(s, o["path"]) for s, body in raw.items() for o in body.get("outs") or []}


def test_no_lock_is_an_empty_lock(tmp_path: Path) -> None:
    lock = DvcLock.from_path(tmp_path / LOCK)
    assert lock.stages == {} and lock.out("models/model") is None
    assert out_md5(None, "x") is None and out_id("", "x") is None
    assert lock.stage_inputs("x") is None and lock.params("prepare") == {}


def test_dir_hash_is_dvcs_hash(tmp_path: Path) -> None:
    d = tmp_path / "d"
    for rel, text in {"a.txt": "a", "a-c.txt": "c", "a/x": "x", "sub/b.txt": "b"}.items():
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).write_text(text)
    tree = _dvc_tree(d, tmp_path / "odb")
    assert tree.hash_info.value == f"{dir_hash(d)}.dir"  # `a-c.txt` before `a/x`, as DVC has it
    listing = dir_listing(tree.as_bytes().decode())  # the .dir object DVC caches
    assert listing["a.txt"] == "0cc175b9c0f1b6a831c399e269772661"  # md5 of b"a"
    assert sorted(listing) == ["a-c.txt", "a.txt", "a/x", "sub/b.txt"]


def test_artifact_id_is_dvcs_hash_of_the_artifact_files(tmp_path: Path) -> None:
    art = tmp_path / "model"
    art.mkdir()
    for name in ARTIFACT_FILES:
        (art / name).write_bytes(name.encode() * 3)
    assert f"{artifact_id(art)}.dir" == _dvc_hash(art, tmp_path / "odb")
    (art / "extra.txt").write_text("a model store's file")  # not part of the identity
    assert artifact_id(art) == dir_hash(art, ARTIFACT_FILES) != dir_hash(art)


def test_only_dvclock_reads_a_lock() -> None:
    """A module that walks a lock's ``stages`` or strips ``.dir`` itself is a second reader."""
    reader = re.compile(r"""\[["']stages["']\]|get\(["']stages["']\)|removesuffix\(["']\.dir""")
    # compare/workspace.py is being rewritten by the gate-verdict work; its `.dir` strip
    # goes once that lands (it should read dvclock.LockedOut.content_id).
    allowed = {"dvclock.py", "compare/workspace.py"}
    found = [
        p.relative_to(SRC).as_posix()
        for p in SRC.rglob("*.py")
        if SRC / "template" not in p.parents and reader.search(p.read_text(encoding="utf-8"))
    ]
    assert sorted(set(found) - allowed) == []
