"""The GitOps loop end to end, with the real workflows run through act on the host.

A throw-away project with a local bare "origin" and a local DVC remote directory walks:
first release on main -> a PR with a better model passes -> a PR with a worse model fails at the
gate -> merging the better one releases v1.1.0 -> rollback puts v1.0.0 back in production -> a
forged verdict (a FAIL edited to PASS, digest recomputed, dvc.lock re-recorded) merged to main
is refused by release.yml, which re-runs the gate itself, and origin's tags stay as they were.
Assertions are on git tags in origin, files on the DVC remote and the reports each run kept
(the act stub of upload-artifact copies them to $PR2PROD_ACT_ARTIFACTS).

Uses `pr2prod gate` and `pr2prod build` (the gate and serving features) through the workflows.
"""

from __future__ import annotations

import json
import os
import re

import pytest
import yaml

from _loop import PR2PROD
from _loop import Loop as SharedLoop
from _project import make_project, published_images, repro, run
from pr2prod.release.registry import production_ref
from pr2prod.release.verdict import digest, read_verdict

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
NAME = "pr2prod-model"


class Loop(SharedLoop):
    """The GitOps loop's repository, plus a PR branch that changes the model's C."""

    def branch_with_c(self, branch: str, c: float) -> None:
        """A PR branch that changes conf/ (the model's C), retrained, committed and pushed."""
        self.git("checkout", "-q", "main")
        self.git("checkout", "-q", "-b", branch)
        conf = self.project / "conf/model/logistic_regression.yaml"
        conf.write_text(re.sub(r"(?m)^C: .*$", f"C: {c}", conf.read_text()))  # from main's C
        run([PR2PROD, "compose"], self.project)
        # the author reproduces; a failing gate is recorded (no Bento), `dvc repro` exits 0
        repro(self.project)
        self.git("add", "-A")
        self.git("commit", "-qm", f"model: C={c}")
        run(["dvc", "push", "-q"], self.project)
        self.git("push", "-q", "origin", branch)


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("gitops-e2e")
    saved = dict(os.environ)
    (base / "home").mkdir()
    os.environ.update({"HOME": str(base / "home"), "BENTOML_HOME": str(base / "bentoml")})
    try:
        lp = Loop(base)
        run(["git", "init", "-q", "--bare", "-b", "main", str(lp.origin)], base)
        make_project(lp.project, remote=lp.remote)
        lp.git("remote", "add", "origin", str(lp.origin))
        repro(lp.project)  # trained once; every later step reuses these outputs
        lp.git("add", "-A")
        lp.git("commit", "-qm", "first model")
        lp.git("push", "-q", "-u", "origin", "main")
        yield lp
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_gitops_loop(loop: Loop):
    lp = loop
    first = lp.git("rev-parse", "HEAD")

    # 1. first release on main: artifacts pushed by the workflow, v1.0.0 in prod, Bento built
    results, art = lp.act("push", "release.yml")
    assert results == {"release": "success"}, (lp.base / "act-1.log").read_text()[-4000:]
    tags = lp.origin_tags()
    assert tags[f"{NAME}@v1.0.0"] == first
    assert tags[f"{NAME}#prod#1"] == first
    lock = yaml.safe_load((lp.project / "dvc.lock").read_text())
    model_md5 = lock["stages"]["train"]["outs"][0]["md5"].removesuffix(".dir")
    assert (lp.remote / "files" / "md5" / model_md5[:2] / (model_md5[2:] + ".dir")).exists()
    card = (art / "release" / "model_card.md").read_text()
    assert f"# {NAME} v1.0.0" in card and first in card and "first release" in card
    assert json.loads((art / "release" / "bento.json").read_text())["bento_tag"]
    lp.git("fetch", "-q", "--tags", "origin")

    # 2. a PR with a better model (lower log-loss): every PR job succeeds, report shows deltas
    lp.branch_with_c("better", 2.0)
    results, art = lp.act("pull_request", "pr.yml", "-e", str(lp.pr_event("better", 1)))
    assert results == dict.fromkeys(["lint", "reproduce", "gate", "build", "report"], "success"), (
        lp.base / f"act-{lp.runs}.log"
    ).read_text()[-4000:]
    report = (art / "pr-report" / "pr_report.md").read_text()
    assert "model.C" in report.split("### Params diff")[1].split("###")[0]
    metrics = report.split("### Metrics diff")[1].split("###")[0]
    assert "log_loss" in metrics
    assert json.loads((art / "pr-report" / "gate.json").read_text())["passed"] is True
    # the comment's images: pushed by the report job to origin's assets branch, each URL
    # pinned to that commit; the gate's curves draw both models
    images = published_images(report, lp.origin)
    gate_section = report.split("### Gate")[1].split("### Plots")[0]
    curves = [svg for url, svg in images.items() if url in gate_section]
    assert curves and all(b"production" in svg and b"candidate" in svg for svg in curves)
    assert "![roc](" in report.split("### Plots")[1]

    # 3. a PR with a worse model: the gate job fails, the report names the failing metric
    lp.branch_with_c("worse", 0.001)
    results, art = lp.act("pull_request", "pr.yml", "-e", str(lp.pr_event("worse", 2)))
    assert results.get("gate") == "failure", results
    assert "build" not in results or results["build"] != "success"
    assert results.get("report") == "success", results
    gate = read_verdict(art / "pr-report" / "gate.json")
    failed = set(gate.failed)
    assert gate.blocks_release() and failed
    metric = next(c.metric for c in gate.checks if not c.passed)
    report = (art / "pr-report" / "pr_report.md").read_text()
    gate_section = report.split("### Gate")[1].split("### Plots")[0]
    assert any(name in gate_section for name in failed)
    assert metric in gate_section

    # 4. merge the better PR: release v1.1.0 to prod, Bento built
    lp.git("checkout", "-q", "main")
    lp.git("merge", "-q", "--ff-only", "better")
    lp.git("push", "-q", "origin", "main")
    merged = lp.git("rev-parse", "HEAD")
    results, art = lp.act("push", "release.yml")
    assert results == {"release": "success"}, (lp.base / f"act-{lp.runs}.log").read_text()[-4000:]
    tags = lp.origin_tags()
    assert tags[f"{NAME}@v1.1.0"] == merged
    assert tags[f"{NAME}#prod#2"] == merged
    assert "v1.0.0" in (art / "release" / "model_card.md").read_text()  # lineage: previous
    lp.git("fetch", "-q", "--tags", "origin")
    assert production_ref(lp.project, NAME) == merged

    # 5. rollback through the manual workflow: prod back on v1.0.0, nothing rebuilt
    results, _ = lp.act("workflow_dispatch", "rollback.yml", "--input", "version=v1.0.0")
    assert results == {"rollback": "success"}, (lp.base / f"act-{lp.runs}.log").read_text()[-4000:]
    tags = lp.origin_tags()
    assert tags[f"{NAME}#prod#3"] == first
    assert f"{NAME}@v1.2.0" not in tags
    lp.git("fetch", "-q", "--tags", "origin")
    assert production_ref(lp.project, NAME) == first

    # 6. a forged verdict merged to main: the gate's FAIL edited to PASS, its digest recomputed,
    #    dvc.lock re-recorded (`dvc commit`), the Bento built from it. Locally nothing can tell
    #    (the digest proves integrity, not authorship); release.yml re-runs the gate and refuses
    lp.branch_with_c("forged", 0.001)
    gate_path = lp.project / "reports/gate.json"
    gate = json.loads(gate_path.read_text())
    assert gate["verdict"] == "fail"
    gate.update(verdict="pass", passed=True, failed=[])
    for check in gate["checks"]:
        check["passed"] = True
    gate["digest"] = digest(gate)
    gate_path.write_text(json.dumps(gate, indent=2, sort_keys=True) + "\n")
    run(["dvc", "commit", "-f", "gate"], lp.project)
    run(["dvc", "repro", "package"], lp.project)  # the package stage believes it
    assert json.loads((lp.project / "reports/bento.json").read_text())["built"] is True
    lp.git("add", "-A")
    lp.git("commit", "-qm", "gate: PASS")
    lp.git("checkout", "-q", "main")
    lp.git("merge", "-q", "--ff-only", "forged")
    lp.git("push", "-q", "origin", "main")
    before = lp.origin_tags()
    results, _ = lp.act("push", "release.yml")
    assert results == {"release": "failure"}, lp.tail()
    assert "gate FAIL" in lp.last_log().read_text()
    assert lp.origin_tags() == before
