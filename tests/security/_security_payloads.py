"""Payload objects shared by the security tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pr2prod.fsio import atomic_write_text


class WriteMarkerOnUnpickle:
    """A pickle that writes the marker when loaded (``joblib.load``, ``pandas.read_pickle``)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        return atomic_write_text, (str(self.marker), "pwned")
