"""The read-ahead and write-behind helpers keep order and surface failures."""

from __future__ import annotations

import threading

import pytest

from pr2prod.batch.overlap import OrderedWriter, prefetch


def test_prefetch_keeps_order_and_reads_in_another_thread():
    seen_threads = set()

    def items():
        for i in range(10):
            seen_threads.add(threading.get_ident())
            yield i

    assert list(prefetch(items(), depth=3)) == list(range(10))
    assert threading.get_ident() not in seen_threads


def test_prefetch_reraises_the_readers_error():
    def items():
        yield 1
        raise ValueError("bad chunk")

    stream = prefetch(items())
    assert next(stream) == 1
    with pytest.raises(ValueError, match="bad chunk"):
        next(stream)


def test_writer_runs_calls_in_order_and_reraises_the_first_failure():
    out: list[int] = []
    writer = OrderedWriter(depth=2)
    for i in range(5):
        writer.submit(out.append, i)
    writer.drain()
    assert out == [0, 1, 2, 3, 4]

    def fail(_: int) -> None:
        raise OSError("disk full")

    writer = OrderedWriter(depth=1)
    writer.submit(fail, 0)
    with pytest.raises(OSError, match="disk full"):  # surfaces at the next submit
        writer.submit(out.append, 5)
    writer.drain()
    assert out == [0, 1, 2, 3, 4, 5]
