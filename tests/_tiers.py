"""Test tiers by cost: ``unit`` < ``integration`` < ``e2e`` (markers in pyproject.toml).

Every collected test ends up in exactly one tier (``tests/conftest.py`` calls :func:`assign`):

1. an explicit tier mark (``pytestmark = [pytest.mark.integration]`` on a module, or a mark on the
   test, which overrides its module's) wins; two different tier marks on the same test (or the
   same module) are a collection error;
2. otherwise the tier is the highest one of the fixtures the test requests, directly or through
   other fixtures (:data:`FIXTURE_TIERS`), and of its legacy marks (``slow``: a real pipeline,
   so at least ``integration``; ``ray``: Ray clusters, ``e2e``);
3. otherwise ``unit``.

A ``unit`` test must not start a process or a server. Known at collection time, and so a
collection error: an explicit ``unit`` mark on a test that requests a fixture of a higher tier,
and a test without a tier mark whose own code names :mod:`subprocess` or one of the tests'
process-starting helpers (:data:`SPAWNERS`) (an explicit ``unit`` mark says the name is not
used to start anything, e.g. the guard's own tests). Known only at run time (a helper the test
calls starts a process): :func:`guard` makes every way of starting a process, and
``listen()`` on a socket, raise :class:`TierError` while a ``unit`` test sets up and runs; the
test fails even if it swallowed that error.
"""

from __future__ import annotations

import multiprocessing.util
import os
import socket
import subprocess
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import _loop
import _netns
import _postgres
import _project
import _serving

TIERS = ("unit", "integration", "e2e")  # cheapest first
# Shared fixtures (tests/conftest.py and the directory conftests) -> the tier they put a test in.
FIXTURE_TIERS = {
    "trained_project": "integration",  # a trained default project (dvc repro, once per run)
    "trained_model_dir": "integration",
    "trained_copy": "integration",  # a writable copy of it
    "postgres_url": "integration",  # a PostgreSQL server
    "composed": "integration",  # `pr2prod compose` in a subprocess
    "prepared_project": "integration",  # make_project + `dvc repro prepare`
    "netns": "e2e",  # Ray clusters in network namespaces
    "built_wheel": "e2e",  # the tree's wheel, built once per run
}
# Legacy marks kept working: each implies at least this tier.
MARK_TIERS = {"slow": "integration", "ray": "e2e"}
MESSAGE = (
    "this test starts a {what} but is in the `unit` tier: request a tier fixture "
    "(tests/_tiers.py FIXTURE_TIERS) or mark it `integration`/`e2e` "
    "(`pytestmark = [pytest.mark.integration]`)"
)


class TierError(RuntimeError):
    """A ``unit`` test started a process or a server."""


def _rank(tier: str) -> int:
    return TIERS.index(tier)


def _fixture_tier(item: pytest.Item) -> tuple[str, list[str]]:
    """The highest tier of the fixtures ``item`` requests, and which fixtures gave it."""
    names = [n for n in getattr(item, "fixturenames", ()) if n in FIXTURE_TIERS]
    if not names:
        return "unit", []
    tier = max((FIXTURE_TIERS[n] for n in names), key=_rank)
    return tier, [n for n in names if FIXTURE_TIERS[n] == tier]


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):  # nested functions, lambdas, comprehensions
            names |= _code_names(const)
    return names


def _spawning_names(item: pytest.Item, spawners: set[int]) -> list[str]:
    """Globals the test's own code names that start processes (known at collection time)."""
    func = getattr(item, "function", None)
    code = getattr(func, "__code__", None)
    if code is None:
        return []
    module_globals = getattr(func, "__globals__", {})
    found = []
    for name in sorted(_code_names(code)):
        value = module_globals.get(name)
        if value is subprocess or (value is not None and id(value) in spawners):
            found.append(name)
    return found


def _explicit(item: pytest.Item) -> list[str]:
    """The tier marks of the closest node that has any: a test's own mark overrides its class's
    and its module's ``pytestmark``."""
    by_node: dict[int, set[str]] = {}
    for node, mark in item.iter_markers_with_node():  # closest node first
        if mark.name in TIERS:
            by_node.setdefault(id(node), set()).add(mark.name)
    closest = next(iter(by_node.values()), set())
    return sorted(closest, key=_rank)


def assign(items: list[pytest.Item], spawners: tuple[object, ...]) -> list[str]:
    """Give each item exactly one tier mark; return the collection errors found."""
    errors: list[str] = []
    spawner_ids = {id(s) for s in spawners}
    for item in items:
        explicit = _explicit(item)
        if len(explicit) > 1:
            errors.append(f"{item.nodeid}: marked {' and '.join(explicit)}; one tier per test")
            continue
        fixture_tier, why = _fixture_tier(item)
        if explicit:
            tier = explicit[0]
            if tier == "unit" and fixture_tier != "unit":
                errors.append(
                    f"{item.nodeid}: marked unit but requests {', '.join(why)} ({fixture_tier})"
                )
                continue
        else:
            legacy = [MARK_TIERS[m.name] for m in item.iter_markers() if m.name in MARK_TIERS]
            tier = max([fixture_tier, *legacy], key=_rank)
            item.add_marker(getattr(pytest.mark, tier))
        if not explicit and tier == "unit" and (names := _spawning_names(item, spawner_ids)):
            errors.append(
                f"{item.nodeid}: a unit test that starts a process ({', '.join(names)}): "
                "mark it integration or e2e, or request a tier fixture"
            )
    return errors


def tier_of(item: pytest.Item) -> str:
    """The one tier mark :func:`assign` left on ``item``."""
    return next(m.name for m in item.iter_markers() if m.name in TIERS)


def _refuse(what: str, seen: list[str]) -> Callable[..., Any]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        seen.append(what)
        raise TierError(MESSAGE.format(what=what))

    return refuse


_MISSING = object()
# Every way a test could start a process (os.spawn*, os.popen and asyncio go through these).
_PATCHES: tuple[tuple[Any, str, str], ...] = (
    (subprocess.Popen, "_execute_child", "subprocess"),
    (os, "system", "subprocess"),
    (os, "fork", "process (os.fork)"),
    (os, "forkpty", "process (os.forkpty)"),
    (os, "posix_spawn", "subprocess"),
    (os, "posix_spawnp", "subprocess"),
    (multiprocessing.util, "spawnv_passfds", "process (multiprocessing)"),
    (socket.socket, "listen", "server (socket.listen)"),
)


@contextmanager
def guard() -> Iterator[list[str]]:
    """While active, starting a process or listening on a socket raises :class:`TierError`.

    Yields the list of what was attempted (filled even when the test catches the error).
    """
    seen: list[str] = []
    # a class's own attribute, or _MISSING when it inherits it (socket.socket.listen)
    saved = [(owner, name, vars(owner).get(name, _MISSING)) for owner, name, _ in _PATCHES]
    try:
        for owner, name, what in _PATCHES:
            setattr(owner, name, _refuse(what, seen))
        yield seen
    finally:
        for owner, name, original in saved:
            if original is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, original)


# The tests' own helpers that start processes: a `unit` test naming one fails collection.
SPAWNERS = (
    _project.run,
    _project.git,
    _project.make_project,
    _project.repro,
    _serving.Server,
    _serving.start_serve,
    _loop.Loop,
    _netns.netns_prefix,
    _netns.run_in_netns,
    _postgres.start_server,
)
# Collection order, so that `-n 2 --dist loadgroup --no-loadscope-reorder` starts the longest
# work first and both workers finish together: the test modules (or xdist groups) measured
# slowest, longest first (docs/continuous.md, docs/init.md, benchmarks/results/tests.json),
# then the rest of e2e, integration, unit.
SLOWEST_FIRST = (
    "tests/continuous/test_continuous_e2e.py",
    "tests/init/test_generated_workflows.py",
    "tests/init/test_wheel.py",
    "tests/init/test_upgrade.py",
    "tests/gitops/test_gitops_e2e.py",
    "tests/gitops/test_gitops_canary_act.py",
    "tests/init/test_init.py",
    "tests/gitops/test_gitops_act.py",
    "tests/gitops/test_gitops_injection.py",
    "tests/gitops/test_gitops_reproduce.py",
    "tests/batch/test_batch_ray.py",
    "tests/sweep/test_sweep_ray.py",
    "tests/gate/test_gate_pipeline.py",
    "tests/serving/test_serving_log_durability.py",
    "tests/serving/test_serving_http.py",  # one group: the worker's shared bento_server
    "tests/serving/test_serving_torch_bento.py",
    "tests/serving/test_serving_canary.py",
)
TIER_ORDER = {"e2e": 0, "integration": 1, "unit": 2}


def _order(item: pytest.Item) -> tuple[int, int]:
    path = item.nodeid.split("::")[0]
    rank = SLOWEST_FIRST.index(path) if path in SLOWEST_FIRST else len(SLOWEST_FIRST)
    return TIER_ORDER[tier_of(item)], rank


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by these marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    errors = assign(items, SPAWNERS)
    if errors:
        raise pytest.UsageError("test tiers:\n  " + "\n  ".join(errors))
    items.sort(key=_order)  # stable: within a rank, the files' own order


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    return (yield from _guarded(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    return (yield from _guarded(item))


def _guarded(item: pytest.Item) -> Iterator[None]:
    """Run a phase of a ``unit`` test with process and server starts refused."""
    if tier_of(item) != "unit":
        return (yield)
    with guard() as seen:
        try:
            result = yield
        except BaseException:
            if seen:
                pytest.fail(f"{item.nodeid}: refused to start a {seen[0]}")
            raise
    if seen:  # the test swallowed the TierError
        pytest.fail(f"{item.nodeid}: refused to start a {seen[0]} (the error was caught)")
    return result
