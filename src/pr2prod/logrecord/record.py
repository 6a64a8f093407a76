"""One prediction-log record: one scored record of one request, as the server logs it.

Defined once here; the server writes it (``serving.recorder``), ``pr2prod shadow-report``
and ``pr2prod monitor`` read it back through the same model, and ``docs/`` carries its JSON
Schema (generated from this model, see ``python -m pr2prod.logrecord``). A change of meaning
bumps ``SCHEMA_VERSION``; readers refuse other versions line by line (counted, not fatal).

Versions: 1 (first), 2 adds the optional ``id`` (the caller's record id, ``serve.id_field``),
3 adds the optional ``variant`` (which deployment answered: ``prod`` or ``canary``, see
:mod:`pr2prod.logrecord.variant`). An older line is a valid version-3 record without the
newer fields (a record without ``variant`` was answered by production), so readers accept all.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from pr2prod.logrecord.variant import Variant
from pr2prod.schemadoc import schema_text

SCHEMA_VERSION: Literal[3] = 3

Label = bool | int | float | str


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelRef(_Strict):
    """The model that scored: name, version and artifact id (``dvc.lock``'s md5)."""

    model_name: str
    model_version: str
    artifact_hash: str


class Output(_Strict):
    """A classifier's ``label`` (+ ``probabilities`` by class) or a regressor's ``value``."""

    label: Label | None = None
    probabilities: dict[str, float] | None = None
    value: float | None = None

    @property
    def prediction(self) -> Label | None:
        """The label for a classifier, else the value."""
        return self.label if self.label is not None else self.value


class ShadowResult(_Strict):
    """The shadow (candidate) model's answer for the same record, scored off the response path.

    Either ``output`` + ``agree`` (same label / value within 1e-6 as production) or ``error``
    (``"timeout"`` or the exception, truncated).
    """

    model: ModelRef
    latency_ms: float
    output: Output | None = None
    agree: bool | None = None
    error: str | None = None


class PredictionRecord(_Strict):
    """One line of the prediction log (JSON, one object per line)."""

    schema_version: Literal[1, 2, 3] = Field(
        default=SCHEMA_VERSION,
        description="Version of this record format (written: 3; 2 = without `variant`; "
        "1 = without `id`).",
    )
    request_id: str = Field(description="X-Request-ID of the request, or a generated one.")
    index: int = Field(ge=0, description="Position of the record in its request.")
    id: StrictInt | str | None = Field(
        default=None,
        description="The caller's id of this record (request field `serve.id_field`, by "
        "default the data's id column); labels that arrive later join on it.",
    )
    timestamp: dt.datetime = Field(description="When the request was scored (UTC).")
    endpoint: str = Field(description="API that scored it: predict or predict_batch.")
    inputs: dict[str, Any] = Field(description="The record's features as received.")
    output: Output
    model: ModelRef
    latency_ms: float = Field(description="Production latency of the whole request (ms).")
    shadow: ShadowResult | None = None
    variant: Variant | None = Field(
        default=None,
        description="Deployment that answered: `prod` or `canary` (absent: production).",
    )

    @property
    def answered_by(self) -> Variant:
        """The variant that answered; records without one (versions 1-2) are production's."""
        return self.variant or Variant.prod

    @property
    def row_id(self) -> str:
        """The record's place: the request id for ``/predict``, else ``<request_id>#<index>``."""
        if self.endpoint == "predict":
            return self.request_id
        return f"{self.request_id}#{self.index}"

    @property
    def label_key(self) -> str:
        """Key labels join on: the caller's ``id`` when given, else :attr:`row_id`."""
        return self.row_id if self.id is None else str(self.id)

    def to_json(self) -> str:
        """One log line (no trailing newline); absent optional fields are left out."""
        return self.model_dump_json(exclude_none=True)


def json_schema() -> str:
    """The record's JSON Schema as committed in ``docs/prediction_record.schema.json``."""
    return schema_text(PredictionRecord)
