"""Starting Ray for pr2prod's work: every worker process runs inside the numerical envelope.

Used by ``pr2prod sweep`` and ``pr2prod score --engine ray``. Ray workers import NumPy
before any task runs, so the envelope's variables go into their environment from the
start (``runtime_env``), as ``python -m pr2prod.stages`` sets them for a stage.
"""

from __future__ import annotations

import os
import time
from typing import Any

from pr2prod import envelope
from pr2prod.errors import PlatformError


def envelope_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The numerical envelope's variables for a Ray worker process.

    Raises:
        envelope.EnvelopeError: the CPU cannot run the pinned kernels.
    """
    env = dict(os.environ if environ is None else environ)
    envelope.apply(env)
    names = (*envelope.FORCED, *envelope.KERNEL_DEFAULTS, *envelope.KEPT, envelope.OFF_VAR)
    return {name: env[name] for name in names if name in env}


def start_ray(
    address: str | None,
    node_ip: str = "127.0.0.1",
    num_cpus: int | None = None,
    logging_level: str | None = None,
) -> None:
    """Connect to ``address`` (``host:port`` or ``ray://``) or start an embedded local Ray."""
    import ray

    common: dict[str, Any] = {"runtime_env": {"env_vars": envelope_env()}, "log_to_driver": False}
    if logging_level is not None:
        common["logging_level"] = logging_level
    if address and address.startswith("ray://"):  # Ray Client: the driver runs remotely
        _connect_client(address, common)
    elif address:
        ray.init(address=address, _node_ip_address=node_ip, **common)
    else:  # a new embedded instance, never a cluster another process left running
        ray.init(
            address="local",
            _node_ip_address=node_ip,
            include_dashboard=False,
            num_cpus=num_cpus,
            **common,
        )


CLIENT_ATTEMPTS = 3  # Ray 2.60's client server now and then fails to start a session


def _connect_client(address: str, common: dict[str, Any]) -> None:
    """``ray.init`` through Ray Client, retried: the head starts one server per session, and
    that start sometimes fails at once (``Starting Ray client server failed``)."""
    import ray

    for attempt in range(1, CLIENT_ATTEMPTS + 1):
        try:
            ray.init(address=address, **common)
            return
        except ConnectionAbortedError as exc:
            ray.shutdown()  # drop the half-made client connection before trying again
            if attempt == CLIENT_ATTEMPTS:
                raise PlatformError(
                    f"--address {address}: the cluster's Ray Client server could not start a "
                    f"session in {CLIENT_ATTEMPTS} attempts ({str(exc).splitlines()[0]}); see "
                    "ray_client_server*.err in the head's Ray log directory"
                ) from exc
            time.sleep(2 * attempt)
