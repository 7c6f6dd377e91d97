# skelstream: `make demo` and `make test` set up .venv themselves and are quick on a second run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The ROS 2 Jazzy environment (pip wheels, Python 3.11) over .venv, with ros2_ws built: ros2_ws/ros-env.sh.
ROS_ENV := .venv-ros
# The slim runtime a robot installs (pip install -e '.[runtime]': pose, ONNX Runtime, ZeroMQ; no torch).
RUNTIME_ENV := .venv-runtime
ROS_SOURCES := $(shell find ros2_ws/src ros2_ws/upstream ros2_ws/cmake stream/ros2/upstream_msgs stream/ros2/msg/ \
	-type f -not -path '*/test/*' -not -name '*.pyc' 2>/dev/null)
# Extras per target; a stamp per extra set so a second run installs nothing.
DEMO_EXTRAS := train,pose,onnx
TEST_EXTRAS := dev

.PHONY: demo test ros-env runtime-env clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-%: setup.py | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[$*]'
	touch $@

# The embedded demo: no camera, no downloads beyond the package registries.
# It prepares the MediaPipe pose model offline (for --camera/--video runs; cached after the first time),
# then streams a synthetic two-person scene through the default checkpoint in real time (ONNX Runtime, the onnx extra,
# is the default backend; the stride is automatic).
demo: $(VENV)/.installed-$(DEMO_EXTRAS)
	$(BIN)/python -m stream.pose.provision
	$(BIN)/stream-run --source synthetic --people 2 --seconds 30 --print-events

# Rebuilt when the pins, the script or a package source changes; colcon rebuilds only what changed.
$(ROS_ENV)/.built: ros2_ws/requirements-jazzy.txt ros2_ws/ros-env.sh $(ROS_SOURCES) | $(VENV)/.installed-$(TEST_EXTRAS)
	ros2_ws/ros-env.sh $(ROS_ENV) $(VENV)
	touch $@

ros-env: $(ROS_ENV)/.built

# Reinstalled when setup.py changes; pip takes the wheels from its cache after the first time.
$(RUNTIME_ENV)/.built: setup.py
	[ -x $(RUNTIME_ENV)/bin/python ] || $(PYTHON) -m venv $(RUNTIME_ENV)
	$(RUNTIME_ENV)/bin/pip install --quiet --disable-pip-version-check -e '.[runtime]'
	touch $@

runtime-env: $(RUNTIME_ENV)/.built

# The ROS 2 tests run the node and rclpy in $(ROS_ENV), the slim-runtime tests stream-run in $(RUNTIME_ENV);
# SKELSTREAM_REQUIRE_ROS and SKELSTREAM_REQUIRE_RUNTIME make them fail, not skip, without them.
test: $(VENV)/.installed-$(TEST_EXTRAS) $(ROS_ENV)/.built $(RUNTIME_ENV)/.built
	SKELSTREAM_ROS_ENV=$(abspath $(ROS_ENV)) SKELSTREAM_REQUIRE_ROS=1 \
	SKELSTREAM_RUNTIME_ENV=$(abspath $(RUNTIME_ENV)) SKELSTREAM_REQUIRE_RUNTIME=1 $(BIN)/python -m pytest

clean:
	rm -rf $(VENV) $(ROS_ENV) $(RUNTIME_ENV) build *.egg-info .pytest_cache
