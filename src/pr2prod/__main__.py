"""``python -m pr2prod`` runs the CLI."""

from pr2prod.cli import app

app()
