"""How an object store says "no credentials" or "credentials refused", and what to do about it.

One list for every reader of a remote: the gate's fetch of production, ``pr2prod release``'s
``dvc status --cloud`` precondition, and ``pr2prod score`` reading ``s3://`` input.
"""

from __future__ import annotations

# botocore / s3fs (DVC), pyarrow's AWS SDK, lower-cased
AUTH_MARKERS = (
    "nocredentialserror",
    "unable to locate credentials",
    "partialcredentialserror",
    "invalidaccesskeyid",
    "signaturedoesnotmatch",
    "accessdenied",
    "access denied",
    "access_denied",
    "expiredtoken",
    "forbidden",
)

CREDENTIALS_HINT = (
    "Give the remote's credentials in the environment (S3: AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY; in CI the DVC_AWS_* secrets of the job's environment) "
    "or in .dvc/config.local (`dvc remote modify --local`), never in .dvc/config"
)


def mentions_auth_failure(text: str) -> bool:
    """``text`` (an error message) says the credentials are missing or were refused."""
    low = text.lower()
    return any(marker in low for marker in AUTH_MARKERS)


def is_auth_failure(exc: BaseException) -> bool:
    """``exc`` or an error it wraps is the remote refusing us, not missing content."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if mentions_auth_failure(f"{type(current).__name__} {current}"):
            return True
        current = current.__cause__ or current.__context__
    return False
