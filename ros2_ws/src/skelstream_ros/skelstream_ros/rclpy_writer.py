"""The node's ROS 2 output: a `stream.ros2.publisher.RosWriter` that hands each ROS message to the node.

The pipeline publishes through `stream.ros2.publisher.RosPublisher` like every ROS output of
skelstream (DDS-direct, bags): it converts each schema-v1 message once, counts what was sent and
dropped, and follows the per-body topics; this writer only passes each ROS message to ``send``
(the node builds and publishes it with rclpy) and a per-body topic's start and end to ``prepare``
and ``forget`` (the node creates and destroys its rclpy publisher). No rclpy here, so the whole
chain from pipeline to ROS message fields is tested without ROS.
"""

from __future__ import annotations

from collections.abc import Callable

from stream.ros2.conversions import RosMessage
from stream.ros2.publisher import RosWriter


class RclpyWriter(RosWriter):
    """Writes through the node's callables (see the module docstring).

    Args:
        send: builds and publishes one `RosMessage` (raises on failure: counted as a drop).
        prepare: called with a per-body topic when its body appears (the node opens its publisher).
        forget: called with a per-body topic once its body is no longer tracked (the node destroys it).
    """

    def __init__(self, send: Callable[[RosMessage], None], prepare: Callable[[str], None] = lambda topic: None,
                 forget: Callable[[str], None] = lambda topic: None) -> None:  # fmt: skip
        self.send = send
        self._prepare = prepare
        self._forget = forget

    def write(self, message: RosMessage) -> bool:
        self.send(message)
        return True

    def prepare(self, topic: str) -> None:
        self._prepare(topic)

    def forget(self, topic: str) -> None:
        self._forget(topic)

    def __str__(self) -> str:
        return "rclpy"
