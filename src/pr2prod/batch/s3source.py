"""Reading ``s3://`` input: which endpoint, and what a refused or missing credential says.

The endpoint (MinIO, Ceph, a loopback test server...) comes from the environment
(``AWS_ENDPOINT_URL_S3``, then ``AWS_ENDPOINT_URL``) or, failing that, from the project's DVC
remote on the same bucket (``dvc remote modify <name> endpointurl ...``): the team's one
bucket serves the DVC remote and the tables to score. Without either, pyarrow talks to AWS.
Credentials are never read here: pyarrow's S3 filesystem takes them from the environment
(``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, a profile, an instance role) of each process
that reads, so a Ray node reads with its own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from pr2prod.remote_auth import mentions_auth_failure

ENDPOINT_VARS = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
CREDENTIALS_HINT = (
    "the credentials are missing or were refused: set AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) in the environment of the command and of every "
    "Ray node"
)


def is_s3(source: str) -> bool:
    return source.startswith("s3://")


def s3_endpoint(source: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The S3 endpoint for ``source``: environment first, then a DVC remote on its bucket."""
    env = os.environ if environ is None else environ
    for var in ENDPOINT_VARS:
        if env.get(var):
            return env[var]
    return _dvc_remote_endpoint(urlparse(source).netloc)


def _dvc_remote_endpoint(bucket: str) -> str | None:
    """``endpointurl`` of a DVC remote of the current project whose URL is on ``bucket``."""
    try:
        from dvc.config import Config

        remotes = Config.from_cwd().get("remote", {})
    except Exception:
        return None
    for conf in remotes.values():
        url = urlparse(str(conf.get("url", "")))
        if url.scheme == "s3" and url.netloc == bucket and conf.get("endpointurl"):
            return str(conf["endpointurl"])
    return None


def s3_filesystem(source: str, endpoint: str | None) -> tuple[Any, str]:
    """pyarrow's S3 filesystem for ``source`` (``s3://bucket/path``) and the path inside it."""
    import pyarrow.fs as pafs

    parsed = urlparse(source)
    path = f"{parsed.netloc}/{parsed.path.lstrip('/')}".rstrip("/")
    if endpoint is None:
        return pafs.FileSystem.from_uri(source)[0], path
    ep = urlparse(endpoint)
    fs = pafs.S3FileSystem(
        endpoint_override=ep.netloc or ep.path,
        scheme=ep.scheme or "https",
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None,
    )
    return fs, path


def read_error(source: str, exc: OSError) -> str:
    """A message for an S3 read that failed: names the credentials when they were refused."""
    text = str(exc).strip()
    hint = CREDENTIALS_HINT if mentions_auth_failure(text) else "check the URL and the endpoint"
    return f"input {source}: cannot read from S3 ({text}); {hint}"
