# Quick start: `make serve` serves the example models on 127.0.0.1:8000; `make test` runs the tests.
# Each target makes .venv, installs the project and builds the example artifacts if they are missing.
# Serving installs the package's runtime dependencies only; testing adds the dev extra's tooling.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
INSTALLED_DEV := $(VENV)/.installed-dev
ARTIFACTS := model_store/iris/1/model.joblib model_store/penguins/1/model.joblib \
	model_store/penguins/2/model.joblib model_store/diabetes/1/model.joblib
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: serve reload test check lint bench bench-traffic soak attack examples install clean image

# make serve WATCH=1 reloads whenever config.yaml changes; make reload (from another terminal) sends
# SIGHUP to the server make serve started, whose PID is in $(PID_FILE) while it runs.
PID_FILE := $(VENV)/serve.pid
serve: $(INSTALLED) $(ARTIFACTS)
	$(BIN)/model-registry serve --config config.yaml --host $(HOST) --port $(PORT) \
		--pid-file $(PID_FILE) $(if $(WATCH),--watch)

reload:
	@test -s $(PID_FILE) || { echo "no $(PID_FILE): is make serve running?" >&2; exit 1; }
	kill -HUP $$(cat $(PID_FILE))

test: $(INSTALLED_DEV) $(ARTIFACTS)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
	$(BIN)/python -m pytest

check: $(INSTALLED) $(ARTIFACTS)
	$(BIN)/model-registry check --config config.yaml

# Our server against a naive Flask baseline, measured with wrk (Debian: apt-get install wrk), then
# what a traffic split and a shadow cost (TRAFFIC=0 skips that part). Options pass through, e.g.
# make bench BENCH_ARGS="--duration 2 --reps 1" TRAFFIC_ARGS="--reps 1"; see bench/README.md.
bench: $(INSTALLED_DEV) $(ARTIFACTS)
	$(BIN)/python -m bench.load $(BENCH_ARGS)
	$(if $(filter 0,$(TRAFFIC)),,$(BIN)/python -m bench.load.traffic $(TRAFFIC_ARGS))

# What a traffic split and a shadow cost (bench/load/traffic.py); report in bench/results/traffic.md.
bench-traffic: $(INSTALLED_DEV) $(ARTIFACTS)
	$(BIN)/python -m bench.load.traffic $(TRAFFIC_ARGS)

# Ten minutes of mixed good and bad requests against --workers 2, with one reload in the middle;
# fails on any failed request or memory growth of 5 % or more. E.g. make soak SOAK_ARGS="--duration 60".
soak: $(INSTALLED_DEV) $(ARTIFACTS)
	$(BIN)/python -m bench.soak $(SOAK_ARGS)

# The container image, built with podman (Debian: apt-get install podman runc mmdebstrap); the first
# run builds a Debian base image with mmdebstrap. See deploy/build_image.py.
image:
	$(PYTHON) deploy/build_image.py $(IMAGE_ARGS)

# Idle, slow and never-reading clients held for 20 s while a probe predicts every 0.2 s, against
# the default workers and --workers 2; fails unless 98 % of the probes are answered within 1 s.
attack: $(INSTALLED_DEV) $(ARTIFACTS)
	$(BIN)/python -m bench.attack $(ATTACK_ARGS)

lint: $(INSTALLED_DEV)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

install: $(INSTALLED)

$(INSTALLED): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[examples]'
	touch $@

$(INSTALLED_DEV): $(INSTALLED)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,examples]'
	touch $@

# Retrains every example model and rewrites config.yaml with the new checksums.
examples: $(INSTALLED)
	$(BIN)/python scripts/train_examples.py

$(ARTIFACTS) &: | $(INSTALLED)
	$(BIN)/python scripts/train_examples.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
