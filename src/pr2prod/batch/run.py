"""Stream a table through the model into the configured sinks; counts always add up."""

from __future__ import annotations

from collections import Counter
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from pr2prod.batch.overlap import OrderedWriter, prefetch
from pr2prod.batch.parquet_sink import ParquetSink
from pr2prod.batch.predict import prediction_columns, score_rows
from pr2prod.batch.reader import count_rows, iter_chunks
from pr2prod.batch.resolve import ModelVersion, model_version
from pr2prod.batch.validate import REJECT_COLUMNS, check_chunk
from pr2prod.config.acceptance_schema import AcceptanceConfig
from pr2prod.data.acceptance import AcceptanceRule
from pr2prod.fsio import atomic_dir
from pr2prod.models.persist import LoadedModel

if TYPE_CHECKING:  # SQLAlchemy is imported only when a database is written
    from pr2prod.batch.sql_sink import SqlSink


@dataclass
class ScoreTargets:
    """Where predictions go: a database URL and/or a Parquet directory (at least one)."""

    database_url: str | None = None
    table: str = "predictions"
    parquet_dir: Path | None = None


@dataclass
class ScoreSummary:
    """What a run did; ``rows_in == rows_scored + rows_rejected`` always holds."""

    input: str
    rows_in: int = 0
    rows_scored: int = 0
    rows_rejected: int = 0
    chunks: int = 0
    reject_reasons: dict[str, int] = field(default_factory=dict)
    flagged: dict[str, int] = field(default_factory=dict)  # scored rows per acceptance flag
    model: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def score_table(
    model: LoadedModel,
    input_path: str | Path,
    targets: ScoreTargets,
    chunk_rows: int = 100_000,
    progress: bool = True,
    acceptance: AcceptanceConfig | None = None,
) -> ScoreSummary:
    """Validate, score and write ``input_path`` chunk by chunk.

    Parquet output appears only when the whole run succeeds (temporary directory, renamed)
    and is owner-only (files ``0o600``, directory ``0o700``: it holds rows); database chunks
    are upserts, so a failed run can simply be repeated. Rows are accepted by the rule that
    serving applies (``acceptance``: the config group; ``None`` = defaults).

    Raises:
        ValueError: no target given; :class:`~pr2prod.batch.reader.InputError` for bad input;
            DataError: the database cannot be reached (naming ``monitor.score.database_url``).
    """
    if targets.database_url is None and targets.parquet_dir is None:
        raise ValueError("monitor.score: set database_url and/or parquet_dir (both are null)")
    version = model_version(model)
    summary = ScoreSummary(input=str(input_path), model=asdict(version))
    reasons: Counter[str] = Counter()
    flagged: Counter[str] = Counter()
    rule = AcceptanceRule(model.schema, acceptance)
    empty_pred = _empty_predictions(model, version)
    empty_rej = pd.DataFrame(
        {c: pd.Series(dtype="int64" if c == "input_row" else "string") for c in REJECT_COLUMNS}
    )
    with ExitStack() as stack:
        sinks: list[Any] = []
        parquet: ParquetSink | None = None
        if targets.parquet_dir is not None:
            tmp = stack.enter_context(atomic_dir(targets.parquet_dir, private=True))
            parquet = ParquetSink(tmp, prediction_columns(model))
            sinks.append(parquet)
        sqls: list[SqlSink] = []
        writer = OrderedWriter()
        stack.callback(_finish, writer, sqls)
        bar = _progress(count_rows(Path(input_path)), progress)
        stack.callback(bar.close)
        for chunk in prefetch(iter_chunks(input_path, model.schema, chunk_rows)):
            checked = check_chunk(chunk, model.schema, offset=summary.rows_in, rule=rule)
            preds = score_rows(model, version, checked.valid) if len(checked.valid) else empty_pred
            if not sqls and targets.database_url is not None:
                from pr2prod.batch.sql_sink import SqlSink

                sample = preds if len(preds) else _typed_sample(empty_pred, checked)
                sqls.append(
                    SqlSink(
                        targets.database_url,
                        targets.table,
                        sample,
                        str(input_path),
                        version.version,
                    )
                )
                sinks.append(sqls[0])
            for sink in sinks:
                writer.submit(sink.write, preds, checked.rejects)
            summary.rows_in += len(chunk)
            summary.rows_scored += len(preds)
            summary.rows_rejected += len(checked.rejects)
            summary.chunks += 1
            reasons.update(checked.rejects["reason"].tolist())
            flagged.update(checked.flags)
            bar.update(len(chunk))
        writer.drain()
        if parquet is not None:
            parquet.close(empty_pred, empty_rej)
    summary.reject_reasons = dict(sorted(reasons.items()))
    summary.flagged = dict(sorted(flagged.items()))
    summary.outputs = {
        "database_url": _redact(targets.database_url),
        "table": targets.table,
        "parquet_dir": str(targets.parquet_dir) if targets.parquet_dir else None,
    }
    assert summary.rows_in == summary.rows_scored + summary.rows_rejected
    return summary


def _finish(writer: OrderedWriter, sqls: list[SqlSink]) -> None:
    """Let queued writes finish (or fail), then release database connections."""
    try:
        writer.drain()
    finally:
        for sql in sqls:
            sql.close()


def _empty_predictions(model: LoadedModel, version: ModelVersion) -> pd.DataFrame:
    cols = prediction_columns(model)
    pred_dtype = "float64" if model.schema.task == "regression" else "int64"
    if model.schema.labels and any(isinstance(v, str) for v in model.schema.labels):
        pred_dtype = "string"
    dtypes = {
        "row_id": "int64",
        "model_name": "string",
        "model_version": "string",
        "prediction": pred_dtype,
    }
    return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, "float64")) for c in cols})


def _typed_sample(empty: pd.DataFrame, checked: Any) -> pd.DataFrame:
    """A zero-row sample whose row_id dtype follows the input (for the table definition)."""
    return empty.assign(row_id=pd.Series(dtype=checked.valid["row_id"].dtype))


def _progress(total: int | None, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="rows", unit_scale=True, desc="score", disable=not enabled)


def _redact(url: str | None) -> str | None:
    """The URL without its password (summaries are committed, logs are shared)."""
    if url is None:
        return None
    import sqlalchemy as sa

    return sa.make_url(url).render_as_string(hide_password=True)
