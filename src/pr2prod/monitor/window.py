"""The monitored window: log or scored batch, cut to a time range, plus labels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from pr2prod.logrecord.scored import REJECTS_FILE


def parse_timestamps(values: pd.Series) -> pd.Series:
    """ISO strings or epoch seconds to UTC datetimes (unparseable -> NaT)."""
    if pd.api.types.is_numeric_dtype(values):
        return pd.to_datetime(values, unit="s", utc=True, errors="coerce")
    return pd.to_datetime(values, utc=True, errors="coerce", format="mixed")


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV or Parquet table (labels, batch inputs, predictions)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such file (run `dvc pull` if it is tracked)")
    if p.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(p)
    if p.suffix.lower() == ".csv":
        return pd.read_csv(p)
    raise ValueError(f"{p}: expected a .csv or .parquet file")


def load_scored_batch(
    input_path: str | Path,
    predictions_path: str | Path,
    id_column: str,
    timestamp_column: str | None,
) -> tuple[pd.DataFrame, int]:
    """Join a batch input table with its ``predictions.parquet`` on the row id.

    The input rows that ``pr2prod score`` rejected (``rejects.parquet`` next to the
    predictions, by input position) are left out first, so a rejected row never meets a
    prediction, not even one of an accepted row with the same id. Ids are matched as text
    (``7`` and ``7.0`` alike), as the writer may have stored them with another dtype.

    Returns:
        The joined rows (one per prediction, ``row_id`` as the writer stored it) and the
        number of input rows left out as rejected.

    Raises:
        ValueError: an id that still occurs twice on either side, naming it.
    """
    inputs = read_table(input_path).reset_index(drop=True)
    preds = read_table(predictions_path)[["row_id", "prediction", "model_version"]]
    if id_column not in inputs.columns:
        inputs = inputs.assign(**{id_column: range(len(inputs))})
    rejects_path = Path(predictions_path).with_name(REJECTS_FILE)
    rejected = 0
    if rejects_path.is_file():
        positions = pd.read_parquet(rejects_path, columns=["input_row"])["input_row"]
        drop = inputs.index.isin(positions)
        rejected = int(drop.sum())
        inputs = inputs.loc[~drop]
    inputs = inputs.drop(
        columns=[
            c
            for c in ("row_id", "prediction", "model_version")
            if c in inputs.columns and c != id_column
        ]
    )
    inputs = inputs.assign(_key=_id_text(inputs[id_column])).drop(columns=id_column)
    if timestamp_column:
        if timestamp_column not in inputs.columns:
            raise ValueError(
                f"monitor.timestamp_column: {timestamp_column!r} not in "
                f"{input_path}; columns: {', '.join(map(str, inputs.columns))}"
            )
        inputs["timestamp"] = parse_timestamps(inputs[timestamp_column])
    else:
        inputs["timestamp"] = pd.NaT
    preds = preds.assign(_key=_id_text(preds["row_id"]))
    for side, keys in (("input", inputs["_key"]), ("predictions", preds["_key"])):
        twice = keys[keys.notna() & keys.duplicated()]
        if len(twice):
            raise ValueError(
                f"monitor.scored_input: id {twice.iloc[0]!r} occurs more than once in the "
                f"{side} ({input_path} / {predictions_path}) after leaving out rejected rows"
            )
    joined = inputs.merge(preds, on="_key", how="inner", validate="one_to_one")
    return joined.drop(columns="_key"), rejected


def _id_text(ids: pd.Series) -> pd.Series:
    """Ids as text; whole floats (an integer id column read with a gap) without ``.0``."""
    if pd.api.types.is_float_dtype(ids):
        known = ids.dropna()
        if (known == known.round()).all():
            ids = ids.astype("Int64")
    return ids.astype("string")


def select_window(
    frame: pd.DataFrame, start: str | None, end: str | None, days: float | None
) -> tuple[pd.DataFrame, dict[str, str | None]]:
    """Rows with ``start <= timestamp <= end``; without ``start``, ``days`` before ``end``.

    ``end`` defaults to the newest timestamp, so a window over old logs is reproducible.
    Rows without a timestamp are kept only when no bound applies.
    """
    ts = frame["timestamp"]
    if ts.notna().sum() == 0:
        return frame, {"start": None, "end": None}
    hi = pd.to_datetime(end, utc=True) if end else ts.max()
    lo = (
        pd.to_datetime(start, utc=True)
        if start
        else (hi - pd.Timedelta(days=days) if days is not None else ts.min())
    )
    keep = (ts >= lo) & (ts <= hi)
    return frame.loc[keep].reset_index(drop=True), {"start": lo.isoformat(), "end": hi.isoformat()}


def read_labels(source: str | Path) -> pd.DataFrame:
    """Labels from a CSV or Parquet file, or a SQL table given as ``<sqlalchemy-url>#<table>``.

    Raises:
        ValueError: a database source without ``#<table>`` or with a URL SQLAlchemy cannot
            use, naming ``monitor.performance.labels``.
        DataError: the database cannot be reached or read, or holds no such table (an
            unreachable one: ``monitor.performance.labels: database <url> unreachable: ...``).
    """
    text = str(source)
    if "://" not in text:
        return read_table(text)
    url, sep, table = text.rpartition("#")
    if not sep or not url or not table:
        raise ValueError(
            f"monitor.performance.labels: {text!r} names a database but no table; "
            "write <sqlalchemy-url>#<table>, e.g. sqlite:///data/warehouse.sqlite#labels"
        )
    import sqlalchemy as sa

    from pr2prod.errors import DataError, database_errors

    try:
        engine = sa.create_engine(url)
    except sa.exc.ArgumentError as exc:  # a malformed URL or a driver that is not installed
        raise ValueError(f"monitor.performance.labels: {exc}") from exc
    key = "monitor.performance.labels"
    try:
        with database_errors(key, url):  # an unreachable database: one line naming the key
            if not sa.inspect(engine).has_table(table):
                raise DataError(f"{key}: no table {table!r} in {engine.url!r}")
            return pd.read_sql_table(table, engine)
    except sa.exc.SQLAlchemyError as exc:  # any other failure to read it
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{key}: cannot read table {table!r} from {engine.url!r}: {first}") from exc
    finally:
        engine.dispose()


def join_labels(
    frame: pd.DataFrame, labels: pd.DataFrame, id_column: str, label_column: str
) -> pd.DataFrame:
    """Window rows that have a label (``label`` column), matched on the row id as text.

    A served record's row id is the caller's id (``serve.id_field``) when its request
    carried one, else its request id (``<request_id>#<index>`` in a batch request); a
    scored batch's is the data's id column. The labels' ``id_column`` holds those keys.
    """
    columns = ", ".join(map(str, labels.columns))
    if id_column not in labels.columns:
        raise ValueError(
            f"monitor.performance.labels: no row id column {id_column!r} (data.id_column); "
            f"columns: {columns}"
        )
    if label_column not in labels.columns:
        raise ValueError(
            f"monitor.performance.label_column: {label_column!r} is not a column of the "
            f"labels table (monitor.performance.labels); columns: {columns}"
        )
    lab = pd.DataFrame({"_key": labels[id_column].astype(str), "label": labels[label_column]})
    lab = lab.drop_duplicates("_key", keep="last")
    cur = frame.assign(_key=frame["row_id"].astype(str))
    return cur.merge(lab, on="_key", how="inner").drop(columns="_key")


def load_window(
    source: str,
    *,
    log: str | Path | None,
    scored_input: str | Path | None,
    scored_predictions: str | Path | None,
    id_column: str,
    timestamp_column: str | None,
    include_shadow: bool,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """All records of the configured source and facts about reading them.

    Raises:
        ValueError: unknown source or a missing path setting, naming the key.
    """
    from pr2prod.monitor.log import read_prediction_log

    if source == "log":
        if not log:
            raise ValueError("monitor.log: required when monitor.source is 'log'")
        frame, counts = read_prediction_log(log, include_shadow)
        return frame, {"source": "log", "path": str(log), **counts}
    if source == "scored":
        if not scored_input or not scored_predictions:
            raise ValueError(
                "monitor.scored_input and monitor.scored_predictions: required "
                "when monitor.source is 'scored'"
            )
        frame, rejected = load_scored_batch(
            scored_input, scored_predictions, id_column, timestamp_column
        )
        facts = {"source": "scored", "path": str(scored_input), "records": len(frame)}
        return frame, {**facts, "rejected": rejected}
    raise ValueError(f"monitor.source: {source!r} is not one of log, scored")
