"""A project made by ``pr2prod init`` runs its own PR and release workflows under act.

The generated ``.github/`` must work outside this repository: a project from
``pr2prod init --defaults`` gets a bare "origin" and a directory DVC remote, trains, and
pushes; its ``release.yml`` (on push) makes the first release (GTO tags in origin, artifacts on
the DVC remote), then a PR branch with a changed config runs ``pr.yml``: every job succeeds and
the gate passes. Everything is real (git, DVC, GTO, BentoML, act on the host); act runs with
this test's environment, whose pr2prod is the version the project pins (the setup action checks
it against ``.pr2prod-version`` and refuses another, tested last).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from _loop import Loop
from _project import BIN, repro, run
from pr2prod import __version__
from pr2prod.init.cache import CACHE_VAR

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PR2PROD = str(BIN / "pr2prod")
PR_JOBS = ("lint", "reproduce", "gate", "build", "report")


class Generated(Loop):
    """A generated project (``my-model``) with its origin and DVC remote (see tests/_loop.py)."""

    def __init__(self, base: Path) -> None:
        super().__init__(base)
        self.project = base / "my-model"

    def act(self, event: str, workflow: str, *extra: str) -> tuple[dict[str, str], Path, str]:  # type: ignore[override]
        """Run one of the project's workflows: results, artifacts and the log's end."""
        results, artifacts = super().act(event, workflow, *extra)
        return results, artifacts, self.tail()


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Generated]:
    base = tmp_path_factory.mktemp("generated-workflows")
    saved = dict(os.environ)
    (base / "home").mkdir()
    os.environ.update(
        {
            "HOME": str(base / "home"),
            "BENTOML_HOME": str(base / "bentoml"),
            CACHE_VAR: str(base / "template-cache"),
        }
    )
    try:
        g = Generated(base)
        run(["git", "init", "-q", "--bare", "-b", "main", str(g.origin)], base)
        run([PR2PROD, "init", g.project.name, "--defaults", "--remote", str(g.remote)], base)
        g.git("remote", "add", "origin", str(g.origin))
        repro(g.project)
        g.git("add", "-A")
        g.git("commit", "-qm", "first model")
        g.git("push", "-q", "-u", "origin", "main")
        yield g
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_first_release_then_a_passing_pr(generated: Generated) -> None:
    g = generated
    assert (g.project / ".pr2prod-version").read_text().strip() == __version__
    first = g.git("rev-parse", "HEAD")
    name = yaml.safe_load((g.project / "params.yaml").read_text())["release"]["model_name"]
    assert name == g.project.name  # the model is named after the project

    # 1. release.yml on push to main: v1.0.0 in prod, the artifacts on the DVC remote
    results, art, log = g.act("push", "release.yml")
    assert results == {"release": "success"}, log
    tags = g.origin_tags()
    assert tags[f"{name}@v1.0.0"] == first
    assert tags[f"{name}#prod#1"] == first
    lock = yaml.safe_load((g.project / "dvc.lock").read_text())
    model_md5 = lock["stages"]["train"]["outs"][0]["md5"].removesuffix(".dir")
    assert (g.remote / "files" / "md5" / model_md5[:2] / f"{model_md5[2:]}.dir").exists()
    assert f"# {name} v1.0.0" in (art / "release" / "model_card.md").read_text()
    assert json.loads((art / "release" / "bento.json").read_text())["bento_tag"]
    g.git("fetch", "-q", "--tags", "origin")

    # 2. a PR that changes conf/ (the model's C), retrained by its author: every job passes
    g.git("checkout", "-q", "-b", "stronger-c")
    conf = g.project / "conf/model/logistic_regression.yaml"
    assert "C: 1.0" in conf.read_text()
    conf.write_text(conf.read_text().replace("C: 1.0", "C: 2.0"))
    run([PR2PROD, "compose"], g.project)
    repro(g.project)
    g.git("add", "-A")
    g.git("commit", "-qm", "model: C=2")
    run(["dvc", "push", "-q"], g.project)
    g.git("push", "-q", "origin", "stronger-c")
    results, art, log = g.act("pull_request", "pr.yml", "-e", str(g.pr_event("stronger-c", 1)))
    assert results == dict.fromkeys(PR_JOBS, "success"), log
    assert json.loads((art / "pr-report" / "gate.json").read_text())["passed"] is True
    report = (art / "pr-report" / "pr_report.md").read_text()
    assert "model.C" in report.split("### Params diff")[1].split("###")[0]


def test_setup_refuses_a_pr2prod_other_than_the_pin(generated: Generated) -> None:
    """act uses the caller's pr2prod: the setup action fails when it is not the pinned one."""
    g = generated
    pin = g.project / ".pr2prod-version"
    pin.write_text("0.0.0.dev0\n")  # uncommitted: act copies the working tree as it is
    try:
        results, _, log = g.act(
            "pull_request", "pr.yml", "-j", "lint", "-e", str(g.pr_event("stronger-c", 2))
        )
    finally:
        g.git("checkout", "--", ".pr2prod-version")
    assert results == {"lint": "failure"}, log
    assert f"pr2prod {__version__} is installed; this project pins 0.0.0.dev0" in log
