"""Seed every random generator a training run touches."""

from __future__ import annotations

import contextlib
import os
import random
import sys

import numpy as np


def seed_everything(seed: int, torch_threads: int | None = 1) -> None:
    """Seed Python, NumPy and (if loaded) torch; make torch deterministic.

    torch is seeded only when something already imported it (a torch model was built):
    importing it for a scikit-learn model would cost a second of start-up for nothing.

    Args:
        seed: the global seed from ``params.yaml``.
        torch_threads: fixed intra-op thread count for torch (reductions are bitwise stable
            only at a fixed count); ``None`` leaves torch's default.
    """
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    random.seed(seed)
    np.random.seed(seed)
    torch = sys.modules.get("torch")
    if torch is None:
        return
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    if torch_threads is not None:
        torch.set_num_threads(torch_threads)
        with contextlib.suppress(RuntimeError):  # allowed once, before inter-op work
            torch.set_num_interop_threads(torch_threads)
