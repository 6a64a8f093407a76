"""Assemble the canary report from the log, the labels and a ``/metrics`` scrape."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from pr2prod.canary import stats
from pr2prod.canary.decide import decide
from pr2prod.canary.evidence import (
    LogEvidence,
    MetricsEvidence,
    latency_percentiles,
    read_log,
    read_metrics,
)
from pr2prod.canary.model import (
    Binding,
    CanaryReport,
    Comparison,
    LogCounts,
    Rules,
    VariantFigures,
)
from pr2prod.config.canary_schema import CanaryConfig
from pr2prod.errors import DataError
from pr2prod.logrecord import ModelRef, Variant
from pr2prod.monitor.window import join_labels, read_labels

NEWCOMBE = "Newcombe hybrid score interval (difference of two proportions)"
WELCH = "Welch t interval (difference of two mean absolute errors)"


def build_report(
    cfg: CanaryConfig,
    log: str | Path,
    *,
    labels: str | None,
    metrics: str | None,
    id_column: str,
    label_column: str,
    since: dt.datetime | None = None,
) -> CanaryReport:
    """The sealed report comparing the canary with production.

    Raises:
        DataError: an empty log, a variant without records, or a variant that answered with
            more than one model in the window (cut it with ``since``).
        ValueError: a labels table without the id or label column (naming the key).
    """
    rules = Rules.of(cfg)
    evidence = read_log(log, since)
    binding = Binding(
        canary=_only_model(evidence, Variant.canary, log),
        production=_only_model(evidence, Variant.prod, log),
    )
    frame = evidence.frame
    labelled = frame.iloc[0:0].assign(label=pd.Series(dtype=object))
    if labels:
        labelled = join_labels(frame, read_labels(labels), id_column, label_column)
    scrape = read_metrics(metrics) if metrics else None
    regression = evidence.task == "regression"
    figures = {v: _figures(frame, labelled, v, regression, scrape) for v in Variant}
    comparison = _compare(labelled, regression, rules.level)
    outcome = decide(figures[Variant.prod], figures[Variant.canary], comparison, rules)
    s = evidence.stats
    counts = LogCounts(
        files=s.files,
        lines=s.lines,
        records=s.records,
        bad_lines=s.bad_lines,
        before_since=evidence.before_since,
        unlabelled=len(frame) - len(labelled),
        first=pd.Timestamp(frame["timestamp"].min()).to_pydatetime(),
        last=pd.Timestamp(frame["timestamp"].max()).to_pydatetime(),
    )
    return CanaryReport(
        log=str(log),
        labels=labels,
        metrics=metrics,
        counts=counts,
        rules=rules,
        production=figures[Variant.prod],
        canary=figures[Variant.canary],
        comparison=comparison,
        error_rate_increase=outcome.error_rate_increase,
        latency_ratio=outcome.latency_ratio,
        recommendation=outcome.recommendation,
        reasons=outcome.reasons,
        binding=binding,
    ).sealed()


def _only_model(evidence: LogEvidence, variant: Variant, log: str | Path) -> ModelRef:
    seen = evidence.models[variant]
    if not seen:
        raise DataError(
            f"prediction log {log}: no record answered by {variant.value}; is the canary "
            "routing on (serve.canary)?"
        )
    if len(seen) > 1:
        names = ", ".join(f"{m.model_version} ({m.artifact_hash[:12]})" for m in seen)
        raise DataError(
            f"prediction log {log}: {variant.value} answered with {len(seen)} models ({names}); "
            "compare one pair: pass --since the time the current canary started"
        )
    return seen[0]


def _figures(
    frame: pd.DataFrame,
    labelled: pd.DataFrame,
    variant: Variant,
    regression: bool,
    scrape: MetricsEvidence | None,
) -> VariantFigures:
    mine = frame.loc[frame["variant"] == variant.value]
    lab = labelled.loc[labelled["variant"] == variant.value]
    latency = latency_percentiles(frame, variant)
    hits = metric = None
    if len(lab):
        if regression:
            metric = float(_abs_errors(lab).mean())
        else:
            hits = int(_hits(lab).sum())
            metric = hits / len(lab)
    counts = scrape.counts.get(variant) if scrape is not None else None
    return VariantFigures(
        records=len(mine),
        requests=int(mine["request_id"].nunique()),
        labelled=len(lab),
        hits=hits,
        metric=metric,
        latency_p50_ms=None if latency is None else latency[0],
        latency_p95_ms=None if latency is None else latency[1],
        requests_ok=None if counts is None else counts.ok,
        requests_error=None if counts is None else counts.error,
        error_rate=None if counts is None else counts.rate,
    )


def _hits(lab: pd.DataFrame) -> pd.Series:
    """Right predictions, labels compared as text (as the monitor does)."""
    return lab["prediction"].astype(str) == lab["label"].astype(str)


def _abs_errors(lab: pd.DataFrame) -> pd.Series:
    err = pd.to_numeric(lab["prediction"], errors="coerce") - pd.to_numeric(
        lab["label"], errors="coerce"
    )
    return err.abs().dropna()


def _compare(labelled: pd.DataFrame, regression: bool, level: float) -> Comparison:
    sides = {v: labelled.loc[labelled["variant"] == v.value] for v in Variant}
    can, prod = sides[Variant.canary], sides[Variant.prod]
    if regression:
        ec, ep = _abs_errors(can).tolist(), _abs_errors(prod).tolist()
        if len(ec) < 2 or len(ep) < 2:
            return Comparison(metric="mae", method=WELCH)
        b = stats.welch_mae(ec, ep, level)
        return Comparison(
            metric="mae", method=WELCH, improvement=b.estimate, lower=b.lower, upper=b.upper
        )
    if len(can) == 0 or len(prod) == 0:
        return Comparison(metric="accuracy", method=NEWCOMBE)
    b = stats.newcombe(int(_hits(can).sum()), len(can), int(_hits(prod).sum()), len(prod), level)
    return Comparison(
        metric="accuracy", method=NEWCOMBE, improvement=b.estimate, lower=b.lower, upper=b.upper
    )
