"""Work units for ``-n 2 --dist loadgroup``: one test module, or one declared xdist group.

pytest-xdist's ``loadgroup`` groups by a suffix it adds to each node id; with pytest 9.2 that
suffix no longer takes effect (pytest-dev/pytest-xdist#1386), so every test was dispatched on
its own: a module fixture (the released continuous-training project, the generated project's
act origin, the gate's trained production) was built once per worker, and tests of one
declared group ran side by side. This scheduler decides units itself, from the node id alone
(the controller sees no items): the test module's declared ``xdist_group`` (read from its
source), else the module. A module is the unit its module-scoped fixtures need; the Makefile's
``--no-loadscope-reorder`` keeps the units in collection order (longest first, _tiers.py).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from xdist.scheduler import LoadScopeScheduling

_GROUP = re.compile(r"""pytest\.mark\.xdist_group\(\s*(?:name\s*=\s*)?["']([^"']+)["']""")


@cache
def declared_group(module: Path) -> str | None:
    """The ``xdist_group`` a test module declares (its first), or None."""
    try:
        found = _GROUP.search(module.read_text(encoding="utf-8"))
    except OSError:
        return None
    return found.group(1) if found else None


def work_unit(nodeid: str, root: Path) -> str:
    """The unit a test runs in: its module's declared group, else its module."""
    module = nodeid.split("::", 1)[0]
    group = declared_group(root / module)
    return f"group:{group}" if group else module


class ModuleGroupScheduling(LoadScopeScheduling):
    """``loadscope`` with :func:`work_unit` as the scope."""

    def __init__(self, config: pytest.Config, log: object | None = None) -> None:
        super().__init__(config, log)  # type: ignore[arg-type]  # xdist's Producer
        self._root = Path(config.rootpath)

    def _split_scope(self, nodeid: str) -> str:
        return work_unit(nodeid, self._root)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> LoadScopeScheduling | None:
    """Replace ``--dist loadgroup``'s scheduler (the Makefile's); other modes are xdist's."""
    if config.getvalue("dist") == "loadgroup":
        return ModuleGroupScheduling(config, log)
    return None
