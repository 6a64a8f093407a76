"""ASGI middleware of the prediction endpoints: the guard in front of BentoML's parsing.

For ``POST /predict`` and ``POST /predict_batch`` it

* refuses a body that is not ``application/json`` (415; a missing or empty Content-Type
  too);
* counts the body's bytes while it streams in and answers 413 as soon as they pass
  ``limits.max_body_bytes`` (at once when a declared Content-Length already does), so a
  chunked body or a lying Content-Length is never buffered past the limit nor parsed;
* gives every request an id (the ``x-request-id`` header, cut to 64 characters, if it is
  visible ASCII; else a new one), passed on to the service and echoed in the
  ``x-request-id`` response header;
* logs each client error (4xx) as one line without values (:mod:`.errorlog`) and closes
  its connection (``Connection: close``): after a malformed framing, such as a
  ``Content-Length`` shorter than the body, the rest of the bytes are not parsed as another
  request (which would log "Invalid HTTP request received." lines besides the one line);
* nothing else: requests by endpoint and status, and their latency, are BentoML's own
  metrics (its middleware wraps this one, so a refused request is counted too).

It also serves pr2prod's OpenAPI document at ``GET /docs.json`` (:mod:`.openapi`).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from pr2prod.errors import DataError
from pr2prod.serving.errorlog import client_error_line, error_fields

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ENDPOINTS = frozenset({"/predict", "/predict_batch"})
JSON_TYPES = (b"application/json", b"text/json")
REQUEST_ID = b"x-request-id"
_GOOD_ID = re.compile(rb"^[!-~]+$")  # visible ASCII: no spaces, no control characters
_ERROR_BODY_CAP = 65_536

logger = logging.getLogger("pr2prod.serving.requests")


class BodyTooLargeError(DataError):
    """The request body grew past the limit while it was being read."""


class GuardMiddleware:
    """Content type, body size, request id and client-error log of the prediction endpoints."""

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        field_names: Iterable[str] = (),
        openapi: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.field_names = frozenset(field_names) | {"record", "records", "body", "content-type"}
        self.openapi = openapi
        self._openapi_body: bytes | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope.get("path", ""), scope.get("method", "")
        if path == "/docs.json" and method == "GET" and self.openapi is not None:
            await self._send_openapi(send)
            return
        if path not in ENDPOINTS or method != "POST":
            await self.app(scope, receive, send)
            return
        await self._guarded(scope, receive, send)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        rid = _request_id(scope)
        state: dict[str, Any] = {"status": 500, "error_body": []}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                headers = [*message.get("headers", []), (REQUEST_ID, rid.encode())]
                if 400 <= message["status"] < 500:  # the framing may be off: do not read on
                    headers = [(k, v) for k, v in headers if k.lower() != b"connection"]
                    headers.append((b"connection", b"close"))
                message["headers"] = headers
            elif (
                400 <= state["status"] < 500
                and message["type"] == "http.response.body"
                and sum(map(len, state["error_body"])) < _ERROR_BODY_CAP
            ):
                state["error_body"].append(message.get("body", b""))
            await send(message)

        try:
            media = _header(scope, b"content-type")
            if not media or media.split(b";")[0].strip().lower() not in JSON_TYPES:
                shown = repr(media.decode("latin-1")[:80]) if media else "none"
                await _error(
                    send_wrapper,
                    415,
                    "content-type",
                    f"content-type must be application/json, got {shown}",
                )
                return
            declared = _declared_length(scope)
            if declared is not None and declared > self.max_body_bytes:
                raise BodyTooLargeError
            body = await self._read_body(receive)
            await self.app(scope, _replay(body, receive), send_wrapper)
        except BodyTooLargeError:
            await _error(
                send_wrapper,
                413,
                "body",
                f"request body is larger than limits.max_body_bytes ({self.max_body_bytes} bytes)",
            )
        finally:
            status = int(state["status"])
            if 400 <= status < 500:
                fields = error_fields(b"".join(state["error_body"]), self.field_names)
                logger.info(client_error_line("POST", scope["path"], status, fields, rid))

    async def _read_body(self, receive: Receive) -> bytes:
        """The whole body, or :class:`BodyTooLargeError` as soon as it passes the limit."""
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise BodyTooLargeError
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    async def _send_openapi(self, send: Send) -> None:
        if self._openapi_body is None:
            assert self.openapi is not None
            self._openapi_body = json.dumps(self.openapi()).encode()
        await _respond(send, 200, self._openapi_body)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value)
    return None


def _declared_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    try:
        return None if value is None else int(value)
    except ValueError:
        return None


def _request_id(scope: Scope) -> str:
    """The client's ``x-request-id`` (first 64 characters) if it is visible ASCII, else a
    new id; set on the scope."""
    given = _header(scope, REQUEST_ID)
    rid = given[:64].decode() if given and _GOOD_ID.match(given) else uuid.uuid4().hex
    headers = [(k, v) for k, v in scope.get("headers", []) if k != REQUEST_ID]
    scope["headers"] = [*headers, (REQUEST_ID, rid.encode())]
    return rid


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands over the already-read body, then defers to the server."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


async def _error(send: Send, status: int, loc: str, message: str) -> None:
    body = json.dumps(
        {"error": message, "detail": [{"loc": [loc], "msg": message, "type": "request_error"}]}
    ).encode()
    await _respond(send, status, body)


async def _respond(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
