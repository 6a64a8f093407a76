"""The DVC stages: ``python -m pr2prod.stages <name>`` runs one (see ``__main__``).

Importing this package has no side effect; the runner pins the numerical envelope before
a stage module (and so NumPy, SciPy or torch) is imported.
"""

STAGES = ("compose", "prepare", "validate", "train", "evaluate", "gate", "package")
