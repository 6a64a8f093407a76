"""Batch scoring: stream a table through the released artifact into a database and/or Parquet.

Domain layer: imports only ``config``, ``data``, ``models``, ``evaluate`` and ``fsio``.
"""
