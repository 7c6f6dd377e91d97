"""The launch file, where the ROS 2 launch packages are installed: its arguments, and a short run of the node.

Its argument names are also checked without ROS, by reading it, in test_parameters.py.
"""

import importlib.util
from pathlib import Path

import pytest
import yaml

try:
    from ament_index_python.packages import PackageNotFoundError, get_package_share_directory
    from launch import LaunchDescription, LaunchService
    from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription
    from launch.launch_description_sources import PythonLaunchDescriptionSource
except ImportError:
    pytest.skip("needs the ROS 2 launch packages (launch, launch_ros, ament_index_python): run in a sourced "
                "ROS 2 Humble/Jazzy environment", allow_module_level=True)  # fmt: skip

from skelstream_ros.parameters import DEFAULTS  # noqa: E402

LAUNCH_FILE = Path(__file__).resolve().parents[1] / "launch" / "skelstream.launch.py"


@pytest.fixture(scope="module")
def installed():
    try:
        return Path(get_package_share_directory("skelstream_ros"))
    except PackageNotFoundError:
        pytest.skip("skelstream_ros is not installed in this environment: colcon build, then source install/setup.bash")


def test_the_launch_file_declares_its_arguments(installed):
    spec = importlib.util.spec_from_file_location("skelstream_launch", LAUNCH_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    description = module.generate_launch_description()
    declared = {a.name: a for a in description.entities if isinstance(a, DeclareLaunchArgument)}
    assert set(declared) == {"camera", "input", "checkpoint", "backend", "namespace", "params_file"}
    params_file = Path(declared["params_file"].default_value[0].text)
    assert params_file == installed / "config" / "skelstream.yaml"
    assert yaml.safe_load(params_file.read_text())["/**"]["ros__parameters"] == DEFAULTS


def test_a_synthetic_scene_runs_to_its_end_through_the_launch_file(installed, tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"/**": {"ros__parameters": {**DEFAULTS, "seconds": 3.0}}}))
    source = PythonLaunchDescriptionSource(str(installed / "launch" / "skelstream.launch.py"))
    arguments = {"input": "synthetic", "params_file": str(params), "namespace": "test_robot"}
    include = IncludeLaunchDescription(source, launch_arguments=arguments.items())
    service = LaunchService()
    service.include_launch_description(LaunchDescription([include]))
    assert service.run() == 0
