# skelstream: `make demo` and `make test` set up .venv themselves and are quick on a second run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Extras per target; a stamp per extra set so a second run installs nothing.
DEMO_EXTRAS := train
TEST_EXTRAS := dev

.PHONY: demo test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-%: setup.py | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[$*]'
	touch $@

demo: $(VENV)/.installed-$(DEMO_EXTRAS)
	$(BIN)/python -m stream.demo

test: $(VENV)/.installed-$(TEST_EXTRAS)
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
