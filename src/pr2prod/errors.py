"""The one error type of pr2prod, and what each kind of failure exits with.

Every domain error derives from :class:`Pr2prodError` through one of its categories; the
category fixes the process exit code, so a CI step or a script can tell a worse model
from a broken config, a missing file, an unsupported machine or a bug:

* 0: success.
* 1, :class:`CheckFailedError`: a check ran and said no (a gate FAIL refused by ``pr2prod
  gate``/``build``/``release``, a refused release, outputs that do not reproduce,
  ``params.yaml`` out of sync).
* 2, :class:`UsageError`: the config or the command line is invalid (click's own usage
  errors, such as an unknown option or a bad choice, exit 2 as well).
* 3, :class:`DataError`: an input is missing, unreadable or unfit (data file, model
  artifact, prediction log, database table, a baseline the gate cannot compare with). A
  ``FileNotFoundError`` that reaches the command line maps here too.
* 4, :class:`PlatformError`: this machine cannot run the command (a CPU without the pinned
  kernels, a required tool not installed).
* 70, :class:`InternalError`: a bug in pr2prod (sysexits ``EX_SOFTWARE``); any other
  exception maps here. Rerun with ``PR2PROD_DEBUG=1`` for the traceback.

``pr2prod monitor`` also exits with ``monitor.alert.exit_code`` when an alert fires.

The message (``str(error)``) is for people: it names the key, file or value at fault and,
where there is a closed set, the allowed choices. This module imports nothing but the
standard library, so anything may import it (the numerical envelope included).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

DEBUG_VAR = "PR2PROD_DEBUG"  # "1": let unexpected exceptions show their traceback

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_DATA = 3
EXIT_PLATFORM = 4
EXIT_INTERNAL = 70  # sysexits.h EX_SOFTWARE


class Pr2prodError(Exception):
    """Base of every pr2prod error: a message for people and the process exit code."""

    exit_code: ClassVar[int] = EXIT_CHECK_FAILED
    category: ClassVar[str] = "error"

    @property
    def message(self) -> str:
        """The user-facing message."""
        return str(self)


class CheckFailedError(Pr2prodError):
    """A check ran and its answer is no (gate FAIL, release refused, not reproduced)."""

    exit_code = EXIT_CHECK_FAILED
    category = "failed"


class UsageError(Pr2prodError):
    """The config or the command line asks for something invalid."""

    exit_code = EXIT_USAGE
    category = "config error"


class DataError(Pr2prodError):
    """An input (data file, artifact, log, table, baseline) is missing or unfit."""

    exit_code = EXIT_DATA
    category = "data error"


class PlatformError(Pr2prodError):
    """This machine cannot run the command (CPU features, a missing tool)."""

    exit_code = EXIT_PLATFORM
    category = "unsupported platform"


class InternalError(Pr2prodError):
    """A bug in pr2prod: an invariant broke. Unexpected exceptions map to this code."""

    exit_code = EXIT_INTERNAL
    category = "internal error"


#: The exit-code table (documented in the README and checked by the tests).
EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success",
    EXIT_CHECK_FAILED: "a check said no (gate FAIL, release refused, not reproduced)",
    EXIT_USAGE: "config or command-line error",
    EXIT_DATA: "data error (input missing, unreadable or unfit)",
    EXIT_PLATFORM: "this machine cannot run it (CPU, missing tool)",
    EXIT_INTERNAL: "internal error (a bug; rerun with PR2PROD_DEBUG=1)",
}


def exit_code_for(exc: BaseException) -> int:
    """The exit code an exception maps to: its category's, 3 for a missing file, else 70."""
    if isinstance(exc, Pr2prodError):
        return exc.exit_code
    if isinstance(exc, FileNotFoundError):
        return EXIT_DATA
    return EXIT_INTERNAL


_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@")
_DSN_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)('[^']*'|\S+)", re.IGNORECASE)


def mask_passwords(text: str) -> str:
    """``text`` with the password of every URL (``scheme://user:***@host``) and DSN
    (``password=***``) masked."""
    text = _URL_PASSWORD.sub(lambda m: f"{m.group('head')}***@", text)
    return _DSN_PASSWORD.sub(lambda m: f"{m.group('head')}***", text)


_DB_ERRORS = frozenset({"OperationalError", "InterfaceError"})


def _database_error(exc: BaseException, where: str) -> DataError | None:
    """``exc`` as a :class:`DataError` if it is SQLAlchemy's failure to reach or use a
    database (``OperationalError``/``InterfaceError``), else ``None``.

    ``where`` opens the message (``"<key>: database <url> "``, or ``"database "``). A failure
    while connecting (no statement was being run) is "unreachable"; one during a statement
    (a locked SQLite file, a dropped connection) "failed". The driver's message is cut to its
    first line; every password is masked.
    """
    cls = type(exc)
    if not cls.__module__.startswith("sqlalchemy") or not (
        {c.__name__ for c in cls.__mro__} & _DB_ERRORS
    ):
        return None
    orig = getattr(exc, "orig", None) or exc
    lines = [ln.strip() for ln in str(orig).splitlines() if ln.strip()]
    first = lines[0] if lines else type(orig).__name__
    what = "unreachable" if getattr(exc, "statement", None) is None else "failed"
    return DataError(mask_passwords(f"{where}{what}: {first}"))


@contextmanager
def database_errors(key: str, url: str) -> Iterator[None]:
    """Raise a database failure inside the block as a one-line :class:`DataError` (exit 3):

    ``<key>: database <url> unreachable: <first line of the driver's error>`` (``failed``
    when a statement, not the connection, failed), every password masked. ``key`` is the
    config key the URL comes from. Wrap every place that opens or uses a connection;
    other errors pass through unchanged.
    """
    try:
        yield
    except Exception as exc:
        error = _database_error(exc, f"{key}: database {url} ")
        if error is None:
            raise
        raise error from exc


def translate_library_error(exc: BaseException) -> BaseException:
    """A library's exception that is a known input failure, as its pr2prod category.

    The command line's safety net: a database failure that escaped
    :func:`database_errors` is still a data-source error (exit 3), password masked, though
    it cannot name the key; anything else is returned unchanged.
    """
    return _database_error(exc, "database ") or exc
