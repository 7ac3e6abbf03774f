# TanyaVaksin: `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export TF_CPP_MIN_LOG_LEVEL ?= 2
export RASA_TELEMETRY_ENABLED := false
export HF_HUB_OFFLINE := 1
export PYTHONPATH := $(CURDIR)
# Settings (.env.example lists every one): NAME=value lines in .env (optional, git-ignored; empty: the
# default), the environment winning over the file, as in the supervisor (supervisor/environment.py).
DOTENV := $(shell sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=..*/\1/p' .env 2>/dev/null)
$(foreach name,$(DOTENV),$(if $(filter environment,$(origin $(name))),,$(eval $(shell grep -m1 '^$(name)=' .env))))
export $(DOTENV)
# A stack `make run` started says where its Rasa server is, so `make train` / `rollback` swap its model.
RASA_API_FILE := $(or $(RUN_DIR),.run)/rasa_api.env
train rollback: export RASA_URL := $(or $(RASA_URL),$(shell sed -n 's/^RASA_URL=//p' $(RASA_API_FILE) 2>/dev/null))
train rollback: export RASA_API_TOKEN := $(or $(RASA_API_TOKEN),$(shell sed -n 's/^RASA_API_TOKEN=//p' $(RASA_API_FILE) 2>/dev/null))

RASA_ENV    := .venvs/rasa/bin
ACTIONS_ENV := .venvs/actions/bin
RASA        := $(RASA_ENV)/rasa
DOMAIN      := rasa_project/domain
CONFIG      := rasa_project/config.yml
TRAIN_DATA  := data/nlu data/rules
HELDOUT     := data/heldout
MODELS      := models
# Which environment runs which code (README "Architecture"); core/ and embedding/ run in both.
RASA_SIDE     := core embedding rasa_project training
RASA_TESTS    := tests/rasa_project tests/data tests/training tests/embedding
ACTIONS_SIDE  := core embedding actions services supervisor
ACTIONS_TESTS := tests/core tests/supervisor tests/actions tests/services tests/integration tests/browser tests/scripts \
  tests/harness tests/load tests/deploy

.PHONY: help setup embedding-model run shell train test lint deploy-lint types unit validate conversation integration browser eval \
  bench bench-review ablation soak screenshots clean profile load

help: ## show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

setup: ## create/update both Python environments (idempotent; both at once: pip is mostly one core)
	@scripts/setup_env.sh rasa 3.10 > >(sed 's/^/[rasa] /') 2>&1 & rasa=$$!; \
	  scripts/setup_env.sh actions 3.11 > >(sed 's/^/[actions] /') 2>&1; actions=$$?; \
	  wait $$rasa && exit $$actions

embedding-model: setup ## provision e5 and its ONNX graph into models/embedding, offline (make train does it first)
	$(ACTIONS_ENV)/python -m actions.semantic.provision

train: setup ## train the Rasa model and its semantic index, gate them end to end on the held-out split; live together only if not worse
	$(RASA_ENV)/python -m training train --config $(CONFIG) --domain $(DOMAIN) --data $(TRAIN_DATA) \
	  --heldout $(HELDOUT) --models $(MODELS) --actions-python $(ACTIONS_ENV)/python $(TRAIN_FLAGS)

.PHONY: rollback models
rollback: setup ## make the previous version (Rasa model and index) live again; hot-swaps Rasa with RASA_URL
	$(RASA_ENV)/python -m training rollback --models $(MODELS)

models: setup ## trained models with held-out metrics, gate status and which one is live
	$(RASA_ENV)/python -m training list --models $(MODELS)

run: train ## start the whole assistant (settings: .env.example; REST on :5005); Ctrl-C stops it
	$(ACTIONS_ENV)/python -m supervisor

shell: ## chat with the running assistant (start `make run` first) in this terminal
	$(ACTIONS_ENV)/python -m tests.harness.chat

lint: setup ## ruff lint and format check
	$(ACTIONS_ENV)/ruff check .
	$(ACTIONS_ENV)/ruff format --check .

deploy-lint: setup ## deploy/ offline: docker-compose config, Kubernetes schemas and policies, nginx -t
	@scripts/setup_deploy_lint.sh
	@scripts/setup_nginx.sh
	$(ACTIONS_ENV)/python -m pytest -q tests/deploy

# mypy's cache in the user's cache folder (core/user_cache.py), shared by every checkout: a new clone
# checks what changed instead of everything again (40 s of a 2-core machine; mypy validates each entry).
USER_CACHE = $(shell $(ACTIONS_ENV)/python -c 'import os; from core.user_cache import user_cache_folder as f; print(f(os.environ))')
types: setup ## mypy on both environments' code
	$(eval export MYPY_CACHE_DIR := $(or $(MYPY_CACHE_DIR),$(USER_CACHE)/mypy))
	$(ACTIONS_ENV)/mypy $(ACTIONS_SIDE) $(ACTIONS_TESTS)
	$(ACTIONS_ENV)/mypy --python-executable $(RASA_ENV)/python --python-version 3.10 $(RASA_SIDE) $(RASA_TESTS) \
	  tests/core/test_personal_data.py

unit: setup embedding-model ## unit tests, three lanes side by side (core on both Pythons; Rasa components, data, training; registry then actions and supervisor; review app; on SQLite + PostgreSQL)
	@scripts/setup_nginx.sh
	@MAKE="$(MAKE)" scripts/lanes.sh unit-rasa "unit-registry unit-actions" unit-review

# The lanes of `unit`, `integration` and `test` (scripts/lanes.sh), each on ports no other lane of its
# stage uses. In a lane (LANE=1) the stage that started it has set up and trained already: two lanes
# must not set up or train at once.
NEEDS_SETUP := $(if $(LANE),,setup)
NEEDS_TRAIN := $(if $(LANE),,train)
NEEDS_EMBEDDING := $(if $(LANE),,embedding-model)
.PHONY: unit-rasa unit-actions unit-registry unit-review integration-loop integration-faults integration-units \
  integration-stack
unit-rasa: $(NEEDS_SETUP) $(NEEDS_EMBEDDING)  # Rasa's e5 featurizer embeds with the graph
	$(RASA_ENV)/python -m pytest -q $(RASA_TESTS) tests/core \
	  --ignore=tests/core/test_personal_data_properties.py --ignore=tests/core/test_nik.py  # hypothesis: actions env

unit-registry: $(NEEDS_SETUP)
	$(ACTIONS_ENV)/python -m pytest -q -m "not trained_model" tests/services/registry

unit-review: $(NEEDS_SETUP)
	$(ACTIONS_ENV)/python -m pytest -q -m "not trained_model" tests/services/review

unit-actions: $(NEEDS_SETUP)
	@scripts/setup_nginx.sh  # the load balancer's tests; a no-op in `make unit`, which ran it first
	$(ACTIONS_ENV)/python -m pytest -q -m "not trained_model" tests/core tests/supervisor tests/actions \
	  tests/load/test_scale_pieces.py tests/scripts

validate: setup ## rasa data validate --fail-on-warnings
	$(RASA) data validate --fail-on-warnings --config $(CONFIG) --domain $(DOMAIN) --data $(TRAIN_DATA)

conversation: $(NEEDS_TRAIN) ## conversation tests (Rasa test stories) against the newest model
	$(RASA) test core --stories tests/conversations --model models --fail-on-prediction-errors --out reports/conversation

integration: train ## real Rasa server + real action server over HTTP (and the officer console in chromium), tests that need the trained models; the trainer's loop and the fault tests beside the rest
	@scripts/setup_browser.sh
	@scripts/setup_nginx.sh
	@MAKE="$(MAKE)" scripts/lanes.sh "integration-loop integration-faults" "integration-units integration-stack"

# Integration in three parts, none sharing a server with another: the trainer's loop (its own Rasa
# server, review app and chromium on 16270-16290 and ephemeral ports), the fault tests (two Rasa and
# two action processes behind nginx, a Redis of their own, the machine's PostgreSQL stopped and
# started: nothing else in integration uses PostgreSQL) and the rest (two assistants for the session).
LOOP_TESTS   := tests/integration/test_trainer_loop.py
FAULTS_TESTS := tests/integration/test_scale_faults.py
integration-loop: $(NEEDS_TRAIN)
	@scripts/setup_browser.sh  # no-op in a stage that ran it before its lanes (apt must not run twice at once)
	$(ACTIONS_ENV)/python -m pytest -q --durations=5 $(LOOP_TESTS)

integration-faults: $(NEEDS_TRAIN)
	@scripts/setup_nginx.sh  # no-op in a stage that ran it before its lanes
	$(ACTIONS_ENV)/python -m pytest -q --durations=5 $(FAULTS_TESTS)

integration-units: $(NEEDS_TRAIN)  # the actions' and services' tests that load the trained models
	$(ACTIONS_ENV)/python -m pytest -q -m trained_model tests/actions tests/services

integration-stack: $(NEEDS_TRAIN)
	$(ACTIONS_ENV)/python -m pytest -q --durations=10 tests/integration --ignore=$(LOOP_TESTS) --ignore=$(FAULTS_TESTS)

browser: $(NEEDS_SETUP) ## review app in headless Debian chromium (Playwright; installs chromium when missing)
	@scripts/setup_browser.sh
	$(ACTIONS_ENV)/python -m pytest -q tests/browser

# No separate `validate`: `train` runs the same `rasa data validate --fail-on-warnings` first and stops on it.
# After training, three lanes side by side (README "CI time"), each about 5 to 6 min on an idle machine:
# the trainer's loop, then the actions' and services' tests that need the trained models; the rest of
# integration (the longest); the fault tests, the browser tests, then the conversation tests.
test: lint deploy-lint types unit train ## every test, in CI order (sets up what is missing); independent lanes side by side
	@scripts/setup_browser.sh
	@scripts/setup_nginx.sh
	@MAKE="$(MAKE)" scripts/lanes.sh "integration-loop integration-units" integration-stack \
	  "integration-faults browser conversation"

eval: train ## held-out accuracy, wrong-answer and fallback rates, confusions, report in reports/eval
	$(RASA_ENV)/python -m training.heldout_parse --model $(MODELS) --heldout $(HELDOUT) --out reports/eval
	TANYAVAKSIN_MODELS=$(MODELS) $(ACTIONS_ENV)/python -m actions.semantic.end_to_end --parses reports/eval/parses.json \
	  --out reports/eval

profile: train ## the Rasa server's CPU per message, component by component (README "Speed and scale")
	$(RASA_ENV)/python -m rasa_project.profiling

bench-review: setup ## review app: conversation list latency with 100,000 synthetic conversations
	$(ACTIONS_ENV)/python -m tests.load.review_bench

.PHONY: bench-outreach
bench-outreach: setup ## outreach: a campaign to 100,000 recipients on the fake Graph API, 429 storm, a worker killed halfway
	$(ACTIONS_ENV)/python -m tests.load.outreach_bench $(BENCH_FLAGS)

ablation: embedding-model ## train and compare the pipelines of README "NLU pipeline" on the held-out split
	$(RASA_ENV)/python -m training.ablation --heldout $(HELDOUT) --out reports/ablation

bench: train ## REST latency p50/p95 and msgs/s at concurrency 1 and 16, training time, peak memory
	$(ACTIONS_ENV)/python -m tests.load.bench --out reports/bench

load: train ## load test (#14): mixed workload (FAQ, menu, lookups, WhatsApp) at concurrency 1/4/16/64 on 1 and 2 instances against Rasa's default pipeline; tracker events checked
	@scripts/setup_nginx.sh
	$(ACTIONS_ENV)/python -m tests.load.scale --out reports/load $(LOAD_FLAGS)

soak: train ## hostile and normal messages mixed for 60 s on loopback: normal-chat p50/p95 with and without, errors, restarts
	$(ACTIONS_ENV)/python -m tests.load.soak --seconds 60

screenshots: setup ## every review app page at 1280 and 390 px into docs/screenshots (README "Review app")
	@scripts/setup_browser.sh
	$(ACTIONS_ENV)/python -m tests.browser.screenshots

clean: ## remove trained models and their registry, reports and run state (keeps the environments)
	rm -rf models/*.tar.gz models/archive models/registry.json reports .run
