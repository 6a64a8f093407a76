"""Hyperparameter sweeps on Ray Tune (``pr2prod sweep``): a laptop or a cluster.

Each trial composes ``conf/`` with its own values, trains with the pipeline's own code on the
prepared split ``dvc.lock`` records, inside the numerical envelope, and evaluates like the
evaluate stage. The best trial becomes ``conf/experiment/<name>.yaml``, which ``dvc repro``
rebuilds bit for bit. Ray is imported only by :mod:`pr2prod.sweep.run` and the trial.
"""
