"""The extrinsics' static transform on ``/tf_static``: through tf2_ros where it is installed, else as tf2_ros does it.

tf2_ros is part of every ROS 2 install but is served by no pip wheel; the ROS 2
environment built from wheels (ros2_ws/ros-env.sh) has tf2_msgs (built from the
upstream definition) but no tf2_ros. `TfStaticPublisher` then publishes what
tf2_ros' ``StaticTransformBroadcaster`` would: one ``tf2_msgs/msg/TFMessage``
holding every static transform sent so far, on ``/tf_static``, reliable,
transient local, keep last 1, so a TF listener that starts later still gets it.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

TF_STATIC_TOPIC = "/tf_static"
TF_MESSAGE = "tf2_msgs/msg/TFMessage"
STATIC_TF_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.RELIABLE,
                           durability=DurabilityPolicy.TRANSIENT_LOCAL)  # fmt: skip
"""tf2_ros' ``StaticBroadcasterQoS``."""


class TfStaticPublisher:
    """``tf2_ros.StaticTransformBroadcaster`` without tf2_ros: same topic, QoS and ``sendTransform``."""

    def __init__(self, node: Node, message_class: Callable[[str], type]) -> None:
        self._message = message_class(TF_MESSAGE)
        self._publisher = node.create_publisher(self._message, TF_STATIC_TOPIC, STATIC_TF_QOS)
        self._transforms: dict[str, Any] = {}

    def sendTransform(self, transform: Any) -> None:  # noqa: N802 - tf2_ros' name
        """Publish ``transform`` (a ``geometry_msgs/TransformStamped``) with every one sent before it."""
        self._transforms[transform.child_frame_id] = transform  # a newer one replaces its child's older one
        self._publisher.publish(self._message(transforms=list(self._transforms.values())))


def has_tf2_ros() -> bool:
    """Whether tf2_ros can be imported here."""
    return importlib.util.find_spec("tf2_ros") is not None


def tf_origin() -> str:
    """Which static broadcaster `static_broadcaster` gives, in words."""
    if has_tf2_ros():
        return "tf2_ros found"
    return f"tf2_ros absent: static transforms go out as {TF_MESSAGE} on {TF_STATIC_TOPIC} (transient local)"


def static_broadcaster(node: Node, message_class: Callable[[str], type]) -> Any:
    """tf2_ros' ``StaticTransformBroadcaster``, or a `TfStaticPublisher` where tf2_ros is absent."""
    if not has_tf2_ros():
        return TfStaticPublisher(node, message_class)
    from tf2_ros import StaticTransformBroadcaster

    return StaticTransformBroadcaster(node)
