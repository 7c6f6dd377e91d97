"""The ROS 2 Jazzy environment of `make ros-env` (ros2_ws/ros-env.sh): what it built, and the package tests run in it.

- The interface packages are built from the definitions skelstream carries, byte for byte
  (skelstream_msgs from ros2_ws/src/skelstream_msgs/msg; vision_msgs, hri_msgs and tf2_msgs
  from stream/ros2/upstream_msgs), and rosidl hashes each type (RIHS01) as rosbags does from
  the same files, which is what DDS-direct announces: the types are the upstream ones.
- skelstream_ros's own tests (ros2_ws/src/skelstream_ros/test) run with rclpy there: the node
  in-process, nothing skipped for want of rclpy.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from stream.ros2.interfaces import defined_types, typestore
from tests.ros2.ros_env import INSTALL, REPO, require_ros_env, ros_environment, ros_python
from tests.stream.ros2.conftest import fresh_domain_id

BUILT_PACKAGES = ("skelstream_msgs", "vision_msgs", "hri_msgs", "tf2_msgs", "skelstream_ros")


@pytest.fixture(scope="module", autouse=True)
def ros_env():
    require_ros_env()


def test_every_package_is_installed_in_the_ament_index():
    for package in BUILT_PACKAGES:
        assert (INSTALL / "share" / "ament_index" / "resource_index" / "packages" / package).is_file(), package


@pytest.mark.parametrize("typename", sorted(defined_types()))
def test_each_type_is_built_from_the_carried_definition_byte_for_byte(typename):
    package, _, name = typename.split("/")
    installed = INSTALL / "share" / package / "msg"
    assert (installed / f"{name}.msg").read_bytes() == defined_types()[typename].read_bytes()
    hashes = {entry["type_name"]: entry["hash_string"]
              for entry in json.loads((installed / f"{name}.json").read_text())["type_hashes"]}  # fmt: skip
    assert hashes[typename] == typestore().hash_rihs01(typename)  # rosidl and rosbags agree: same type on the wire


def test_the_upstream_interface_packages_are_marked_as_skelstream_builds():
    for package in ("vision_msgs", "hri_msgs", "tf2_msgs"):
        assert "<skelstream_upstream_subset/>" in (INSTALL / "share" / package / "package.xml").read_text()


def test_the_package_tests_run_with_rclpy_in_the_ros_environment(tmp_path):
    env = ros_environment(fresh_domain_id(), tmp_path / "ros_home")
    result = subprocess.run([ros_python(), "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                             "ros2_ws/src/skelstream_ros/test"], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "needs rclpy" not in result.stdout  # test_node.py ran
    skipped = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert all("needs the ROS 2 launch packages" in line for line in skipped), skipped  # launch: not served
