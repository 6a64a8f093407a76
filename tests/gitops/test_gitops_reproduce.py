"""verify-repro on a real project: passes when dvc.lock reproduces, names the output otherwise.

Also the PR report against the base branch, on the same committed project.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from _project import BIN, copy_project, published_images, repro, run
from pr2prod.release.reproduce import compare_locks, stale_stages


@pytest.fixture(scope="module")
def pushed_project(tmp_path_factory: pytest.TempPathFactory, trained_project: Path) -> Path:
    """A trained project whose outputs are committed (dvc.lock, metrics) and pushed."""
    project = copy_project(trained_project, tmp_path_factory.mktemp("repro") / "proj")
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "trained"], project)
    run(["dvc", "push", "-q"], project)
    return project


def test_compare_locks_names_changed_outputs():
    lock = {
        "schema": "2.0",
        "stages": {"train": {"outs": [{"path": "models/model", "md5": "a.dir"}]}},
    }
    same = yaml.safe_dump(lock)
    lock["stages"]["train"]["outs"][0]["md5"] = "b.dir"
    diffs = compare_locks(same, yaml.safe_dump(lock))
    assert [(d.stage, d.path, d.committed, d.reproduced) for d in diffs] == [
        ("train", "models/model", "a.dir", "b.dir")
    ]
    assert compare_locks(same, same) == []
    assert stale_stages(same, yaml.safe_dump(lock)) == ["train"]
    assert stale_stages(same, same) == []


@pytest.mark.slow
def test_verify_repro_refuses_a_stale_lock(pushed_project: Path):
    project = pushed_project
    conf = project / "conf" / "model" / "logistic_regression.yaml"
    conf.write_text(conf.read_text() + "# a comment only: outputs stay, the conf/ hash moves\n")
    run(["git", "commit", "-qam", "comment in conf"], project)
    try:
        bad = run([str(BIN / "pr2prod"), "verify-repro"], project, check=False)
        assert bad.returncode == 1
        assert "dvc.lock is stale for: compose" in bad.stderr
    finally:
        run(["git", "reset", "-q", "--hard", "HEAD~1"], project)


@pytest.mark.slow
def test_verify_repro_passes_then_names_a_tampered_output(pushed_project: Path):
    project = pushed_project
    ok = run([str(BIN / "pr2prod"), "verify-repro"], project)
    assert "every output reproduces" in ok.stdout
    assert run(["git", "status", "--porcelain"], project).stdout.strip() == ""

    # Tamper: the committed lock claims a model hash the pipeline does not produce.
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    model_out = lock["stages"]["train"]["outs"][0]
    assert model_out["path"] == "models/model"
    model_out["md5"] = "0" * 32 + ".dir"
    (project / "dvc.lock").write_text(yaml.safe_dump(lock, sort_keys=False))
    run(["git", "commit", "-qam", "tampered lock"], project)
    try:
        bad = run([str(BIN / "pr2prod"), "verify-repro"], project, check=False)
        assert bad.returncode == 1
        assert "reproduction: different" in bad.stdout
        assert "outputs differ from dvc.lock (models/model)" in bad.stderr
        assert "data/prepared" not in bad.stderr.split("dvc.lock (")[-1]
    finally:
        run(["git", "reset", "-q", "--hard", "HEAD~1"], project)


@pytest.mark.slow
def test_report_shows_params_and_metrics_deltas_and_publishes_its_images(
    pushed_project: Path, tmp_path: Path
):
    project = pushed_project
    run(["git", "checkout", "-qb", "smaller-c"], project)
    try:
        run([str(BIN / "pr2prod"), "compose", "model.C=0.5"], project)  # passes the gate
        repro(project)
        out = run([str(BIN / "pr2prod"), "report", "--base", "main"], project)
        assert "reports/pr_report.md" in out.stdout
        text = (project / "reports" / "pr_report.md").read_text()
        assert text.startswith("<!-- pr2prod-report -->")
        assert "| params.yaml | model.C" in text and "0.5" in text
        metrics = text.split("### Metrics diff")[1].split("### Gate")[0]
        assert "metrics/metrics.json" in metrics and "roc_auc" in metrics
        assert "| metric:roc_auc ↑ |" in text  # the real gate table, embedded
        assert "**Verdict: PASS" in text
        assert "- `plots/roc.json`" in text
        bad = run([str(BIN / "pr2prod"), "report", "--base", "nope"], project, check=False)
        assert bad.returncode == 2 and "base ref 'nope' not found" in bad.stderr

        # the images, as the PR comment embeds them: pushed to origin's assets branch, each
        # URL absolute and pinned to a commit, each file named by its content hash
        origin = tmp_path / "origin.git"
        run(["git", "init", "-q", "--bare", str(origin)], tmp_path)
        run(["git", "remote", "add", "origin", str(origin)], project)
        url_base = "https://github.com/acme/proj/raw"
        publish = [str(BIN / "pr2prod"), "report", "--base", "main", "--images-url", url_base]
        first = run(publish, project)
        text = (project / "reports" / "pr_report.md").read_text()
        images = published_images(text, origin)
        assert all(url.startswith(url_base + "/") for url in images)
        gate = text.split("### Gate")[1].split("### Plots")[0]
        curves = [blob for url, blob in images.items() if url in gate]
        assert len(curves) == 2 and "gate_plots/" not in gate  # ROC and PR, both published
        for svg in curves:  # both models drawn, as the gate tagged them
            assert b"production" in svg and b"candidate" in svg
        plots = text.split("### Plots")[1]
        assert {"![roc](", "![pr](", "![confusion](", "![calibration]("} <= {
            line[: line.index("(") + 1] for line in plots.splitlines() if line.startswith("![")
        }
        assert "plots/roc.json" not in plots
        # publishing the same images again adds no commit; a bad URL is refused, nothing pushed
        again = run(publish, project)
        assert again.stderr.splitlines()[-1] == first.stderr.splitlines()[-1]
        heads = run(["git", "for-each-ref"], origin).stdout
        refused = run([*publish[:-1], "https://x/raw;rm -rf ~"], project, check=False)
        assert refused.returncode == 2 and "--images-url" in refused.stderr
        assert run(["git", "for-each-ref"], origin).stdout == heads
        assert "refs/heads/pr2prod-assets" in heads
    finally:
        run(["git", "checkout", "-qf", "main"], project)
        run(["dvc", "checkout", "-q"], project, check=False)
