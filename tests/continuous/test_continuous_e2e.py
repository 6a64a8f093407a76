"""Continuous training and progressive delivery end to end, the real workflows run by act.

A throw-away repository (``make_project``) with a bare "origin", a directory DVC remote and a
data registry (a second git + DVC repository the project ``dvc import``-s its table from; new
data arriving is a new commit there, as an upstream team would push it). Its conf has
``release.via_canary: true``; the table's ``customer_id`` column is the data's id column, so
the server's id field (``serve.id_field: null`` = that column) makes routing sticky.

The module fixture releases production (release.yml on push: v1.0.0 to ``prod``), then the
real server (``pr2prod serve`` of the production model on 127.0.0.1) answers drifted requests;
its prediction log is shipped (tracked by DVC under ``logs/predictions``, as monitor.yml
pulls it). Then:

- ``test_a_worse_retrained_model_fails_its_gate``: the new batch arrives with its labels all
  defaulted to 0 (an export bug). retrain.yml runs the monitor, the drift rule fires, the
  retraining branch is pushed with ``reports/retrain.md``; the PR's pr.yml gate fails; the
  registry tags in origin are unchanged.
- ``test_drift_retrain_canary_promote``: the new batch arrives with true labels. retrain.yml
  opens (or updates: one PR at most) the retraining PR with its evidence; pr.yml passes; the
  PR is merged (git merge + push); release.yml releases v1.1.0 to ``canary``; the real server
  with the production and canary artifacts routes the configured share of a fixed set of ids
  (binomial tolerance) and stays sticky; labels are joined, ``pr2prod canary-report``
  recommends promote and ``pr2prod promote --push`` moves ``prod`` (tags in origin).

There is no GitHub here, so ``gh`` is unavailable: the tests put a small recording ``gh``
(tests/continuous/_fake_gh.py) first on PATH, for these tests only, and assert on what the
workflow asked it to do (open or update one PR from ``retrain.branch`` with the evidence as
its body) and on the branch pushed to the bare origin. Both tests share the released fixture;
the worse run goes first and leaves its PR open, the good run then updates it (either test
also runs alone).

The canary report's latency rule is loosened in this project (``canary.max_latency_ratio``):
latencies on a shared test machine are not the subject, and no assertion here is timed.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import stat
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
import yaml

from _loop import PR2PROD, Loop
from _project import ROOT, make_project, repro, run
from _serving import Server, free_port, serve_cmd
from pr2prod.logrecord import read_records
from pr2prod.logrecord.variant import VARIANT_HEADER, Variant
from pr2prod.release import registry
from pr2prod.release.verdict import read_verdict

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("continuous_e2e")]

NAME = "pr2prod-model"
TABLE = "data/raw/customers.csv"
FEATURES = ["tenure", "spend", "visits", "noise"]
BRANCH = "pr2prod/retrain"  # retrain.branch (conf/retrain/default.yaml)
SHARE = 0.3  # serve.canary.share in this project
N_IDS = 1000  # ids routed through the canary server
REPOSITORY = {"full_name": "team/churn", "default_branch": "main"}  # the dispatch event's
OVERRIDES = (
    "data=file",
    "data.name=customers",
    f"data.path={TABLE}",
    "data.target=churned",
    "data.id_column=customer_id",
    "release.via_canary=true",
    f"serve.canary.share={SHARE}",
    "monitor.log=logs/predictions",
    "canary.max_latency_ratio=1000",
    # a retraining PR changes the data on purpose (docs/continuous.md, "The run and its outcome")
    "gate.allow_different_data=true",
)


def customers(n: int, seed: int, first_id: int, shift: float = 0.0) -> pd.DataFrame:
    """``n`` customers; ``shift`` moves tenure and the irrelevant ``noise`` (drift) without
    changing the rule that decides ``churned`` (nearly separable: both models score ~99 %)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, len(FEATURES)))
    x[:, 0] += shift
    x[:, 3] += shift
    churned = (x[:, 0] - x[:, 1] + 0.5 * x[:, 2] > 0.3).astype(int)
    df = pd.DataFrame(x, columns=FEATURES).round(4)
    df.insert(0, "customer_id", np.arange(first_id, first_id + n))
    df["churned"] = churned
    return df


def tolerance(share: float, n: int) -> float:
    """Four binomial standard deviations of an observed share over ``n`` ids."""
    return 4 * math.sqrt(share * (1 - share) / n)


class Continuous(Loop):
    """The loop's repositories, the recording ``gh`` and the real servers."""

    def __init__(self, base: Path) -> None:
        super().__init__(base)
        self.data_repo = base / "data-registry"
        self.gh_record = base / "gh-calls.jsonl"
        self.gh_state = base / "gh-prs.json"
        self.served = 0

    # --- the data registry: an upstream team's repository of the customers table ---------
    def publish(self, table: pd.DataFrame, message: str) -> None:
        """A new version of customers.csv in the data registry (committed, pushed to DVC)."""
        table.to_csv(self.data_repo / "customers.csv", index=False)
        run(["dvc", "add", "-q", "customers.csv"], self.data_repo)
        run(["git", "add", "-A"], self.data_repo)
        run(["git", "commit", "-qm", message], self.data_repo)
        run(["dvc", "push", "-q"], self.data_repo)

    # --- the recording gh -------------------------------------------------------------------
    def gh_calls(self) -> list[dict]:
        if not self.gh_record.exists():
            return []
        return [json.loads(line) for line in self.gh_record.read_text().splitlines()]

    def open_prs(self) -> list[dict]:
        prs = json.loads(self.gh_state.read_text()) if self.gh_state.exists() else []
        return [p for p in prs if p["state"] == "open"]

    # --- git --------------------------------------------------------------------------------
    def checkout_branch_from_origin(self, branch: str) -> str:
        """The branch as origin holds it, checked out (act copies this working tree into the
        PR jobs' workspace; they pull the DVC outputs themselves)."""
        self.git("fetch", "-q", "--tags", "--force", "origin")
        self.git("checkout", "-q", "-B", branch, f"origin/{branch}")
        return self.git("rev-parse", "HEAD")

    def stage(self, stage: str) -> str | None:
        """The version origin's tags assign to ``stage``."""
        held = registry.stage_version(self.origin, NAME, stage)
        return None if held is None else held.version

    # --- the real server ----------------------------------------------------------------------
    def serve(self, model: Path, *extra: str) -> tuple[Server, Path]:
        """``pr2prod serve`` of ``model`` on 127.0.0.1 in its own directory; its log path."""
        self.served += 1
        where = self.base / f"serve-{self.served}"
        where.mkdir()
        params = yaml.safe_load((self.project / "params.yaml").read_text())
        log = where / "predictions.jsonl"
        params["serve"]["prediction_log"].update(
            path=log.name, max_bytes=50_000_000
        )  # cwd-relative
        (where / "params.yaml").write_text(yaml.safe_dump(params))
        port = free_port()
        cmd = serve_cmd(model, where / "params.yaml", port, *extra)
        server = Server(cmd, cwd=where, log=where / "server.log", extra_env={}, port=port)
        server.wait_ready()
        return server, log

    def ship_log(self, log: Path, name: str) -> None:
        """The served window's log into logs/predictions (DVC-tracked), committed on main."""
        self.git("checkout", "-q", "main")
        dest = self.project / "logs" / "predictions"
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(log, dest / name)
        run(["dvc", "add", "-q", "logs/predictions"], self.project)
        self.git("add", "logs/predictions.dvc")
        self.git("commit", "-qm", f"ship the prediction log ({name})")
        # named: `dvc push` alone skips a pointer inside the git-ignored logs/ directory
        run(["dvc", "push", "-q", "logs/predictions.dvc"], self.project)
        self.git("push", "-q", "origin", "main")


def predict_one(client: httpx.Client, row: dict) -> httpx.Response:
    record = {k: row[k] for k in ["customer_id", *FEATURES]}
    return client.post("/predict", json={"record": record})


TEMPLATE_PR = ROOT / "src/pr2prod/template/project/.github/workflows/pr.yml"


def _fake_gh(base: Path) -> Path:
    bindir = base / "fake-gh-bin"
    bindir.mkdir()
    gh = bindir / "gh"
    source = Path(__file__).with_name("_fake_gh.py")
    gh.write_text(f"#!{sys.executable}\n" + source.read_text())
    gh.chmod(gh.stat().st_mode | stat.S_IXUSR)
    return bindir


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Continuous]:
    """Production v1.0.0 released by release.yml; the production server's log of 300 drifted
    requests shipped on main."""
    base = tmp_path_factory.mktemp("continuous-e2e")
    saved = dict(os.environ)
    (base / "home").mkdir()
    lp = Continuous(base)
    os.environ.update(
        {
            "HOME": str(base / "home"),
            "BENTOML_HOME": str(base / "bentoml"),
            "PATH": f"{_fake_gh(base)}{os.pathsep}{os.environ['PATH']}",
            "FAKE_GH_RECORD": str(lp.gh_record),
            "FAKE_GH_STATE": str(lp.gh_state),
        }
    )
    try:
        # the data registry, first version: 600 customers
        lp.data_repo.mkdir()
        run(["git", "init", "-q", "-b", "main"], lp.data_repo)
        run(["dvc", "init", "-q"], lp.data_repo)
        run(["dvc", "remote", "add", "-d", "store", str(base / "data-remote")], lp.data_repo)
        lp.publish(customers(600, seed=1, first_id=0), "customers: first 600")
        # the project: imports the table, trains, pushes main
        run(["git", "init", "-q", "--bare", "-b", "main", str(lp.origin)], base)
        make_project(lp.project, OVERRIDES, remote=lp.remote, commit=False)
        # its data lies on a DVC remote (an import), so its PR jobs pull with the read key
        # handed over by the approval-protected environment: the generated project's pr.yml
        # (this repository's own PR jobs get no key: its data ships with it; docs/security.md)
        shutil.copy2(TEMPLATE_PR, lp.project / ".github" / "workflows" / "pr.yml")
        run(["dvc", "import", "-q", str(lp.data_repo), "customers.csv", "-o", TABLE], lp.project)
        lp.git("add", "-A")
        lp.git("commit", "-qm", "init project: customers imported from the data registry")
        lp.git("remote", "add", "origin", str(lp.origin))
        repro(lp.project)
        lp.git("add", "-A")
        lp.git("commit", "-qm", "first model")
        lp.git("push", "-q", "-u", "origin", "main")

        # 1. production released: the first release goes straight to prod (via_canary or not)
        first = lp.git("rev-parse", "HEAD")
        results, _ = lp.act("push", "release.yml")
        assert results == {"release": "success"}, lp.tail()
        tags = lp.origin_tags()
        assert tags[f"{NAME}@v1.0.0"] == tags[f"{NAME}#prod#1"] == first
        assert lp.stage("prod") == "v1.0.0" and lp.stage("canary") is None
        lp.git("fetch", "-q", "--tags", "origin")

        # 2. drifted traffic: the real production server answers and logs 300 requests
        prod_model = base / "prod-v1.0.0"
        shutil.copytree(lp.project / "models" / "model", prod_model)
        server, log = lp.serve(prod_model)
        try:
            with server.client() as c:
                for row in customers(300, seed=5, first_id=10_000, shift=1.2).to_dict("records"):
                    assert predict_one(c, row).status_code == 200
        finally:
            server.stop()
        assert len(list(read_records(log))) == 300
        lp.ship_log(log, "window-1.jsonl")
        yield lp
    finally:
        os.environ.clear()
        os.environ.update(saved)


def retrain_workflow(lp: Continuous) -> tuple[dict[str, str], Path, str]:
    """retrain.yml on a manual dispatch; the job results, its artifacts and the branch head
    it pushed to origin."""
    lp.git("checkout", "-q", "main")
    event = lp.base / "event-dispatch.json"
    event.write_text(json.dumps({"inputs": {"force": False}, "repository": REPOSITORY}))
    results, art = lp.act("workflow_dispatch", "retrain.yml", "-e", str(event))
    assert results and all(r == "success" for r in results.values()), lp.tail()
    head = lp.git("rev-parse", f"refs/heads/{BRANCH}", cwd=lp.origin)
    return results, art, head


def assert_retrain_evidence(lp: Continuous, head: str) -> str:
    """The pushed branch: one commit on main with the new data pointer, the pipeline's lock
    and reports/retrain.md naming the fired drift rule with the monitor's figures and window."""
    main = lp.git("rev-parse", "refs/heads/main", cwd=lp.origin)
    assert lp.git("rev-parse", f"{head}~1", cwd=lp.origin) == main
    changed = set(lp.git("show", "--name-only", "--format=", head, cwd=lp.origin).splitlines())
    assert {f"{TABLE}.dvc", "dvc.lock", "reports/retrain.md"} <= changed, changed
    body = lp.git("show", f"{head}:reports/retrain.md", cwd=lp.origin)
    assert "| drift | **yes** |" in body, body
    assert "tenure" in body and "noise" in body  # the drifted features, from monitor.json
    assert "300 rows" in body  # the monitored window: the shipped log
    assert "| 1000 |" in body  # the refreshed snapshot: 600 + 400 rows (dvc update)
    return body


def assert_one_pr_with(lp: Continuous, body: str) -> None:
    """gh was asked to open (or update) exactly one PR from the branch, with the evidence."""
    prs = lp.open_prs()
    assert [p["headRefName"] for p in prs] == [BRANCH], lp.gh_calls()
    assert prs[0]["baseRefName"] == "main"
    assert prs[0]["body"].strip() == body.strip()  # the body is the pushed reports/retrain.md


def test_a_worse_retrained_model_fails_its_gate(released: Continuous):
    lp = released
    tags_before = lp.origin_tags()
    # the new batch: 400 drifted customers whose labels were all exported as 0
    bad = customers(400, seed=2, first_id=600, shift=1.2).assign(churned=0)
    lp.publish(pd.concat([customers(600, seed=1, first_id=0), bad]), "customers: +400 (bad)")

    # 3. retrain.yml: the monitor's drift rule fires; the branch and one PR with the evidence
    _, _, head = retrain_workflow(lp)
    body = assert_retrain_evidence(lp, head)
    assert_one_pr_with(lp, body)
    assert any(c["argv"][:2] == ["pr", "create"] for c in lp.gh_calls())

    # 4. the PR's gate fails (the retrained model is worse); production untouched
    assert lp.checkout_branch_from_origin(BRANCH) == head
    results, art = lp.act("pull_request", "pr.yml", "-e", str(lp.pr_event(BRANCH, 1)))
    assert results.get("gate") == "failure", lp.tail()
    assert results.get("build") != "success"
    gate = read_verdict(art / "pr-report" / "gate.json")
    assert gate.blocks_release()
    failed = set(gate.failed)
    assert "stability:flip_rate" in failed or any(n.startswith("floor:") for n in failed), failed
    assert lp.origin_tags() == tags_before
    assert lp.stage("prod") == "v1.0.0" and lp.stage("canary") is None
    lp.git("checkout", "-q", "main")


def test_drift_retrain_canary_promote(released: Continuous):
    lp = released
    calls_before = len(lp.gh_calls())
    open_before = [p["number"] for p in lp.open_prs()]  # the worse run's PR, when it ran first
    # the new batch: 400 drifted customers with their true labels
    good = customers(400, seed=3, first_id=600, shift=1.2)
    lp.publish(pd.concat([customers(600, seed=1, first_id=0), good]), "customers: +400")

    # 3. retrain.yml opens (or updates) the one retraining PR with the evidence
    _, _, head = retrain_workflow(lp)
    body = assert_retrain_evidence(lp, head)
    assert_one_pr_with(lp, body)
    asked = [c["argv"][:3] for c in lp.gh_calls()[calls_before:] if c["argv"][0] == "pr"]
    if open_before:  # never a second PR: the open one is updated
        assert ["pr", "edit", str(open_before[0])] in asked, asked
        assert not any(a[:2] == ["pr", "create"] for a in asked), asked
    else:
        assert any(a[:2] == ["pr", "create"] for a in asked), asked
    number = lp.open_prs()[0]["number"]

    # 4. the PR passes every pr.yml job; merged; release.yml releases v1.1.0 to canary
    assert lp.checkout_branch_from_origin(BRANCH) == head
    results, art = lp.act("pull_request", "pr.yml", "-e", str(lp.pr_event(BRANCH, number)))
    assert results == dict.fromkeys(["lint", "reproduce", "gate", "build", "report"], "success"), (
        lp.tail()
    )
    assert json.loads((art / "pr-report" / "gate.json").read_text())["passed"] is True
    lp.git("checkout", "-q", "main")
    lp.git("merge", "-q", "--no-ff", "-m", f"Merge pull request #{number}", BRANCH)
    lp.git("push", "-q", "origin", "main")
    merged = lp.git("rev-parse", "HEAD")
    results, _ = lp.act("push", "release.yml")
    assert results == {"release": "success"}, lp.tail()
    tags = lp.origin_tags()
    assert tags[f"{NAME}@v1.1.0"] == merged
    assert lp.stage("canary") == "v1.1.0" and lp.stage("prod") == "v1.0.0"
    lp.git("fetch", "-q", "--tags", "origin")
    run(["dvc", "pull", "-q"], lp.project)

    # 5. the real server answers with production and the canary: the configured share, sticky
    canary_model = lp.base / "canary-v1.1.0"
    shutil.copytree(lp.project / "models" / "model", canary_model)
    traffic = customers(N_IDS, seed=7, first_id=20_000, shift=1.2)
    server, log = lp.serve(
        lp.base / "prod-v1.0.0", "--canary-model", str(canary_model), "--canary-share", str(SHARE)
    )
    try:
        with server.client() as c:
            answered: dict[int, Variant] = {}
            for row in traffic.to_dict("records"):
                r = predict_one(c, row)
                assert r.status_code == 200, r.text
                out = r.json()
                assert out["variant"] == r.headers[VARIANT_HEADER]
                answered[int(row["customer_id"])] = Variant(out["variant"])
            for row in traffic.head(50).to_dict("records"):  # sticky: same id, same variant
                assert predict_one(c, row).json()["variant"] == answered[row["customer_id"]]
            scraped = c.get("/metrics").text
    finally:
        server.stop()
    observed = Counter(answered.values())[Variant.canary] / N_IDS
    assert abs(observed - SHARE) <= tolerance(SHARE, N_IDS), observed
    logged = list(read_records(log))
    assert Counter(r.answered_by for r in logged)[Variant.canary] == Counter(answered.values())[
        Variant.canary
    ] + sum(v == Variant.canary for v in list(answered.values())[:50])

    # 6. labels joined -> canary-report recommends promote -> promote moves prod (origin tags)
    labels = lp.base / "labels.csv"
    traffic[["customer_id", "churned"]].to_csv(labels, index=False)  # label column: the target
    metrics = lp.base / "metrics.txt"
    metrics.write_text(scraped)
    report = run(
        [
            PR2PROD,
            "canary-report",
            "--log",
            str(log),
            "--labels",
            str(labels),
            "--metrics",
            str(metrics),
        ],
        lp.project,
    )
    canary = json.loads((lp.project / "reports" / "canary.json").read_text())
    assert canary["recommendation"] == "promote", report.stdout
    run([PR2PROD, "promote", "--report", "reports/canary.json", "--push"], lp.project)
    tags = lp.origin_tags()
    prod_tags = sorted((int(t.rsplit("#", 1)[1]), t) for t in tags if t.startswith(f"{NAME}#prod#"))
    assert tags[prod_tags[-1][1]] == merged, tags  # the newest prod assignment: the merge
    assert f"{NAME}@v1.2.0" not in tags  # promotion registers nothing, it moves a stage
    assert lp.stage("prod") == "v1.1.0" and lp.stage("canary") is None
