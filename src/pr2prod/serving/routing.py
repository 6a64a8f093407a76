"""Which variant answers a record: production or the canary (``serve.canary``).

One job: decide. A record with an id meets the variant its id's bucket falls in, a pure
function of ``str(id)`` (the first 8 bytes of its SHA-256 as a fraction of 2**64, in [0, 1)):
the canary answers when the bucket is below ``share``. So the same id always meets the same
variant, in every worker and after every restart, and raising ``share`` only moves ids from
production to the canary (never back). A record without an id is routed at random with
probability ``share``. ``share`` 0 routes everything to production, 1 everything to the canary.
:class:`ScoringError` says which variant's model failed a routed record.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from typing import Any

from pr2prod.logrecord.variant import Variant

_SCALE = float(2**64)


def bucket(ident: Any) -> float:
    """The id's place in [0, 1): the same for the same ``str(ident)``, uniform over ids."""
    digest = hashlib.sha256(str(ident).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


class ScoringError(RuntimeError):
    """The model of ``variant`` failed to score a record (the cause is chained)."""

    def __init__(self, variant: Variant) -> None:
        super().__init__(f"the {variant} model failed to score the record")
        self.variant = variant


class Router:
    """Routes ``share`` of the records to the canary (sticky by id)."""

    def __init__(self, share: float, rng: random.Random | None = None) -> None:
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"serve.canary.share: {share!r} is outside [0, 1]")
        self.share = share
        self._rng = rng or random.Random()  # noqa: S311 - traffic split, not a secret

    def choose(self, ident: Any = None) -> Variant:
        """The variant of one record (``ident``: its id, or None for a random choice)."""
        draw = self._rng.random() if ident is None else bucket(ident)
        return Variant.canary if draw < self.share else Variant.prod

    def route(self, ids: Sequence[Any]) -> list[Variant]:
        """The variant of each record of a request, in order."""
        return [self.choose(i) for i in ids]
