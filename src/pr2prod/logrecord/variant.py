"""Which deployment answered a request, and the names it is counted under in ``/metrics``.

Defined once here: the server routes, labels responses and log records and counts
``/metrics`` with these names (``serving``); ``pr2prod canary-report`` reads them back
(``monitor``/``release``). Neither side spells a variant or a metric name itself.
"""

from __future__ import annotations

from enum import StrEnum


class Variant(StrEnum):
    """The deployment that answered: production or the canary (``serve.canary``)."""

    prod = "prod"
    canary = "canary"


# Response header naming the variant that answered (also the `variant` field of the body).
VARIANT_HEADER = "X-Model-Variant"
# Prometheus counter of answered requests per variant and outcome; labels below.
VARIANT_REQUESTS_METRIC = "pr2prod_variant_requests"
# Label values of `outcome`: a scored answer or a server-side failure while scoring.
OUTCOME_OK = "ok"
OUTCOME_ERROR = "error"
# Prometheus histogram of per-request latency (seconds) per variant.
VARIANT_LATENCY_METRIC = "pr2prod_variant_latency_seconds"
