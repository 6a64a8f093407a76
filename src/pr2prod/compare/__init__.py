"""Differential comparison of a candidate model with production on the same rows.

``baseline`` finds and materialises the production artifact through DVC, ``sums`` and
``metrics`` turn paired predictions into per-unit sufficient statistics and metric values,
``bootstrap`` resamples them, ``checks`` applies the gate config, ``report`` renders
``gate.json`` / ``gate.md`` and ``diff`` compares two revisions.
"""
