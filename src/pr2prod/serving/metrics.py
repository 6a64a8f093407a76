"""Prometheus metrics of the service (served on BentoML's ``/metrics``).

Created through ``bentoml.metrics`` (a drop-in for ``prometheus_client`` that handles
BentoML's multi-process mode); import this module only inside the service. Request counts
and latencies per endpoint and status are BentoML's own (``bentoml_service_request_total``,
``bentoml_service_request_duration_seconds``: its metrics middleware wraps pr2prod's, so a
request the guard refuses is counted too); these are the domain's facts only.
"""

from __future__ import annotations

import bentoml

from pr2prod.logrecord.variant import VARIANT_LATENCY_METRIC, VARIANT_REQUESTS_METRIC

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

PREDICTIONS = bentoml.metrics.Counter(
    name="pr2prod_predictions_total",
    documentation="Records scored by the production model, by predicted class",
    labelnames=["model", "label"],
)
VALUES = bentoml.metrics.Histogram(
    name="pr2prod_prediction_value",
    documentation="Values predicted by the production regression model",
    labelnames=["model"],
)
OUT_OF_RANGE = bentoml.metrics.Counter(
    name="pr2prod_out_of_range_inputs_total",
    documentation="Requests with a numeric input outside its training [min, max], per feature",
    labelnames=["feature"],
)
SHADOW = bentoml.metrics.Counter(
    name="pr2prod_shadow_total",
    documentation="Shadow scorings by outcome: agree, disagree, error, timeout, skipped",
    labelnames=["outcome"],
)
SHADOW_DISAGREEMENTS = bentoml.metrics.Counter(
    name="pr2prod_shadow_disagreements_total",
    documentation="Records where the shadow model's label (or value) differs from production",
)
LOG_REMOVED_FILES = bentoml.metrics.Counter(
    name="pr2prod_prediction_log_removed_files_total",
    documentation="Rotated prediction-log files removed, by retention rule "
    "(max_files, max_age_days)",
    labelnames=["reason"],
)
LOG_REMOVED_RECORDS = bentoml.metrics.Counter(
    name="pr2prod_prediction_log_removed_records_total",
    documentation="Prediction-log records removed with their file by a retention rule, "
    "or lost by a failed write (write_error)",
    labelnames=["reason"],
)
VARIANT_REQUESTS = bentoml.metrics.Counter(
    name=VARIANT_REQUESTS_METRIC,
    documentation="Prediction requests per variant that answered (prod, canary) and outcome "
    "(ok, error: its model failed while scoring)",
    labelnames=["variant", "outcome"],
)
VARIANT_LATENCY = bentoml.metrics.Histogram(
    name=VARIANT_LATENCY_METRIC,
    documentation="Time from request to answer of the prediction endpoints, per variant",
    labelnames=["variant"],
    buckets=LATENCY_BUCKETS,
)
