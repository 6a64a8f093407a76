"""pr2prod: config-as-code ML from pull request to production."""

__version__ = "0.1.0"
