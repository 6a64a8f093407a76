"""Stage ``package`` and ``pr2prod build``: one implementation (:func:`build_candidate`).

Both read the sealed gate verdict and check it is bound to this model and to current
production (:mod:`pr2prod.release.verdict`). A passing candidate is imported into the model
store and built into a Bento; ``paths.bento_json`` records its tags. A candidate the gate
failed gets no Bento: the stage records "not built: the gate failed" and exits 0 (so
``dvc exp run`` still records the experiment), while ``pr2prod build`` refuses it (exit 1).

The Bento's version digests the model tag, ``params.yaml:serve,acceptance`` and the team's
packages (``allowed_targets``), ``bentofile.yaml`` and the Python files of the build context
(``src/``): exactly what ``dvc.yaml`` declares for this stage, so a committed
``reports/bento.json`` names the Bento a rerun rebuilds.
"""

from __future__ import annotations

import time
from pathlib import Path

from pr2prod.compare.baseline import production_id
from pr2prod.compare.executor import sync_production_refs
from pr2prod.config import load_params
from pr2prod.config.targets import project_packages
from pr2prod.errors import CheckFailedError, DataError
from pr2prod.models.identity import artifact_id
from pr2prod.models.metadata import git_commit
from pr2prod.models.persist import MODEL_FILE
from pr2prod.release.bento import GATE_FAILED, BentoRecord, write_record
from pr2prod.release.verdict import VerdictError, bound_verdict
from pr2prod.serving.package import package
from pr2prod.stages._common import PARAMS, StageFailedError, run_stage

BENTOFILE = Path("bentofile.yaml")
BUILD_CTX = Path("src")  # the build context: pr2prod's (or the team's) package


class GateFailedError(CheckFailedError, RuntimeError):
    """``pr2prod build`` of a candidate the gate failed (exit 1)."""


def build_candidate(
    params: Path = PARAMS, *, record_failure: bool, report: Path | None = None
) -> BentoRecord:
    """Build the Bento of the model ``params`` names, if its bound verdict passed.

    Args:
        params: the composed params file; every path comes from its ``paths``.
        record_failure: on a failed gate, write a "not built" record and return it (the
            stage); False raises :class:`GateFailedError` and writes nothing (the CLI).
        report: where to write the record (default ``paths.bento_json``).

    Raises:
        VerdictError: no verdict, an altered one, or one about another model/production.
        GateFailedError: the gate failed and ``record_failure`` is False.
        DataError: no model artifact.
    """
    cfg = load_params(params)
    model_dir = Path(cfg.paths.model)
    out = report or Path(cfg.paths.bento_json)
    if not (model_dir / MODEL_FILE).exists():
        raise DataError(f"{model_dir}: no model artifact (run `dvc repro train` or `dvc pull`)")
    base = cfg.gate.baseline
    registry = (cfg.release.model_name, cfg.release.stage)
    sync_production_refs(Path("."))  # as the gate did, in a `dvc exp run --temp` repo
    current = production_id(Path("."), base.ref, base.artifact, registry)
    candidate = artifact_id(model_dir)
    verdict = bound_verdict(cfg.paths.gate_json, candidate, current)
    if verdict.blocks_release():
        failed = list(verdict.failed)
        reason = f"{GATE_FAILED} ({', '.join(failed) or verdict.verdict})"
        if not record_failure:
            raise GateFailedError(
                f"build refused: {reason}; see {cfg.paths.gate_md}. A FAIL is recorded "
                "(dvc exp show) but never packaged or released."
            )
        record = BentoRecord(built=False, artifact_hash=candidate, reason=reason, failed=failed)
        write_record(out, record)
        return record
    result = package(
        model_dir,
        cfg.serve,
        BENTOFILE,
        BUILD_CTX,
        git_commit(),
        cfg.acceptance,
        project_packages(cfg.allowed_targets),
    )
    record = BentoRecord(built=True, **result.as_dict())
    write_record(out, record)
    return record


def main() -> None:
    def body() -> None:
        started = time.perf_counter()
        try:  # package only the model a sealed verdict names
            record = build_candidate(PARAMS, record_failure=True)
        except VerdictError as exc:
            raise StageFailedError(str(exc)) from exc
        if record.built:
            print(
                f"[package] {record.model_tag} -> Bento {record.bento_tag} "
                f"in {time.perf_counter() - started:.2f}s"
            )
        else:
            print(f"[package] {record.reason}: recorded, no Bento built")

    run_stage("package", body)
