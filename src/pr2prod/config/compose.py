"""Compose ``conf/`` (+ overrides) into ``params.yaml``, and keep the two in sync.

``params.yaml`` carries a ``compose`` record: the overrides applied on top of ``conf/``, a
digest of ``conf/`` and a digest of the composed values. With it, :func:`reconcile` can
tell the three ways ``params.yaml`` may have drifted apart:

* ``conf/`` changed since composition -> recompose, keeping the recorded overrides;
* ``params.yaml`` was changed in place (``dvc exp run -S model.C=0.1`` does exactly that,
  ``-S model=random_forest`` writes the option name where the group's mapping was) ->
  record the difference as overrides and recompose, so groups switch and types are checked;
* both at once -> refuse, naming the keys: stale values and intended ones look alike.

DVC's own Hydra mode is left off on purpose: it rewrites ``params.yaml`` from ``conf/``
alone and would throw away overrides recorded in the committed file (treeverse/dvc#10750).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pr2prod.config.confscan import conf_files, load_yaml
from pr2prod.config.errors import ConfigError
from pr2prod.config.extras import check_extras
from pr2prod.config.hydra_compose import compose_dict
from pr2prod.config.loader import RECORD_KEY, read_params_file, to_config
from pr2prod.config.overrides import infer_overrides, merge_overrides
from pr2prod.config.targets import check_targets
from pr2prod.config.trust import refuse_policy_keys
from pr2prod.fsio import atomic_write_text

HEADER = (
    "# GENERATED from conf/ by `pr2prod compose` - do not edit by hand.\n"
    "# Change conf/, or override: `pr2prod compose KEY=VALUE` / `dvc exp run -S KEY=VALUE`.\n"
    "# `compose.overrides` lists what is applied on top of conf/; `pr2prod check` verifies.\n"
)

# conf/ groups composed on their own, never into params.yaml (a search space changes no model).
NOT_COMPOSED = ("sweep",)


def conf_digest(conf_dir: str | Path) -> str:
    """MD5 over what ``conf/`` means, not how it is written.

    Groups that never enter ``params.yaml`` (:data:`NOT_COMPOSED`) are left out.
    Each YAML file contributes its relative path, its ``# @package`` directive and its parsed
    content, so editing a comment or reformatting leaves the digest (and the check) alone.
    It covers every file composition may read: Hydra reads ``conf/`` only (a searchpath, a
    symlink leaving ``conf/`` or a defaults entry climbing out is refused,
    :mod:`pr2prod.config.confscan`), the rest is pr2prod's code.
    """
    root = Path(conf_dir)
    h = hashlib.md5(usedforsecurity=False)
    for path in conf_files(root):
        if path.relative_to(root).parts[0] in NOT_COMPOSED:
            continue
        text = path.read_text(encoding="utf-8")
        package = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("# @package")]
        parsed = load_yaml(path, f"conf/{path.relative_to(root).as_posix()}")
        content = json.dumps(parsed, sort_keys=True, default=str)
        h.update(f"{path.relative_to(root).as_posix()}\0{package}\0{content}\0".encode())
    return h.hexdigest()


def params_digest(body: dict[str, Any]) -> str:
    """MD5 of the composed values (key order and formatting do not matter)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.md5(canonical.encode(), usedforsecurity=False).hexdigest()


def render_params(body: dict[str, Any], overrides: Sequence[str], conf_hash: str) -> str:
    """The text of ``params.yaml``: header, ``compose`` record, then the values."""
    record = {
        RECORD_KEY: {
            "overrides": list(overrides),
            "conf_digest": conf_hash,
            "params_digest": params_digest(body),
        }
    }
    dump = {"default_flow_style": False, "sort_keys": False, "allow_unicode": True}
    return HEADER + yaml.safe_dump(record, **dump) + yaml.safe_dump(body, **dump)


@dataclass
class ReconcileResult:
    """What :func:`reconcile` did."""

    written: bool
    overrides: list[str]
    reasons: list[str] = field(default_factory=list)


def _split(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    body = {k: v for k, v in raw.items() if k != RECORD_KEY}
    record = raw.get(RECORD_KEY)
    return body, record if isinstance(record, dict) else None


def _groups(conf_dir: Path) -> set[str]:
    return {p.name for p in conf_dir.iterdir() if p.is_dir()}


def reconcile(
    conf_dir: str | Path = "conf",
    params_path: str | Path = "params.yaml",
    extra_overrides: Iterable[str] = (),
    reset: bool = False,
) -> ReconcileResult:
    """Bring ``params.yaml`` in line with ``conf/`` without losing intended overrides.

    Args:
        conf_dir: the Hydra config directory.
        params_path: the composed file DVC tracks.
        extra_overrides: Hydra overrides to add on top of the recorded ones.
        reset: drop the recorded overrides first.

    Raises:
        ConfigError: when composition fails or the drift is ambiguous; nothing is written.
    """
    conf, params = Path(conf_dir), Path(params_path)
    current_hash = conf_digest(conf)
    overrides: list[str] = []
    reasons: list[str] = []
    old_text = params.read_text(encoding="utf-8") if params.exists() else None
    if old_text is not None and not reset:
        body, record = _split(read_params_file(params))
        refuse_policy_keys(body)  # `dvc exp run -S allowed_targets=...` cannot widen it
        if record is None:
            reasons.append("params.yaml had no compose record")
        else:
            overrides = [str(o) for o in record.get("overrides") or []]
            edited = record.get("params_digest") != params_digest(body)
            conf_changed = record.get("conf_digest") != current_hash
            if conf_changed:
                reasons.append("conf/ changed")
            if edited:
                base = compose_dict(conf, overrides)
                found = infer_overrides(body, base, _groups(conf))
                if found and conf_changed:
                    raise ConfigError(
                        "params.yaml was changed in place ("
                        + ", ".join(found)
                        + ") and conf/ changed too since the last composition: stale and "
                        "intended values look alike. Put the change in conf/, or run "
                        "`pr2prod compose --reset " + " ".join(found) + "`"
                    )
                if found:
                    reasons.append("params.yaml overridden: " + ", ".join(found))
                overrides = merge_overrides(overrides, found)
    elif old_text is None:
        reasons.append("params.yaml did not exist")
    extra = list(extra_overrides)
    if extra:
        reasons.append("overrides given: " + ", ".join(extra))
    overrides = merge_overrides(overrides, extra)
    composed = compose_dict(conf, overrides)
    check_extras(composed)  # a missing pip extra is named before a target imports it
    check_targets(composed)  # a refused `_target_` stops here: nothing is written
    to_config(composed)  # so does a value the schema's checks refuse (serve.canary.share...)
    text = render_params(composed, overrides, current_hash)
    if text == old_text:
        return ReconcileResult(written=False, overrides=overrides, reasons=reasons)
    atomic_write_text(params, text)
    return ReconcileResult(written=True, overrides=overrides, reasons=reasons)


def check(conf_dir: str | Path = "conf", params_path: str | Path = "params.yaml") -> list[str]:
    """List the differences between ``params.yaml`` and ``conf/`` + its recorded overrides.

    An empty list means they agree.

    Raises:
        ConfigError: when ``conf/`` does not compose, or a value changed in ``params.yaml``
            is invalid (naming the key and, for a closed set, the allowed values).
    """
    conf, params = Path(conf_dir), Path(params_path)
    body, record = _split(read_params_file(params))
    refuse_policy_keys(body)
    if record is None:
        return ["params.yaml has no compose record: run `pr2prod compose`"]
    overrides = [str(o) for o in record.get("overrides") or []]
    expected = compose_dict(conf, overrides)
    for tree in (body, expected):  # what train would run, and what conf/ asks for
        check_extras(tree)
        check_targets(tree)
    found = infer_overrides(body, expected, _groups(conf))
    if found:  # an in-place value must be valid too: refuse it, naming the allowed ones
        compose_dict(conf, merge_overrides(overrides, found))
    problems = [f"{o} (params.yaml differs from conf/)" for o in found]
    if not problems and record.get("params_digest") != params_digest(body):
        problems.append("compose.params_digest does not match the values")
    if record.get("conf_digest") != conf_digest(conf):
        problems.append("compose.conf_digest does not match conf/")
    return problems
