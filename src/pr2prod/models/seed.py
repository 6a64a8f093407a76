"""Seed every random generator a training run touches."""

from __future__ import annotations

import os
import random

import numpy as np


def seed_everything(seed: int, torch_threads: int | None = 1) -> None:
    """Seed Python, NumPy and (if importable) torch; make torch deterministic.

    Args:
        seed: the global seed from ``params.yaml``.
        torch_threads: fixed intra-op thread count for torch (reductions are bitwise stable
            only at a fixed count); ``None`` leaves torch's default.
    """
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency, but keep sklearn-only use
        return
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    if torch_threads is not None:
        torch.set_num_threads(torch_threads)
