"""Helpers for serving tests: free loopback ports and real server processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import yaml

from _project import BIN, env

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def serve_cmd(model: Path, params: Path, port: int, *extra: str) -> list[str]:
    """``pr2prod serve`` of ``model`` with ``params`` on ``port`` (plus ``extra`` options)."""
    cmd = [str(BIN / "pr2prod"), "serve", "--port", str(port), "--model", str(model)]
    return [*cmd, *extra, "--params", str(params)]


class Server:
    """A real server process (own process group) answering on ``base_url``."""

    def __init__(
        self, cmd: list[str], cwd: Path, log: Path, extra_env: dict[str, str], port: int
    ) -> None:
        self.port = port
        self.base_url = f"http://{HOST}:{port}"
        if "--params" in cmd:
            _log_inside(Path(cmd[cmd.index("--params") + 1]), cwd)
        self.log = log
        e = env()
        e.update(extra_env)
        self._fh = open(log, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            cmd, cwd=cwd, env=e, stdout=self._fh, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"server exited {self.proc.returncode}:\n{self.log.read_text()[-4000:]}"
                )
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise AssertionError(f"server not ready in {timeout}s:\n{self.log.read_text()[-4000:]}")

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._fh.close()


def _log_inside(params: Path, cwd: Path) -> None:
    """Tests name the server's log by its absolute path in their own temp directory; a config
    may only name output paths inside the project (``config/outputs.py``), so a log under the
    server's working directory is written back as the relative path it is."""
    cfg = yaml.safe_load(params.read_text())
    log = ((cfg or {}).get("serve") or {}).get("prediction_log") or {}
    path = log.get("path")
    if path and Path(path).is_absolute() and Path(path).is_relative_to(cwd):
        log["path"] = str(Path(path).relative_to(cwd))
        params.write_text(yaml.safe_dump(cfg))


def wait_for_lines(path: Path, n: int, timeout: float = 20) -> list[str]:
    """Lines of a prediction log once it has at least ``n`` (the recorder writes async)."""
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < deadline:
        if path.exists():
            lines = path.read_text().splitlines()
            if len(lines) >= n:
                return lines
        time.sleep(0.2)
    raise AssertionError(f"{path}: {len(lines)} lines after {timeout}s, expected {n}")


def start_serve(model: Path, params: Path, cwd: Path, *extra: str) -> Server:
    """``pr2prod serve`` of ``model`` on a free port, run in ``cwd`` (log: server.log), ready."""
    port = free_port()
    server = Server(
        serve_cmd(model, params, port, *extra),
        cwd=cwd,
        log=cwd / "server.log",
        port=port,
        extra_env={},
    )
    server.wait_ready()
    return server
