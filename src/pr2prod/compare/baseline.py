"""Find the production model: the one place that decides what "baseline" means.

Production is the version the model registry (GTO tags) assigns to the production stage:
that version's commit names the artifact in its ``dvc.lock``. Before any version is in
production, the model recorded in ``dvc.lock`` at a git ref (``gate.baseline.ref``, default
``main``) stands in. ``--baseline REV|PATH`` overrides both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pr2prod.compare.errors import GateError
from pr2prod.compare.rebuild import rebuild_production
from pr2prod.compare.revisions import RemoteAccessError, materialise, resolve_commit, show_file
from pr2prod.dvclock import LOCK, DvcLock, out_id, out_md5
from pr2prod.models.persist import MODEL_FILE


@dataclass
class Baseline:
    """Where the baseline came from; ``path`` None means there is none (first release)."""

    source: str  # ref | path | none
    path: Path | None
    reason: str
    info: dict[str, Any] = field(default_factory=dict)


OnMissing = Literal["rebuild", "fail"]


def _from_ref(
    root: Path,
    ref: str,
    artifact: str,
    workdir: Path,
    explicit: bool,
    on_missing: OnMissing = "rebuild",
) -> Baseline:
    commit = resolve_commit(root, ref)
    if commit is None:
        if explicit:
            raise GateError(f"--baseline {ref}: no such directory, git commit, branch or tag")
        return Baseline("none", None, f"git ref {ref!r} does not exist yet")
    lock = show_file(root, commit, LOCK)
    md5 = out_md5(lock, artifact) if lock is not None else None
    if lock is None or md5 is None:  # md5 is None whenever lock is
        where = "has no dvc.lock" if lock is None else f"records no {artifact} in dvc.lock"
        if explicit:
            raise GateError(f"--baseline {ref}: commit {commit[:12]} {where}")
        return Baseline("none", None, f"{ref} ({commit[:12]}) {where}")
    # no commit in what the report keeps: the verdict must not change when only HEAD moves
    info: dict[str, Any] = {"source": "ref", "ref": ref, "md5": md5}
    reason = f"{artifact} at {ref} (md5 {md5})"
    ours = root / LOCK
    if ours.exists():  # the candidate's training inputs (code, data, params) are production's
        # equal inputs of the model's stage: the same training run (code, data, params)
        theirs = DvcLock.from_text(lock).stage_inputs(artifact)
        info["reproduction"] = theirs is not None and theirs == DvcLock.from_path(
            ours
        ).stage_inputs(artifact)
    try:
        dest = materialise(root, commit, artifact, workdir / "baseline")
    except GateError as exc:
        if on_missing != "rebuild" or lock is None:
            raise GateError(f"{exc} (gate.baseline.on_missing={on_missing})") from exc
        rebuilt = rebuild_production(root, commit, artifact, lock, workdir / "baseline")
        dest = rebuilt.path
        info.update(rebuilt=True, rebuilt_md5=rebuilt.rebuilt_md5)
        how = (
            "bit-identical to the recorded hash"
            if rebuilt.bit_identical
            else f"NOT bit-identical: md5 {rebuilt.rebuilt_md5} (see docs/reproducibility.md)"
        )
        where = (
            "not in the DVC cache and the DVC remote could not be read (credentials missing "
            "or refused)"
            if isinstance(exc, RemoteAccessError)
            else "not in the DVC cache or remote"
        )
        reason += (
            f"; {where}, so rebuilt from commit {commit[:12]} "
            f"(dvc repro {rebuilt.stage} in a temporary worktree): {how}"
        )
        print(f"[gate] production {reason}", flush=True)
    return Baseline("ref", dest, reason, info)


def resolve_baseline(
    root: Path,
    ref: str | None,
    artifact: str,
    workdir: Path,
    override: str | None = None,
    registry: tuple[str, str] | None = None,
    on_missing: OnMissing = "rebuild",
) -> Baseline:
    """Resolve and materialise the production model into ``workdir``.

    Args:
        root: the project's git + DVC root.
        ref: ``gate.baseline.ref``; None means no baseline is ever compared.
        artifact: the DVC output path of the model (``gate.baseline.artifact``).
        workdir: an empty scratch directory the caller removes afterwards.
        override: ``--baseline``: an artifact directory or a git revision.
        registry: ``(model name, stage)`` in the GTO registry; the version assigned to that
            stage is production. None skips the registry.
        on_missing: when production's artifact is in neither the DVC cache nor a remote:
            ``rebuild`` it from its commit (``compare.rebuild``) or ``fail``.

    Returns:
        The baseline; ``path`` None (first release) when the configured ref does not
        exist yet or does not record a model.

    Raises:
        GateError: an explicit override that does not resolve, or a recorded model that
            is in neither the DVC cache nor the remote when ``on_missing`` is ``fail`` (or
            whose rebuild fails).
    """
    if override is not None:
        candidate = Path(override)
        if (candidate / MODEL_FILE).exists():
            info = {"source": "path", "path": str(candidate)}
            return Baseline("path", candidate, f"artifact directory {candidate}", info)
        return _from_ref(root, override, artifact, workdir, explicit=True)
    if registry is not None:
        from pr2prod.release.registry import production_ref

        name, stage = registry
        commit = production_ref(root, name, stage)
        if commit is not None:
            found = _from_ref(root, commit, artifact, workdir, True, on_missing)
            found.info.update({"source": "registry", "model": name, "stage": stage})
            found.reason = f"{name} in {stage}: {found.reason}"
            return found
    if ref is None:
        return Baseline("none", None, "gate.baseline.ref is null")
    return _from_ref(root, ref, artifact, workdir, False, on_missing)


def _locked_id(root: Path, rev: str, artifact: str) -> str | None:
    commit = resolve_commit(root, rev)
    lock = None if commit is None else show_file(root, commit, LOCK)
    return None if lock is None else out_id(lock, artifact)


def production_id(
    root: Path, ref: str | None, artifact: str, registry: tuple[str, str] | None = None
) -> str | None:
    """Artifact id of production as :func:`resolve_baseline` resolves it, without fetching.

    What the gate verdict's binding must name for a release to proceed (``release.verdict``).
    """
    if registry is not None:
        from pr2prod.release.registry import production_ref

        commit = production_ref(root, *registry)
        if commit is not None:
            return _locked_id(root, commit, artifact)
    return None if ref is None else _locked_id(root, ref, artifact)
