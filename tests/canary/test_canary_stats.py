"""The canary's two-sample bounds and decision rule against hand-computed and published cases
(the same figures as docs/continuous.md, "Canary report")."""

from __future__ import annotations

import pytest
from scipy import stats as sst

from pr2prod.canary.decide import decide
from pr2prod.canary.model import Comparison, Recommendation, Rules, VariantFigures
from pr2prod.canary.stats import newcombe, welch_mae, wilson

RULES = Rules(
    abs_tol=0.03, level=0.95, min_labelled=200, max_error_rate_increase=0.01, max_latency_ratio=1.5
)


# Newcombe (1998), "Interval estimation for the difference between independent proportions",
# Statistics in Medicine 17, Table II, method 10 (hybrid score), two-sided 95% = one-sided 97.5%.
@pytest.mark.parametrize(
    ("a", "m", "b", "n", "lower", "upper"),
    [
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (6, 7, 2, 7, 0.0582, 0.8062),
        (5, 56, 0, 29, -0.0381, 0.1926),
    ],
)
def test_newcombe_matches_the_published_table(a, m, b, n, lower, upper) -> None:
    got = newcombe(a, m, b, n, 0.975)
    assert got.estimate == pytest.approx(a / m - b / n)
    assert (round(got.lower, 4), round(got.upper, 4)) == (lower, upper)


def test_wilson_is_scipys_wilson_interval() -> None:
    # one-sided 95% bounds = the two-sided 90% interval
    ci = sst.binomtest(180, 200).proportion_ci(confidence_level=0.90, method="wilson")
    assert wilson(180, 200, 0.95) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_newcombe_worked_example_of_the_docs() -> None:
    # canary 180/200 = 0.90, production 170/200 = 0.85, z = 1.6449:
    # Wilson canary [0.8596, 0.9297], production [0.8038, 0.8868]
    assert [round(x, 4) for x in wilson(180, 200, 0.95)] == [0.8596, 0.9297]
    assert [round(x, 4) for x in wilson(170, 200, 0.95)] == [0.8038, 0.8868]
    got = newcombe(180, 200, 170, 200, 0.95)
    # L = 0.05 - sqrt(0.0404^2 + 0.0368^2) = -0.0047; U = 0.05 + sqrt(0.0297^2 + 0.0462^2)
    assert (round(got.lower, 4), round(got.upper, 4)) == (-0.0047, 0.1049)


def test_welch_worked_example_of_the_docs() -> None:
    canary = [0.5, 1.0, 1.5, 2.0, 1.0]  # mean 1.2, variance 0.325
    prod = [1.0, 2.0, 1.5, 2.5, 3.0]  # mean 2.0, variance 0.625
    got = welch_mae(canary, prod, 0.95)
    # se^2 = 0.325/5 + 0.625/5 = 0.19; df = 0.19^2 / (0.065^2/4 + 0.125^2/4) = 7.2746;
    # t(0.95, 7.2746) = 1.8844; 0.8 -/+ 1.8844 * 0.43589
    assert got.estimate == pytest.approx(0.8)
    assert (round(got.lower, 4), round(got.upper, 4)) == (-0.0212, 1.6212)
    ci = sst.ttest_ind(prod, canary, equal_var=False).confidence_interval(0.90)
    assert (got.lower, got.upper) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_welch_without_spread_is_the_point() -> None:
    got = welch_mae([1.0, 1.0], [2.0, 2.0], 0.95)
    assert (got.estimate, got.lower, got.upper) == (1.0, 1.0, 1.0)


def test_level_outside_its_range_names_the_key() -> None:
    with pytest.raises(ValueError, match=r"canary\.level"):
        wilson(1, 2, 0.4)


def _fig(labelled: int, hits: int, p95: float = 10.0, err: float | None = 0.0) -> VariantFigures:
    return VariantFigures(
        records=labelled,
        requests=labelled,
        labelled=labelled,
        hits=hits,
        metric=hits / labelled,
        latency_p50_ms=p95 / 2,
        latency_p95_ms=p95,
        requests_ok=None if err is None else 1000 * (1 - err),
        requests_error=None if err is None else 1000 * err,
        error_rate=err,
    )


def _comparison(c: int, cn: int, p: int, pn: int) -> Comparison:
    b = newcombe(c, cn, p, pn, RULES.level)
    return Comparison(
        metric="accuracy", method="newcombe", improvement=b.estimate, lower=b.lower, upper=b.upper
    )


def test_promote_when_non_inferiority_is_shown() -> None:
    out = decide(_fig(200, 170), _fig(200, 180), _comparison(180, 200, 170, 200), RULES)
    assert out.recommendation is Recommendation.promote, out.reasons
    assert out.error_rate_increase == 0.0 and out.latency_ratio == 1.0


def test_hold_when_the_bound_is_too_wide() -> None:
    # 90/100 vs 92/100: bounds [-0.0894, +0.0488]: neither shown; 100 < min_labelled too
    out = decide(_fig(100, 92), _fig(100, 90), _comparison(90, 100, 92, 100), RULES)
    assert out.recommendation is Recommendation.hold
    assert any("too few labelled records: production 100, canary 100" in r for r in out.reasons)
    assert any("lower bound of the improvement -0.0894 < -0.03" in r for r in out.reasons)


def test_abort_when_harm_is_shown() -> None:
    # 150/200 vs 180/200: upper bound -0.0882 < -0.03: worse with confidence
    out = decide(_fig(200, 180), _fig(200, 150), _comparison(150, 200, 180, 200), RULES)
    assert out.recommendation is Recommendation.abort
    assert "upper bound of the improvement -0.0882 < -0.03" in out.reasons[0]


def test_abort_on_errors_or_latency_whatever_the_accuracy() -> None:
    good = _comparison(180, 200, 170, 200)
    errors = decide(_fig(200, 170, err=0.002), _fig(200, 180, err=0.015), good, RULES)
    assert errors.recommendation is Recommendation.abort
    assert errors.error_rate_increase == pytest.approx(0.013)
    slow = decide(_fig(200, 170, p95=10.0), _fig(200, 180, p95=16.0), good, RULES)
    assert slow.recommendation is Recommendation.abort
    assert "1.60x" in slow.reasons[0]


def test_hold_without_a_metrics_scrape() -> None:
    out = decide(
        _fig(200, 170, err=None), _fig(200, 180, err=None), _comparison(180, 200, 170, 200), RULES
    )
    assert out.recommendation is Recommendation.hold
    assert out.reasons == ["error rates unknown: pass --metrics with the server's /metrics"]
