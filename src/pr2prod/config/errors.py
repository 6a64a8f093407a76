"""The one error type the config layer raises: short, names the key and the choices."""

from __future__ import annotations

from pr2prod.errors import UsageError


class ConfigError(UsageError, ValueError):
    """A config that cannot be composed, validated or instantiated.

    The message is meant for people: it names the offending key or value and, where
    there is a closed set, the allowed choices.
    """
