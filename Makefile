# skelstream: `make demo` and `make test` set up .venv themselves and are quick on a second run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Extras per target; a stamp per extra set so a second run installs nothing.
DEMO_EXTRAS := train,pose
TEST_EXTRAS := dev

.PHONY: demo test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-%: setup.py | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[$*]'
	touch $@

# The embedded demo: no camera, no downloads beyond the package registries.
# It prepares the MediaPipe pose model offline (for --camera/--video runs; cached after the first time),
# then streams a synthetic two-person scene through the default checkpoint in real time.
demo: $(VENV)/.installed-$(DEMO_EXTRAS)
	$(BIN)/python -m stream.pose.provision
	$(BIN)/stream-run --source synthetic --people 2 --seconds 30 --print-events

test: $(VENV)/.installed-$(TEST_EXTRAS)
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
