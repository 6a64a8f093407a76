"""Metrics and DVC plots data for a fitted pipeline on a labelled split."""
