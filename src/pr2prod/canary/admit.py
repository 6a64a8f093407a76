"""Read a canary report back and decide whether it may promote the canary.

``pr2prod promote --report`` refuses unless the report is intact (its digest matches),
decided under the current ``canary`` rules, recommends promote (and that recommendation
follows from its own figures), and is bound to the artifacts the registry's canary and
production stages hold now. A stale report (another canary, a moved production) or an
edited one never promotes.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from pr2prod.canary.decide import decide
from pr2prod.canary.model import CanaryReport, Recommendation, Rules
from pr2prod.config.canary_schema import CanaryConfig
from pr2prod.errors import CheckFailedError


class CanaryReportError(CheckFailedError, ValueError):
    """A canary report that is missing, altered, stale or does not recommend promotion."""


def read_report(path: str | Path) -> CanaryReport:
    """The report at ``path``, intact.

    Raises:
        CanaryReportError: missing, not a canary report, or changed after it was written.
    """
    where = Path(path)
    if not where.is_file():
        raise CanaryReportError(f"{where} is missing: run `pr2prod canary-report` first")
    try:
        report = CanaryReport.model_validate_json(where.read_text(encoding="utf-8"))
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "(root)"
        raise CanaryReportError(
            f"{where} is not a canary report: {loc}: {first['msg']}; rerun `pr2prod canary-report`"
        ) from exc
    if report.digest != report.body_digest():
        raise CanaryReportError(
            f"{where} does not match its digest: it was changed after `pr2prod canary-report` "
            "wrote it; rerun it"
        )
    return report


def check_promotable(
    report: CanaryReport,
    cfg: CanaryConfig,
    canary_artifact: str | None,
    production_artifact: str | None,
) -> None:
    """Refuse unless ``report`` recommends promoting the canary the registry holds now.

    Args:
        canary_artifact: artifact id recorded in ``dvc.lock`` at the canary stage's commit.
        production_artifact: the same for the production stage.

    Raises:
        CanaryReportError: one message naming what does not hold and what to do.
    """
    if report.rules != Rules.of(cfg):
        raise CanaryReportError(
            f"the canary report was decided under {report.rules.model_dump()}, but the canary "
            f"config is now {Rules.of(cfg).model_dump()}: rerun `pr2prod canary-report`"
        )
    again = decide(report.production, report.canary, report.comparison, report.rules)
    if again.recommendation is not report.recommendation:
        raise CanaryReportError(
            f"the canary report says {report.recommendation.value}, but its figures say "
            f"{again.recommendation.value}: rerun `pr2prod canary-report`"
        )
    if report.recommendation is not Recommendation.promote:
        raise CanaryReportError(
            f"the canary report recommends {report.recommendation.value}, not promote: "
            + "; ".join(report.reasons)
        )
    bound = report.binding
    if canary_artifact != bound.canary.artifact_hash:
        raise CanaryReportError(
            f"the canary report judged canary artifact {bound.canary.artifact_hash} "
            f"({bound.canary.model_version}), but the canary stage holds "
            f"{canary_artifact or 'no recorded artifact'}: the report is stale; rerun "
            "`pr2prod canary-report` on the current canary's traffic"
        )
    if production_artifact != bound.production.artifact_hash:
        raise CanaryReportError(
            f"the canary report compared with production {bound.production.artifact_hash}, "
            f"but production is now {production_artifact or 'none'}: the report is stale; "
            "rerun `pr2prod canary-report`"
        )
