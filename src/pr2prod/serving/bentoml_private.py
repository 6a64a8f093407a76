"""Every BentoML internal pr2prod relies on, in one place, each with the assumption it pins.

BentoML has no public equivalent of these; ``tests/serving/test_bentoml_private.py`` checks
each assumption against the installed BentoML, so an upgrade that moves one fails there,
loudly, rather than in a running server. Everything else pr2prod uses is public
(``bentoml.server_context``, ``bentoml.service``, ``bentoml.build``...).

* :func:`cork_dispatcher` -- ``bentoml._internal.marshal.dispatcher.CorkDispatcher``: the
  adaptive micro-batcher behind ``@bentoml.api(batchable=True)``, used directly so the fast
  path can batch single-record requests with a fallback on overload. Assumed: a class taking
  ``max_latency_in_ms``, ``max_batch_size``, ``fallback`` and ``get_batch_size`` keywords,
  whose instance wraps an async callable taking a list.
* :data:`EXCEPTION_LOGGER` -- the logger BentoML's HTTP app logs every endpoint exception
  to (with its traceback), where ``serving.errorlog.WithholdValues`` is installed. Assumed:
  the module ``bentoml._internal.server.http_app`` exists and logs through
  ``logging.getLogger(__name__)``.
"""

from __future__ import annotations

from typing import Any

#: BentoML's HTTP app logger (``log_exception`` of every endpoint).
EXCEPTION_LOGGER = "bentoml._internal.server.http_app"
#: The keywords :func:`cork_dispatcher` passes.
CORK_KEYWORDS = ("max_latency_in_ms", "max_batch_size", "fallback", "get_batch_size")


def cork_dispatcher(**kwargs: Any) -> Any:
    """A ``CorkDispatcher`` built with :data:`CORK_KEYWORDS`."""
    from bentoml._internal.marshal.dispatcher import CorkDispatcher

    return CorkDispatcher(**kwargs)
