"""Launch the skelstream node with its parameter file.

    ros2 launch skelstream_ros skelstream.launch.py                         # image_raw → labels (defaults)
    ros2 launch skelstream_ros skelstream.launch.py camera:=0 backend:=onnxruntime
    ros2 launch skelstream_ros skelstream.launch.py input:=body_markers namespace:=robot
    ros2 launch skelstream_ros skelstream.launch.py checkpoint:=gestures                    # MSRC-12 gestures
    ros2 launch skelstream_ros skelstream.launch.py params_file:=my_robot.yaml checkpoint:=/opt/ckpt

An argument left empty keeps the parameter file's value; ``camera:=N`` also
selects ``input: camera`` (the node opens the camera itself), unless ``input``
is given too.
"""

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue

PACKAGE = "skelstream_ros"
ARGUMENTS = {
    "camera": "camera index, device path or URL the node opens itself (sets input to camera); empty: the "
              "parameter file's input",
    "input": "camera | image_topic | body_markers | synthetic; empty: the parameter file's",
    "checkpoint": "a shipped checkpoint's name (actions, gestures) or a checkpoint directory; empty: the parameter "
                  "file's (default: actions)",
    "backend": "torch | onnxruntime | tensorrt | auto; empty: the parameter file's",
    "namespace": "namespace of the node and its relative topics (skelstream/..., humans/bodies/...)",
}  # fmt: skip
PARAMETER_ARGUMENTS = ("input", "checkpoint", "backend")
"""Arguments that set the node parameter of the same name when not empty."""


def _node(context):
    overrides = {}
    camera = LaunchConfiguration("camera").perform(context)
    if camera:
        overrides.update(input="camera", camera=camera)
    for name in PARAMETER_ARGUMENTS:
        value = LaunchConfiguration(name).perform(context)
        if value:
            overrides[name] = value
    # value_type=str: a camera "0" must stay the string parameter it is, not become an integer
    typed = {name: ParameterValue(value, value_type=str) for name, value in overrides.items()}
    return [Node(package=PACKAGE, executable="skelstream_node", name="skelstream",
                 namespace=LaunchConfiguration("namespace"), output="screen", emulate_tty=True,
                 parameters=[LaunchConfiguration("params_file"), typed])]  # fmt: skip


def generate_launch_description():
    default_params = f"{get_package_share_directory(PACKAGE)}/config/skelstream.yaml"
    return LaunchDescription([
        *(DeclareLaunchArgument(name, default_value="", description=text) for name, text in ARGUMENTS.items()),
        DeclareLaunchArgument("params_file", default_value=default_params,
                              description="the node's parameter YAML (defaults: config/skelstream.yaml)"),
        OpaqueFunction(function=_node),
    ])  # fmt: skip
