"""``pr2prod score --engine ray``: score partitioned Parquet on Ray Data, same result as local.

The single-process path (:func:`pr2prod.batch.run.score_table`) reads each file in chunks of
``chunk_rows`` rows and validates every chunk with its first input row as offset. Here the
driver plans exactly those chunks from the Parquet footers (file, first row, rows, offset);
Ray Data runs them through a pool of actors, each loading the artifact once, reading its
chunk (local path or any URL pyarrow opens, e.g. ``s3://``), then applying the same
:func:`~pr2prod.batch.validate.check_chunk` and :func:`~pr2prod.batch.predict.score_rows`.
Same chunks, same rule, same artifact, same numerical envelope: the same predictions,
rejects, row ids and input rows.

Outputs: ``<parquet_dir>/predictions.parquet/part-NNNNN.parquet`` and
``<parquet_dir>/rejects.parquet/part-NNNNN.parquet`` (one part per chunk that has rows,
``pandas.read_parquet`` reads a directory like a file), written by the driver into a
temporary directory renamed on success, owner-only like the local path's; and/or upserts from
the actors into the database, at most one connection per actor (``concurrency``), whose
tables (and SQLite file, owner-only) the driver creates first.
"""

from __future__ import annotations

import json
import tempfile
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from dataclasses import asdict
from itertools import accumulate
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pr2prod import envelope
from pr2prod.batch.parquet_sink import PREDICTIONS_FILE, REJECTS_FILE
from pr2prod.batch.predict import score_rows
from pr2prod.batch.reader import InputError, _check_columns, parquet_files, source_filesystem
from pr2prod.batch.resolve import ModelVersion, model_version
from pr2prod.batch.run import (
    ScoreSummary,
    ScoreTargets,
    _empty_predictions,
    _progress,
    _redact,
    _typed_sample,
)
from pr2prod.batch.s3source import is_s3, s3_endpoint
from pr2prod.batch.validate import REJECT_COLUMNS, check_chunk
from pr2prod.config.acceptance_schema import AcceptanceConfig
from pr2prod.data.acceptance import AcceptanceRule
from pr2prod.data.schema import DataSchema
from pr2prod.fsio import atomic_dir
from pr2prod.models.persist import LoadedModel, load_artifact
from pr2prod.raystart import start_ray

ENGINES = ("local", "ray")
RAY_CLIENT = "ray://"  # Ray Client addresses: the sweep accepts them, Ray Data does not


def plan_chunks(
    source: str, schema: DataSchema, chunk_rows: int, endpoint: str | None = None
) -> list[dict[str, Any]]:
    """The chunks :func:`pr2prod.batch.reader.iter_chunks` yields, as (file, start, rows, offset).

    Each chunk also names the row groups it lies in (``groups``: first and last index).

    Raises:
        InputError: no Parquet there, a file lacks feature columns, or ``chunk_rows < 1``.
    """
    if chunk_rows < 1:
        raise InputError(f"monitor.score.chunk_rows: must be >= 1, got {chunk_rows}")
    fs, files = parquet_files(source, endpoint)
    plan: list[dict[str, Any]] = []
    offset = 0
    for name in files:
        meta = pq.ParquetFile(fs.open_input_file(name)).metadata
        _check_columns(Path(name), list(meta.schema.to_arrow_schema().names), schema)
        ends = list(accumulate(meta.row_group(g).num_rows for g in range(meta.num_row_groups)))
        for start in range(0, meta.num_rows, chunk_rows):
            rows = min(chunk_rows, meta.num_rows - start)
            groups = [bisect_right(ends, start), bisect_right(ends, start + rows - 1)]
            plan.append(
                {
                    "index": len(plan),
                    "path": name,
                    "start": start,
                    "rows": rows,
                    "offset": offset,
                    "groups": groups,
                }
            )
            offset += rows
    return plan


def plan_units(plan: list[dict[str, Any]], max_chunks: int) -> list[list[dict[str, Any]]]:
    """Consecutive chunks of one file that share row groups, read together (at most
    ``max_chunks`` each): a row group is decoded once, not once per chunk that touches it."""
    units: list[list[dict[str, Any]]] = []
    for chunk in plan:
        last = units[-1][-1] if units else None
        if (
            last is not None
            and last["path"] == chunk["path"]
            and chunk["groups"][0] <= last["groups"][1]
            and len(units[-1]) < max(1, max_chunks)
        ):
            units[-1].append(chunk)
        else:
            units.append([chunk])
    return units


def _wanted(pf: pq.ParquetFile, schema: DataSchema) -> list[str]:
    names = list(pf.schema_arrow.names)
    return [c for c in [schema.id_column, *schema.feature_names] if c in names]


def _open(fs: Any, path: str) -> pq.ParquetFile:
    return pq.ParquetFile(fs.open_input_file(path), pre_buffer=False, buffer_size=4 << 20)


def read_chunk(fs: Any, path: str, start: int, rows: int, schema: DataSchema) -> pd.DataFrame:
    """Rows ``[start, start + rows)`` of one Parquet file, the columns the local reader reads."""
    pf = _open(fs, path)
    groups, first, seen = [], None, 0
    for g in range(pf.metadata.num_row_groups):
        n = pf.metadata.row_group(g).num_rows
        if seen + n > start and seen < start + rows:
            groups.append(g)
            first = seen if first is None else first
        seen += n
    table = pf.read_row_groups(groups, columns=_wanted(pf, schema))
    return table.slice(start - (first or 0), rows).to_pandas()


def read_unit(
    fs: Any, unit: list[dict[str, Any]], schema: DataSchema
) -> Iterator[tuple[dict[str, Any], pd.DataFrame]]:
    """Each chunk of ``unit`` (consecutive chunks of one file) with its rows, as
    :func:`read_chunk` gives them, streaming through the unit's row groups once."""
    pf = _open(fs, unit[0]["path"])
    first_group, last_group = unit[0]["groups"][0], unit[-1]["groups"][1]
    meta = pf.metadata
    pos = sum(meta.row_group(g).num_rows for g in range(first_group))  # first buffered row
    pending: list[pa.RecordBatch] = []
    buffered = 0
    todo = iter(unit)
    chunk = next(todo, None)
    batches = pf.iter_batches(
        batch_size=max(c["rows"] for c in unit),
        row_groups=list(range(first_group, last_group + 1)),
        columns=_wanted(pf, schema),
    )
    for batch in batches:
        pending.append(batch)
        buffered += batch.num_rows
        while chunk is not None and pos + buffered >= chunk["start"] + chunk["rows"]:
            table = pa.Table.from_batches(pending)
            yield chunk, table.slice(chunk["start"] - pos, chunk["rows"]).to_pandas()
            end = chunk["start"] + chunk["rows"]
            rest = table.slice(end - pos)  # rows of the next chunks, zero-copy
            pending, buffered, pos = rest.to_batches(), rest.num_rows, end
            chunk = next(todo, None)
        if chunk is None:
            return
    if chunk is not None:
        raise InputError(f"input {unit[0]['path']}: fewer rows than its footer says")


def _ipc(frame: pd.DataFrame) -> bytes:
    sink = pa.BufferOutputStream()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _from_ipc(data: bytes) -> pa.Table:
    return pa.ipc.open_stream(data).read_all()


class ChunkScorer:
    """A Ray Data actor: loads the artifact once, then validates, scores and writes chunks."""

    def __init__(
        self,
        model_files: dict[str, bytes],
        expected_hash: str,
        source: str,
        database: dict[str, Any] | None,
        want_frames: bool,
        acceptance: AcceptanceConfig | None = None,
        endpoint: str | None = None,
        trusted_packages: Sequence[str] = (),
    ) -> None:
        envelope.facts(envelope.apply())  # also pins thread pools to 1 thread
        self._dir = tempfile.TemporaryDirectory(prefix="pr2prod-model-")
        root = Path(self._dir.name)
        for rel, data in model_files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(data)
        self.model = load_artifact(root, trusted_packages=trusted_packages)
        self.version = model_version(self.model)
        if self.version.artifact_hash != expected_hash:
            raise RuntimeError(
                f"artifact {self.version.artifact_hash} arrived on a worker, {expected_hash} sent"
            )
        self.fs = source_filesystem(source, endpoint)[0]  # the driver listed the files
        self.empty = _empty_predictions(self.model, self.version)
        self.sql = None
        if database:  # SQLAlchemy is imported only when a database is written
            from pr2prod.batch.sql_sink import SqlSink

            self.sql = SqlSink(**database)
        self.want_frames = want_frames
        self.rule = AcceptanceRule(self.model.schema, acceptance)  # the local path's rule
        self.node = _node_id()

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        out = []
        for text in batch["unit"]:
            for item, chunk in read_unit(self.fs, json.loads(text), self.model.schema):
                out.append(self._score(item, chunk))
        return pd.DataFrame(out)

    def _score(self, item: dict[str, Any], chunk: pd.DataFrame) -> dict[str, Any]:
        checked = check_chunk(chunk, self.model.schema, offset=int(item["offset"]), rule=self.rule)
        valid = checked.valid
        preds = score_rows(self.model, self.version, valid) if len(valid) else self.empty
        if self.sql is not None:
            self.sql.write(preds, checked.rejects)
        keep = self.want_frames
        return {
            "index": int(item["index"]),
            "rows_in": len(chunk),
            "rows_scored": len(preds),
            "rows_rejected": len(checked.rejects),
            "reasons": json.dumps(Counter(checked.rejects["reason"].tolist())),
            "predictions": _ipc(preds) if keep and len(preds) else b"",
            "rejects": _ipc(checked.rejects) if keep and len(checked.rejects) else b"",
            "node": self.node,
        }


def _node_id() -> str:
    import ray

    return str(ray.get_runtime_context().get_node_id())


def _model_files(model: LoadedModel) -> dict[str, bytes]:
    root = Path(model.path)
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _database(
    targets: ScoreTargets,
    model: LoadedModel,
    version: ModelVersion,
    source: str,
    plan: list[dict[str, Any]],
    acceptance: AcceptanceConfig | None = None,
    endpoint: str | None = None,
) -> dict[str, Any] | None:
    """Create the tables once, on the driver (shaped by the first chunk), before actors write."""
    if targets.database_url is None:
        return None
    empty = _empty_predictions(model, version)
    fs = source_filesystem(source, endpoint)[0]
    first = plan[0]
    chunk = read_chunk(fs, first["path"], first["start"], first["rows"], model.schema)
    checked = check_chunk(chunk, model.schema, 0, AcceptanceRule(model.schema, acceptance))
    head = checked.valid.head(1)
    sample = score_rows(model, version, head) if len(head) else _typed_sample(empty, checked)
    kwargs = {
        "url": _absolute_sqlite(targets.database_url),
        "table": targets.table,
        "sample": sample.head(0),
        "source": source,
        "model_version": version.version,
    }
    from pr2prod.batch.sql_sink import SqlSink

    SqlSink(**kwargs).close()
    return kwargs


def _absolute_sqlite(url: str) -> str:
    """A relative SQLite path made absolute: actors do not share the driver's directory."""
    import sqlalchemy as sa

    parsed = sa.make_url(url)
    db = parsed.database
    if (
        parsed.get_backend_name() != "sqlite"
        or not db
        or db == ":memory:"
        or Path(db).is_absolute()
    ):
        return url
    return parsed.set(database=str(Path(db).resolve())).render_as_string(hide_password=False)


def score_table_ray(
    model: LoadedModel,
    source: str | Path,
    targets: ScoreTargets,
    chunk_rows: int = 100_000,
    progress: bool = True,
    address: str | None = None,
    concurrency: int | None = None,
    num_cpus: int | None = None,
    acceptance: AcceptanceConfig | None = None,
    trusted_packages: Sequence[str] = (),
) -> ScoreSummary:
    """Score Parquet ``source`` (file, directory or URL) on Ray, as :func:`score_table` would.

    ``concurrency`` actors (default: every CPU of the cluster) score chunks; each holds at
    most one database connection. ``trusted_packages``: the team's own packages the artifact
    may hold classes of (the driver loaded it with the same trust).

    Raises:
        ValueError: no target given, or a Ray Client address; InputError: not Parquet,
            missing columns, S3 refused the read.
    """
    if targets.database_url is None and targets.parquet_dir is None:
        raise ValueError("monitor.score: set database_url and/or parquet_dir (both are null)")
    if address and address.startswith(RAY_CLIENT):
        raise ValueError(
            f"--address {address}: Ray Data cannot run through Ray Client ({RAY_CLIENT}...); give "
            "the cluster's address as host:port (the head's GCS port, 6379 by default) and run "
            "the command on a machine that can reach every node, e.g. the head itself"
        )
    import ray

    text = str(source)
    endpoint = s3_endpoint(text) if is_s3(text) else None  # resolved once, sent to every actor
    plan = plan_chunks(text, model.schema, chunk_rows, endpoint)
    version = model_version(model)
    summary = ScoreSummary(input=text, model=asdict(version))
    database = _database(targets, model, version, text, plan, acceptance, endpoint)
    start_ray(address, num_cpus=num_cpus, logging_level="warning")
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.print_on_execution_start = False
        ctx.wait_for_min_actors_s = 600  # every actor loaded before the first chunk: all nodes work
        workers = concurrency or max(1, int(ray.cluster_resources().get("CPU", 1)))
        workers = min(workers, len(plan))
        # enough units for every actor; a unit's row groups are decoded once
        units = [{"unit": json.dumps(u)} for u in plan_units(plan, -(-len(plan) // workers))]
        ds = ray.data.from_items(units, override_num_blocks=len(units)).map_batches(
            ChunkScorer,
            fn_constructor_kwargs={
                "model_files": _model_files(model),
                "expected_hash": version.artifact_hash,
                "source": text,
                "database": database,
                "want_frames": targets.parquet_dir is not None,
                "acceptance": acceptance,
                "endpoint": endpoint,
                "trusted_packages": tuple(trusted_packages),
            },
            batch_size=1,
            batch_format="pandas",
            # two units queued per actor at most: units spread over every node
            compute=ray.data.ActorPoolStrategy(size=workers, max_tasks_in_flight_per_actor=2),
            num_cpus=1,
        )
        total = sum(c["rows"] for c in plan)
        nodes = _collect(ds, model, version, targets, summary, progress, len(plan), total)
    finally:
        ray.shutdown()
    summary.outputs = {
        "database_url": _redact(targets.database_url),
        "table": targets.table,
        "parquet_dir": str(targets.parquet_dir) if targets.parquet_dir else None,
        "engine": "ray",
        "actors": workers,
        "chunks_per_node": dict(sorted(nodes.items())),  # by Ray node id
    }
    assert summary.rows_in == summary.rows_scored + summary.rows_rejected
    return summary


def _collect(
    ds: Any,
    model: LoadedModel,
    version: ModelVersion,
    targets: ScoreTargets,
    summary: ScoreSummary,
    progress: bool,
    n_chunks: int,
    total_rows: int,
) -> Counter[str]:
    """Stream the actors' results: counts, and Parquet parts named by chunk index."""
    reasons: Counter[str] = Counter()
    nodes: Counter[str] = Counter()
    bar = _progress(total_rows, progress)
    out = atomic_dir(targets.parquet_dir, private=True) if targets.parquet_dir else nullcontext()
    with out as tmp:  # scored rows: owner-only, like the local path
        writers = {}
        if tmp is not None:
            writers = {
                PREDICTIONS_FILE: _PartWriter(Path(tmp) / PREDICTIONS_FILE),
                REJECTS_FILE: _PartWriter(Path(tmp) / REJECTS_FILE),
            }
        try:
            for batch in ds.iter_batches(batch_size=None, batch_format="pandas"):
                for row in batch.to_dict("records"):
                    if writers:
                        writers[PREDICTIONS_FILE].write(row["index"], row["predictions"])
                        writers[REJECTS_FILE].write(row["index"], row["rejects"])
                    summary.rows_in += int(row["rows_in"])
                    summary.rows_scored += int(row["rows_scored"])
                    summary.rows_rejected += int(row["rows_rejected"])
                    summary.chunks += 1
                    reasons.update(json.loads(row["reasons"]))
                    nodes[str(row["node"])] += 1
                    bar.update(int(row["rows_in"]))
            if summary.chunks != n_chunks:
                raise RuntimeError(f"ray: {summary.chunks} of {n_chunks} chunks came back")
            if writers:
                empty_rej = pd.DataFrame(
                    {
                        c: pd.Series(dtype="int64" if c == "input_row" else "string")
                        for c in REJECT_COLUMNS
                    }
                )
                writers[PREDICTIONS_FILE].close(_empty_predictions(model, version))
                writers[REJECTS_FILE].close(empty_rej)
        finally:
            bar.close()
    summary.reject_reasons = dict(sorted(reasons.items()))
    return nodes


class _PartWriter:
    """One Parquet file per chunk, ``part-<chunk index>.parquet``, one schema for all parts."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True)
        self.directory = directory
        self.schema: pa.Schema | None = None

    def write(self, index: int, data: bytes) -> None:
        if not data:
            return
        table = _from_ipc(data)
        if self.schema is None:
            self.schema = table.schema
        elif table.schema != self.schema:
            table = table.cast(self.schema)
        pq.write_table(table, self.directory / f"part-{index:05d}.parquet", compression="zstd")

    def close(self, empty: pd.DataFrame) -> None:
        """A directory that got no rows gets one empty part with its columns."""
        if self.schema is None:
            pq.write_table(
                pa.Table.from_pandas(empty, preserve_index=False),
                self.directory / "part-00000.parquet",
            )
