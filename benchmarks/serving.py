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
import time
from dataclasses import replace
from pathlib import Path

import httpx
import numpy as np

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
    opts = ap.parse_args()
    if not (opts.model / "model.skops").exists():
        sys.exit(f"{opts.model}: no model artifact; run `dvc repro` first")

    import joblib
    import pandas as pd

    from pr2prod.config import load_params
    from pr2prod.models.persist import load_artifact
    from pr2prod.serving.settings import serve_config_json

    artifact = load_artifact(opts.model)
    rows = pd.read_parquet(opts.test_data)[artifact.schema.feature_names].to_dict("records")
    record = rows[0]
    body = json.dumps({"record": record}).encode()
    batch = [rows[i % len(rows)] for i in range(opts.batch_rows)]
    batch_body = json.dumps({"records": batch}).encode()
    cfg = load_params(ROOT / "params.yaml").serve
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
    results["in_process"] = in_process(opts.model, record, opts.seconds)
    results["ratios"] = ratios(results)
    results["config"] = json.loads(serve_config_json(cfg))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    report(results)


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
