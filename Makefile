# The interface people and CI share: CI calls these same targets.
PY ?= python
UPGRADE ?=
.DEFAULT_GOAL := help
# Every recipe line runs in bash with -e (a failing command fails the target, and so the CI job),
# -u (an unset variable is an error) and pipefail (a failing command inside a pipe counts).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:

help: ## list the targets
	@grep -E '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-16s %s\n", $$1, $$2}'

# The lock: exact versions of everything with hashes, one file per Python (3.11: every extra,
# torch's CPU build from the local wheel; 3.12/3.13: the base install and the test runner).
LOCK = requirements/py$(shell $(PY) -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")').lock
TORCH_WHEELS ?= /opt/wheels
UV_COMPILE = uv pip compile pyproject.toml --generate-hashes --python-platform x86_64-manylinux_2_28 --no-emit-find-links --quiet

install: ## install from the lock (exact versions, hashes), then pr2prod itself (into the active Python)
	$(PY) -m pip install --require-hashes -r $(LOCK)
	$(PY) -m pip install --no-deps -e .

lock: ## re-resolve requirements/py3.*.lock from pyproject.toml, keeping current pins (UPGRADE=--upgrade to move them)
	$(UV_COMPILE) $(UPGRADE) --extra dev --python-version 3.11 --find-links $(TORCH_WHEELS) -o requirements/py3.11.lock
	for v in 3.12 3.13; do $(UV_COMPILE) $(UPGRADE) --extra test --python-version $$v -o requirements/py$$v.lock; done

repro: ## run the whole pipeline
	dvc repro

check: ## params.yaml in sync with conf/
	pr2prod check

trust-check: ## fail when the trust policy (pyproject.toml [tool.pr2prod]) is wider than BASE's (default origin/main)
	pr2prod trust-diff --base "$${BASE:-origin/main}"

lint: ## ruff, import contracts, types, params in sync
	ruff check src tests benchmarks
	ruff format --check src tests benchmarks
	lint-imports
	mypy src
	pr2prod check

# Test tiers, by cost (markers in pyproject.toml): unit (no process, no server, no trained
# project), integration (the real pipeline, servers, databases, any subprocess), e2e (whole
# workflows under act, copier/init/wheel, clusters). Two workers; the longest tests are collected
# first and --no-loadscope-reorder keeps that order, so both workers finish together.
# A tier with no test in it (pytest exit 5) is not a failure.
PYTEST_N := -n 2 --dist loadgroup --no-loadscope-reorder

test: ## the whole test suite, every tier (what CI runs; the 25 slowest tests listed last)
	$(PY) -m pytest $(PYTEST_N) --durations=25

test-fast: ## the unit tier: no subprocess, no server, no trained project (the pre-push hook)
	$(PY) -m pytest -m unit $(PYTEST_N) || [ $$? -eq 5 ]

test-integration: ## the integration tier: the real pipeline, servers, databases, subprocesses
	$(PY) -m pytest -m integration $(PYTEST_N) || [ $$? -eq 5 ]

test-e2e: ## the e2e tier: workflows under act, init/upgrade/wheel, clusters, the continuous loop
	$(PY) -m pytest -m e2e $(PYTEST_N) || [ $$? -eq 5 ]

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

retrain-plan: ## evaluate retrain.rules on the monitor report (EVENT=schedule|manual, FORCE=true|false) into reports/retrain.json/md
	@event="$${EVENT:-manual}"; force="$${FORCE:-false}"; \
	case "$$event" in schedule|manual) ;; *) printf 'make retrain-plan: EVENT=%q is not one of schedule, manual\n' "$$event" >&2; exit 2 ;; esac; \
	case "$$force" in true|false) ;; *) printf 'make retrain-plan: FORCE=%q is not one of true, false\n' "$$force" >&2; exit 2 ;; esac; \
	args=(--plan --event "$$event"); \
	if [ "$$force" = true ]; then args+=(--force); fi; \
	pr2prod retrain "$${args[@]}"

retrain: ## when a rule fires (or FORCE=true): refresh the data snapshot, dvc repro, commit on retrain.branch (PUSH=<remote> pushes)
	@event="$${EVENT:-manual}"; force="$${FORCE:-false}"; push="$${PUSH:-}"; \
	case "$$event" in schedule|manual) ;; *) printf 'make retrain: EVENT=%q is not one of schedule, manual\n' "$$event" >&2; exit 2 ;; esac; \
	case "$$force" in true|false) ;; *) printf 'make retrain: FORCE=%q is not one of true, false\n' "$$force" >&2; exit 2 ;; esac; \
	if [ -n "$$push" ] && [[ ! "$$push" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$$ ]]; then \
	  printf 'make retrain: PUSH=%q is not a git remote name\n' "$$push" >&2; exit 2; \
	fi; \
	args=(--event "$$event"); \
	if [ "$$force" = true ]; then args+=(--force); fi; \
	if [ -n "$$push" ]; then args+=(--push "$$push"); fi; \
	pr2prod retrain "$${args[@]}"

bench: ## every performance figure into benchmarks/results/ (several minutes)
	$(PY) benchmarks/pipeline.py
	$(PY) benchmarks/gate.py
	$(PY) benchmarks/serving.py
	$(PY) benchmarks/batch.py

bench-data-scale: ## the pipeline stage by stage on 1 M and 10 M synthetic rows, gate included (~1 h; 10 M needs ~8 GiB)
	$(PY) benchmarks/data_scale.py

# --- GitOps loop: the workflows in .github/workflows call exactly these targets -----------------
# Values that can come from outside (a workflow input, a PR label, a branch name) reach recipes
# only as environment variables, read by the shell as "$$VAR" (quoted) and validated first;
# never as $(VAR), which make pastes into the shell text before the shell parses it. Workflows
# set them in the step's `env:` and run plain `make <target>`; by hand, `make rollback
# VERSION=v1.0.0` works as well (make exports command-line variables to the recipe).
# BASE (default main), BUMP (patch|minor|major or empty), LABELS, VERSION (vMAJOR.MINOR.PATCH),
# METRICS (the server's /metrics URL or a saved scrape).

pre-commit: ## every pre-commit hook on every file (the PR lint job)
	pre-commit run --all-files --show-diff-on-failure

pull: ## fetch the DVC-tracked data and model the commit names
	dvc pull --allow-missing

reproduce-check: ## re-run the pipeline, fail if outputs differ from dvc.lock (dvc pull first; PULL=false: no pull, no credentials)
	@pull="$${PULL:-true}"; \
	case "$$pull" in \
	  true) pr2prod verify-repro ;; \
	  false) pr2prod verify-repro --no-pull ;; \
	  *) printf 'make reproduce-check: PULL=%q is not one of true, false\n' "$$pull" >&2; exit 2 ;; \
	esac

candidate: ## train and evaluate the commit's candidate from its data (no DVC remote needed)
	dvc repro evaluate

gate: ## differential gate against production (reports/gate.json, gate.md); exits 1 on a FAIL; rebuilds a missing production
	pr2prod gate

gate-release: ## the gate as the release path runs it: exits 1 on a FAIL; production missing from DVC fails closed
	pr2prod gate --on-missing fail

build: ## build the Bento (reports/bento.json); refuses a model without a passing, bound verdict
	pr2prod build

report: ## PR report (params, metrics, gate, plots) against BASE (default main) into reports/pr_report.md; IMAGES_URL=<server>/<owner>/<repo>/raw publishes its images to origin's pr2prod-assets branch and embeds them
	@base="$${BASE:-main}"; \
	if ! git check-ref-format --branch "$$base" >/dev/null 2>&1; then \
	  printf 'make report: BASE=%q is not a valid branch name\n' "$$base" >&2; exit 2; \
	fi; \
	pr2prod report --base "$$base" --md $${IMAGES_URL:+--images-url "$$IMAGES_URL"}

registry: ## model versions and who holds the production and canary stages
	pr2prod registry

release: ## register the next version at HEAD, assign prod, push the tags (BUMP=, LABELS=)
	@bump="$${BUMP:-}"; \
	case "$$bump" in \
	  ""|patch|minor|major) ;; \
	  *) printf 'make release: BUMP=%q is not one of patch, minor, major (or empty)\n' "$$bump" >&2; exit 2 ;; \
	esac; \
	pr2prod release --push $${bump:+--bump "$$bump"} --labels "$${LABELS:-}"

rollback: ## assign prod back to VERSION=vX.Y.Z and push the tag
	@version="$${VERSION:-}"; \
	if [[ ! "$$version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$$ ]]; then \
	  printf 'make rollback: VERSION=%q is not of the form vMAJOR.MINOR.PATCH (e.g. VERSION=v1.0.0)\n' "$$version" >&2; \
	  exit 2; \
	fi; \
	pr2prod rollback "$$version" --push

canary-report: ## compare canary and production on the logged traffic (METRICS=/metrics URL or file)
	@metrics="$${METRICS:-}"; \
	if [[ "$$metrics" == -* || "$$metrics" == *$$'\n'* ]]; then \
	  printf 'make canary-report: METRICS=%q is not a URL or a file\n' "$$metrics" >&2; exit 2; \
	fi; \
	pr2prod canary-report $${metrics:+--metrics "$$metrics"}

promote: ## move the canary to prod if reports/canary.json (canary.report) says promote; push the tags
	pr2prod promote --report reports/canary.json --push

canary-abort: ## retire the canary assignment (prod untouched) and push the tag
	pr2prod rollback --canary --push

workflows-lint: ## schema-check and security-audit the GitHub workflows
	check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	zizmor --offline --persona auditor --min-severity medium .github

ci-local: ## run the workflows for EVENT (default pull_request) with act on this host
	pr2prod ci "$${EVENT:-pull_request}"

.PHONY: help install repro check trust-check lint test test-fast test-integration test-e2e bench serve bench-serving score monitor \
	monitor-pull retrain-plan retrain pre-commit pull reproduce-check candidate gate build report registry \
	release rollback canary-report promote canary-abort workflows-lint ci-local
