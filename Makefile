# Two commands a newcomer needs (see README.md):
#   make study   build the environment if needed, then run the SynthFaces study
#   make test    build the environment if needed, then run every check CI runs
#   make figures rebuild results/ tables, figures and numbers from the committed run records
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock setup.py settings.ini | sha256sum | cut -c1-16)

.PHONY: env test study quick figures lab paper clean-env

env: $(STAMP)

# The lock pins every transitive package, so it is installed without dependency resolution;
# `scripts/check_deps.py` then proves the set is consistent (`pip check`, one documented conflict allowed). Re-runs only when the lock or metadata change.
$(STAMP): requirements.lock setup.py settings.ini
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; set PYTHON=/path/to/python3.11"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==26.3" "setuptools==84.2.1" "wheel==0.48.0"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python scripts/check_deps.py
	@rm -f $(VENV)/.installed-*; touch $@
	@echo "environment ready: $(VENV)"

test: env
	@PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/test.sh

study: env
	@PATH="$(CURDIR)/$(BIN):$$PATH" python scripts/run_study.py --size synth

quick: env
	@PATH="$(CURDIR)/$(BIN):$$PATH" python scripts/run_study.py --size quick

# Rebuild every table, figure and number of results/ from the committed run records (seconds; changes no byte
# unless the code that draws them changed). The executed notebook goes to runs/, which git ignores.
figures: env
	@mkdir -p runs
	@PATH="$(CURDIR)/$(BIN):$$PATH" papermill --cwd nbs --log-level WARNING --no-progress-bar nbs/figures.ipynb runs/figures.ipynb \
		-p records results/runs/synth -p out_dir results

lab: env
	$(BIN)/jupyter lab --notebook-dir=.

paper: env
	@PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/paper.sh

clean-env:
	rm -rf $(VENV)
