"""Named groups of test rows (slices) from the gate config."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pr2prod.compare.plan import slice_names
from pr2prod.config.errors import ConfigError
from pr2prod.config.gate_schema import SliceConfig


@dataclass
class Slice:
    """One concrete group of rows (``name`` is e.g. ``tumour_size[12, 15)``)."""

    config_key: str
    name: str
    mask: np.ndarray


def check_slice_config(key: str, cfg: SliceConfig) -> None:
    """Exactly one way to define the slice.

    Raises:
        ConfigError: naming ``gate.slices.<key>`` and the allowed forms.
    """
    given = [
        k
        for k, v in (("values", cfg.values), ("bins", cfg.bins), ("query", cfg.query))
        if v is not None
    ]
    where = f"gate.slices.{key}"
    if len(given) != 1:
        raise ConfigError(
            f"{where}: set exactly one of values, bins, query (got {', '.join(given) or 'none'})"
        )
    if given[0] in ("values", "bins") and not cfg.column:
        raise ConfigError(f"{where}.column: required with {given[0]}")
    if cfg.bins is not None and (len(cfg.bins) < 2 or list(cfg.bins) != sorted(cfg.bins)):
        raise ConfigError(f"{where}.bins: need at least two increasing edges, got {cfg.bins}")


def build_slices(key: str, cfg: SliceConfig, test: pd.DataFrame) -> tuple[list[Slice], str | None]:
    """The concrete slices of one config entry, or a note saying why it was skipped.

    Raises:
        ConfigError: an invalid definition or a query pandas cannot evaluate.
    """
    check_slice_config(key, cfg)
    if cfg.query is not None:
        try:
            mask = test.eval(cfg.query)
        except Exception as exc:  # pandas raises many types for a bad expression
            raise ConfigError(f"gate.slices.{key}.query: {cfg.query!r} failed: {exc}") from exc
        return [Slice(key, key, np.asarray(mask, dtype=bool))], None
    if cfg.column not in test.columns:
        return [], f"column {cfg.column!r} is not in the test data"
    col = test[cfg.column]
    if cfg.values is not None:
        as_text = col.astype(str).to_numpy()
        names = slice_names(key, cfg.values, None)
        return [
            Slice(key, n, as_text == str(v)) for n, v in zip(names, cfg.values, strict=True)
        ], None
    assert cfg.bins is not None
    values = col.to_numpy(dtype=np.float64)
    names = slice_names(key, None, cfg.bins)
    edges = zip(cfg.bins[:-1], cfg.bins[1:], strict=True)
    return [
        Slice(key, n, (values >= lo) & (values < hi))
        for n, (lo, hi) in zip(names, edges, strict=True)
    ], None
