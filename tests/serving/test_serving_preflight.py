"""The start-up check names the file and the reason an artifact cannot be served."""

from __future__ import annotations

from pathlib import Path

import pytest
from sklearn.preprocessing import FunctionTransformer

from pr2prod.errors import EXIT_DATA
from pr2prod.models.persist import dumps_model
from pr2prod.serving.preflight import artifact_problem, check_artifact


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "no model artifact to serve"),
        (b"", "the file is empty (0 bytes)"),
        (b"PK\x03\x04 not really a zip", "BadZipFile"),
        ("untrusted", "untrusted types: builtins.eval"),
    ],
    ids=["missing", "empty", "corrupt", "untrusted"],
)
def test_unloadable_model_file_is_named_with_its_reason(
    tmp_path: Path, content: bytes | str | None, reason: str
) -> None:
    skops = tmp_path / "model.skops"
    if content == "untrusted":
        skops.write_bytes(dumps_model(FunctionTransformer(func=eval)))
    elif isinstance(content, bytes):
        skops.write_bytes(content)
    problem = artifact_problem(tmp_path)
    assert problem is not None and problem.startswith(f"{skops}: ") and reason in problem
    assert "\n" not in problem


def test_check_exits_with_the_data_error_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "model.skops").write_bytes(b"")
    with pytest.raises(SystemExit) as info:
        check_artifact(tmp_path)
    assert info.value.code == EXIT_DATA
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "model.skops" in err
