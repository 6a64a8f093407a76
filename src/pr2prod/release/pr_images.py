"""The pull-request comment's images, published where GitHub renders them.

A comment cannot show a file of the workflow's artifact, nor a path relative to the
repository. So the images (the gate's curves of both models, ``paths.gate_plots``, and the
evaluation plots, ``paths.plots``, drawn with ``dvc.yaml``'s plot definitions) are committed to
an orphan branch of the repository itself, ``pr2prod-assets``, each file named by its content
hash, and the comment embeds ``<server>/<owner>/<repo>/raw/<commit>/<file>``: an absolute URL
pinned to a commit, served by GitHub to whoever can read the repository (no image service, no
npm). The branch only grows by new files; the same image is stored once.

Publishing pushes with the job's own token (``contents: write``), so only a same-repository
pull request publishes; a fork's comment lists the images and links the workflow artifact.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pr2prod.config.paths_schema import PathsConfig
from pr2prod.errors import CheckFailedError, UsageError
from pr2prod.evaluate.plots import REGRESSION_PLOTS
from pr2prod.evaluate.render import plot_specs, render_svg

ASSETS_BRANCH = "pr2prod-assets"
#: what a URL base may hold: it reaches Markdown, never a shell
_URL_BASE = re.compile(r"(https?|file)://[A-Za-z0-9._~:/@%+-]*")
_REMOTE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
_PUSH_ATTEMPTS = 3
#: commits on the assets branch are pr2prod's own, whatever the runner's git identity
_IDENTITY = {
    "GIT_AUTHOR_NAME": "pr2prod",
    "GIT_AUTHOR_EMAIL": "pr2prod@users.noreply.github.com",
    "GIT_COMMITTER_NAME": "pr2prod",
    "GIT_COMMITTER_EMAIL": "pr2prod@users.noreply.github.com",
}


class PublishError(CheckFailedError, RuntimeError):
    """The images could not be pushed to the assets branch."""


@dataclass(frozen=True)
class Image:
    """One image of the comment: what it shows (its source file) and its SVG bytes."""

    source: str  # project-relative: reports/gate_plots/roc.svg, plots/roc.json
    title: str
    svg: bytes

    @property
    def name(self) -> str:
        """The file name on the assets branch: the content hash (one file per image)."""
        return hashlib.sha256(self.svg).hexdigest()[:24] + ".svg"


def collect(root: Path, paths: PathsConfig) -> list[Image]:
    """The gate's curves (as the gate drew them) then the evaluation plots (drawn here)."""
    images = []
    gate_dir = root / paths.gate_plots
    index = gate_dir / "index.json"
    names = json.loads(index.read_text(encoding="utf-8"))["images"] if index.exists() else []
    for name in names:
        source = Path(paths.gate_plots, name).as_posix()
        title = f"gate: {Path(name).stem} (production vs candidate)"
        images.append(Image(source, title, (root / source).read_bytes()))
    specs = {**REGRESSION_PLOTS, **plot_specs(root / "dvc.yaml")}  # a task switched in a PR
    for table in sorted((root / paths.plots).glob("*.json")):
        rows = json.loads(table.read_text(encoding="utf-8"))
        svg = render_svg(rows, table.stem, specs.get(table.stem, {}))
        source = Path(paths.plots, table.name).as_posix()
        images.append(Image(source, f"evaluation: {table.stem}", svg.encode()))
    return images


def check_url_base(url_base: str) -> str:
    """``url_base`` without a trailing slash, or :class:`UsageError` naming the option."""
    if not _URL_BASE.fullmatch(url_base):
        raise UsageError(
            f"--images-url {url_base!r} is not an http(s) or file URL of "
            "letters, digits and ._~:/@%+-"
        )
    return url_base.rstrip("/")


def _git(root: Path, *args: str, stdin: bytes | None = None) -> str:
    proc = subprocess.run(
        ["git", *args],
        cwd=root,
        input=stdin,
        capture_output=True,
        env={**os.environ, **_IDENTITY},
        check=False,
    )
    if proc.returncode != 0:
        detail = proc.stderr.decode(errors="replace").strip().splitlines()[-1:]
        raise PublishError(f"git {args[0]} failed: {' '.join(detail)}")
    return proc.stdout.decode().strip()


def _remote_tip(root: Path, remote: str) -> str | None:
    """The assets branch's commit on ``remote`` (fetched), or None before the first image."""
    listed = _git(root, "ls-remote", "--heads", remote, ASSETS_BRANCH)
    if not listed:
        return None
    _git(root, "fetch", "--quiet", "--no-tags", remote, f"refs/heads/{ASSETS_BRANCH}")
    return _git(root, "rev-parse", "FETCH_HEAD^{commit}")


def _commit(root: Path, images: list[Image], tip: str | None) -> str:
    """A commit holding the tip's files plus ``images`` (the tip itself when nothing is new)."""
    entries: dict[str, str] = {}
    if tip is not None:
        for line in _git(root, "ls-tree", tip).splitlines():
            entries[line.split("\t", 1)[1]] = line
    if tip is not None and all(image.name in entries for image in images):
        return tip
    for image in images:
        blob = _git(root, "hash-object", "-w", "--stdin", stdin=image.svg)
        entries[image.name] = f"100644 blob {blob}\t{image.name}"
    tree = _git(root, "mktree", stdin=("\n".join(sorted(entries.values())) + "\n").encode())
    parent = ["-p", tip] if tip is not None else []
    return _git(root, "commit-tree", tree, *parent, "-m", f"pr2prod: {len(images)} PR image(s)")


def publish(root: Path, images: list[Image], remote: str = "origin") -> str:
    """Push ``images`` to ``remote``'s assets branch; return the commit that holds them.

    A concurrent publisher (another pull request) makes the push a non-fast-forward: the
    branch is fetched again and the commit rebuilt on it, up to three times.
    """
    if not _REMOTE.fullmatch(remote):
        raise UsageError(f"--remote {remote!r} is not a git remote name (letters, digits, ._-)")
    for attempt in range(1, _PUSH_ATTEMPTS + 1):
        tip = _remote_tip(root, remote)
        commit = _commit(root, images, tip)
        if commit == tip:
            return commit
        try:
            _git(root, "push", "--quiet", remote, f"{commit}:refs/heads/{ASSETS_BRANCH}")
            return commit
        except PublishError:
            if attempt == _PUSH_ATTEMPTS:
                raise
    raise PublishError(f"no push attempt to {ASSETS_BRANCH}")  # _PUSH_ATTEMPTS < 1


def image_urls(images: list[Image], url_base: str, commit: str) -> dict[str, str]:
    """Each image's source -> its absolute URL, pinned to ``commit``."""
    base = check_url_base(url_base)
    return {image.source: f"{base}/{commit}/{image.name}" for image in images}
