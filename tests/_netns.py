"""Run commands in fresh network + PID namespaces: loopback only, every process ends with it.

Ray resolves 127.0.0.1 to the host's own address when the host has one, so every Ray
process of the tests runs inside a network namespace of its own (``unshare --net``: only
``lo`` exists there) and a PID namespace (every Ray process ends with it; ``ray stop``
inside sees only these).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path

from _project import env

NETNS_TIMEOUT_S = 170  # every test stays under 3 minutes on a 2-core machine


def netns_prefix() -> tuple[list[str] | None, str]:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return None, "`unshare` or `ip` is not installed (util-linux, iproute2)"
    prefix = ["unshare", "--net", "--pid", "--fork", "--mount-proc"]
    if os.geteuid() != 0:
        prefix.insert(1, "--map-root-user")
    probe = subprocess.run(
        [*prefix, "sh", "-c", "ip link set lo up"], capture_output=True, text=True, timeout=30
    )
    if probe.returncode != 0:
        return None, f"cannot create a network namespace: {probe.stderr.strip()}"
    return prefix, ""


def run_in_netns(prefix: list[str], script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a bash ``script`` inside the namespaces (``lo`` up first), bounded in time.

    Ray's token authentication is on, with a token made for this run (no file written).
    """
    e = env()
    e["RAY_AUTH_MODE"] = "token"
    e["RAY_AUTH_TOKEN"] = secrets.token_hex(32)
    e["RAY_USAGE_STATS_ENABLED"] = "0"
    e.pop("RAY_ADDRESS", None)
    body = "set -euo pipefail\nip link set lo up\n" + script
    return subprocess.run(
        [*prefix, "bash", "-c", body],
        cwd=cwd,
        env=e,
        capture_output=True,
        text=True,
        timeout=NETNS_TIMEOUT_S,
        check=False,
    )
