"""Team storage on an S3-compatible object store: a real S3 API server on loopback (moto).

A team's project keeps its DVC remote in a bucket (``s3://<bucket>/dvc``, ``endpointurl`` for
MinIO and other S3 APIs). Credentials come from the environment or ``.dvc/config.local``,
never from git. These tests push a released project to the bucket, clone it elsewhere, pull,
let the gate fetch production from the bucket alone, and check what a missing credential says.
Nothing here mocks DVC, git or the S3 protocol: moto's server speaks S3 over HTTP on 127.0.0.1.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from _project import BIN, make_project, ran_stages, run
from pr2prod.models.identity import artifact_id
from pr2prod.release.preconditions import artifacts_on_remote

moto_server = pytest.importorskip("moto.server", reason="moto[server] is in the dev extra")

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("s3_remote")]

PR2PROD = str(BIN / "pr2prod")
BUCKET = "pr2prod-team"
REMOTE = "team"
START_TIMEOUT = 30.0  # seconds for the loopback S3 server to listen


def _start(server: moto_server.ThreadedMotoServer) -> None:
    """``server.start()`` waits without a bound; give it one."""
    starter = threading.Thread(target=server.start, daemon=True)
    starter.start()
    starter.join(START_TIMEOUT)
    if starter.is_alive():
        pytest.fail(f"moto's S3 server did not start within {START_TIMEOUT:.0f} s")


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real S3 API on 127.0.0.1 with one bucket; test credentials in the environment only."""
    import boto3

    home = tmp_path_factory.mktemp("aws_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ACCESS_KEY_ID", "team-key")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "team-secret")
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        # no host profile leaks in, and no instance-metadata lookup leaves loopback
        mp.setenv("AWS_CONFIG_FILE", str(home / "config"))
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "credentials"))
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
            mp.delenv(var, raising=False)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request
        server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        _start(server)
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        boto3.client("s3", endpoint_url=url).create_bucket(Bucket=BUCKET)
        try:
            yield url
        finally:
            server.stop()


@dataclass(frozen=True)
class Team:
    """A released project whose only DVC remote is the bucket."""

    origin: Path
    refused_before_push: str | None  # the release precondition's message before `dvc push`
    push_seconds: float


def _lock_md5(project: Path, out: str = "models/model") -> str:
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    return next(
        o["md5"] for s in lock["stages"].values() for o in s.get("outs", []) if o["path"] == out
    )


@pytest.fixture(scope="module")
def team(s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Team:
    """Train, commit, gate, push to S3 and `pr2prod release`, as the release job does."""
    origin = make_project(tmp_path_factory.mktemp("origin") / "proj", commit=False)
    run(["dvc", "remote", "remove", "local"], origin)
    run(["dvc", "remote", "add", "-d", REMOTE, f"s3://{BUCKET}/dvc"], origin)
    run(["dvc", "remote", "modify", REMOTE, "endpointurl", s3_endpoint], origin)
    run(["git", "add", "-A"], origin)
    run(["git", "commit", "-qm", "init project on the team bucket"], origin)
    run(["dvc", "repro"], origin)
    run(["git", "add", "-A"], origin)
    run(["git", "commit", "-qm", "production"], origin)
    run([PR2PROD, "gate"], origin)  # production is now main's own model: compare with itself
    refused = artifacts_on_remote(origin)
    started = time.perf_counter()
    run(["dvc", "push", "-q"], origin, timeout=300)
    push_seconds = time.perf_counter() - started
    run([PR2PROD, "release"], origin)  # its preconditions include `dvc status --cloud`
    return Team(origin, refused, push_seconds)


def _clone(team: Team, dest: Path) -> Path:
    run(["git", "clone", "-q", str(team.origin), str(dest)], dest.parent)
    return dest


def test_release_waits_for_the_push_and_git_holds_no_secret(team: Team) -> None:
    assert team.refused_before_push is not None
    assert "artifacts missing from the DVC remote (run `dvc push`)" in team.refused_before_push
    assert artifacts_on_remote(team.origin) is None  # after the push: `dvc status --cloud` clean
    tags = run(["git", "tag"], team.origin).stdout.split()
    assert "pr2prod-model@v1.0.0" in tags
    committed = run(["git", "show", "HEAD:.dvc/config"], team.origin).stdout
    assert f"url = s3://{BUCKET}/dvc" in committed
    assert "endpointurl = http://127.0.0.1:" in committed
    for secret in ("team-key", "team-secret", "access_key", "secret"):
        assert secret not in committed
    print(f"dvc push to S3: {team.push_seconds:.2f} s")


def test_fresh_clone_pulls_the_locked_model_from_s3(team: Team, tmp_path: Path) -> None:
    clone = _clone(team, tmp_path / "elsewhere")
    assert not (clone / "models/model").exists()
    started = time.perf_counter()
    run(["dvc", "pull", "-q"], clone, timeout=300)
    pull_seconds = time.perf_counter() - started
    assert artifact_id(clone / "models/model") + ".dir" == _lock_md5(clone)
    assert _lock_md5(clone) == _lock_md5(team.origin)
    status = json.loads(run(["dvc", "status", "--json", "train"], clone).stdout or "{}")
    assert status == {}, status  # the model and the split it was trained on are in place
    print(f"dvc pull from S3 into a fresh clone: {pull_seconds:.2f} s")


def test_gate_fetches_production_from_s3_not_rebuilt(team: Team, tmp_path: Path) -> None:
    clone = _clone(team, tmp_path / "pr")
    run(["dvc", "pull", "-q"], clone, timeout=300)
    run([PR2PROD, "compose", "model.C=0.5"], clone)  # a pull request's change
    shutil.rmtree(clone / ".dvc" / "cache")  # production's artifact is now only on S3
    proc = run(["dvc", "repro"], clone, timeout=900)
    assert "train" in ran_stages(proc.stdout) and "gate" in ran_stages(proc.stdout)
    assert "rebuilding production" not in proc.stdout + proc.stderr
    report = json.loads((clone / "reports/gate.json").read_text())
    assert report["passed"] is True, report["verdict"]
    assert report["baseline"]["md5"] == _lock_md5(team.origin)
    assert report["baseline"]["source"] == "registry"  # pr2prod-model@v1.0.0 in prod
    assert "rebuilt" not in report["baseline"] and "rebuilt" not in report["baseline_reason"]
    assert _lock_md5(clone) != _lock_md5(team.origin)  # the candidate really is new


def test_missing_credentials_are_named(
    team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clone = _clone(team, tmp_path / "nocreds")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    pull = run(["dvc", "pull"], clone, check=False, timeout=120)
    assert pull.returncode != 0
    assert "Unable to locate credentials" in pull.stderr

    refused = artifacts_on_remote(team.origin)  # `pr2prod release`'s remote precondition
    assert refused is not None and "`dvc status --cloud` failed" in refused
    assert "Unable to locate credentials" in refused

    run([PR2PROD, "compose", "model.C=0.5"], clone)
    run(["dvc", "repro", "train"], clone, timeout=600)
    gate = run([PR2PROD, "gate", "--on-missing", "fail"], clone, check=False, timeout=300)
    assert gate.returncode == 3, gate.stdout + gate.stderr
    message = gate.stdout + gate.stderr
    assert "the DVC remote refused access or no credentials were found" in message
    assert "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in message
    assert ".dvc/config.local" in message
    assert "push it from that revision" not in message  # pushing would not help

    # the PR path's default (`on_missing: rebuild`) still compares, and says why it rebuilt
    rebuilt = run([PR2PROD, "gate"], clone, timeout=600)
    assert "rebuilding production" in rebuilt.stdout + rebuilt.stderr
    reason = json.loads((clone / "reports/gate.json").read_text())["baseline_reason"]
    assert "the DVC remote could not be read (credentials missing or refused)" in reason


def test_credentials_from_dvc_config_local_stay_out_of_git(
    team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clone = _clone(team, tmp_path / "local-creds")
    key, secret = "team-key", "team-secret"  # pragma: allowlist secret
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    run(["dvc", "remote", "modify", "--local", REMOTE, "access_key_id", key], clone)
    run(["dvc", "remote", "modify", "--local", REMOTE, "secret_access_key", secret], clone)
    run(["dvc", "pull", "-q"], clone, timeout=300)
    assert artifact_id(clone / "models/model") + ".dir" == _lock_md5(clone)
    run(["git", "check-ignore", "-q", ".dvc/config.local"], clone)  # exit 0: ignored
    assert run(["git", "status", "--porcelain"], clone).stdout == ""
    assert secret not in (clone / ".dvc/config").read_text()


def _auth_after(endpoint: str, requests: str) -> None:
    """moto's server checks signatures against its IAM after ``requests`` more ("inf": never)."""
    import urllib.request

    req = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=requests.encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.status == 200


def test_a_refused_key_is_named_without_a_traceback(
    team: Team, s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With authentication on, a key the store does not know is refused (HTTP 403): the
    release precondition, the gate's fetch and an ``s3://`` score input say so and name the
    credentials to set; ``dvc push`` fails with DVC's one-line error. A key the store issued
    still works, so the refusal is the key's, not the server's."""
    import boto3

    from pr2prod.batch.reader import InputError, parquet_files

    iam = boto3.client("iam", endpoint_url=s3_endpoint)
    iam.create_user(UserName="release-bot")
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}
    policy["Statement"][0]["Resource"] = "*"
    iam.put_user_policy(
        UserName="release-bot", PolicyName="team-bucket", PolicyDocument=json.dumps(policy)
    )
    issued = iam.create_access_key(UserName="release-bot")["AccessKey"]
    clone = _clone(team, tmp_path / "refused")
    run([PR2PROD, "compose", "model.C=0.5"], clone)
    run(["dvc", "repro", "train"], clone, timeout=600)  # production stays on S3 only

    _auth_after(s3_endpoint, "0")
    try:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", issued["AccessKeyId"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", issued["SecretAccessKey"])
        assert artifacts_on_remote(team.origin) is None  # the issued key is accepted

        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREVOKEDTEAMKEY00")  # pragma: allowlist secret
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "revoked-secret")
        push = run(["dvc", "push"], team.origin, check=False, timeout=120)
        assert push.returncode != 0
        assert "Forbidden" in push.stderr and "Traceback" not in push.stderr, push.stderr

        refused = artifacts_on_remote(team.origin)  # `pr2prod release`'s remote precondition
        assert refused is not None
        assert "the DVC remote refused access or no credentials were found" in refused
        assert "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in refused

        gate = run([PR2PROD, "gate", "--on-missing", "fail"], clone, check=False, timeout=300)
        message = gate.stdout + gate.stderr
        assert gate.returncode == 3, message
        assert "the DVC remote refused access or no credentials were found" in message
        assert "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in message
        assert "Traceback" not in message

        monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
        with pytest.raises(InputError, match="AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"):
            parquet_files(f"s3://{BUCKET}/dvc")  # `pr2prod score --input s3://...`
    finally:
        _auth_after(s3_endpoint, "inf")
