"""Split a chunk into rows the model can score and rejected rows, each with its reason."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pr2prod.data.schema import DataSchema

ROW_ID = "row_id"
REJECT_COLUMNS = ("input_row", "row_id", "reason")


@dataclass
class CheckedChunk:
    """The valid rows (``row_id`` + features, model-ready dtypes) and the rejects."""

    valid: pd.DataFrame
    rejects: pd.DataFrame


def check_chunk(chunk: pd.DataFrame, schema: DataSchema, offset: int) -> CheckedChunk:
    """Validate one chunk against ``schema``; ``offset`` is the chunk's first input row.

    Rules (all violated ones are listed, ``; ``-separated): the row id is present and not
    repeated within the chunk; numeric features parse as finite numbers; features that were
    never null in training are not null. Unknown categories are scored (the pipeline's encoder
    handles them) and show up as drift instead.
    """
    chunk = chunk.reset_index(drop=True)
    n = len(chunk)
    input_row = np.arange(offset, offset + n, dtype=np.int64)
    row_id = _row_ids(chunk, schema.id_column, input_row)
    reasons = np.full(n, "", dtype=object)
    missing_id = row_id.isna().to_numpy()
    _add(reasons, missing_id, "row_id: missing")
    _add(
        reasons,
        row_id.duplicated(keep="first").to_numpy() & ~missing_id,
        "row_id: duplicate within the input",
    )
    features = {}
    for spec in schema.features:
        raw = chunk[spec.name]
        if spec.kind == "numeric":
            values, not_number = _numeric(raw, spec.name, reasons)
            missing = np.isnan(values) & ~not_number
        else:
            values = raw
            missing = raw.isna().to_numpy() if not spec.nullable else None
        if not spec.nullable and missing is not None:
            _add(reasons, missing, f"{spec.name}: missing (not nullable)")
        features[spec.name] = values
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
    return CheckedChunk(valid=valid, rejects=rejects)


def _numeric(raw: pd.Series, name: str, reasons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The column as float64 and the rows that held something other than a number.

    Values that are not numbers or are infinite get a reason.
    """
    if pd.api.types.is_float_dtype(raw.dtype) or pd.api.types.is_integer_dtype(raw.dtype):
        values = raw.to_numpy(dtype="float64", na_value=np.nan)
        not_number = np.zeros(len(values), dtype=bool)
    else:
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        not_number = np.isnan(values) & raw.notna().to_numpy()
        _add(reasons, not_number, f"{name}: not a number")
    _add(reasons, np.isinf(values), f"{name}: infinite")
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


def _add(reasons: np.ndarray, mask: np.ndarray, reason: str) -> None:
    if not mask.any():
        return
    cur = reasons[mask]
    reasons[mask] = np.where(cur == "", reason, cur + "; " + reason)
