"""Put a failed stage's previous outputs back, from the DVC cache, as ``dvc.lock`` records them.

DVC deletes a stage's cached outputs before running it (that is what lets its run-cache
restore them later, so outputs are not ``persist``-ed). When the stage then fails, the
previous artifacts must not be lost: :func:`restore_locked_outs` copies back, for every
cached output of the stage, the version ``dvc.lock`` records, from the local DVC cache.
Nothing is rerun and nothing is fetched from a remote.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pr2prod.dvclock import DIR_SUFFIX, LOCK, DvcLock, dir_listing


def locked_cached_outs(stage: str, lock_path: Path = Path(LOCK)) -> dict[str, str]:
    """``path -> md5`` of the stage's cached outputs in ``dvc.lock`` (empty when none)."""
    return {o.path: o.md5 for o in DvcLock.from_path(lock_path).outs(stage) if o.md5}


def _cache_file(cache: Path, md5: str) -> Path:
    return cache / md5[:2] / md5[2:]


def restore_out(path: Path, md5: str, cache: Path) -> bool:
    """Materialise ``path`` from the cache object ``md5`` (a file or a ``.dir`` listing).

    Returns False (and leaves ``path`` alone) when the cache lacks any needed object.
    """
    listing = _cache_file(cache, md5)
    if not listing.exists():
        return False
    if md5.endswith(DIR_SUFFIX):
        entries = dir_listing(listing.read_text(encoding="utf-8"))
        files = {rel: _cache_file(cache, md5) for rel, md5 in entries.items()}
        if not all(f.exists() for f in files.values()):
            return False
        tmp = path.with_name(f".{path.name}.restore")
        shutil.rmtree(tmp, ignore_errors=True)
        for rel, src in files.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, tmp / rel)
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        tmp.rename(path)
        return True
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(listing, path)
    return True


def restore_locked_outs(stage: str, root: Path = Path(".")) -> list[str]:
    """Restore each cached output of ``stage`` that is missing, as ``dvc.lock`` records it.

    Only missing outputs are restored: the stages write atomically, so an output that
    exists is the previous one (run outside ``dvc repro``, nothing deletes it).
    Returns the restored paths.
    """
    recorded = {
        p: md5
        for p, md5 in locked_cached_outs(stage, root / LOCK).items()
        if not (root / p).exists()
    }
    if not recorded:
        return []
    from dvc.repo import Repo

    cache = Path(Repo(str(root)).cache.local.path)
    return [p for p, md5 in recorded.items() if restore_out(root / p, md5, cache)]
