"""Schema of the ``release`` config group (conf/release/)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from pr2prod.config import catalog


class Bump(StrEnum):
    """``release.bump``: the semver part a release increases."""

    patch = "patch"
    minor = "minor"
    major = "major"


@dataclass
class ReleaseConfig:
    """How model versions are named, bumped, promoted and checked before a release.

    Attributes:
        model_name: GTO artifact name; versions are git tags ``<model_name>@vX.Y.Z``.
        bump: default semver part to increase: ``patch``, ``minor`` or ``major``.
        stage: GTO stage that means "in production" (``<model_name>#<stage>#N`` tags).
        canary_stage: GTO stage of a version serving a share of live traffic before
            ``pr2prod promote`` moves it to ``stage`` (``pr2prod rollback --canary`` aborts it).
        via_canary: a release goes to ``canary_stage`` first (the first release, with nothing
            in ``stage`` yet, goes straight to ``stage``); false: straight to ``stage``.
        git_remote: git remote that receives the version and stage tags.
        require_gate: refuse a release unless ``reports/gate.json`` says it passed.
        require_remote_artifacts: refuse a release while DVC outputs are missing on the remote.
        notes_path: where ``pr2prod release`` writes the model card / release notes.
        ci_outputs: committed files the release job itself regenerates (gate verdict, Bento
            record); the clean-tree check ignores them, the gate check reads their fresh content.
        repro_tolerance: `pr2prod verify-repro`: max |delta| of probabilities/values on the
            test split for "numerically equivalent".
        require_bit_identical: `pr2prod verify-repro` fails unless bit-identical.
    """

    model_name: str = "pr2prod-model"
    bump: Bump = Bump.minor
    stage: str = "prod"
    canary_stage: str = "canary"
    via_canary: bool = False
    git_remote: str = "origin"
    require_gate: bool = True
    require_remote_artifacts: bool = True
    notes_path: str = field(default_factory=catalog.default_factory("model_card"))
    ci_outputs: list[str] = field(
        default_factory=lambda: [
            catalog.default_factory(key)()
            for key in ("gate_json", "gate_md", "gate_plots", "gate_metrics", "bento_json")
        ]
    )
    repro_tolerance: float = 1e-9
    require_bit_identical: bool = False
