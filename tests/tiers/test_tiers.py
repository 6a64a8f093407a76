"""The tier hook (tests/_tiers.py): one tier per test, from marks and fixtures; a unit test that
starts a process or a server fails, at collection time where that can be known.

Each case runs a small pytest session in-process (``pytester``) with the repository's hooks.
"""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

import _tiers

TESTS = Path(__file__).resolve().parents[1]
CONFTEST = f"""
import sys
sys.path.insert(0, {str(TESTS)!r})
import pytest
from _tiers import pytest_collection_modifyitems, pytest_runtest_call, pytest_runtest_setup

@pytest.fixture(scope="session")
def trained_project(tmp_path_factory):
    return tmp_path_factory.mktemp("trained")  # only its name matters here

@pytest.fixture
def netns():
    return []
"""
INI = """
[pytest]
markers =
    unit: u
    integration: i
    e2e: e
    slow: s
    ray: r
"""


@pytest.fixture
def session(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makeini(INI)
    return pytester


def _tiers_of(pytester: pytest.Pytester, *args: str) -> dict[str, str]:
    items, _ = pytester.inline_genitems(*args)
    return {item.name: _tiers.tier_of(item) for item in items}


def test_each_test_gets_one_tier_from_its_marks_and_fixtures(session: pytest.Pytester) -> None:
    session.makepyfile(
        test_a="""
        import pytest

        def test_plain(): pass
        def test_trained(trained_project): pass
        def test_ray(netns): pass
        @pytest.mark.slow
        def test_slow(): pass
        @pytest.mark.ray
        def test_ray_mark(): pass
        @pytest.mark.e2e
        def test_explicit(trained_project): pass
        """
    )
    assert _tiers_of(session) == {
        "test_plain": "unit",
        "test_trained": "integration",
        "test_ray": "e2e",
        "test_slow": "integration",
        "test_ray_mark": "e2e",
        "test_explicit": "e2e",  # an explicit mark wins
    }


def test_a_module_mark_is_respected_and_orders_e2e_first(session: pytest.Pytester) -> None:
    session.makepyfile(
        test_b="""
        import pytest
        pytestmark = [pytest.mark.integration]
        def test_one(): pass
        """,
        test_c="""
        def test_two(): pass
        """,
        test_d="""
        import pytest
        pytestmark = [pytest.mark.e2e]
        def test_three(): pass
        """,
    )
    assert _tiers_of(session) == {
        "test_one": "integration",
        "test_two": "unit",
        "test_three": "e2e",
    }
    listed = session.runpytest_inprocess("--collect-only", "-q").stdout.lines
    assert listed[:3] == ["test_d.py::test_three", "test_b.py::test_one", "test_c.py::test_two"]
    result = session.runpytest_inprocess("-m", "unit", "--collect-only", "-q")
    assert "test_c.py::test_two" in result.stdout.str()
    assert "test_one" not in result.stdout.str()


@pytest.mark.parametrize(
    ("source", "error"),
    [
        (
            "import pytest\n@pytest.mark.unit\n@pytest.mark.e2e\ndef test_x(): pass\n",
            "marked unit and e2e; one tier per test",
        ),
        (
            "import pytest\n@pytest.mark.unit\ndef test_x(trained_project): pass\n",
            "marked unit but requests trained_project (integration)",
        ),
        (
            "import subprocess\ndef test_x():\n    subprocess.run(['true'])\n",
            "a unit test that starts a process (subprocess)",
        ),
        (
            "from _project import run\ndef test_x(tmp_path):\n    run(['true'], tmp_path)\n",
            "a unit test that starts a process (run)",
        ),
    ],
    ids=["two-tiers", "unit-with-trained-project", "subprocess", "helper"],
)
def test_what_collection_can_know_fails_collection(
    session: pytest.Pytester, source: str, error: str
) -> None:
    session.makepyfile(test_e=source)
    result = session.runpytest_inprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert error in result.stderr.str()


@pytest.mark.integration  # its inner integration test really starts a process
def test_a_unit_test_starting_a_process_or_server_fails_at_run_time(
    session: pytest.Pytester,
) -> None:
    session.makepyfile(
        test_f="""
        import os, socket
        import pytest
        from helpers import start

        def test_helper_subprocess():
            start()
        def test_system():
            os.system("true")
        def test_listen():
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                s.listen()
        def test_swallowed():
            try:
                start()
            except Exception:
                pass
        @pytest.mark.integration
        def test_allowed():
            start()
        def test_no_process():
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))  # a free port: no server
        """,
        helpers="""
        import subprocess
        def start():
            subprocess.run(["true"], check=True)
        """,
    )
    result = session.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=4)
    out = result.stdout.str()
    assert "test_swallowed - Failed: " in out and "(the error was caught)" in out
    assert "refused to start a server (socket.listen)" in out


@pytest.mark.unit  # names subprocess, under the guard: nothing starts
def test_the_guard_restores_everything_it_patched() -> None:
    before = (subprocess.Popen._execute_child, os.system, os.fork, vars(socket.socket).copy())
    with _tiers.guard() as seen:
        with pytest.raises(_tiers.TierError, match="request a tier fixture"):
            subprocess.run(["true"], check=False)
        with pytest.raises(_tiers.TierError):
            os.fork()
    assert seen == ["subprocess", "process (os.fork)"]
    after = (subprocess.Popen._execute_child, os.system, os.fork, vars(socket.socket).copy())
    assert after == before


def test_a_tests_own_mark_overrides_its_modules(session: pytest.Pytester) -> None:
    session.makepyfile(
        test_g="""
        import pytest
        pytestmark = [pytest.mark.integration]
        def test_module_tier(): pass
        @pytest.mark.e2e
        def test_own_tier(): pass
        """
    )
    assert _tiers_of(session) == {"test_module_tier": "integration", "test_own_tier": "e2e"}
