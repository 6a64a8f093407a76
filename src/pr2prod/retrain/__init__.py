"""Continuous training: trigger rules over the monitor report, a refreshed data snapshot, the
pipeline rerun and one commit on the retraining branch (``pr2prod retrain``).

Sits above the domain packages: it reads the monitor's summary (``pr2prod.monitor.summary``)
and the registry (``pr2prod.release.registry``); nothing below imports it.
"""
