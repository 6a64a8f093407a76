"""The team's own packages (``allowed_targets`` beyond the libraries) reach the service as
its ``trusted_packages`` setting: their classes load, any other unknown type is refused.

End to end (a Bento built in a generated project, served over HTTP): tests/init/test_wheel.py.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pr2prod.config.targets import project_packages
from pr2prod.models.persist import MODEL_FILE, dumps_model
from pr2prod.serving.preflight import artifact_problem
from pr2prod.serving.settings import resolve, trusted_packages_json

TEAM = """\
from sklearn.base import BaseEstimator, TransformerMixin


class Clip(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X
"""


def test_the_bento_argument_reads_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PR2PROD_TRUSTED_PACKAGES", raising=False)
    packages = project_packages(["sklearn.", "pr2prod.", "acme_ml.", "acme_tools."])
    assert packages == ("acme_ml.", "acme_tools.")
    given = {"serve_config": "{}", "trusted_packages": trusted_packages_json(packages)}
    assert resolve(given).trusted_packages == packages
    # a Bento built without the argument trusts the libraries only
    assert resolve({"serve_config": "{}"}).trusted_packages == ()


def test_a_bad_value_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PR2PROD_TRUSTED_PACKAGES", json.dumps("acme_ml."))
    with pytest.raises(ValueError, match=r"trusted_packages: .* is not a JSON list"):
        resolve({"serve_config": "{}"})


@pytest.fixture
def team_artifact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "src" / "acme_ml").mkdir(parents=True)
    (tmp_path / "src" / "acme_ml" / "__init__.py").write_text(TEAM)
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    from acme_ml import Clip  # type: ignore[import-not-found]

    model = tmp_path / "model"
    model.mkdir()
    (model / MODEL_FILE).write_bytes(dumps_model(Clip()))
    yield model
    sys.modules.pop("acme_ml", None)


def test_preflight_loads_the_teams_classes_only_when_trusted(team_artifact: Path) -> None:
    refused = artifact_problem(team_artifact)
    assert refused is not None and "untrusted types: acme_ml.Clip" in refused
    trusted = artifact_problem(team_artifact, ("acme_ml.",))
    # the model file loads; the next file of the (partial) artifact is what is missing
    assert trusted is not None and "schema.json" in trusted and "untrusted" not in trusted
    assert "untrusted types: acme_ml.Clip" in str(artifact_problem(team_artifact, ("acme.",)))
