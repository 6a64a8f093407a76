"""Serving throughput and latency: pr2prod's service vs a plain BentoML service vs in-process.

One run measures, on this machine and over loopback only:
  (a) pr2prod's service (`bentoml serve pr2prod.serving.service:Pr2ProdService`, the config
      in params.yaml: adaptive batching of /predict, prediction log on) - and, to show what
      batching buys, the same service with batching off;
  (b) a plain BentoML service written as BentoML's docs show: a joblib-loaded pipeline, one
      `@bentoml.api`, no batching (written to a temp dir; the pipeline is the same artifact),
      as written and with BentoML's access log switched off (as pr2prod's config does);
  (b') a BentoML endpoint that does nothing (async, `dict` in, `{}` out, access log off):
      the ceiling of one BentoML worker on this machine, whatever the model;
  (c) in-process predict of the same pipeline (the limit): the native pipeline on a one-row
      DataFrame, and pr2prod's compiled path;
plus /predict_batch rows/s. Single-record requests/s and p50/p99 latency at 16 and 64
concurrent keep-alive clients (a small asyncio HTTP/1.1 client, so the load generator costs
little CPU next to the servers on the same cores). Saves benchmarks/results/serving.json.

    python benchmarks/serving.py [--model models/model] [--seconds 8]

The prediction log's cost (``prediction_log`` in the JSON; issue 18 §4): this code, which writes
a request's lines before answering it (group commit, bounded pending bytes), against the
previous code (``--baseline-src``: a ``src/`` directory, or a git ref exported with ``git
archive``), both served in the same run, interleaved: ``/predict`` req/s at 16 clients,
``/predict_batch`` rows/s with 4 clients posting 1,000-record batches (and the worker's peak
RSS meanwhile), and a ``kill -9`` of the worker under that batch load (records of requests
answered 200 that are missing from the log). Ratios are this code / the baseline.
``--log-only`` measures only this part and keeps the rest of serving.json.

    python benchmarks/serving.py --baseline-src e281c52 --log-only --seconds 8
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import httpx
import numpy as np
import psutil

from pr2prod.config.serve_schema import ServeConfig
from pr2prod.serving.settings import serve_config_json

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RESULTS = ROOT / "benchmarks" / "results" / "serving.json"
HOST = "127.0.0.1"
CLIENTS = (16, 64)

PLAIN_SERVICE = """
import bentoml
import joblib
import pandas as pd


@bentoml.service{decorator_args}
class PlainService:
    def __init__(self) -> None:
        self.model = joblib.load("{model}")

    @bentoml.api
    def predict(self, record: dict) -> dict:
        df = pd.DataFrame([record])
        proba = self.model.predict_proba(df)[0]
        return {{"label": self.model.predict(df)[0].item(),
                 "probabilities": dict(zip(map(str, self.model.classes_), proba.tolist()))}}
"""

NOOP_SERVICE = """
import bentoml


@bentoml.service(logging={"access": {"enabled": False}})
class NoopService:
    @bentoml.api
    async def predict(self, record: dict) -> dict:
        return {}
"""


async def _client(req: bytes, deadline: float, lats: list[float], errors: list[int]) -> None:
    reader, writer = await asyncio.open_connection(HOST, int(req.split(b"\r\n")[1].split(b":")[2]))
    try:
        while (t0 := time.perf_counter()) < deadline:
            writer.write(req)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            lats.append(time.perf_counter() - t0)
            if head[9:12] != b"200":
                errors.append(int(head[9:12]))
    finally:
        writer.close()


def load(port: int, path: str, body: bytes, clients: int, seconds: float) -> dict:
    """Closed-loop load: ``clients`` connections, each sending as soon as it has an answer."""
    req = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body

    async def main() -> tuple[list[float], list[int], float]:
        lats: list[float] = []
        errors: list[int] = []
        start = time.perf_counter()
        await asyncio.gather(*(_client(req, start + seconds, lats, errors) for _ in range(clients)))
        return lats, errors, time.perf_counter() - start

    lats, errors, wall = asyncio.run(main())
    ms = np.array(lats) * 1000
    return {
        "clients": clients,
        "requests": len(ms),
        "req_per_s": round(len(ms) / wall, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "errors": len(errors),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class Served:
    """A `bentoml serve` process for the duration of a ``with`` block."""

    def __init__(self, target: str, cwd: Path, args: list[str], env: dict[str, str]) -> None:
        self.port = free_port()
        self.log = open(cwd / f"server-{self.port}.log", "w")  # noqa: SIM115
        cmd = [
            str(BIN / "bentoml"),
            "serve",
            target,
            "--host",
            HOST,
            "--port",
            str(self.port),
            *args,
        ]
        self.proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env={**os.environ, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def __enter__(self) -> Served:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited; see {self.log.name}")
            try:
                if httpx.get(f"http://{HOST}:{self.port}/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"server not ready; see {self.log.name}")

    def __exit__(self, *exc: object) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(30)
        self.log.close()


def measure(
    served: Served, body: bytes, seconds: float, batch_body: bytes | None, batch_rows: int
) -> dict:
    load(served.port, "/predict", body, 16, 1.0)  # warm-up (and batching optimiser training)
    out: dict = {"predict": [load(served.port, "/predict", body, c, seconds) for c in CLIENTS]}
    if batch_body is not None:
        r = load(served.port, "/predict_batch", batch_body, 4, seconds)
        out["predict_batch"] = {
            **r,
            "rows_per_request": batch_rows,
            "rows_per_s": round(r["req_per_s"] * batch_rows, 1),
        }
    return out


LOG_ROWS = 1000
LOG_CLIENTS = 4


def _worker(served: Served) -> psutil.Process:
    procs = psutil.Process(served.proc.pid).children(recursive=True)
    (worker,) = [p for p in procs if "_bentoml_impl.worker.service" in " ".join(p.cmdline())]
    return worker


def batch_load_rss(served: Served, body: bytes, seconds: float) -> dict:
    """``/predict_batch`` of ``LOG_ROWS``-record bodies from ``LOG_CLIENTS`` clients, with the
    worker's RSS sampled every 0.1 s."""
    worker = _worker(served)
    ready = worker.memory_info().rss
    peak, done = [ready], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], worker.memory_info().rss)
            done.wait(0.1)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        r = load(served.port, "/predict_batch", body, LOG_CLIENTS, seconds)
    finally:
        done.set()
        sampler.join()
    return {
        **r,
        "rows_per_request": LOG_ROWS,
        "rows_per_s": round(r["req_per_s"] * LOG_ROWS, 1),
        "worker_rss_mib_ready": round(ready / 2**20, 1),
        "worker_rss_mib_peak": round(peak[0] / 2**20, 1),
    }


def kill9_under_batch_load(served: Served, body: bytes, log: Path, after: int) -> dict:
    """Kill -9 the worker once ``after`` batch requests were answered; count the records of
    requests answered 200 that are not in the log."""
    from pr2prod.logrecord import LogReadStats, read_records

    answered: list[str] = []
    lock = threading.Lock()
    worker = _worker(served)

    def client(k: int) -> None:
        headers = {"content-type": "application/json"}
        with httpx.Client(base_url=f"http://{HOST}:{served.port}", timeout=60) as c:
            for i in range(4 * after):
                rid = f"k{k}-{i}"
                try:
                    r = c.post(
                        "/predict_batch", content=body, headers={**headers, "x-request-id": rid}
                    )
                except httpx.HTTPError:
                    return
                if r.status_code != 200:
                    return
                with lock:
                    answered.append(rid)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(LOG_CLIENTS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 120
    while len(answered) < after and time.monotonic() < deadline:
        time.sleep(0.02)
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    with lock:
        answered_at_kill = list(answered)
    for t in threads:
        t.join(300)
    stats = LogReadStats()
    logged = Counter(r.request_id for r in read_records(log, stats))
    lost = sum(LOG_ROWS - min(logged[rid], LOG_ROWS) for rid in answered_at_kill)
    return {
        "requests_answered_before_kill": len(answered_at_kill),
        "records_answered_before_kill": len(answered_at_kill) * LOG_ROWS,
        "answered_records_lost": lost,
        "answered_requests_lost": sum(logged[rid] < LOG_ROWS for rid in answered_at_kill),
        "bad_lines": stats.bad_lines,
    }


def _baseline_src(given: str, tmp: Path) -> tuple[Path, str]:
    """A ``src/`` directory as given, or the ``src/`` of a git ref (``git archive``)."""
    if Path(given).is_dir():
        return Path(given).resolve(), given
    commit = subprocess.run(
        ["git", "rev-parse", given], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()
    dest = tmp / "baseline"
    dest.mkdir()
    archive = subprocess.run(
        ["git", "archive", commit, "src"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest / "src", commit


def prediction_log_cost(
    opts: argparse.Namespace, cfg: ServeConfig, body: bytes, big_body: bytes
) -> dict:
    """This code's write-before-answer log against ``--baseline-src``'s, same run."""
    out: dict = {
        "note": (
            "2 shared cores, other jobs running (see load averages): ratios within ~10 % are "
            "noise; one short run"
        ),
        "load_avg_at_start": os.getloadavg(),
    }
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        env = {"BENTOML_HOME": str(tmp / "bentoml"), "BENTOML_DO_NOT_TRACK": "true"}
        variants = {"write_before_answer": (ROOT / "src", "working tree")}
        if opts.baseline_src:
            variants["baseline"] = _baseline_src(opts.baseline_src, tmp)
        out["variants"] = {k: v[1] for k, v in variants.items()}
        rounds: dict[str, list[dict]] = {k: [] for k in variants}
        for rnd in range(opts.log_rounds):
            for name, (src, _) in variants.items():
                log = tmp / f"{name}-{rnd}.jsonl"
                serve = json.loads(serve_config_json(cfg))
                serve["prediction_log"]["path"] = str(log)
                serve["workers"] = 1
                if name == "baseline":  # a key the previous schema does not know
                    serve["prediction_log"].pop("max_pending_bytes", None)
                args = [
                    "--arg",
                    f"model_dir={opts.model.resolve()}",
                    "--arg",
                    f"serve_config={json.dumps(serve)}",
                ]
                with Served(
                    "pr2prod.serving.service:Pr2ProdService",
                    tmp,
                    args,
                    {**env, "PYTHONPATH": str(src)},
                ) as s:
                    load(s.port, "/predict", body, 16, 1.0)  # warm-up
                    point = {
                        "predict_16_clients": load(s.port, "/predict", body, 16, opts.seconds),
                        "predict_batch_1000_rows": batch_load_rss(s, big_body, opts.seconds),
                        "kill_9": kill9_under_batch_load(s, big_body, log, after=8),
                    }
                rounds[name].append(point)
                print(name, rnd, json.dumps(point))
    for name, points in rounds.items():
        out[name] = {
            "predict_req_per_s": _median(p["predict_16_clients"]["req_per_s"] for p in points),
            "predict_p99_ms": _median(p["predict_16_clients"]["p99_ms"] for p in points),
            "predict_batch_rows_per_s": _median(
                p["predict_batch_1000_rows"]["rows_per_s"] for p in points
            ),
            "worker_rss_mib_ready": max(
                p["predict_batch_1000_rows"]["worker_rss_mib_ready"] for p in points
            ),
            "worker_rss_mib_peak": max(
                p["predict_batch_1000_rows"]["worker_rss_mib_peak"] for p in points
            ),
            "kill_9_answered_records_lost": sum(
                p["kill_9"]["answered_records_lost"] for p in points
            ),
            "kill_9_records_answered_before_kill": sum(
                p["kill_9"]["records_answered_before_kill"] for p in points
            ),
            "rounds": points,
        }
    if "baseline" in out:
        new, old = out["write_before_answer"], out["baseline"]
        out["ratios_vs_baseline"] = {
            "predict_req_per_s": round(new["predict_req_per_s"] / old["predict_req_per_s"], 3),
            "predict_p99_ms": round(new["predict_p99_ms"] / old["predict_p99_ms"], 3),
            "predict_batch_rows_per_s": round(
                new["predict_batch_rows_per_s"] / old["predict_batch_rows_per_s"], 3
            ),
            "worker_rss_mib_peak": round(
                new["worker_rss_mib_peak"] / old["worker_rss_mib_peak"], 3
            ),
        }
    out["load_avg_at_end"] = os.getloadavg()
    return out


def _median(values: Iterable[float]) -> float:
    return round(float(np.median(list(values))), 1)


def in_process(model_dir: Path, record: dict, seconds: float) -> dict:
    import pandas as pd

    from pr2prod.serving.predictor import Predictor

    predictor = Predictor.from_dir(model_dir)
    pipe = predictor.model.pipeline

    def native() -> None:
        df = pd.DataFrame([record])
        pipe.predict(df), pipe.predict_proba(df)

    def compiled() -> None:
        predictor.score(predictor.to_array([record])).output(0)

    out = {}
    for name, fn in (("native_pipeline", native), ("pr2prod_compiled", compiled)):
        fn()
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / 2:
            fn()
            n += 1
        wall = time.perf_counter() - start
        out[name] = {"calls_per_s": round(n / wall, 1), "mean_ms": round(wall / n * 1000, 3)}
    out["parity"] = predictor.parity
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=ROOT / "models" / "model")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--batch-rows", type=int, default=100)
    ap.add_argument("--test-data", type=Path, default=ROOT / "data" / "prepared" / "test.parquet")
    ap.add_argument(
        "--baseline-src",
        help="the previous code for the prediction-log comparison: a src/ dir or a git ref",
    )
    ap.add_argument("--log-rounds", type=int, default=1, help="interleaved rounds of it")
    ap.add_argument(
        "--log-only", action="store_true", help="measure only the prediction log's cost"
    )
    opts = ap.parse_args()
    if not (opts.model / "model.skops").exists():
        sys.exit(f"{opts.model}: no model artifact; run `dvc repro` first")

    import joblib
    import pandas as pd

    from pr2prod.config import load_params
    from pr2prod.models.persist import load_artifact

    artifact = load_artifact(opts.model)
    rows = pd.read_parquet(opts.test_data)[artifact.schema.feature_names].to_dict("records")
    record = rows[0]
    body = json.dumps({"record": record}).encode()
    batch = [rows[i % len(rows)] for i in range(opts.batch_rows)]
    batch_body = json.dumps({"records": batch}).encode()
    cfg = load_params(ROOT / "params.yaml").serve
    big_body = json.dumps({"records": [rows[i % len(rows)] for i in range(LOG_ROWS)]}).encode()
    if opts.log_only:
        results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        results["prediction_log"] = prediction_log_cost(opts, cfg, body, big_body)
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
        report_log(results["prediction_log"])
        return
    results: dict = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_avg_at_start": os.getloadavg(),
        },
        "model": artifact.name,
        "seconds_per_point": opts.seconds,
    }
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        env = {"BENTOML_HOME": str(tmp / "bentoml"), "BENTOML_DO_NOT_TRACK": "true"}
        variants = {
            "pr2prod": cfg,
            "pr2prod_no_batching": replace(cfg, batching=replace(cfg.batching, enabled=False)),
        }
        for name, variant in variants.items():
            variant = replace(
                variant,
                prediction_log=replace(variant.prediction_log, path=str(tmp / f"{name}.jsonl")),
            )
            args = [
                "--arg",
                f"model_dir={opts.model.resolve()}",
                "--arg",
                f"serve_config={serve_config_json(variant)}",
            ]
            with Served("pr2prod.serving.service:Pr2ProdService", tmp, args, env) as s:
                results[name] = measure(s, body, opts.seconds, batch_body, opts.batch_rows)
            print(name, json.dumps(results[name]))
        joblib.dump(artifact.pipeline, tmp / "model.joblib")
        plain = {
            "plain_bentoml": "",
            "plain_bentoml_no_access_log": ('(logging={"access": {"enabled": False}})'),
        }
        for name, decorator_args in plain.items():
            (tmp / f"{name}.py").write_text(
                textwrap.dedent(
                    PLAIN_SERVICE.format(model=tmp / "model.joblib", decorator_args=decorator_args)
                )
            )
            with Served(f"{name}:PlainService", tmp, [], env) as s:
                results[name] = measure(s, body, opts.seconds, None, 0)
            print(name, json.dumps(results[name]))
        (tmp / "bentoml_noop.py").write_text(textwrap.dedent(NOOP_SERVICE))
        with Served("bentoml_noop:NoopService", tmp, [], env) as s:
            results["bentoml_noop"] = measure(s, body, opts.seconds, None, 0)
        print("bentoml_noop", json.dumps(results["bentoml_noop"]))
    results["prediction_log"] = prediction_log_cost(opts, cfg, body, big_body)
    results["in_process"] = in_process(opts.model, record, opts.seconds)
    results["ratios"] = ratios(results)
    results["config"] = json.loads(serve_config_json(cfg))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    report(results)
    report_log(results["prediction_log"])


def report_log(r: dict) -> None:
    for name in ("write_before_answer", "baseline"):
        if name in r:
            v = r[name]
            print(
                f"prediction log, {name}: /predict {v['predict_req_per_s']} req/s (16 clients), "
                f"/predict_batch {v['predict_batch_rows_per_s']} rows/s, worker RSS "
                f"{v['worker_rss_mib_ready']} -> peak {v['worker_rss_mib_peak']} MiB, kill -9 lost "
                f"{v['kill_9_answered_records_lost']} of "
                f"{v['kill_9_records_answered_before_kill']} answered records"
            )
    if "ratios_vs_baseline" in r:
        print(f"ratios vs baseline: {r['ratios_vs_baseline']}")


def ratios(r: dict) -> dict:
    out = {}
    for i, c in enumerate(CLIENTS):
        a, b = r["pr2prod"]["predict"][i], r["plain_bentoml"]["predict"][i]
        nb = r["pr2prod_no_batching"]["predict"][i]
        quiet = r["plain_bentoml_no_access_log"]["predict"][i]
        noop = r["bentoml_noop"]["predict"][i]
        out[f"c{c}"] = {
            "throughput_vs_plain": round(a["req_per_s"] / b["req_per_s"], 2),
            "p99_vs_plain": round(a["p99_ms"] / b["p99_ms"], 2),
            "batching_gain": round(a["req_per_s"] / nb["req_per_s"], 2),
            "throughput_vs_plain_no_access_log": round(a["req_per_s"] / quiet["req_per_s"], 2),
            "p99_vs_plain_no_access_log": round(a["p99_ms"] / quiet["p99_ms"], 2),
            "throughput_vs_noop_endpoint": round(a["req_per_s"] / noop["req_per_s"], 2),
            "plain_vs_noop_endpoint": round(b["req_per_s"] / noop["req_per_s"], 2),
            "share_of_in_process_compiled": round(
                a["req_per_s"] / r["in_process"]["pr2prod_compiled"]["calls_per_s"], 3
            ),
        }
    return out


def report(r: dict) -> None:
    print(f"\n{'variant':24}{'clients':>8}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    variants = (
        "pr2prod",
        "pr2prod_no_batching",
        "plain_bentoml",
        "plain_bentoml_no_access_log",
        "bentoml_noop",
    )
    for name in variants:
        for p in r[name]["predict"]:
            print(
                f"{name:24}{p['clients']:>8}{p['req_per_s']:>10}{p['p50_ms']:>10}"
                f"{p['p99_ms']:>10}{p['errors']:>8}"
            )
    for name in ("native_pipeline", "pr2prod_compiled"):
        ip = r["in_process"][name]
        print(f"in-process {name:24} {ip['calls_per_s']:>10} calls/s ({ip['mean_ms']} ms)")
    for name in ("pr2prod", "pr2prod_no_batching"):
        pb = r[name]["predict_batch"]
        print(
            f"{name} /predict_batch: {pb['rows_per_s']} rows/s "
            f"({pb['rows_per_request']} rows/request, 4 clients, p99 {pb['p99_ms']} ms)"
        )
    for c, q in r["ratios"].items():
        print(
            f"{c}: pr2prod/plain throughput x{q['throughput_vs_plain']}, p99 ratio "
            f"{q['p99_vs_plain']}, batching gain x{q['batching_gain']}; vs plain with access "
            f"log off x{q['throughput_vs_plain_no_access_log']}, p99 ratio "
            f"{q['p99_vs_plain_no_access_log']}; vs a do-nothing BentoML endpoint "
            f"x{q['throughput_vs_noop_endpoint']} (plain: x{q['plain_vs_noop_endpoint']})"
        )


if __name__ == "__main__":
    main()
