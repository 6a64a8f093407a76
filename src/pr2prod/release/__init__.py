"""Model versions and production stage in git tags (GTO), release checks, model card, rollback."""

from pr2prod.release.registry import production_ref

__all__ = ["production_ref"]
