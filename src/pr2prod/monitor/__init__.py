"""Monitoring: data and prediction drift against ``schema.json``, performance control charts.

Domain layer: imports only ``config``, ``data``, ``models``, ``evaluate`` and ``fsio``.
"""
