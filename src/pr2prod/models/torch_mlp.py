"""A scikit-learn-compatible torch MLP trained through skorch.

Training goes through skorch (optimizer from config as a ``functools.partial``, seeded
shuffling, per-epoch DVCLive logging, a progress bar). For persistence only the module's
weights are kept, as NumPy arrays, so skops stores the estimator without any pickle and
loading rebuilds the network from its hyperparameters.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from skorch.callbacks import Callback
from torch import nn

from pr2prod.config.errors import ConfigError
from pr2prod.config.targets import check_targets
from pr2prod.models.seed import seed_everything


class MLPModule(nn.Module):
    """Fully connected layers with ReLU and dropout."""

    def __init__(
        self, n_in: int, n_out: int, hidden_sizes: tuple[int, ...] = (64,), dropout: float = 0.0
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = n_in
        for h in hidden_sizes:
            layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(dropout)]
            width = h
        layers.append(nn.Linear(width, n_out))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x)
        return out.squeeze(-1) if out.shape[-1] == 1 else out


class _EpochLogger(Callback):
    """skorch callback: a progress bar over epochs and DVCLive metrics per epoch."""

    def __init__(self, total: int, progress: bool, live_dir: str | None) -> None:
        self.total, self.progress, self.live_dir = total, progress, live_dir

    def on_train_begin(self, net: Any, X: Any = None, y: Any = None, **_: Any) -> None:
        from tqdm.auto import tqdm

        self.bar_ = tqdm(total=self.total, desc="epochs", disable=not self.progress, leave=False)
        self.live_ = None
        if self.live_dir:
            from dvclive import Live

            self.live_ = Live(self.live_dir, dvcyaml=None, save_dvc_exp=False, report=None)

    def on_epoch_end(self, net: Any, **_: Any) -> None:
        loss = float(net.history[-1, "train_loss"])
        self.bar_.update(1)
        self.bar_.set_postfix(loss=f"{loss:.4f}")
        if self.live_ is not None:
            self.live_.log_metric("train_loss", loss)
            self.live_.next_step()

    def on_train_end(self, net: Any, X: Any = None, y: Any = None, **_: Any) -> None:
        self.bar_.close()
        if self.live_ is not None:
            self.live_.end()


def _optimizer_spec(optimizer: Any) -> dict[str, Any] | None:
    """A plain-data description of the optimizer factory (persisted instead of the class)."""
    if optimizer is None or isinstance(optimizer, dict):
        return optimizer
    func = getattr(optimizer, "func", optimizer)
    kwargs = dict(getattr(optimizer, "keywords", {}) or {})
    return {"_target_": f"{func.__module__}.{func.__qualname__}", "_partial_": True, **kwargs}


def _optimizer_factory(optimizer: Any) -> Any:
    """Accept a callable (what Hydra builds from ``_partial_``) or its persisted spec."""
    if optimizer is None:
        return functools.partial(torch.optim.Adam)
    if isinstance(optimizer, dict):
        # A persisted spec is config too: the same check as at build time, narrowed to
        # torch.optim, and the result must be an optimizer class (not any torch module).
        if "_target_" not in optimizer:
            raise ConfigError("optimizer: a spec needs a `_target_` (a torch.optim class)")
        check_targets(optimizer, ["torch.optim."], [], path="optimizer")
        from hydra.utils import instantiate

        factory = instantiate({**optimizer, "_partial_": True})
        func = getattr(factory, "func", None)
        if not (isinstance(func, type) and issubclass(func, torch.optim.Optimizer)):
            raise ConfigError(
                f"optimizer._target_: {optimizer['_target_']!r} is not a torch.optim.Optimizer"
            )
        return factory
    return optimizer


class _TorchMLPBase(BaseEstimator):
    """Shared fit/persist logic; subclasses set the loss and output handling."""

    live_dir: str | None = None  # set by the train stage to log epochs with DVCLive

    def __init__(
        self,
        hidden_sizes: list[int] | tuple[int, ...] = (64, 32),
        dropout: float = 0.1,
        max_epochs: int = 30,
        batch_size: int = 64,
        lr: float = 0.001,
        optimizer: Any = None,
        random_state: int = 0,
        progress: bool = False,
    ) -> None:
        self.hidden_sizes = hidden_sizes
        self.dropout = dropout
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.random_state = random_state
        self.progress = progress

    def _n_out(self, y: np.ndarray) -> int:
        raise NotImplementedError

    def _criterion(self) -> type[nn.Module]:
        raise NotImplementedError

    def _prepare_y(self, y: Any) -> np.ndarray:
        raise NotImplementedError

    def fit(self, X: Any, y: Any) -> _TorchMLPBase:
        from skorch import NeuralNet

        seed_everything(self.random_state)
        x = np.asarray(X, dtype=np.float32)
        yt = self._prepare_y(y)
        self.n_features_in_ = x.shape[1]
        opt = _optimizer_factory(self.optimizer)
        net = NeuralNet(
            module=MLPModule,
            module__n_in=x.shape[1],
            module__n_out=self._n_out(yt),
            module__hidden_sizes=tuple(self.hidden_sizes),
            module__dropout=self.dropout,
            criterion=self._criterion(),
            optimizer=opt,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=None,
            iterator_train__shuffle=True,
            iterator_train__generator=torch.Generator().manual_seed(self.random_state),
            callbacks=[("epochs", _EpochLogger(self.max_epochs, self.progress, self.live_dir))],
            device="cpu",
            verbose=0,
        )
        net.fit(x, yt)
        self.module_ = net.module_.eval()
        self.loss_curve_ = [float(h["train_loss"]) for h in net.history]
        return self

    def _forward(self, X: Any) -> np.ndarray:
        x = torch.from_numpy(np.asarray(X, dtype=np.float32))
        with torch.no_grad():
            return self.module_(x).numpy()

    # Persistence: weights as NumPy arrays, never a pickled torch object.
    def __getstate__(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k != "module_"}
        state["optimizer"] = _optimizer_spec(self.optimizer)
        if "module_" in self.__dict__:
            state["weights_"] = {
                k: v.detach().cpu().numpy().copy() for k, v in self.module_.state_dict().items()
            }
            state["n_out_"] = int(self.module_.net[-1].out_features)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        weights = state.pop("weights_", None)
        n_out = state.pop("n_out_", None)
        self.__dict__.update(state)
        if weights is not None:
            module = MLPModule(self.n_features_in_, n_out, tuple(self.hidden_sizes), self.dropout)
            module.load_state_dict(
                OrderedDict((k, torch.from_numpy(np.asarray(v))) for k, v in weights.items())
            )
            self.module_ = module.eval()


class TorchMLPClassifier(ClassifierMixin, _TorchMLPBase):
    """MLP classifier (cross-entropy); ``predict_proba`` is a softmax over classes."""

    def _prepare_y(self, y: Any) -> np.ndarray:
        self.classes_, codes = np.unique(np.asarray(y), return_inverse=True)
        return codes.astype(np.int64)

    def _n_out(self, y: np.ndarray) -> int:
        return len(self.classes_)

    def _criterion(self) -> type[nn.Module]:
        return nn.CrossEntropyLoss

    def predict_proba(self, X: Any) -> np.ndarray:
        logits = self._forward(X)
        logits = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


class TorchMLPRegressor(RegressorMixin, _TorchMLPBase):
    """MLP regressor (mean squared error) on a standardised target."""

    def _prepare_y(self, y: Any) -> np.ndarray:
        yv = np.asarray(y, dtype=np.float64)
        self.y_mean_, self.y_scale_ = float(yv.mean()), float(yv.std() or 1.0)
        return ((yv - self.y_mean_) / self.y_scale_).astype(np.float32)

    def _n_out(self, y: np.ndarray) -> int:
        return 1

    def _criterion(self) -> type[nn.Module]:
        return nn.MSELoss

    def predict(self, X: Any) -> np.ndarray:
        return self._forward(X).astype(np.float64) * self.y_scale_ + self.y_mean_
