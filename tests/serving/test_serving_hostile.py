"""Hostile traffic against a real `pr2prod serve`: oversized and lying bodies, bad requests
carrying PII, unloadable artifacts, and an OpenAPI document that says what the server does."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
import yaml

from _project import env, run
from _serving import HOST, Server, free_port, serve_cmd

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("serving_hostile")]

PII = "PII-4111-1111-1111-1111-jane.doe@example.com"
MIB = 1_048_576


def _params(project: Path, dest: Path, **serve: object) -> Path:
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["serve"].update(serve)
    dest.write_text(yaml.safe_dump(params))
    return dest


@pytest.fixture(scope="module")
def server(trained_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("hostile")
    params = _params(trained_project, tmp / "params.yaml", prediction_log={"enabled": False})
    port = free_port()
    srv = Server(
        serve_cmd(trained_project / "models" / "model", params, port),
        cwd=tmp,
        log=tmp / "server.log",
        extra_env={},
        port=port,
    )
    srv.wait_ready()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def record(trained_project: Path) -> dict:
    schema = json.loads((trained_project / "models" / "model" / "schema.json").read_text())
    names = [f["name"] for f in schema["features"]]
    test = pd.read_parquet(trained_project / "data" / "prepared" / "test.parquet")
    return test[names].iloc[0].to_dict()


# --- oversized bodies -------------------------------------------------------------------


def _worker_pid(server: Server) -> int:
    """The BentoML worker process of ``server`` (a descendant running the service)."""
    parent: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    for pid in parent:
        up = pid
        while up in parent and up != server.proc.pid:
            up = parent[up]
        if up == server.proc.pid and pid != up:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"_bentoml_impl.worker.service" in cmd:
                return pid
    raise AssertionError("no BentoML worker process found")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def _hostile(port: int, headers: str, total_bytes: int) -> bytes:
    """Send a chunked JSON-looking body of up to ``total_bytes``; stop when answered.

    Returns the response head (status line + headers).
    """
    chunk = b"[" + b"1," * 32_767
    frame = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    head = (
        f"POST /predict HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n{headers}\r\n"
    ).encode()
    resp = b""
    with socket.create_connection((HOST, port), timeout=10) as s:
        s.sendall(head)
        sent = 0
        while sent < total_bytes and b"\r\n\r\n" not in resp:
            try:
                s.sendall(frame)
            except OSError:  # the server may stop reading once it has answered
                break
            sent += len(chunk)
            s.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                resp += s.recv(65_536)
            s.setblocking(True)
            s.settimeout(10)
        while b"\r\n\r\n" not in resp:
            got = s.recv(65_536)
            if not got:
                break
            resp += got
    return resp.split(b"\r\n\r\n")[0]


@pytest.mark.parametrize(
    "headers",
    ["Transfer-Encoding: chunked\r\n", "Content-Length: 20\r\nTransfer-Encoding: chunked\r\n"],
    ids=["chunked", "chunked-with-small-content-length"],
)
def test_oversized_chunked_bodies_get_413_and_memory_stays_flat(
    server: Server, record: dict, headers: str
) -> None:
    pid = _worker_pid(server)
    for _ in range(3):  # warm up the allocator and the code path
        assert b" 413 " in _hostile(server.port, headers, 8 * MIB)
    before = _rss_mb(pid)
    statuses = [_hostile(server.port, headers, 8 * MIB).split(b"\r\n")[0] for _ in range(100)]
    after = _rss_mb(pid)
    assert all(b" 413 " in s for s in statuses), set(statuses)
    print(f"worker RSS {before:.1f} MB -> {after:.1f} MB after 100 oversized requests")
    assert after - before < 30, (before, after)
    with server.client() as c:  # and the server still answers
        assert c.post("/predict", json={"record": record}).status_code == 200


def test_declared_length_over_the_limit_is_refused_unread(server: Server) -> None:
    with socket.create_connection((HOST, server.port), timeout=10) as s:
        s.sendall(
            f"POST /predict_batch HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json"
            f"\r\nContent-Length: {50 * MIB}\r\n\r\n{{".encode()
        )
        head = s.recv(65_536)  # answered while 50 MiB are still unsent
    assert head.startswith(b"HTTP/1.1 413"), head[:100]


def test_content_length_smaller_than_the_body_is_not_parsed_as_json(
    server: Server, record: dict
) -> None:
    """A lying Content-Length: the server reads the declared bytes, never the rest."""
    body = json.dumps({"record": record}).encode() + b" " * (5 * MIB)
    with socket.create_connection((HOST, server.port), timeout=10) as s:
        s.sendall(
            f"POST /predict HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
            f"Content-Length: 10\r\n\r\n".encode()
        )
        with contextlib.suppress(OSError):
            s.sendall(body)
        head = s.recv(65_536)
    assert head.startswith(b"HTTP/1.1 4"), head[:100]


# --- client errors in the log -----------------------------------------------------------


def _bad_bodies(record: dict) -> list[tuple[str, bytes]]:
    first, second = list(record)[:2]
    return [
        ("/predict", json.dumps({"record": {**record, first: PII}}).encode()),
        ("/predict", json.dumps({"record": {**record, "ssn": PII}}).encode()),
        ("/predict", json.dumps({"record": record, "note": PII}).encode()),
        ("/predict", json.dumps({"record": {second: PII}}).encode()),
        ("/predict", b'{"record": {"' + PII.encode() + b'": '),
        ("/predict_batch", json.dumps({"records": [{**record, first: [PII]}]}).encode()),
        ("/predict_batch", json.dumps({"records": PII}).encode()),
    ]


def test_client_errors_are_one_line_each_and_never_show_values(
    server: Server, record: dict
) -> None:
    bodies = _bad_bodies(record)
    offset = server.log.stat().st_size
    statuses = []
    with server.client() as c:
        for i in range(100):
            path, body = bodies[i % len(bodies)]
            r = c.post(
                path,
                content=body,
                headers={"content-type": "application/json", "x-request-id": f"bad-{i:03d}"},
            )
            statuses.append(r.status_code)
            assert r.headers["x-request-id"] == f"bad-{i:03d}"
    assert all(400 <= s < 500 for s in statuses), statuses

    def logged() -> list[str]:
        with open(server.log, "rb") as fh:
            fh.seek(offset)
            return fh.read().decode().splitlines()

    lines = logged()
    for _ in range(50):  # bounded wait for the server's log to hold the last request
        if any("bad-099" in line for line in lines):
            break
        time.sleep(0.1)
        lines = logged()
    assert PII not in "\n".join(lines)
    assert "Traceback" not in "\n".join(lines)
    assert len(lines) <= 100, lines[:30]
    for i in range(100):
        mine = [x for x in lines if f"request_id=bad-{i:03d} " in x or x.endswith(f"bad-{i:03d}")]
        assert len(mine) == 1, (i, mine)
        assert "[INFO]" in mine[0] and "client error POST" in mine[0]
    first = next(iter(record))
    assert any(f"fields=record.{first}(not_a_number)" in x for x in lines), lines[:3]


# --- unloadable artifacts ---------------------------------------------------------------


def _untrusted_skops() -> bytes:
    from sklearn.preprocessing import FunctionTransformer

    from pr2prod.models.persist import dumps_model

    return dumps_model(FunctionTransformer(func=eval))


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("corrupt", "BadZipFile"), ("empty", "empty (0 bytes)"), ("untrusted", "builtins.eval")],
)
def test_unloadable_artifact_exits_at_once_with_one_message(
    trained_project: Path, tmp_path: Path, kind: str, reason: str
) -> None:
    import shutil

    model = tmp_path / "model"
    shutil.copytree(trained_project / "models" / "model", model)
    skops = model / "model.skops"
    data = {
        "corrupt": skops.read_bytes()[: skops.stat().st_size // 2][::-1],
        "empty": b"",
        "untrusted": _untrusted_skops(),
    }[kind]
    skops.write_bytes(data)
    params = _params(trained_project, tmp_path / "params.yaml")
    port = free_port()
    started = time.monotonic()
    proc = subprocess.Popen(
        serve_cmd(model, params, port),
        cwd=tmp_path,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        while proc.poll() is None and time.monotonic() - started < 90:
            # /readyz never hangs: it refuses the connection or answers at once
            with contextlib.suppress(httpx.ConnectError):
                httpx.get(f"http://{HOST}:{port}/readyz", timeout=3)
            time.sleep(0.3)
        # the wait is bounded; how fast serve exits is measured, not asserted, here
        assert proc.poll() is not None, "serve did not exit"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
        out = proc.communicate(timeout=10)[0]
    assert proc.returncode == 3  # a data error (pr2prod.errors)
    assert "Traceback" not in out, out[-3000:]
    problem = [x for x in out.splitlines() if "cannot load the model artifact" in x]
    assert len(problem) == 1, out[-3000:]
    assert str(skops) in problem[0] and reason in problem[0], problem


# --- the OpenAPI document ---------------------------------------------------------------


def test_openapi_document_describes_the_endpoints(server: Server, record: dict) -> None:
    with server.client() as c:
        doc = c.get("/docs.json").json()
        one = c.post("/predict", json={"record": record}).json()
        empty = c.post("/predict", content=b"{}", headers={"content-type": ""})
        extra = c.post("/predict", json={"record": record, "zzz": 1})
    schemas = doc["components"]["schemas"]
    for route in ("/predict", "/predict_batch"):
        op = doc["paths"][route]["post"]
        assert op["requestBody"]["required"] is True
        assert {"200", "400", "413", "415", "500", "503", "504"} <= set(op["responses"])
    ok = schemas["PredictResponse"]
    assert "value" not in ok["properties"] and "value" not in one
    assert None not in one.values()
    assert set(one) <= set(ok["properties"]) and set(ok["required"]) <= set(one)
    assert "null" not in json.dumps(schemas["Prediction"])
    assert schemas["ClientError"]["properties"]["detail"]["type"] == "array"
    assert empty.status_code == 415 and "b'" not in empty.text
    assert extra.status_code == 400 and "zzz" in extra.text


def test_schemathesis_all_checks_pass(server: Server) -> None:
    proc = run(
        [
            str(Path(sys.executable).parent / "st"),
            "run",
            f"{server.base_url}/docs.json",
            "--checks",
            "all",
            "--max-examples",
            "500",
            "--seed",
            "20261124",
            "--request-timeout",
            "10",
        ],
        server.log.parent,
        check=False,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
