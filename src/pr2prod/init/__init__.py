"""``pr2prod init``: a new project of the shape of this repository, from the copier template.

:mod:`pr2prod.init.answers` checks the answers (before anything is written);
:mod:`pr2prod.init.project` renders the template into a fresh git + DVC repository.
"""

from __future__ import annotations

from pathlib import Path

#: The copier template, shipped as package data (src/pr2prod/template/).
TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "template"
