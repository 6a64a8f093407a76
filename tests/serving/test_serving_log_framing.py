"""Client errors in the server log (issue 18 §5): a malformed framing is one 4xx and one log
line without a traceback, and a bad id names the id field."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
import yaml

from _serving import HOST, Server, start_serve
from pr2prod.models.persist import load_artifact

pytestmark = [pytest.mark.integration]


@pytest.fixture(scope="module")
def server(trained_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("framing")
    params = yaml.safe_load((trained_project / "params.yaml").read_text())
    params["serve"]["prediction_log"]["path"] = "predictions.jsonl"  # in the server's directory
    (tmp / "params.yaml").write_text(yaml.safe_dump(params))
    srv = start_serve(trained_project / "models" / "model", tmp / "params.yaml", tmp)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def record(trained_project: Path) -> dict:
    names = load_artifact(trained_project / "models" / "model").schema.feature_names
    test = pd.read_parquet(trained_project / "data" / "prepared" / "test.parquet")
    return dict(test[names].iloc[0].to_dict())


@pytest.fixture(scope="module")
def id_field(trained_project: Path) -> str:
    ident = load_artifact(trained_project / "models" / "model").schema.id_column
    assert ident is not None
    return ident


def _new_lines(server: Server, offset: int, expect: int) -> list[str]:
    """The server log's lines past ``offset`` once there are ``expect`` (or after 5 s)."""
    deadline = time.monotonic() + 5
    while True:
        lines = server.log.read_bytes()[offset:].decode().splitlines()
        if len(lines) >= expect or time.monotonic() > deadline:
            time.sleep(0.5)  # and nothing more follows
            return server.log.read_bytes()[offset:].decode().splitlines()
        time.sleep(0.1)


def test_a_short_content_length_is_one_4xx_and_one_log_line(server: Server, record: dict) -> None:
    body = json.dumps({"record": record}).encode() + b" " * 100_000
    offset = server.log.stat().st_size
    with socket.create_connection((HOST, server.port), timeout=10) as s:
        s.sendall(
            b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 10\r\n\r\n"
        )
        with contextlib.suppress(OSError):
            s.sendall(body)
        head = s.recv(65_536)
        with contextlib.suppress(OSError):  # the server closes: nothing else is answered
            while s.recv(65_536):
                pass
    assert head.startswith(b"HTTP/1.1 400"), head[:100]
    assert b"connection: close" in head.lower()
    lines = _new_lines(server, offset, 1)
    assert len(lines) == 1, lines
    assert "client error POST /predict 400" in lines[0]
    assert "Traceback" not in lines[0] and "Invalid HTTP request" not in lines[0]


def test_a_bad_id_is_logged_under_the_id_field_name(
    server: Server, record: dict, id_field: str
) -> None:
    offset = server.log.stat().st_size
    r = httpx.post(f"{server.base_url}/predict", json={"record": {**record, id_field: 1.5}})
    assert r.status_code == 400
    (line,) = _new_lines(server, offset, 1)
    assert f"fields=record.{id_field}(id_type)" in line
    assert "<unknown>" not in line and "1.5" not in line
