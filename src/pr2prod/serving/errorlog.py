"""What the server logs about failed requests: never a request value.

* A client error (4xx) is one line at INFO, written by the middleware
  (:func:`client_error_line`): method, path, status, the field paths the error names, the
  error types and the request id.
* BentoML logs every exception of an endpoint at ERROR with its traceback; for a
  validation error that traceback prints the raw input values. :class:`WithholdValues`,
  installed on BentoML's logger, drops those records for client errors (the middleware
  already logged the one line) and, for server errors, keeps the traceback's frames but
  replaces every exception message (which may quote inputs) by its type.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from collections.abc import Iterable

from pr2prod.serving.bentoml_private import EXCEPTION_LOGGER

# BentoML's ``log_exception`` (every endpoint exception) logs here (a pinned internal).
BENTOML_EXCEPTION_LOGGER = EXCEPTION_LOGGER
MAX_FIELDS = 8
_SAFE_TYPE = re.compile(r"^[a-z_]{1,40}$")


def error_fields(body: bytes, known: Iterable[str]) -> list[tuple[str, str]]:
    """``(field path, error type)`` of each ``detail`` item of an error body.

    Path parts that are not known names (features, body keys) or list indices are shown
    as ``<unknown>``: a client chooses them, so they are not logged verbatim.
    """
    names = set(known)
    try:
        detail = json.loads(body).get("detail")
    except (ValueError, AttributeError):
        return []
    if not isinstance(detail, list):
        return []
    out: list[tuple[str, str]] = []
    for item in detail:
        if not isinstance(item, dict):
            continue
        loc = item.get("loc") or []
        parts = [
            str(p) if (isinstance(p, int) or p in names) else "<unknown>"
            for p in (loc if isinstance(loc, list) else [])
        ]
        kind = str(item.get("type", ""))
        out.append((".".join(parts) or "<body>", kind if _SAFE_TYPE.match(kind) else "other"))
    return out


def client_error_line(
    method: str, path: str, status: int, fields: list[tuple[str, str]], request_id: str
) -> str:
    """The one log line of a client error (no values: field paths and error types only)."""
    shown = ",".join(f"{f}({t})" for f, t in fields[:MAX_FIELDS]) or "-"
    if len(fields) > MAX_FIELDS:
        shown += f",+{len(fields) - MAX_FIELDS} more"
    return f"client error {method} {path} {status} fields={shown} request_id={request_id}"


def is_client_error(exc: BaseException | None) -> bool:
    """A request the client got wrong: a validation error or a BentoML 4xx."""
    from bentoml.exceptions import BentoMLException
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return True
    return isinstance(exc, BentoMLException) and int(exc.error_code) < 500


def traceback_without_values(exc: BaseException) -> str:
    """The traceback of ``exc`` (and its causes), each message replaced by its type."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        chain.append(cur)
        cur = cur.__cause__ or (None if cur.__suppress_context__ else cur.__context__)
    parts: list[str] = []
    for e in reversed(chain):
        if parts:
            parts.append("\nwhich led to:\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(e.__traceback__))
        name = f"{type(e).__module__}.{type(e).__qualname__}"
        parts.append(f"{name}: <message withheld: it may contain request values>\n")
    return "".join(parts).rstrip("\n")


class WithholdValues(logging.Filter):
    """Drop client-error tracebacks; strip exception messages from server errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None:
            return True
        if is_client_error(exc):
            return False
        record.exc_text = traceback_without_values(exc)
        record.exc_info = None
        return True


def install() -> None:
    """Put :class:`WithholdValues` on BentoML's endpoint-exception logger (idempotent)."""
    logger = logging.getLogger(BENTOML_EXCEPTION_LOGGER)
    if not any(isinstance(f, WithholdValues) for f in logger.filters):
        logger.addFilter(WithholdValues())
