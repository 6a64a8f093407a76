"""Data sources, deterministic split, the data schema and validation."""
