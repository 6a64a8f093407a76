"""Every init/upgrade test gets its own template cache (never ~/.cache/pr2prod)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pr2prod.init.cache import CACHE_VAR


@pytest.fixture(autouse=True)
def template_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    cache = tmp_path_factory.mktemp("template_cache") / "template"
    monkeypatch.setenv(CACHE_VAR, str(cache))
    return cache
