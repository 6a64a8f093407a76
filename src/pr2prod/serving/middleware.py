"""ASGI middleware of the prediction endpoints: body-size limit, request count and latency.

It sits in front of BentoML's request parsing, so it sees every answer (including the 400s
of validation and its own 413s) and refuses an oversized body before it is read.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from pr2prod.errors import DataError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ENDPOINTS = {"/predict": "predict", "/predict_batch": "predict_batch"}
JSON_TYPES = (b"application/json", b"text/json")


class BodyTooLargeError(DataError):
    """The request body grew past the limit while it was being read."""


class GuardMiddleware:
    """Refuse non-JSON bodies (415) and bodies over ``max_body_bytes`` (413); record status
    and latency per endpoint."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = ENDPOINTS.get(scope.get("path", "")) if scope["type"] == "http" else None
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        from pr2prod.serving import metrics

        started = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            media = self._header(scope, b"content-type")
            if media is not None and media.split(b";")[0].strip().lower() not in JSON_TYPES:
                await _error(
                    send_wrapper,
                    415,
                    "content-type",
                    f"content-type must be application/json, got {media[:80]!r}",
                )
                return
            length = self._declared_length(scope)
            if length is None:  # chunked: read up to the limit, then replay the body
                receive = await self._buffered(receive)
            if length is not None and length > self.max_body_bytes:
                await self._too_large(send_wrapper)
            else:
                await self.app(scope, receive, send_wrapper)
        except BodyTooLargeError:
            await self._too_large(send_wrapper)
        finally:
            metrics.REQUESTS.labels(endpoint=endpoint, status=str(status["code"])).inc()
            metrics.LATENCY.labels(endpoint=endpoint).observe(time.perf_counter() - started)

    @staticmethod
    def _header(scope: Scope, name: bytes) -> bytes | None:
        for key, value in scope.get("headers", []):
            if key == name:
                return bytes(value)
        return None

    def _declared_length(self, scope: Scope) -> int | None:
        value = self._header(scope, b"content-length")
        try:
            return None if value is None else int(value)
        except ValueError:
            return None

    async def _buffered(self, receive: Receive) -> Receive:
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_body_bytes:
                raise BodyTooLargeError
            more = message.get("more_body", False)
        replay: list[Message] = [
            {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        ]

        async def replayed() -> Message:
            return replay.pop() if replay else await receive()

        return replayed

    async def _too_large(self, send: Send) -> None:
        await _error(
            send,
            413,
            "body",
            f"request body is larger than limits.max_body_bytes ({self.max_body_bytes} bytes)",
        )


async def _error(send: Send, status: int, loc: str, message: str) -> None:
    body = json.dumps(
        {"error": message, "detail": [{"loc": [loc], "msg": message, "type": "request_error"}]}
    ).encode()
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
