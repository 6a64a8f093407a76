"""The guard middleware in-process, the value-free error log and the OpenAPI document."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from pr2prod.serving.errorlog import (
    WithholdValues,
    client_error_line,
    error_fields,
    traceback_without_values,
)
from pr2prod.serving.middleware import GuardMiddleware
from pr2prod.serving.openapi import openapi_document

PII = "PII-jane.doe@example.com"
LIMIT = 1_048_576


class _App:
    """A downstream ASGI app that reads the whole body and answers 200."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.headers: list[tuple[bytes, bytes]] = []

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self.bodies.append(body)
        self.headers = list(scope["headers"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


def _call(
    headers: dict[str, str], chunks: list[bytes], app: _App | None = None
) -> tuple[int, dict[bytes, bytes], bytes, int, _App]:
    """Run one POST /predict through the guard; returns status, headers, body, reads, app."""
    app = app or _App()
    guard = GuardMiddleware(app, max_body_bytes=LIMIT, field_names=["age"])
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/predict",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    pending = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    reads = 0
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal reads
        reads += 1
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(guard(scope, receive, send))
    start, body = sent[0], b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], dict(start["headers"]), body, reads, app


def test_chunked_body_over_the_limit_stops_reading_at_the_limit() -> None:
    chunks = [b"x" * 65_536] * 64  # 4 MiB, no Content-Length
    status, _, body, reads, app = _call({"content-type": "application/json"}, chunks)
    assert status == 413 and not app.bodies
    assert reads == LIMIT // 65_536 + 1  # one chunk past the limit, never the rest
    assert "max_body_bytes" in json.loads(body)["error"]


def test_lying_content_length_does_not_let_a_large_body_through() -> None:
    chunks = [b"x" * 65_536] * 32
    headers = {"content-type": "application/json", "content-length": "10"}
    status, _, _, reads, app = _call(headers, chunks)
    assert status == 413 and not app.bodies and reads <= 17


def test_declared_length_over_the_limit_is_refused_before_reading() -> None:
    headers = {"content-type": "application/json", "content-length": str(LIMIT + 1)}
    status, _, _, reads, _ = _call(headers, [b"{}"])
    assert (status, reads) == (413, 0)


@pytest.mark.parametrize("ctype", [None, "", "text/plain", "multipart/form-data"])
def test_missing_empty_or_other_content_type_is_415_without_a_bytes_repr(
    ctype: str | None,
) -> None:
    headers = {} if ctype is None else {"content-type": ctype}
    status, _, body, _, app = _call(headers, [b"{}"])
    assert status == 415 and not app.bodies
    assert "b'" not in body.decode() and "content-type" in json.loads(body)["detail"][0]["loc"]


def test_body_within_the_limit_reaches_the_app_whole_with_a_request_id() -> None:
    chunks = [b'{"record": ', b'{"age": 1}}']
    status, headers, _, _, app = _call(
        {"content-type": "application/json; charset=utf-8", "x-request-id": "abc-1"}, chunks
    )
    assert status == 200 and app.bodies == [b"".join(chunks)]
    assert headers[b"x-request-id"] == b"abc-1"
    assert (b"x-request-id", b"abc-1") in app.headers


def test_malformed_request_id_is_replaced() -> None:
    _, headers, _, _, app = _call(
        {"content-type": "application/json", "x-request-id": f"{PII} <script>"}, [b"{}"]
    )
    rid = headers[b"x-request-id"]
    assert PII.encode() not in rid and len(rid) == 32
    assert (b"x-request-id", rid) in app.headers


def test_client_error_line_names_fields_not_values() -> None:
    body = json.dumps(
        {
            "error": "2 validation errors",
            "detail": [
                {"loc": ["record", "age"], "msg": f"bad {PII}", "type": "float_type"},
                {"loc": ["record", PII], "msg": "Extra inputs", "type": "extra_forbidden"},
                {"loc": [], "msg": PII, "type": PII},
            ],
        }
    ).encode()
    fields = error_fields(body, ["record", "age"])
    line = client_error_line("POST", "/predict", 400, fields, "rid-1")
    assert PII not in line and "\n" not in line
    assert "record.age(float_type)" in line and "record.<unknown>(extra_forbidden)" in line
    assert "<body>(other)" in line and line.endswith("request_id=rid-1")


def _record(exc: BaseException) -> logging.LogRecord:
    try:
        raise exc
    except BaseException:
        return logging.LogRecord(
            "bentoml", logging.ERROR, __file__, 1, "Exception on /predict", (), sys.exc_info()
        )


def test_server_error_keeps_its_traceback_without_messages() -> None:
    def score(row: str) -> None:
        raise ValueError(f"could not convert {row!r}")

    try:
        try:
            score(PII)
        except ValueError as inner:
            raise RuntimeError(f"scoring failed on {PII}") from inner
    except RuntimeError as exc:
        record = _record(exc)
    assert WithholdValues().filter(record) is True
    text = logging.Formatter().format(record)
    assert PII not in text
    assert "in score" in text and "builtins.ValueError" in text and "builtins.RuntimeError" in text


def test_client_error_tracebacks_are_dropped() -> None:
    class M(BaseModel):
        model_config = ConfigDict(extra="forbid")
        age: float

    with pytest.raises(ValidationError) as info:
        M.model_validate({"age": PII})
    assert WithholdValues().filter(_record(info.value)) is False
    assert PII not in traceback_without_values(info.value)


def test_openapi_document_requires_the_body_and_lists_every_status() -> None:
    class Req(BaseModel):
        model_config = ConfigDict(extra="forbid")
        record: dict[str, float]

    class Resp(BaseModel):
        label: int

    base = {
        "openapi": "3.0.2",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/predict": {"post": {"responses": {"404": {}}, "requestBody": {}}},
            "/healthz": {"get": {"responses": {"200": {"description": "ok"}}}},
        },
        "components": {"schemas": {"predict__Input": {"type": "object"}}},
    }
    doc = openapi_document(base, {"/predict": (Req, Resp)}, LIMIT)
    op = doc["paths"]["/predict"]["post"]
    assert op["requestBody"]["required"] is True
    assert set(op["responses"]) == {"200", "400", "413", "415", "500", "503", "504"}
    schemas = doc["components"]["schemas"]
    assert "predict__Input" not in schemas  # unreferenced BentoML model pruned
    assert schemas["Req"]["additionalProperties"] is False
    assert schemas["ClientError"]["properties"]["detail"]["type"] == "array"
    assert doc["paths"]["/healthz"] == base["paths"]["/healthz"]


def test_long_request_id_is_cut_to_64_characters() -> None:
    _, headers, _, _, _ = _call(
        {"content-type": "application/json", "x-request-id": "a" * 80}, [b"{}"]
    )
    assert headers[b"x-request-id"] == b"a" * 64
