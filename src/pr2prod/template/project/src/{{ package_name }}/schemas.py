"""The schemas of this project's own classes: what a config may set on each.

pr2prod builds a `_target_` only through a schema registered in code (pr2prod's
docs/security.md): each argument is typed and bounded, and anything not listed here cannot be
set from conf/. A new class a config may name is one `register_target` call below, which
reaches review as code. Importing this package (which resolving a `_target_` under it does)
registers them.
"""

from __future__ import annotations

from pr2prod.config.registry import Field, TargetSchema, register_target


class QuantileClipperArgs(TargetSchema):
    lower: float = Field(0.01, ge=0.0, le=1.0)
    upper: float = Field(0.99, ge=0.0, le=1.0)


class ClippedLogisticRegressionArgs(QuantileClipperArgs):
    C: float = Field(1.0, gt=0.0, le=1e6)
    max_iter: int = Field(1000, ge=1, le=100_000)
    random_state: int = Field(0, ge=0, le=2**32 - 1)


class ClippedRidgeArgs(QuantileClipperArgs):
    alpha: float = Field(1.0, ge=0.0, le=1e6)


register_target(f"{__package__}.transformers.QuantileClipper", QuantileClipperArgs)
register_target(f"{__package__}.models.ClippedLogisticRegression", ClippedLogisticRegressionArgs)
register_target(f"{__package__}.models.ClippedRidge", ClippedRidgeArgs)
