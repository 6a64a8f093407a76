"""PR CI's trust check: widening pyproject.toml's [tool.pr2prod] fails until a maintainer
approves; narrowing it passes. Run as CI runs it: `pr2prod trust-diff --base <ref>` in a real
git repository, plus the same compose refusal through the console script."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from _project import BIN, ROOT, git, run

pytestmark = [pytest.mark.integration]
PR2PROD = str(BIN / "pr2prod")
POLICY = 'allowed_targets = ["sklearn.", "skorch.", "torch.", "pr2prod."]'


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copytree(ROOT / "conf", repo / "conf")
    shutil.copy2(ROOT / "pyproject.toml", repo / "pyproject.toml")
    run(["git", "init", "-q", "-b", "main"], repo)
    run([PR2PROD, "compose"], repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    return repo


def _edit_policy(repo: Path, targets: str, callables: str) -> None:
    text = (repo / "pyproject.toml").read_text()
    assert POLICY in text
    text = text.replace(POLICY, f"allowed_targets = {targets}")
    text = text.replace("allowed_callables = []", f"allowed_callables = {callables}")
    (repo / "pyproject.toml").write_text(text)


def test_a_widened_trust_policy_fails_with_one_message(repo: Path) -> None:
    _edit_policy(
        repo, '["sklearn.", "skorch.", "torch.", "pr2prod.", "pandas."]', '["pandas.read_pickle"]'
    )
    git(repo, "commit", "-qam", "widen")
    proc = run([PR2PROD, "trust-diff", "--base", "HEAD~1"], repo, check=False)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip() == (
        "error: this pull request widens the trust policy: allowed_targets +'pandas.', "
        "allowed_callables +'pandas.read_pickle'; a maintainer must approve it"
    )
    assert run([PR2PROD, "trust-diff", "--base", "HEAD"], repo).returncode == 0


def test_a_narrowed_policy_passes_and_a_config_cannot_widen_it(repo: Path) -> None:
    _edit_policy(repo, '["sklearn."]', "[]")
    assert run([PR2PROD, "trust-diff", "--base", "main"], repo).returncode == 0
    before = (repo / "params.yaml").read_bytes()
    proc = run([PR2PROD, "compose", "+allowed_targets=[pandas.]"], repo, check=False)
    assert proc.returncode == 2
    assert "allowed_targets: the trust policy is not config" in proc.stderr
    assert (repo / "params.yaml").read_bytes() == before
    proc = run([PR2PROD, "trust-diff", "--base", "no-such-ref"], repo, check=False)
    assert proc.returncode == 2 and "--base: 'no-such-ref' is not a commit" in proc.stderr
