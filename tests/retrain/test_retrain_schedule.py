"""The schedule rule's age comes from the registry: the GTO tags of the production version."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from _project import git_identity, run
from pr2prod.config.compose import reconcile
from pr2prod.config.loader import load_params
from pr2prod.release import registry
from pr2prod.retrain.plan import make_plan, production_age_days
from pr2prod.retrain.rules import Event

CONF = Path(__file__).resolve().parents[2] / "conf"


@pytest.mark.integration
def test_production_version_age_fires_the_schedule_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    git_identity(monkeypatch)  # GTO tags in-process: the tests' identity, not the machine's
    repo = tmp_path / "repo"
    repo.mkdir()
    run(["git", "init", "-q", "-b", "main"], repo)
    (repo / "README.md").write_text("model\n")
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-qm", "one"], repo)
    reconcile(CONF, tmp_path / "params.yaml", ["retrain.rules.schedule.max_model_age_days=30"])
    cfg = load_params(tmp_path / "params.yaml")
    now = dt.datetime.now(dt.UTC)
    assert production_age_days(repo, cfg, now) is None  # nothing in production yet

    name = cfg.release.model_name
    registry.register(repo, name, "v1.0.0")
    registry.assign(repo, name, "v1.0.0", cfg.release.stage)
    later = now + dt.timedelta(days=40)
    age = production_age_days(repo, cfg, later)
    assert age == pytest.approx(40, abs=0.01)

    plan = make_plan(cfg, None, Event.manual, repo=repo, now=later)
    schedule = next(r for r in plan.rules if r.rule == "schedule")
    assert schedule.fired
    assert schedule.figures["model_age_days"] == pytest.approx(40, abs=0.01)
    assert "> max_model_age_days 30" in schedule.evidence
    assert plan.fired == ["schedule"]
    young = make_plan(cfg, None, Event.manual, repo=repo, now=now + dt.timedelta(days=2))
    assert young.fired == []
