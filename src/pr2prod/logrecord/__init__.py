"""The prediction-log contract shared by serving (writer, shadow-report) and monitoring.

``record`` is the one record model (versioned); ``files`` finds every file of a log
(rotated, per worker, gzip) and reads it back into records. Cheap to import: pydantic only.
"""

from pr2prod.logrecord.files import LogReadStats, log_files, read_records
from pr2prod.logrecord.record import (
    SCHEMA_VERSION,
    ModelRef,
    Output,
    PredictionRecord,
    ShadowResult,
    json_schema,
)
from pr2prod.logrecord.variant import Variant

__all__ = [
    "SCHEMA_VERSION",
    "LogReadStats",
    "ModelRef",
    "Output",
    "PredictionRecord",
    "ShadowResult",
    "Variant",
    "json_schema",
    "log_files",
    "read_records",
]
