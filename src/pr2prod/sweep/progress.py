"""Progress of a running sweep: trials done, failures, best so far and an ETA (tqdm)."""

from __future__ import annotations

from typing import Any

from ray.tune import Callback
from tqdm import tqdm

from pr2prod.config.sweep_schema import Direction

_FINISHED = ("TERMINATED", "ERROR")


class SweepProgress(Callback):
    """A Ray Tune callback that advances one tqdm bar per finished (or failed) trial.

    Tune pickles its callbacks with the experiment (for ``Tuner.restore``): the bar is
    left out and made again, counting the trials a resumed sweep already finished.
    """

    def __init__(self, total: int, metric: str, direction: Direction) -> None:
        self.total = total
        self.metric = metric
        self.direction = direction
        self.best: float | None = None
        self.failed = 0
        self.bar: tqdm | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["bar"] = None
        return state

    def on_step_begin(self, iteration: int, trials: list, **info: Any) -> None:
        if self.bar is None:
            done = [t for t in trials if t.status in _FINISHED]
            for t in done:
                self._account(t)
            self.bar = tqdm(
                total=self.total, initial=len(done), desc="sweep", unit="trial", dynamic_ncols=True
            )
            self._show()

    def _account(self, trial: Any) -> None:
        if trial.status == "ERROR":
            self.failed += 1
            return
        value = (trial.last_result or {}).get(self.metric)
        if isinstance(value, int | float) and (
            self.best is None
            or (value > self.best if self.direction is Direction.max else value < self.best)
        ):
            self.best = float(value)

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._account(trial)
        self._advance()

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.failed += 1
        self._advance()

    def _show(self) -> None:
        if self.bar is not None:
            best = "-" if self.best is None else f"{self.best:.4g}"
            self.bar.set_postfix_str(f"best {self.metric}={best}, failed={self.failed}")

    def _advance(self) -> None:
        self._show()
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
