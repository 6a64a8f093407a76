"""Read a prepared split into pandas at about the memory of the frame it becomes.

``pd.read_parquet`` holds the Arrow table and the frame built from it at once, and Arrow's
allocator keeps the freed buffers. Here Arrow frees each column once converted
(``self_destruct``; one block per column, ``split_blocks``) and its pool gives unused memory
back: the same frame (values, dtypes, index), at a lower peak. ``columns`` reads only those.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

LEAN = {"self_destruct": True, "split_blocks": True}


def read_split(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """The Parquet table at ``path`` (only ``columns`` when given), as ``pd.read_parquet``
    returns it."""
    import pyarrow as pa

    frame = pd.read_parquet(path, columns=columns, to_pandas_kwargs=dict(LEAN))
    pa.default_memory_pool().release_unused()
    return frame
