"""The template of an earlier pr2prod version, taken from that version's released wheel.

``copier update`` re-renders the template version a project was made with. The local cache
(:mod:`pr2prod.init.cache`) holds only the versions that ran on this machine; on a fresh
machine the old version is missing. The project's own pin names it exactly
(``pr2prod==<version>``, installed from the team's package index), so the old template is
that wheel's package data: ``pip download`` fetches the wheel (no dependencies, wheels only,
so nothing is built or run), and only the files under ``pr2prod/template/`` are extracted.
pip reads its index settings as it always does (``PIP_INDEX_URL``, ``PIP_EXTRA_INDEX_URL``,
``PIP_FIND_LINKS``, ``PIP_NO_INDEX``, pip.conf), so a private index or a wheel directory work.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath

from pr2prod.errors import CheckFailedError

PACKAGE = "pr2prod"
#: Where the template lives inside the wheel (package data of ``pr2prod``).
WHEEL_TEMPLATE = PurePosixPath(PACKAGE, "template")


def download_template(version: str, dest: Path) -> Path:
    """Extract the template of ``pr2prod==version`` from its wheel into ``dest``; return it.

    Raises:
        CheckFailedError: pip cannot get that wheel (the message says what to do instead),
            or the wheel holds no template.
    """
    wheels = dest / "wheels"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary",
            ":all:",
            "--dest",
            str(wheels),
            f"{PACKAGE}=={version}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    found = sorted(wheels.glob(f"{PACKAGE}-{version}-*.whl")) if wheels.is_dir() else []
    if proc.returncode != 0 or not found:
        raise CheckFailedError(
            f"the project was made with pr2prod {version}, whose template is not in the local "
            f"cache, and `pip download {PACKAGE}=={version}` failed "
            f"({(proc.stderr or proc.stdout).strip() or 'no wheel'}). Point pip at the index "
            f"that has it (PIP_INDEX_URL / PIP_FIND_LINKS), or run `pr2prod upgrade` once "
            f"with pr2prod=={version} installed"
        )
    template = dest / "template"
    _extract_template(found[0], template)
    return template


def _extract_template(wheel: Path, dest: Path) -> None:
    count = 0
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            member = PurePosixPath(info.filename)
            if info.is_dir() or member.parts[:2] != WHEEL_TEMPLATE.parts or ".." in member.parts:
                continue
            target = dest.joinpath(*member.parts[2:])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zf.read(info))
            if (info.external_attr >> 16) & 0o111:  # executable in the wheel (.ci/run)
                target.chmod(0o755)
            count += 1
    if count == 0:
        raise CheckFailedError(f"{wheel.name} holds no {WHEEL_TEMPLATE}/ (not a pr2prod wheel?)")
