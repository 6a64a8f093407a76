"""Which DVC fetch failures the gate reports as a credentials problem (real botocore errors)."""

from __future__ import annotations

import pytest

from pr2prod.compare.revisions import _is_auth_failure

botocore_exceptions = pytest.importorskip("botocore.exceptions")


def _wrapped(inner: BaseException) -> RuntimeError:
    """``inner`` as DVC surfaces it: wrapped in another error."""
    try:
        try:
            raise inner
        except BaseException as exc:
            raise RuntimeError("failed to get 'models/model'") from exc
    except RuntimeError as outer:
        return outer


def test_missing_and_refused_credentials_are_auth_failures() -> None:
    assert _is_auth_failure(_wrapped(botocore_exceptions.NoCredentialsError()))
    refused = botocore_exceptions.ClientError(
        {"Error": {"Code": "InvalidAccessKeyId", "Message": "no such key"}}, "GetObject"
    )
    assert _is_auth_failure(_wrapped(refused))
    assert _is_auth_failure(PermissionError("Access Denied"))


def test_missing_content_is_not_an_auth_failure() -> None:
    assert not _is_auth_failure(_wrapped(FileNotFoundError("models/model")))
    assert not _is_auth_failure(RuntimeError("missing cache files for 'models/model'"))
