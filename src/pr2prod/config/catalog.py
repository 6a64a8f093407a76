"""The catalog: every file and directory a project reads or writes, named once.

Its entries are the ``paths`` group (``conf/paths/default.yaml``, schema
:class:`~pr2prod.config.paths_schema.PathsConfig`). ``dvc.yaml`` reads them as
``${paths.<key>}``, the other groups by interpolation (``${paths.prediction_log}``), the code
from ``params.yaml``, workflows through ``pr2prod paths KEY``. Code that needs a default
without a project (``pr2prod serve`` outside one, a dataclass built in Python) takes the
packaged conf's entry here: the template's copy of ``conf/paths/default.yaml``, kept
byte-identical to this repository's (tests/init/test_dogfood.py). No path is written twice.

A Bento carries pr2prod's ``.py`` files only (``bentofile.yaml``), not the packaged catalog:
there a default is ``MISSING`` (``???``), and the Bento's arguments give every value.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from pathlib import Path

import yaml
from omegaconf import MISSING

from pr2prod.config.errors import ConfigError
from pr2prod.config.outputs import check_output_path

#: The packaged catalog (package data: the project template's ``conf/paths/default.yaml``).
PACKAGED = Path(__file__).resolve().parent.parent / "template/project/conf/paths/default.yaml"
PARAMS = Path("params.yaml")


@functools.cache
def packaged_entries() -> dict[str, str]:
    """Every entry of the packaged catalog, ``{key: project-relative path}`` (none in a Bento)."""
    if not PACKAGED.is_file():
        return {}
    data = yaml.safe_load(PACKAGED.read_text(encoding="utf-8")) or {}
    return {str(k): str(v) for k, v in data.items() if k != "defaults"}


def _unknown(key: str, known: dict[str, str]) -> ConfigError:
    return ConfigError(f"paths.{key}: not in the catalog; entries: {', '.join(sorted(known))}")


def default(key: str) -> str:
    """The packaged catalog's path for ``key`` (the default of a project that changed none).

    Raises:
        ConfigError: naming ``key`` and the catalog's entries.
    """
    known = packaged_entries()
    if key not in known:
        raise _unknown(key, known)
    return known[key]


def default_factory(key: str) -> Callable[[], str]:
    """A dataclass ``default_factory`` giving the packaged path of ``key`` (``MISSING``
    where the package carries no catalog: a Bento, whose arguments give the value)."""
    return functools.partial(_default_or_missing, key)


def _default_or_missing(key: str) -> str:
    return default(key) if packaged_entries() else MISSING


def entries(params: str | Path = PARAMS) -> dict[str, str]:
    """The catalog of the project whose composed params file is ``params`` (validated:
    relative paths inside the project); the packaged catalog when there is no such file."""
    path = Path(params)
    if not path.exists():
        return dict(packaged_entries())
    from pr2prod.config.loader import load_params

    return {k: str(v) for k, v in dataclasses.asdict(load_params(path).paths).items()}


def entry(key: str, params: str | Path = PARAMS) -> str:
    """One entry of :func:`entries`.

    Raises:
        ConfigError: naming ``key`` and the catalog's entries.
    """
    known = entries(params)
    if key not in known:
        raise _unknown(key, known)
    return known[key]


def of_params(raw: dict[str, object], root: str | Path = ".") -> dict[str, str]:
    """The catalog recorded in a composed params mapping (e.g. a git revision's
    ``params.yaml``), each entry it lacks (an older revision) from the packaged catalog.

    Raises:
        ConfigError: an entry that is not a relative path inside ``root``.
    """
    recorded = raw.get("paths")
    given = {str(k): str(v) for k, v in recorded.items()} if isinstance(recorded, dict) else {}
    for key, value in given.items():
        check_output_path(f"paths.{key}", value, Path(root))
    return {**packaged_entries(), **given}
