"""Does the committed ``dvc.lock`` reproduce? Re-run the pipeline and compare output hashes."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pr2prod.dvclock import LOCK, DvcLock
from pr2prod.release.equivalence import Equivalence, ReproLevel, compare_models

# The training pipeline: these stages and everything upstream of them are forced and compared.
# Downstream stages are not: `gate` compares with production (its result moves with the
# registry, and the gate job re-checks it) and `package` builds a Bento (rebuilt by the build
# job and at release). Their outputs are products of a model, not the model.
TARGETS: tuple[str, ...] = ("compose", "evaluate")

# Outputs whose bytes may legitimately differ between runs are listed here with the reason.
# Empty on purpose: the pipeline is bit-for-bit reproducible (seeded, stable data order,
# wall times kept out of tracked files in reports/train/run.json, which DVC does not track).
NONDETERMINISTIC: dict[str, str] = {}


@dataclass(frozen=True)
class ReproResult:
    """Outputs that did not reproduce, stale lock entries, and the reproduction's level."""

    diffs: list[OutputDiff]
    stale: list[str]
    level: ReproLevel = ReproLevel.bit_identical
    equivalence: Equivalence = field(default_factory=lambda: Equivalence(True))

    @property
    def ok(self) -> bool:
        """True when every output and every lock entry reproduced bit for bit."""
        return not self.diffs and not self.stale


@dataclass(frozen=True)
class OutputDiff:
    """One output whose hash after re-running differs from the committed one."""

    stage: str
    path: str
    committed: str | None
    reproduced: str | None


def lock_hashes(lock_text: str) -> dict[tuple[str, str], str | None]:
    """``(stage, path) -> md5`` of every out, metric and plot recorded in a dvc.lock text."""
    return {(o.stage, o.path): o.md5 for o in DvcLock.from_text(lock_text).outs()}


def compare_locks(committed: str, reproduced: str) -> list[OutputDiff]:
    """Outputs (excluding :data:`NONDETERMINISTIC`) whose hashes differ between two locks."""
    before, after = lock_hashes(committed), lock_hashes(reproduced)
    return [
        OutputDiff(stage, path, before.get((stage, path)), after.get((stage, path)))
        for stage, path in sorted(set(before) | set(after))
        if path not in NONDETERMINISTIC and before.get((stage, path)) != after.get((stage, path))
    ]


def stale_stages(committed: str, reproduced: str) -> list[str]:
    """Stages whose lock entry (deps, params, outs) changed when re-run: the lock was stale.

    Outputs can reproduce while ``dvc.lock`` still records old dependencies (e.g. ``conf/``
    changed and only ``dvc repro evaluate`` was run): committing that lock is an error too.
    """
    before, after = DvcLock.from_text(committed).stages, DvcLock.from_text(reproduced).stages
    return sorted(name for name in after if before.get(name) != after[name])


def _dvc(args: list[str], root: Path) -> None:
    proc = subprocess.run(["dvc", *args], cwd=root, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"`dvc {' '.join(args)}` failed:\n{proc.stdout}{proc.stderr}")


def classify(
    diffs: list[OutputDiff],
    committed_model: Path | None,
    artifact: str,
    root: Path,
    test_split: str,
    tolerance: float,
    trusted_packages: Sequence[str] = (),
) -> tuple[ReproLevel, Equivalence]:
    """Bit-identical, numerically equivalent (same labels, values within ``tolerance``
    on the test split) or different, with the reason."""
    if not diffs:
        return ReproLevel.bit_identical, Equivalence(True)
    upstream = [d.path for d in diffs if d.stage in ("prepare", "validate")]
    if upstream:
        return ReproLevel.different, Equivalence(False, reason=f"data differ: {upstream}")
    if committed_model is None:
        why = f"the committed {artifact} is not here to compare with (run `dvc pull`)"
        return ReproLevel.different, Equivalence(False, reason=why)
    import pandas as pd

    found = compare_models(
        committed_model,
        root / artifact,
        pd.read_parquet(root / test_split),
        tolerance,
        trusted_packages,
    )
    level = ReproLevel.numerically_equivalent if found.equivalent else ReproLevel.different
    return level, found


def verify_reproduction(
    root: str | Path,
    artifact: str,
    test_split: str,
    pull: bool = True,
    targets: tuple[str, ...] = TARGETS,
    tolerance: float = 1e-9,
    trusted_packages: Sequence[str] = (),
) -> ReproResult:
    """Pull, force-re-run ``targets`` and their upstream stages, return what did not reproduce.

    The committed ``dvc.lock`` is read first; ``dvc repro --force`` then rewrites it from what
    the pipeline actually produced. The rewritten lock stays in the working tree so the
    differing outputs can be inspected (``git diff dvc.lock``; ``git checkout dvc.lock &&
    dvc checkout`` restores). ``artifact`` is the model directory (``paths.model``),
    ``test_split`` the test split's file (under ``paths.prepared``).

    Raises:
        FileNotFoundError: without a committed ``dvc.lock``.
        RuntimeError: when ``dvc pull`` or ``dvc repro`` fails.
    """
    base = Path(root)
    lock = base / LOCK
    if not lock.exists():
        raise FileNotFoundError(f"{lock} is missing: nothing to reproduce")
    committed = lock.read_text(encoding="utf-8")
    if pull:
        _dvc(["pull", "--allow-missing"], base)
    with tempfile.TemporaryDirectory(prefix="pr2prod-repro-") as tmp:
        snapshot: Path | None = None
        if (base / artifact).is_dir():  # the committed model, to compare numerically
            snapshot = Path(shutil.copytree(base / artifact, Path(tmp) / "committed"))
        _dvc(["repro", "--force", *targets], base)
        reproduced = lock.read_text(encoding="utf-8")
        diffs = compare_locks(committed, reproduced)
        level, equivalence = classify(
            diffs, snapshot, artifact, base, test_split, tolerance, trusted_packages
        )
    return ReproResult(diffs, stale_stages(committed, reproduced), level, equivalence)
