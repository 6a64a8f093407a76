"""A config that needs a pip extra this environment lacks fails at compose, naming the extra."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from pr2prod.config import ConfigError
from pr2prod.config.compose import reconcile
from pr2prod.config.extras import RAY, TORCH, needed_extras, require_extra

pytestmark = [pytest.mark.unit]

CONF = Path(__file__).resolve().parents[2] / "conf"


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    return Path(shutil.copytree(CONF, tmp_path / "conf"))


@pytest.fixture
def no_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    """torch and skorch as a base install has them: not importable (``sys.modules[m] = None``)."""
    for name in [m for m in sys.modules if m.split(".")[0] in ("torch", "skorch")]:
        monkeypatch.delitem(sys.modules, name)
    for name in ("torch", "skorch"):
        monkeypatch.setitem(sys.modules, name, None)


def test_torch_model_without_torch_names_the_extra_and_writes_nothing(
    conf: Path, tmp_path: Path, no_torch: None
) -> None:
    params = tmp_path / "params.yaml"
    with pytest.raises(ConfigError) as info:
        reconcile(conf, params, ["model=torch_mlp"])
    message = str(info.value)
    assert message.startswith("model=torch_mlp needs `pip install 'pr2prod[torch]'`")
    assert "not installed: torch, skorch" in message
    assert not params.exists()


def test_torch_model_composes_where_the_extra_is_installed(conf: Path, tmp_path: Path) -> None:
    pytest.importorskip("skorch")
    assert reconcile(conf, tmp_path / "params.yaml", ["model=torch_mlp"]).written


def test_nested_targets_are_attributed_to_their_group() -> None:
    tree = {
        "model": {
            "name": "custom",
            "_target_": "sklearn.x.Y",
            "opt": {"_target_": "torch.optim.Adam"},
        },
        "other": {"inner": [{"_target_": "skorch.NeuralNet"}]},
        "plain": {"_target_": "sklearn.linear_model.Ridge"},
    }
    assert needed_extras(tree) == {"model=custom": TORCH, "other.inner.0": TORCH}


def test_a_command_needing_a_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ConfigError, match=r"pr2prod sweep needs `pip install 'pr2prod\[ray\]'`"):
        require_extra(RAY, "pr2prod sweep")
