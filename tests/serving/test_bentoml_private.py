"""Each BentoML internal pr2prod relies on (pr2prod.serving.bentoml_private) still holds.

A BentoML upgrade that moves or changes one fails here, naming it, instead of in a server.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging

import bentoml
import pytest

from pr2prod.serving.bentoml_private import CORK_KEYWORDS, EXCEPTION_LOGGER, cork_dispatcher

pytestmark = [pytest.mark.unit]


def test_server_context_is_public() -> None:
    from bentoml import server_context

    assert server_context is bentoml.server_context
    assert hasattr(server_context, "worker_index")


def test_cork_dispatcher_takes_the_keywords_and_batches_an_async_callable() -> None:
    from bentoml._internal.marshal.dispatcher import CorkDispatcher

    params = inspect.signature(CorkDispatcher.__init__).parameters
    missing = [k for k in CORK_KEYWORDS if k not in params]
    assert not missing, f"BentoML's CorkDispatcher lost {missing}: update bentoml_private"
    seen: list[int] = []

    async def double(items: list[int]) -> list[int]:
        seen.append(len(items))
        return [x * 2 for x in items]

    async def main() -> list[int]:
        dispatcher = cork_dispatcher(
            max_latency_in_ms=1000,
            max_batch_size=4,
            fallback=lambda: pytest.fail("overloaded"),
            get_batch_size=lambda _: 1,
        )
        call = dispatcher(double)
        return list(await asyncio.gather(*(call(i) for i in range(6))))

    assert asyncio.run(main()) == [0, 2, 4, 6, 8, 10]
    assert sum(seen) == 6 and max(seen) <= 4


def test_endpoint_exceptions_are_logged_to_the_pinned_logger() -> None:
    module = importlib.import_module(EXCEPTION_LOGGER)
    assert callable(module.log_exception), "BentoML's http_app lost log_exception"
    assert module.logger is logging.getLogger(EXCEPTION_LOGGER)
