"""One small entry point per DVC stage: ``python -m pr2prod.stages.<name>``."""

STAGES = ("compose", "prepare", "validate", "train", "evaluate", "gate", "package")
