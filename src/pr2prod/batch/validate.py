"""Split a chunk into rows the model can score and rejected rows, each with its reason."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pr2prod.data.acceptance import AcceptanceRule, add, category_text, not_a_number
from pr2prod.data.schema import DataSchema

ROW_ID = "row_id"
REJECT_COLUMNS = ("input_row", "row_id", "reason")


@dataclass
class CheckedChunk:
    """The valid rows (``row_id`` + features, model-ready dtypes), the rejects, the flags.

    ``flags`` counts, per flag (e.g. ``"x: unknown category"``), the valid rows that carry it.
    """

    valid: pd.DataFrame
    rejects: pd.DataFrame
    flags: Counter[str] = field(default_factory=Counter)


def check_chunk(
    chunk: pd.DataFrame,
    schema: DataSchema,
    offset: int,
    rule: AcceptanceRule | None = None,
) -> CheckedChunk:
    """Validate one chunk against ``schema``; ``offset`` is the chunk's first input row.

    Rules (all violated ones are listed, ``; ``-separated): the row id (``schema.id_column``,
    named so in the reasons) is present and not repeated within the chunk; numeric features
    parse as numbers; then the acceptance rule (:mod:`pr2prod.data.acceptance`, ``rule``;
    ``None`` = the ``acceptance`` defaults) decides unknown categories, missing values,
    out-of-range values and ``max_abs_value``, exactly as the serving request model does.
    Categorical columns reach the model as objects with NaN for missing (CSV and Parquet
    input alike).
    """
    rule = rule if rule is not None else AcceptanceRule(schema)
    chunk = chunk.reset_index(drop=True)
    n = len(chunk)
    id_name = schema.id_column or ROW_ID
    input_row = np.arange(offset, offset + n, dtype=np.int64)
    row_id = _row_ids(chunk, schema.id_column, input_row)
    reasons = np.full(n, "", dtype=object)
    missing_id = row_id.isna().to_numpy()
    add(reasons, missing_id, f"{id_name}: missing")
    add(
        reasons,
        row_id.duplicated(keep="first").to_numpy() & ~missing_id,
        f"{id_name}: duplicate within the input",
    )
    features = {}
    for spec in schema.features:
        raw = chunk[spec.name]
        if spec.kind == "numeric":
            values, not_number = _numeric(raw, spec.name, reasons)
            # a value that is not a number is rejected as such: the rule sees an accepted one
            accepted = spec.min if spec.min is not None else 0.0
            features[spec.name] = np.where(not_number, accepted, values)
        else:
            features[spec.name] = _categorical(raw)
    verdict = rule.check(pd.DataFrame(features, copy=False))
    for i in np.flatnonzero(verdict.rejected):
        given = verdict.reasons[i]
        reasons[i] = given if reasons[i] == "" else f"{reasons[i]}; {given}"
    bad = reasons != ""
    frame = pd.DataFrame({ROW_ID: row_id, **features}, copy=False)
    valid = frame.loc[~bad].reset_index(drop=True) if bad.any() else frame
    rejects = pd.DataFrame(
        {
            "input_row": input_row[bad],
            "row_id": row_id[bad].astype("string").to_numpy(),
            "reason": reasons[bad].astype(str),
        }
    )
    flags: Counter[str] = Counter()
    for text in verdict.flags[~bad]:
        if text:
            flags.update(text.split("; "))
    return CheckedChunk(valid=valid, rejects=rejects, flags=flags)


def _categorical(raw: pd.Series) -> np.ndarray:
    """Values as the category text training stored (:func:`category_text`: ``2007`` and
    ``"2007"`` alike), missing (``None``, ``pd.NA``, NaN) as NaN: what the encoder expects."""
    values = raw.to_numpy(dtype=object, na_value=np.nan)
    out = np.empty(len(values), dtype=object)
    out[:] = [category_text(v) for v in values]
    out[pd.isna(out)] = np.nan
    return out


def _numeric(raw: pd.Series, name: str, reasons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The column as float64 and the rows that held something other than a number.

    Values that are not numbers get a reason.
    """
    if pd.api.types.is_float_dtype(raw.dtype) or pd.api.types.is_integer_dtype(raw.dtype):
        values = raw.to_numpy(dtype="float64", na_value=np.nan)
        not_number = np.zeros(len(values), dtype=bool)
    else:
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        not_number = np.isnan(values) & raw.notna().to_numpy()
        add(reasons, not_number, not_a_number(name))
    return values, not_number


def _row_ids(chunk: pd.DataFrame, id_column: str, input_row: np.ndarray) -> pd.Series:
    if id_column not in chunk.columns:
        return pd.Series(input_row, dtype="int64")
    ids = chunk[id_column].reset_index(drop=True)
    if pd.api.types.is_integer_dtype(ids):
        return ids.astype("int64")
    if pd.api.types.is_float_dtype(ids):
        whole = ids.dropna()
        if (whole == np.floor(whole)).all():
            return ids.astype("Int64")
    return ids.astype("string")
