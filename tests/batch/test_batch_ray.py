"""``pr2prod score --engine ray`` on a real 2-node Ray cluster equals ``--engine local``.

Same partitioned Parquet input (three files, two in a sub-directory, several row groups,
rows the batch rule rejects), same artifact: the predictions, the rejects (input row, row
id, reason) and the database rows must be identical, and the chunks must have been scored
on both nodes. Ray runs loopback-only inside fresh network + PID namespaces
(``tests/_netns.py``).
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _netns import run_in_netns
from _project import BIN

PR2PROD = shlex.quote(str(BIN / "pr2prod"))
RAY = shlex.quote(str(Path(sys.executable).parent / "ray"))
CHUNK_ROWS = 40  # several chunks per file, so both nodes get work


def partitioned_input(project: Path, dest: Path) -> dict[int, str]:
    """The test split twice over as three Parquet files; returns bad input rows -> reason."""
    df = pd.read_parquet(project / "data/prepared/test.parquet").drop(columns="target")
    df = pd.concat([df, df], ignore_index=True)
    df["row_id"] = np.arange(len(df), dtype="float64") + 1000  # floats: a null id is possible
    bad = {
        3: "mean_radius: missing (not nullable)",
        17: "row_id: duplicate within the input",
        50: "row_id: missing",
        90: "mean_area: infinite",
    }
    df.loc[3, "mean_radius"] = np.nan
    df.loc[17, "row_id"] = df.loc[16, "row_id"]
    df.loc[50, "row_id"] = np.nan
    df.loc[90, "mean_area"] = np.inf
    n = len(df)
    (dest / "a").mkdir(parents=True)
    df.iloc[: n // 3].to_parquet(dest / "a/0.parquet", row_group_size=25)
    df.iloc[n // 3 : 2 * n // 3].to_parquet(dest / "a/1.parquet")
    rest = df.iloc[2 * n // 3 :].astype({"mean_texture": "string"})  # text: parsed, one not
    rest.loc[rest.index[5], "mean_texture"] = "abc"
    bad[2 * n // 3 + 5] = "mean_texture: not a number"
    rest.to_parquet(dest / "z.parquet")
    (dest / "_SUCCESS").write_text("", encoding="utf-8")  # skipped, as Spark writes it
    return bad


def read_sql(url: str, query: str) -> pd.DataFrame:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return pd.read_sql(sa.text(query), conn)
    finally:
        engine.dispose()


def score_cmd(project: Path, name: str, extra: str = "") -> str:
    return (
        f"{PR2PROD} score --no-progress --params {project / 'params.yaml'} "
        f"--model {project / 'models/model'} --input input --chunk-rows {CHUNK_ROWS} "
        f"--db sqlite:///{name}.db --parquet out_{name} --summary {name}.json {extra}"
    )


def test_planned_chunks_are_the_local_readers_chunks(trained_model_dir: Path, tmp_path: Path):
    """Without Ray: the driver's plan + read_chunk / read_unit give what iter_chunks yields."""
    from pr2prod.batch.ray_engine import plan_chunks, plan_units, read_chunk, read_unit
    from pr2prod.batch.reader import iter_chunks, parquet_files
    from pr2prod.models.persist import load_artifact

    schema = load_artifact(trained_model_dir).schema
    partitioned_input(trained_model_dir.parents[1], tmp_path / "input")
    plan = plan_chunks(str(tmp_path / "input"), schema, CHUNK_ROWS)
    fs = parquet_files(tmp_path / "input")[0]
    local = list(iter_chunks(tmp_path / "input", schema, CHUNK_ROWS))
    assert [Path(c["path"]).name for c in plan if c["start"] == 0] == [
        "0.parquet",
        "1.parquet",
        "z.parquet",
    ]
    assert len(plan) == len(local)
    offset = 0
    for item, want in zip(plan, local, strict=True):
        got = read_chunk(fs, item["path"], item["start"], item["rows"], schema)
        pd.testing.assert_frame_equal(got, want, check_exact=True)
        assert item["offset"] == offset
        offset += len(want)
    # read units (chunks sharing row groups, read together): each chunk exactly as above,
    # whatever the cap on chunks per unit; file 0 has 25-row groups, so 40-row chunks chain
    for cap in (1, 2, 3, len(plan)):
        units = plan_units(plan, cap)
        assert all(len(u) <= cap for u in units)
        got = {item["index"]: rows for u in units for item, rows in read_unit(fs, u, schema)}
        assert sorted(got) == list(range(len(local)))
        for index, want in enumerate(local):
            pd.testing.assert_frame_equal(got[index], want, check_exact=True)
    assert len(plan_units(plan, len(plan))) < len(plan)  # some row groups are shared


@pytest.mark.slow
@pytest.mark.ray
def test_ray_two_nodes_score_exactly_like_local(
    netns, trained_project: Path, short_tmp: Path
) -> None:
    work = short_tmp / "w"
    work.mkdir()
    bad = partitioned_input(trained_project, work / "input")
    port = 6380  # a fresh network namespace: every port is free
    common = "--node-ip-address=127.0.0.1 --num-cpus=1 --num-gpus=0 --disable-usage-stats"
    script = f"""
{score_cmd(trained_project, "local")}
trap '{RAY} stop --force >/dev/null 2>&1 || true' EXIT
timeout 60 {RAY} start --head --port={port} --include-dashboard=false {common} \
  --temp-dir={short_tmp / "h"}
timeout 60 {RAY} start --address=127.0.0.1:{port} {common} --temp-dir={short_tmp / "k"}
timeout 120 {score_cmd(trained_project, "ray", f"--engine ray --address 127.0.0.1:{port}")}
"""
    proc = run_in_netns(netns, script, work)
    assert proc.returncode == 0, f"{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"

    local = json.loads((work / "local.json").read_text(encoding="utf-8"))
    ray = json.loads((work / "ray.json").read_text(encoding="utf-8"))
    assert ray["outputs"]["engine"] == "ray"
    assert len(ray["outputs"]["chunks_per_node"]) == 2, "chunks did not land on both nodes"
    assert ray["chunks"] == local["chunks"] > 4
    for key in ("rows_in", "rows_scored", "rows_rejected", "reject_reasons", "model"):
        assert ray[key] == local[key], key

    rejects = pd.read_parquet(work / "out_local/rejects.parquet")
    assert dict(zip(rejects["input_row"], rejects["reason"], strict=True)) == bad
    for name in ("predictions", "rejects"):
        want = pd.read_parquet(work / f"out_local/{name}.parquet")
        got = pd.read_parquet(work / f"out_ray/{name}.parquet")  # a directory of parts
        pd.testing.assert_frame_equal(got, want, check_exact=True)  # ids, values, order
    assert len(want) == len(bad)

    for table, key in (("predictions", "row_id"), ("predictions_rejects", "input_row")):
        query = f"SELECT * FROM {table} ORDER BY {key}"
        want = read_sql(f"sqlite:///{work / 'local.db'}", query)
        got = read_sql(f"sqlite:///{work / 'ray.db'}", query)
        pd.testing.assert_frame_equal(got, want, check_exact=True)


def _compare_outputs(work: Path, name: str, want: str = "local") -> None:
    """``out_<name>`` and ``<name>.json`` equal the single-process run's, exactly."""
    local = json.loads((work / f"{want}.json").read_text(encoding="utf-8"))
    ray = json.loads((work / f"{name}.json").read_text(encoding="utf-8"))
    assert ray["outputs"]["engine"] == "ray"
    assert ray["chunks"] == local["chunks"] > 4
    for key in ("rows_in", "rows_scored", "rows_rejected", "reject_reasons", "model"):
        assert ray[key] == local[key], key
    for table in ("predictions", "rejects"):
        want_df = pd.read_parquet(work / f"out_{want}/{table}.parquet")
        got = pd.read_parquet(work / f"out_{name}/{table}.parquet")
        pd.testing.assert_frame_equal(got, want_df, check_exact=True)


def test_ray_client_address_is_refused_naming_the_option(trained_project: Path, tmp_path: Path):
    """Ray Data needs a driver inside the cluster: ``ray://`` (Ray Client) fails inside Ray
    Data's executor (Ray 2.60), so the command refuses it up front, saying what to give."""
    from _project import run

    partitioned_input(trained_project, tmp_path / "input")
    cmd = score_cmd(trained_project, "client", "--engine ray --address ray://127.0.0.1:10001")
    proc = run(shlex.split(cmd), tmp_path, check=False, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    message = proc.stdout + proc.stderr
    assert "--address ray://127.0.0.1:10001: Ray Data cannot run through Ray Client" in message
    assert "host:port" in message and "Traceback" not in message
    assert not (tmp_path / "out_client").exists()


S3_PORT = 5077
UPLOAD = """
import pathlib, sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1])
s3.create_bucket(Bucket="tables")
for p in sorted(pathlib.Path("input").rglob("*")):
    if p.is_file():
        s3.upload_file(str(p), "tables", "batch/" + p.relative_to("input").as_posix())
"""


@pytest.mark.slow
@pytest.mark.ray
def test_s3_input_on_a_cluster_scores_exactly_like_local(
    netns, trained_project: Path, short_tmp: Path
) -> None:
    """``--input s3://...`` on a Ray node: the S3 API server on loopback, endpoint from DVC.

    The command and the node get credentials from the environment only; the endpoint comes
    from the project's DVC remote on the same bucket (no ``AWS_ENDPOINT_URL``).
    """
    work = short_tmp / "w"
    work.mkdir()
    partitioned_input(trained_project, work / "input")
    (work / "upload.py").write_text(UPLOAD, encoding="utf-8")
    endpoint = f"http://127.0.0.1:{S3_PORT}"
    py = shlex.quote(sys.executable)
    port = 6380
    common = "--node-ip-address=127.0.0.1 --num-cpus=1 --num-gpus=0 --disable-usage-stats"
    ray_s3 = f"--engine ray --address 127.0.0.1:{port}"
    script = f"""
export AWS_ACCESS_KEY_ID=team-key AWS_SECRET_ACCESS_KEY=team-secret AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE="$PWD/no-aws-config" AWS_SHARED_CREDENTIALS_FILE="$PWD/no-aws-creds"
export AWS_EC2_METADATA_DISABLED=true
unset AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_PROFILE AWS_SESSION_TOKEN
{shlex.quote(str(BIN / "moto_server"))} -H 127.0.0.1 -p {S3_PORT} >moto.log 2>&1 &
trap '{RAY} stop --force >/dev/null 2>&1 || true; kill %1 || true' EXIT
for _ in $(seq 1 100); do
  if {py} -c "import urllib.request as u; u.urlopen('{endpoint}')" 2>/dev/null; then break; fi
  sleep 0.2
done
{py} upload.py {endpoint}
dvc init -q --no-scm
dvc remote add -q -d team s3://tables/dvc
dvc remote modify team endpointurl {endpoint}
{score_cmd(trained_project, "local")}
timeout 60 {RAY} start --head --port={port} --include-dashboard=false {common} \
  --temp-dir={short_tmp / "h"}
timeout 150 {score_cmd(trained_project, "s3", ray_s3).replace("--input input", "--input s3://tables/batch")}
"""
    proc = run_in_netns(netns, script, work)
    assert proc.returncode == 0, f"{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
    _compare_outputs(work, "s3")
    summary = json.loads((work / "s3.json").read_text(encoding="utf-8"))
    assert summary["input"] == "s3://tables/batch"
