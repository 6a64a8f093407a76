"""One source of paths: conf/paths/ -> params.yaml -> dvc.yaml and the code; inside the project."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from _project import BIN, ROOT, env

PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())


def test_dvc_yaml_spells_no_path_that_conf_paths_owns() -> None:
    code_lines = [
        line.split("#")[0]
        for line in (ROOT / "dvc.yaml").read_text().splitlines()
        if not line.lstrip().startswith("#")
    ]
    for key, value in PARAMS["paths"].items():
        item = re.compile(rf"-\s+{re.escape(value)}(?=[:/\s]|$)")
        literal = [line for line in code_lines if item.search(line)]
        assert not literal, f"dvc.yaml repeats paths.{key} ({value}) instead of ${{paths.{key}}}"


def test_stage_code_reads_the_paths_from_params(tmp_path: Path, monkeypatch) -> None:
    params = dict(PARAMS)
    params["paths"] = {**PARAMS["paths"], "model": "artifacts/candidate"}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.chdir(tmp_path)
    from pr2prod.stages import _common

    _common.project_paths.cache_clear()
    try:
        assert Path("artifacts/candidate") == _common.MODEL_DIR
        assert Path(PARAMS["paths"]["prepared"]) / "test.parquet" == _common.TEST
    finally:
        _common.project_paths.cache_clear()


@pytest.mark.integration
@pytest.mark.parametrize("value", ["../../etc/cron.d", "/tmp/elsewhere", "models/../../x"])
def test_a_path_outside_the_project_is_refused_and_nothing_written(
    tmp_path: Path, value: str
) -> None:
    for name in ("conf", "params.yaml"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, tmp_path / name)
    before = (tmp_path / "params.yaml").read_bytes()
    proc = subprocess.run(
        [str(BIN / "pr2prod"), "compose", f"paths.model={value}"],
        cwd=tmp_path,
        env=env(),
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0
    assert "paths.model" in proc.stderr
    assert "relative path inside the project" in proc.stderr
    assert (tmp_path / "params.yaml").read_bytes() == before
