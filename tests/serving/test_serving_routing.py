"""Routing between production and the canary, and the checks of ``serve.canary``."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from pr2prod.config.errors import ConfigError
from pr2prod.config.hydra_compose import compose_dict
from pr2prod.config.loader import to_config
from pr2prod.config.serve_schema import CanaryRouting, ServeConfig
from pr2prod.logrecord.variant import Variant
from pr2prod.serving.package import bento_serve_config
from pr2prod.serving.routing import Router, bucket
from pr2prod.serving.settings import serve_config_from_dict

CONF = Path(__file__).resolve().parents[2] / "conf"


def test_an_id_meets_the_same_variant_whatever_its_type_or_router() -> None:
    a, b = Router(0.5, random.Random(1)), Router(0.5, random.Random(2))
    for ident in range(200):
        assert a.choose(ident) == b.choose(ident) == a.choose(str(ident))
    assert 0.0 <= bucket("x") < 1.0 and bucket("x") == bucket("x")


def test_raising_the_share_only_moves_ids_to_the_canary() -> None:
    ids = range(2000)
    low, high = Router(0.1).route(list(ids)), Router(0.4).route(list(ids))
    assert all(h == Variant.canary for lo, h in zip(low, high, strict=True) if lo == Variant.canary)


@pytest.mark.parametrize(("share", "only"), [(0.0, Variant.prod), (1.0, Variant.canary)])
def test_share_zero_and_one_send_everything_to_one_variant(share: float, only: Variant) -> None:
    router = Router(share)
    assert set(router.route(list(range(1000)))) == {only}
    assert {router.choose() for _ in range(1000)} == {only}


@pytest.mark.parametrize(
    ("serve", "message"),
    [
        ({"canary": {"share": 1.5}}, r"serve\.canary\.share: 1\.5 is outside the allowed range"),
        ({"canary": {"share": -0.1}}, r"serve\.canary\.share: -0\.1 is outside .*\[0, 1\]"),
        ({"canary": {"enabled": True}}, r"serve\.canary\.model_path: null while"),
        (
            {"canary": {"enabled": True, "model_path": "m"}, "shadow": {"enabled": True}},
            r"serve\.shadow\.enabled and serve\.canary\.enabled are both true",
        ),
    ],
)
def test_bad_canary_values_name_the_key(serve: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        serve_config_from_dict(serve)
    overrides = [f"serve.{k}.{kk}={v}" for k, d in serve.items() for kk, v in d.items()]
    with pytest.raises(ConfigError, match=message):
        to_config(compose_dict(CONF, overrides))


def test_a_good_canary_config_loads() -> None:
    cfg = to_config(
        compose_dict(CONF, ["serve.canary.enabled=true", "serve.canary.model_path=m"])
    ).serve
    assert cfg.canary == CanaryRouting(enabled=True, model_path="m", share=0.1)


def test_a_bento_carries_production_only() -> None:
    cfg = serve_config_from_dict({"canary": {"enabled": True, "model_path": "m", "share": 0.5}})
    carried = json.loads(bento_serve_config(cfg))["canary"]
    assert carried == {"enabled": False, "model_path": None, "share": 0.1}
    assert bento_serve_config(ServeConfig()) == bento_serve_config(cfg)


def test_compose_refuses_a_bad_share_and_writes_nothing(tmp_path: Path) -> None:
    from pr2prod.config.compose import reconcile

    params = tmp_path / "params.yaml"
    with pytest.raises(ConfigError, match=r"serve\.canary\.share: 2\.0 is outside .*\[0, 1\]"):
        reconcile(CONF, params, ["serve.canary.share=2.0"])
    assert not params.exists()
