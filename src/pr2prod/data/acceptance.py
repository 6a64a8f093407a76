"""The acceptance rule: which rows the model scores, the same online and in batch.

A row is checked feature by feature against the training schema and the ``acceptance``
config (:class:`~pr2prod.config.acceptance_schema.AcceptanceConfig`). The cases:

* **unknown category**: a categorical value training never saw;
* **missing value**: a null in a feature that had no nulls in training (features that
  had nulls always accept them);
* **out of range**: a numeric value outside the training [min, max];
* **max_abs_value**: a numeric value of larger magnitude (or infinite): always rejected,
  since values near float64's limit overflow the model's arithmetic.

Each of the first three is ``reject`` or ``flag`` (scored and counted). :class:`AcceptanceRule`
turns schema + config into one :class:`FeatureLimit` per feature; the serving request model
(:func:`pr2prod.serving.request.record_model`) is generated from these limits and batch
validation (:func:`pr2prod.batch.validate.check_chunk`) applies them with :meth:`check`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pr2prod.config.acceptance_schema import AcceptanceConfig, Decision
from pr2prod.data.schema import DataSchema, FeatureSpec


def category_text(value: object) -> str | None:
    """The category a value names, as training stored it (``schema.json`` categories are
    text): a string as it is, an integral number without a fraction (``2007`` and ``2007.0``
    are ``"2007"``, as a declared categorical ``year`` is stored), another number as Python
    writes it (``2.5``), a bool as ``True``/``False``; None for a missing value (None, NaN,
    ``pd.NA``). Online and batch scoring both send the model this text."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isnan(v):
            return None
        return str(int(v)) if v.is_integer() and abs(v) < 2**53 else repr(v)
    return str(value)


def not_a_number(name: str) -> str:
    return f"{name}: not a number"


def parse_number(text: str) -> float | None:
    """A numeric feature's value given as text, parsed as batch parses a text column
    (``pandas.to_numeric``); None when it is not a number (``"abc"``, ``"nan"``, ``""``)."""
    value = pd.to_numeric(text, errors="coerce")
    return None if pd.isna(value) else float(value)


def unknown_category(name: str) -> str:
    return f"{name}: unknown category"


def missing_value(name: str) -> str:
    return f"{name}: missing (not nullable)"


def out_of_range(name: str, lo: float, hi: float) -> str:
    return f"{name}: outside the training range [{lo:g}, {hi:g}]"


def too_large(name: str, max_abs: float) -> str:
    return f"{name}: magnitude above max_abs_value {max_abs:g}"


def infinite(name: str) -> str:
    return f"{name}: infinite"


@dataclass(frozen=True)
class FeatureLimit:
    """What one feature accepts (``lo``/``hi``, ``categories``, ``nullable``) and flags."""

    name: str
    kind: str  # numeric | categorical
    nullable: bool  # nulls accepted: training had nulls, or missing_value is flag
    lo: float  # accepted numeric range: [-max_abs, max_abs], or the training range when
    hi: float  # out_of_range is reject
    categories: tuple[str, ...] | None  # accepted categories; None = any string
    train_lo: float  # training range (a value outside it, when accepted, is flagged)
    train_hi: float
    known: tuple[str, ...]  # training categories (an accepted unknown one is flagged)
    trained_nullable: bool  # training had nulls (an accepted null otherwise is flagged)


def _bound(value: float | None, default: float) -> float:
    return default if value is None else float(value)


def feature_limit(f: FeatureSpec, cfg: AcceptanceConfig) -> FeatureLimit:
    """The limits of one feature under ``cfg``."""
    m = float(cfg.max_abs_value)
    train_lo, train_hi = _bound(f.min, -math.inf), _bound(f.max, math.inf)
    lo, hi = -m, m
    if cfg.out_of_range == Decision.reject:
        lo, hi = max(lo, train_lo), min(hi, train_hi)
    known = tuple(str(c) for c in f.categories or ())
    reject_unknown = cfg.unknown_category == Decision.reject and bool(known)
    return FeatureLimit(
        name=f.name,
        kind=f.kind,
        nullable=f.nullable or cfg.missing_value == Decision.flag,
        lo=lo,
        hi=hi,
        categories=known if reject_unknown else None,
        train_lo=train_lo,
        train_hi=train_hi,
        known=known,
        trained_nullable=f.nullable,
    )


@dataclass
class Verdict:
    """Per row: ``reasons`` to reject ("" = accepted) and ``flags`` ("" = none), ``; ``-joined."""

    reasons: np.ndarray
    flags: np.ndarray

    @property
    def rejected(self) -> np.ndarray:
        return self.reasons != ""


class AcceptanceRule:
    """The acceptance rule of one schema under one ``acceptance`` config."""

    def __init__(self, schema: DataSchema, cfg: AcceptanceConfig | None = None) -> None:
        self.cfg = cfg if cfg is not None else AcceptanceConfig()
        self.limits = {f.name: feature_limit(f, self.cfg) for f in schema.features}

    def check(self, features: pd.DataFrame) -> Verdict:
        """Decide every row of ``features`` (numeric columns as float64, NaN = missing).

        A value that is missing is judged only as missing, never also as out of range.
        """
        n = len(features)
        reasons = np.full(n, "", dtype=object)
        flags = np.full(n, "", dtype=object)
        for name, lim in self.limits.items():
            col = features[name]
            missing = col.isna().to_numpy()
            if not lim.trained_nullable:
                add(reasons if not lim.nullable else flags, missing, missing_value(name))
            if lim.kind == "numeric":
                self._numeric(lim, col.to_numpy(dtype="float64", na_value=np.nan), reasons, flags)
            elif lim.known:
                text = col.astype("string")
                unknown = ~missing & ~text.isin(lim.known).fillna(False).to_numpy(dtype=bool)
                rejecting = lim.categories is not None
                add(reasons if rejecting else flags, unknown, unknown_category(name))
        return Verdict(reasons=reasons, flags=flags)

    def _numeric(
        self, lim: FeatureLimit, v: np.ndarray, reasons: np.ndarray, flags: np.ndarray
    ) -> None:
        m = float(self.cfg.max_abs_value)
        inf = np.isinf(v)
        add(reasons, inf, infinite(lim.name))
        with np.errstate(invalid="ignore"):
            add(reasons, ~inf & (np.abs(v) > m), too_large(lim.name, m))
            outside = (np.abs(v) <= m) & ((v < lim.train_lo) | (v > lim.train_hi))
        rejecting = self.cfg.out_of_range == Decision.reject
        reason = out_of_range(lim.name, lim.train_lo, lim.train_hi)
        add(reasons if rejecting else flags, outside, reason)


def add(reasons: np.ndarray, mask: np.ndarray, reason: str) -> None:
    """Append ``reason`` to the rows of ``mask`` (``; ``-separated)."""
    if not mask.any():
        return
    cur = reasons[mask]
    reasons[mask] = np.where(cur == "", reason, cur + "; " + reason)
