"""Every path a config names for writing stays inside the project: checked here, once.

A config pull request is untrusted: ``monitor.score.parquet_dir: /home/ci`` would have
``pr2prod score`` empty that directory, and a committed symlink ``reports -> /tmp`` plus
``paths.run_facts: reports/train`` would have ``train`` write outside. Each key of
:data:`OUTPUT_KEYS` must be a relative path (no ``..``, no backslash) that still lies inside
the project root once symlinks are resolved, or the config is refused naming the key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from pr2prod.config.errors import ConfigError

#: Dotted keys whose values are written to (``*``: every key of that section).
OUTPUT_KEYS: tuple[str, ...] = (
    "paths.*",
    "serve.prediction_log.path",
    "monitor.score.parquet_dir",
    "monitor.score.summary",
    "monitor.alert.flag_file",
    "monitor.report_dir",
    "monitor.plots_dir",
    "canary.report",
    "canary.summary",
    "retrain.report_json",
    "retrain.report_md",
    "release.notes_path",
    "release.ci_outputs",
)


def _values(cfg: Any, key: str) -> Iterator[tuple[str, Any]]:
    node: Any = cfg
    parts = key.split(".")
    for part in parts[:-1]:
        node = _get(node, part)
        if node is None:
            return
    last = parts[-1]
    if last == "*":
        if dataclasses.is_dataclass(node) and not isinstance(node, type):
            items = dataclasses.asdict(node)
        else:
            items = dict(node)
        for name, value in items.items():
            yield f"{key[:-2]}.{name}", value
        return
    value = _get(node, last)
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield f"{key}[{i}]", item
    else:
        yield key, value


def _get(node: Any, name: str) -> Any:
    return node.get(name) if isinstance(node, dict) else getattr(node, name, None)


def check_output_path(key: str, value: Any, root: Path) -> None:
    """Refuse ``value`` unless it is a relative path inside ``root`` after resolving symlinks."""
    if value is None:
        return
    text = str(value)
    p = PurePosixPath(text)
    if not text or p.is_absolute() or ".." in p.parts or "\\" in text or ":" in text:
        raise ConfigError(
            f"{key}: {text!r} must be a relative path inside the project (no absolute path, "
            "no '..')"
        )
    base = root.resolve()
    real = (base / text).resolve()
    if not real.is_relative_to(base):
        raise ConfigError(
            f"{key}: {text!r} resolves to {real}, outside the project (a symlink on the way "
            "leaves it); outputs are written inside the project only"
        )


def check_output_paths(cfg: Any, root: str | Path | None = None) -> None:
    """Check every key of :data:`OUTPUT_KEYS` in ``cfg`` (dataclasses or a plain dict).

    Args:
        cfg: the validated config, or the composed dict.
        root: the project root (default: the current directory, where stages run).

    Raises:
        ConfigError: naming the first key whose path leaves the project.
    """
    base = Path(root) if root is not None else Path.cwd()
    for pattern in OUTPUT_KEYS:
        for key, value in _values(cfg, pattern):
            check_output_path(key, value, base)
