"""Serving: the BentoML service, its request schema, fast scoring, shadow, prediction log.

Importing this package is cheap; BentoML, pandas and scikit-learn load where they are used.
"""
