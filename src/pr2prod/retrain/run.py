"""The whole ``pr2prod retrain`` run: plan, refresh, recompose, ``dvc repro``, commit.

:func:`run_retrain` is the job; the CLI turns its options into :class:`RetrainOptions` and
prints the result. Nothing here pushes unless ``push`` names a remote, and nothing ever
opens a pull request: the workflow does (``.github/workflows/retrain.yml``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pr2prod.compare.baseline import production_id
from pr2prod.config import load_params
from pr2prod.config.schema import Config
from pr2prod.errors import CheckFailedError
from pr2prod.fsio import atomic_write_text
from pr2prod.models.identity import artifact_id
from pr2prod.release.gate_record import GateVerdict
from pr2prod.release.verdict import VerdictError, bound_verdict
from pr2prod.retrain.plan import make_plan
from pr2prod.retrain.render import render_markdown
from pr2prod.retrain.report import PipelineOutcome, RetrainReport, write_report
from pr2prod.retrain.rules import Event
from pr2prod.retrain.snapshot import refresh
from pr2prod.retrain.tools import run_tool, tail


@dataclass(frozen=True)
class RetrainOptions:
    """Command-line choices of one run (paths relative to the project root)."""

    monitor_report: Path | None  # None: <monitor.report_dir>/monitor.json
    event: Event = Event.manual
    force: bool = False
    plan_only: bool = False
    push: str | None = None  # git remote the branch (and `dvc push`) goes to
    end: dt.datetime | None = None  # end of a SQL window (default: now)
    params: Path = Path("params.yaml")
    conf: Path = Path("conf")


def default_monitor_report(cfg: Config) -> Path:
    """Where ``pr2prod monitor`` writes its JSON report."""
    from pr2prod.monitor.outputs import REPORT_JSON

    return Path(cfg.monitor.report_dir) / REPORT_JSON


def run_retrain(root: Path, opts: RetrainOptions) -> RetrainReport:
    """Evaluate the rules; unless ``plan_only`` or nothing fired, retrain on a branch.

    Writes ``retrain.report_json`` and ``retrain.report_md`` in every case.

    Raises:
        CheckFailedError: uncommitted changes to tracked files (they would enter the commit).
        ConfigError, DataError, ToolError: a bad setting, a missing report, git/DVC failing.
    """
    cfg = load_params(root / opts.params)
    monitor = opts.monitor_report or default_monitor_report(cfg)
    plan = make_plan(
        cfg,
        root / monitor if not monitor.is_absolute() else monitor,
        opts.event,
        force=opts.force,
        repo=root,
    )
    if opts.plan_only or not plan.retrain:
        return _finish(root, cfg, RetrainReport.of(plan))
    _require_clean(root, ignore={cfg.retrain.report_md, cfg.retrain.report_json})
    branch = cfg.retrain.branch
    run_tool(["git", "switch", "-q", "-C", branch], root)
    before = _committed_json(root, cfg.paths.metrics)
    snapshot = refresh(cfg, root, opts.end or dt.datetime.now(dt.UTC))
    _compose(root, opts)
    repro = run_tool(["dvc", "repro"], root, check=False)
    output = repro.stdout + repro.stderr
    gate = _gate(root, cfg, fresh=repro.returncode == 0)
    pipeline = PipelineOutcome(
        repro_exit_code=repro.returncode,
        failed_stage=_failed_stage(output) if repro.returncode else None,
        repro_tail=tail(output),
        gate_verdict=None if gate is None else gate.verdict,
        gate_passed=None if gate is None else not gate.blocks_release(),
        metrics_before=before,
        metrics_after=_read_json(root / cfg.paths.metrics),
    )
    report = RetrainReport.of(plan, snapshot=snapshot, pipeline=pipeline, branch=branch)
    _finish(root, cfg, report)
    run_tool(["git", "add", "-u"], root)
    extra = [snapshot.pointer, cfg.retrain.report_md, cfg.retrain.report_json]
    gitignore = Path(snapshot.path).parent / ".gitignore"
    if (root / gitignore).is_file():
        extra.append(str(gitignore))
    run_tool(["git", "add", "--", *extra], root)
    run_tool(["git", "commit", "-q", "-m", _message(report)], root)
    commit = run_tool(["git", "rev-parse", "HEAD"], root).stdout.strip()
    # the committed retrain.json cannot name its own commit: only the returned report does
    report = report.model_copy(update={"commit": commit})
    if opts.push:
        run_tool(["dvc", "push"], root)
        run_tool(["git", "push", "-q", "--force", opts.push, f"HEAD:refs/heads/{branch}"], root)
    return report


def _finish(root: Path, cfg: Config, report: RetrainReport) -> RetrainReport:
    write_report(report, root / cfg.retrain.report_json)
    atomic_write_text(root / cfg.retrain.report_md, render_markdown(report))
    return report


def _require_clean(root: Path, ignore: set[str]) -> None:
    """No uncommitted change to a tracked file but this command's own reports (``--plan``
    rewrites them, and a merged retraining commit tracks them)."""
    out = run_tool(["git", "status", "--porcelain", "--untracked-files=no"], root).stdout
    dirty = [line[3:] for line in out.splitlines() if line[3:] not in ignore]
    if dirty:
        files = ", ".join(dirty[:5])
        raise CheckFailedError(
            f"uncommitted changes to tracked files ({files}); commit or stash them first: "
            "pr2prod retrain commits every tracked change on the retraining branch"
        )


def _compose(root: Path, opts: RetrainOptions) -> None:
    """``pr2prod compose``: params.yaml from conf/ with its recorded overrides."""
    from pr2prod.config.compose import reconcile

    reconcile(root / opts.conf, root / opts.params, [])


def _gate(root: Path, cfg: Config, fresh: bool) -> GateVerdict | None:
    """The gate's verdict of this run: ``paths.gate_json`` when the pipeline succeeded or the
    gate rewrote it before failing; None when the gate never got to a verdict (the committed
    file is the last release's, not this run's) or its verdict is not about the retrained
    model and current production (said on stderr), as the package stage checks it."""
    where = root / cfg.paths.gate_json
    if not where.is_file() or (not fresh and _same_as_committed(root, cfg.paths.gate_json)):
        return None
    base = cfg.gate.baseline
    registry = (cfg.release.model_name, cfg.release.stage)
    try:
        return bound_verdict(
            where,
            artifact_id(root / cfg.paths.model),
            production_id(root, base.ref, base.artifact, registry),
        )
    except (VerdictError, OSError) as exc:
        print(f"[retrain] no usable gate verdict: {exc}", file=sys.stderr, flush=True)
        return None


def _same_as_committed(root: Path, path: str) -> bool:
    """``path`` in the working tree is byte-identical to its committed version."""
    proc = run_tool(["git", "show", f"HEAD:{path}"], root, check=False)
    return proc.returncode == 0 and proc.stdout == (root / path).read_text(encoding="utf-8")


_FAILED = re.compile(r"failed to reproduce '([^']+)'")


def _failed_stage(output: str) -> str | None:
    """The stage ``dvc repro`` names in its ``failed to reproduce '<stage>'`` line."""
    found = _FAILED.search(output)
    return found.group(1) if found else None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _committed_json(root: Path, path: str) -> dict[str, Any]:
    proc = run_tool(["git", "show", f"HEAD:{path}"], root, check=False)
    try:
        data = json.loads(proc.stdout) if proc.returncode == 0 else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _message(report: RetrainReport) -> str:
    why = ", ".join(report.fired) or "forced"
    s = report.snapshot
    change = f"; {s.path} {s.old_rows} -> {s.new_rows} rows" if s is not None else ""
    source = report.plan.monitor_report or "the run"
    return f"retrain: {why}{change}\n\nEvidence: {source}; see the pull request body."
