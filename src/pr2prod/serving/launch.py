"""Start ``bentoml serve`` with a Prometheus multiprocess directory of this server's own.

BentoML keeps the multiprocess files of ``/metrics`` in ``<BENTOML_HOME>/prometheus_multiproc_dir``
and empties that directory when a server starts. Two servers on one host (production and a
canary, say) would then share and wipe each other's counters: ``/metrics`` showed the other
server's series and ``canary-report`` took wrong error rates from it. ``pr2prod serve`` runs
``python -m pr2prod.serving.launch <dir> serve ...``, which points BentoML's
``prometheus_multiproc_dir`` at :func:`metrics_dir` (one per port: two live servers never share a
port; a restart on the same port starts from empty counters, as BentoML does) and then runs
BentoML's own CLI in this process.
"""

from __future__ import annotations

import sys
from pathlib import Path

METRICS_ROOT = "pr2prod_prometheus"


def metrics_dir(port: int) -> Path:
    """``<BENTOML_HOME>/pr2prod_prometheus/port-<port>``: the multiprocess directory of the
    server listening on ``port`` (outside BentoML's own directory, which it empties)."""
    from bentoml._internal.configuration.containers import BentoMLContainer

    return Path(BentoMLContainer.bentoml_home.get()) / METRICS_ROOT / f"port-{port}"


def main(argv: list[str]) -> int:
    """``launch <metrics dir> <bentoml arguments...>``: BentoML's CLI with that directory."""
    from bentoml._internal.configuration.containers import BentoMLContainer
    from bentoml_cli.cli import cli

    directory, *rest = argv
    Path(directory).mkdir(parents=True, exist_ok=True)
    BentoMLContainer.prometheus_multiproc_dir.set(directory)
    return int(cli.main(args=rest, prog_name="bentoml", standalone_mode=True) or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
