"""Estimator builders (scikit-learn and torch), seeding and safe persistence."""
