"""The rclpy node itself, where ROS 2 is installed: topics and QoS, bad input refused, start failures, shutdown.

Everything the node does besides ROS is tested without ROS in the other files here.
"""

import time

import pytest

try:
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import ReliabilityPolicy, qos_profile_sensor_data
except ImportError:
    pytest.skip("needs rclpy: run in a sourced ROS 2 Humble/Jazzy environment (the node's logic is tested "
                "without ROS in the other test files)", allow_module_level=True)  # fmt: skip

from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from hri_msgs.msg import IdsList  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402
from skelstream_msgs.msg import ActionLabel, SkeletonArray  # noqa: E402
from visualization_msgs.msg import Marker, MarkerArray  # noqa: E402

from skelstream_ros.node import SkelstreamNode, StartupError, main  # noqa: E402


def ros_args(**parameters):
    args = ["--ros-args"]
    for name, value in parameters.items():
        args += ["-p", f"{name}:={value}"]
    return args


@pytest.fixture
def ros():
    """rclpy initialised with the given parameters; yields a function that starts it."""
    def init(**parameters):
        rclpy.init(args=ros_args(**parameters))

    yield init
    rclpy.try_shutdown()


def spin_until(executor, done, timeout_s=30.0):
    deadline = time.monotonic() + timeout_s
    while not done() and time.monotonic() < deadline:
        executor.spin_once(timeout_sec=0.1)
    return done()


def test_a_synthetic_scene_publishes_labels_skeletons_and_tracked_bodies(ros):
    ros(input="synthetic", people=2, seconds=6.0)
    node = SkelstreamNode()
    listener = rclpy.create_node("skelstream_test_listener")
    got = {"actions": [], "skeletons": [], "tracked": [], "diagnostics": []}
    listener.create_subscription(ActionLabel, "skelstream/actions", got["actions"].append, 100)
    listener.create_subscription(SkeletonArray, "skelstream/skeletons", got["skeletons"].append,
                                 qos_profile_sensor_data)  # best effort: what the skeletons are published with
    listener.create_subscription(IdsList, "humans/bodies/tracked", got["tracked"].append, 10)
    listener.create_subscription(DiagnosticArray, "/diagnostics", got["diagnostics"].append, 10)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    executor.add_node(listener)
    try:
        assert spin_until(executor, lambda: got["actions"] and got["diagnostics"] and len(got["skeletons"]) > 10)
        assert got["skeletons"][-1].header.frame_id == "camera_optical_frame"
        assert {b.body_id for b in got["skeletons"][-1].bodies} <= set(got["tracked"][-1].ids)
        assert got["actions"][0].body_id.startswith("body_")
        info = node.get_publishers_info_by_topic(node.resolve_topic_name("skelstream/skeletons"))
        assert info[0].qos_profile.reliability == ReliabilityPolicy.BEST_EFFORT  # sensor data
        info = node.get_publishers_info_by_topic(node.resolve_topic_name("skelstream/actions"))
        assert info[0].qos_profile.reliability == ReliabilityPolicy.RELIABLE
    finally:
        node.shutdown("test over")
        assert node.exit_code == 0
        node.destroy_node()
        listener.destroy_node()


def test_bad_marker_arrays_are_refused_and_counted_and_the_node_stays_up(ros):
    ros(input="body_markers")
    node = SkelstreamNode()
    talker = rclpy.create_node("skelstream_test_talker")
    markers = talker.create_publisher(MarkerArray, "body_tracking_data", 10)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    executor.add_node(talker)

    def array(*ids):
        message = MarkerArray()
        for ident in ids:
            marker = Marker(id=ident, action=Marker.ADD)
            marker.header.frame_id = "depth_camera_link"
            marker.pose.position.z = 2.0
            message.markers.append(marker)
        return message

    try:
        assert spin_until(executor, lambda: markers.get_subscription_count() > 0, 10.0)
        markers.publish(array(145))  # joint 45: not a body tracking joint
        assert spin_until(executor, lambda: node.health.refused["markers"] == 1, 10.0)
        markers.publish(array(*range(32)))  # one whole body
        assert spin_until(executor, lambda: node.source.stats()["captured"] == 1, 10.0)
        assert not node.finished.is_set()
    finally:
        node.shutdown("test over")
        node.destroy_node()
        talker.destroy_node()


def test_an_unsupported_image_encoding_is_refused_and_the_node_stays_up(ros):
    pytest.importorskip("mediapipe")
    ros(input="image_topic")
    node = SkelstreamNode()
    talker = rclpy.create_node("skelstream_test_camera")
    images = talker.create_publisher(Image, "image_raw", qos_profile_sensor_data)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    executor.add_node(talker)
    try:
        assert spin_until(executor, lambda: images.get_subscription_count() > 0, 10.0)
        images.publish(Image(height=2, width=2, encoding="yuv422", step=4, data=bytes(8)))
        assert spin_until(executor, lambda: node.health.refused["image"] == 1, 10.0)
        assert "yuv422" in node.health.last_refusal and not node.finished.is_set()
        images.publish(Image(height=2, width=2, encoding="bgr8", step=6, data=bytes(12)))
        assert spin_until(executor, lambda: node.source.stats()["captured"] == 1, 10.0)
    finally:
        node.shutdown("test over")
        node.destroy_node()
        talker.destroy_node()


@pytest.mark.parametrize("parameters, reason", [
    ({"checkpoint": "/no/such/checkpoint"}, "parameter 'checkpoint': /no/such/checkpoint does not exist"),
    ({"input": "kinect"}, "parameter 'input' must be one of"),
    ({"stride": "eight"}, "stride"),
])  # fmt: skip
def test_what_cannot_work_stops_the_node_at_start_with_the_reason(ros, parameters, reason):
    ros(**parameters)
    with pytest.raises(StartupError, match=reason):
        SkelstreamNode()


def test_main_exits_2_when_the_node_cannot_start():
    assert main(ros_args(input="kinect")) == 2
