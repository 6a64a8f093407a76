"""The Typer application every command module attaches to, and its one error handler.

Commands raise; they do not catch. :class:`Pr2prodGroup` turns what escapes a command into
one ``error:`` line on stderr and the exit code of the table in :mod:`pr2prod.errors`:
a :class:`~pr2prod.errors.Pr2prodError` exits with its category's code, a
``FileNotFoundError`` with the data-error code, anything else is a bug (exit 70, no
traceback unless ``PR2PROD_DEBUG=1``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup
from typer.exceptions import Abort, TyperException

from pr2prod.errors import (
    DEBUG_VAR,
    EXIT_INTERNAL,
    Pr2prodError,
    exit_code_for,
    mask_passwords,
    translate_library_error,
)

if TYPE_CHECKING:
    # the click Context Typer vendors (typer.Context subclasses it): TyperGroup.invoke's type
    from typer._click import Context as ClickContext

# Typer's own control flow (exit codes, usage errors, Ctrl-C): never ours to translate.
_TYPER_FLOW = (typer.Exit, Abort, TyperException)


def debug_enabled() -> bool:
    """Whether ``PR2PROD_DEBUG`` asks for tracebacks instead of one-line errors."""
    return os.environ.get(DEBUG_VAR, "").lower() in {"1", "true", "yes", "on"}


def error_message(exc: BaseException) -> str:
    """The one line printed for ``exc`` (after ``error: ``)."""
    if isinstance(exc, Pr2prodError | FileNotFoundError):
        return mask_passwords(str(exc))
    text = mask_passwords(str(exc))
    return (
        f"internal error: {type(exc).__name__}: {text}. This is a bug in pr2prod; "
        f"rerun with {DEBUG_VAR}=1 for the traceback and report it"
    )


def report_error(exc: BaseException) -> int:
    """Print ``exc``'s ``error:`` line on stderr; return its exit code."""
    typer.secho(f"error: {error_message(exc)}", fg=typer.colors.RED, err=True)
    return exit_code_for(exc)


class Pr2prodGroup(TyperGroup):
    """The ``pr2prod`` command group: maps every escaping error to its exit code."""

    def invoke(self, ctx: ClickContext) -> Any:
        """Run the subcommand; translate errors that escape it (see the module doc)."""
        try:
            return super().invoke(ctx)
        except _TYPER_FLOW:
            raise
        except Exception as raw:
            exc = translate_library_error(raw)  # an unreachable database: exit 3
            if debug_enabled() and exit_code_for(exc) == EXIT_INTERNAL:
                raise
            raise typer.Exit(report_error(exc)) from raw


app = typer.Typer(
    name="pr2prod",
    help="Config-as-code ML from pull request to production.",
    cls=Pr2prodGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Help texts are shown as written: `[monitor.log]` names a config key and `<table>` a
    # placeholder; Rich markup would swallow the first and Markdown the second.
    rich_markup_mode=None,
)


def pin_envelope() -> None:
    """Pin the numerical envelope (:mod:`pr2prod.envelope`) before a command loads NumPy.

    Commands that compute call this first, so ``pr2prod gate`` scores under the same
    threads and kernels as the ``gate`` stage; the record goes where the stage runner
    puts it.

    Raises:
        EnvelopeError: the CPU cannot run the pinned kernels (exit 4).
    """
    import json

    from pr2prod import envelope
    from pr2prod.stages.__main__ import ENVELOPE_VAR

    os.environ[ENVELOPE_VAR] = json.dumps(envelope.apply(), sort_keys=True)


@contextmanager
def builtin_errors_as(category: type[Pr2prodError], *types: type[Exception]) -> Iterator[None]:
    """Re-raise ``types`` escaping the block as ``category`` (same message).

    Transitional: some domain code (``monitor/``, ``batch/run.py``,
    ``release/pr_report.py``, ``release/reproduce.py``) still raises a builtin error for a
    user mistake. A :class:`Pr2prodError` passes through unchanged.
    """
    try:
        yield
    except Pr2prodError:
        raise
    except types as exc:
        raise category(str(exc)) from exc


def package_version() -> str:
    """The installed distribution's version (its metadata), else the source tree's."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pr2prod")
    except PackageNotFoundError:  # run from a source tree that is not installed
        from pr2prod import __version__

        return __version__


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"pr2prod {package_version()}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Config-as-code ML from pull request to production."""
