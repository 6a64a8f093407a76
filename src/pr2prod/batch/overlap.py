"""Overlap reading and writing with scoring: two helper threads, bounded queues.

pyarrow (reading, Parquet writing) and database drivers release the GIL, so on two cores the
next chunk is read and the previous one written while the current one is scored. At most
``depth`` chunks wait on either side, so memory stays bounded by the chunk size.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
_DONE = object()


def prefetch(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """Yield ``items`` in order while a thread produces the next ``depth`` ahead."""
    it = iter(items)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="read") as pool:
        ahead: deque[Future[Any]] = deque(pool.submit(next, it, _DONE) for _ in range(depth))
        while True:
            item = ahead.popleft().result()
            if item is _DONE:
                return
            ahead.append(pool.submit(next, it, _DONE))
            yield item


class OrderedWriter:
    """Run write calls one after another in a background thread, ``depth`` at most pending."""

    def __init__(self, depth: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="write")
        self._pending: deque[Future[Any]] = deque()
        self._depth = depth

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        """Queue ``fn(*args)``; blocks while ``depth`` calls are pending; re-raises failures."""
        self._pending.append(self._pool.submit(fn, *args))
        while len(self._pending) > self._depth:
            self._pending.popleft().result()

    def drain(self) -> None:
        """Wait for every queued call (re-raising the first failure) and stop the thread."""
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)
