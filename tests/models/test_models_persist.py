"""skops persistence: byte-deterministic, faithful, and refusing untrusted types."""

from __future__ import annotations

import functools
import io
import zipfile

import numpy as np
import pytest
import skops.io as sio
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pr2prod.models.persist import (
    UntrustedArtifactError,
    canonical_skops,
    dumps_model,
    loads_model,
)
from pr2prod.models.seed import seed_everything
from pr2prod.models.torch_mlp import TorchMLPClassifier, TorchMLPRegressor


class Sneaky(TransformerMixin, BaseEstimator):
    """A type nobody trusted: loading an artifact holding it must be refused."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X


def _rf():
    x, y = load_breast_cancer(return_X_y=True)
    return make_pipeline(StandardScaler(), RandomForestClassifier(10, random_state=0)).fit(x, y), x


def test_raw_skops_is_not_byte_stable_but_canonical_is() -> None:
    model, _ = _rf()
    a, b = sio.dumps(model), sio.dumps(model)
    assert a != b  # the problem: ids and timestamps differ
    assert canonical_skops(a) == canonical_skops(b)
    names = zipfile.ZipFile(io.BytesIO(canonical_skops(a))).infolist()
    assert [i.filename for i in names] == sorted(i.filename for i in names)
    assert {i.date_time for i in names} == {(1980, 1, 1, 0, 0, 0)}


def test_two_fits_with_the_same_seed_give_the_same_bytes() -> None:
    assert dumps_model(_rf()[0]) == dumps_model(_rf()[0])


def test_round_trip_is_faithful() -> None:
    model, x = _rf()
    loaded = loads_model(dumps_model(model))
    np.testing.assert_array_equal(loaded.predict_proba(x), model.predict_proba(x))


def test_untrusted_type_is_refused_by_name() -> None:
    x, y = load_breast_cancer(return_X_y=True)
    model = make_pipeline(Sneaky(), LogisticRegression(max_iter=500)).fit(x, y)
    with pytest.raises(UntrustedArtifactError, match=r"test_models_persist\.Sneaky"):
        loads_model(dumps_model(model))
    # trusting it explicitly is the caller's decision
    loaded = loads_model(dumps_model(model), extra_trusted=[f"{__name__}.Sneaky"])
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_the_teams_own_package_is_trusted_by_prefix_and_only_it() -> None:
    from pr2prod.config.targets import project_packages

    x, y = load_breast_cancer(return_X_y=True)
    model = make_pipeline(Sneaky(), LogisticRegression(max_iter=500)).fit(x, y)
    package = __name__.split(".")[0] + "."
    allowed = ["sklearn.", "torch.", "pr2prod.", package]
    assert project_packages(allowed) == (package,)  # the libraries are not whole-trusted
    loaded = loads_model(dumps_model(model), trusted_packages=project_packages(allowed))
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    with pytest.raises(UntrustedArtifactError, match="Sneaky"):
        loads_model(dumps_model(model), trusted_packages=project_packages(allowed[:3]))


def _mlp(cls, x, y, **kw):
    est = cls(
        hidden_sizes=[16],
        max_epochs=5,
        batch_size=16,
        lr=0.01,
        optimizer=functools.partial(torch.optim.Adam, weight_decay=0.0),
        **kw,
    )
    return make_pipeline(StandardScaler(), est).fit(x, y)


def test_torch_mlp_is_deterministic_and_round_trips_without_pickle() -> None:
    x, y = load_wine(return_X_y=True)
    a, b = _mlp(TorchMLPClassifier, x, y), _mlp(TorchMLPClassifier, x, y)
    blob = dumps_model(a)
    assert blob == dumps_model(b)
    # only pr2prod's own estimator needs trusting; no torch object is serialised
    assert sio.get_untrusted_types(data=blob) == ["pr2prod.models.torch_mlp.TorchMLPClassifier"]
    loaded = loads_model(blob)
    np.testing.assert_array_equal(loaded.predict_proba(x), a.predict_proba(x))
    assert list(loaded[-1].classes_) == [0, 1, 2]


def test_torch_mlp_seed_changes_the_weights() -> None:
    x, y = load_wine(return_X_y=True)
    a = _mlp(TorchMLPClassifier, x, y, random_state=1)
    b = _mlp(TorchMLPClassifier, x, y, random_state=2)
    assert dumps_model(a) != dumps_model(b)


def test_torch_mlp_regressor_learns_and_round_trips() -> None:
    x, y = load_diabetes(return_X_y=True)
    model = _mlp(TorchMLPRegressor, x, y)
    pred = model.predict(x)
    assert np.corrcoef(pred, y)[0, 1] > 0.5
    np.testing.assert_allclose(loads_model(dumps_model(model)).predict(x), pred)


def test_seed_everything_makes_numpy_and_torch_repeat() -> None:
    seed_everything(3)
    first = (np.random.rand(3), torch.rand(3))
    seed_everything(3)
    second = (np.random.rand(3), torch.rand(3))
    np.testing.assert_array_equal(first[0], second[0])
    assert torch.equal(first[1], second[1])
