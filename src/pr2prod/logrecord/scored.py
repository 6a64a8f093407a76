"""The files ``pr2prod score`` writes into its Parquet directory, which the monitor reads.

Defined here, below both batch scoring (the writer) and monitoring (the reader), which may
not import each other; ``tests/batch/test_batch_monitor_contract.py`` runs the real writer
into the real reader.
"""

PREDICTIONS_FILE = "predictions.parquet"
REJECTS_FILE = "rejects.parquet"
