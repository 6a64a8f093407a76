"""Canary analysis: compare the canary with production on live traffic; promote or abort.

``stats`` holds the two-sample intervals, ``evidence`` reads the prediction log, the labels
and a ``/metrics`` scrape, ``decide`` applies the rules of the ``canary`` config group,
``report`` is the one sealed record ``pr2prod promote`` reads back (``admit`` checks it).
"""
