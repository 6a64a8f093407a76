"""xdist's work units (tests/_scheduling.py): a module, or the group its source declares."""

from __future__ import annotations

from pathlib import Path

import pytest

from _scheduling import declared_group, work_unit

pytestmark = [pytest.mark.unit]

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent


def test_a_module_that_declares_a_group_runs_in_that_groups_unit() -> None:
    one = work_unit("tests/init/test_wheel.py::test_a[x]", ROOT)
    other = work_unit("tests/init/test_wheel_pythons.py::test_b", ROOT)
    assert one == other == "group:init_wheel"


def test_other_modules_are_one_unit_each_whatever_their_tests() -> None:
    a = work_unit("tests/tiers/test_tiers.py::test_x", ROOT)
    b = work_unit("tests/tiers/test_tiers.py::TestY::test_z[1@2]", ROOT)
    assert a == b == "tests/tiers/test_tiers.py"
    assert work_unit("tests/tiers/test_scheduling.py::t", ROOT) != a


def test_the_group_is_read_from_the_mark_in_any_spelling(tmp_path: Path) -> None:
    declared_group.cache_clear()
    named = tmp_path / "test_named.py"
    named.write_text('pytestmark = pytest.mark.xdist_group(name="db")\n')
    plain = tmp_path / "test_plain.py"
    plain.write_text("def test(): pass\n")
    assert declared_group(named) == "db"
    assert declared_group(plain) is None
    assert declared_group(tmp_path / "missing.py") is None
