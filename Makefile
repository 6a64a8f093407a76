# The interface people and CI share: CI calls these same targets.
PY ?= python
.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-12s %s\n", $$1, $$2}'

install: ## install pr2prod with every dev tool (into the active Python)
	$(PY) -m pip install -e ".[dev]"

repro: ## run the whole pipeline
	dvc repro

check: ## params.yaml in sync with conf/
	pr2prod check

lint: ## ruff, import contracts, params in sync
	ruff check src tests benchmarks
	ruff format --check src tests benchmarks
	lint-imports
	pr2prod check

test: ## the test suite (slow end-to-end tests included)
	$(PY) -m pytest -n 2 --dist loadgroup

test-fast: ## the test suite without slow end-to-end tests
	$(PY) -m pytest -m "not slow"

serve: ## serve models/model on serve.host:serve.port (conf/serve/)
	pr2prod serve

bench-serving: ## serving req/s and latency vs a plain BentoML service
	$(PY) benchmarks/serving.py

score: ## batch-score monitor.score.input (pipelines/score) into the database and Parquet
	dvc repro pipelines/score/dvc.yaml

monitor-pull: ## fetch what the monitor needs: the model (and the prediction log if DVC tracks it)
	dvc pull --with-deps pipelines/monitor/dvc.yaml
	if [ -f logs/predictions.dvc ]; then dvc pull logs/predictions.dvc; fi

monitor: ## drift + performance report (pipelines/monitor); fails when a threshold is crossed
	dvc repro pipelines/monitor/dvc.yaml

bench: ## every performance figure into benchmarks/results/ (several minutes)
	$(PY) benchmarks/pipeline.py
	$(PY) benchmarks/gate.py
	$(PY) benchmarks/serving.py
	$(PY) benchmarks/batch.py

.PHONY: help install repro check lint test test-fast bench serve bench-serving score monitor monitor-pull
