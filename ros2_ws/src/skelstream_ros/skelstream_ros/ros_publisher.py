"""stream's `Publisher` on ROS topics: schema-v1 messages → `RosConverter` → the node's ``send``.

The pipeline publishes through this like through any publisher
(`stream.publishers.base`); each schema-v1 message becomes the ROS messages
`stream.ros2.conversions.RosConverter` maps it to, handed to ``send`` (the node
builds and publishes them with rclpy). No rclpy here, so the whole chain from
pipeline to ROS message fields is tested without ROS.

Per-body topics (``humans/bodies/<body_id>/action``, REP-155) exist while their
body is tracked: when ``humans/bodies/tracked`` no longer lists a body, ``forget``
is called with each of its topics (the node destroys their publishers), so a
long run does not collect a publisher for every person it ever saw.

A message that cannot be converted or sent is logged, counted as dropped and
skipped: the streaming loop never stops for a publisher.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from foundation.errors import MessageError
from stream.publishers.base import Publisher
from stream.ros2.conversions import RosConverter, RosMessage
from stream.ros2.topics import TRACKED_BODIES, body_id, topic_spec

logger = logging.getLogger(__name__)


class RosTopicPublisher(Publisher):
    """Publishes a stream's messages as ROS messages through ``send`` (see the module docstring).

    Args:
        converter: schema-v1 → ROS messages (its stamp offset and camera frame).
        send: publishes one `RosMessage` (raises on failure).
        forget: called with a per-body topic once its body is no longer tracked.
        stream_name: the stream's name in its messages.
    """

    def __init__(
        self,
        converter: RosConverter,
        send: Callable[[RosMessage], None],
        forget: Callable[[str], None] = lambda topic: None,
        stream_name: str = "skelstream",
    ) -> None:
        self.converter = converter
        self.send = send
        self.forget = forget
        self.stream_name = stream_name
        self._body_topics: dict[str, str] = {}  # per-body topic -> its body id
        self._sent = 0
        self._dropped = 0
        self._closed = False

    def publish(self, topic: str, msg: Mapping[str, Any]) -> bool:
        """Convert and send one schema-v1 message; False when any of its ROS messages was dropped."""
        if self._closed:
            self._dropped += 1
            return False
        try:
            messages = self.converter.convert(topic, msg)
        except (MessageError, ValueError) as error:
            logger.error("cannot convert a %s message to ROS: %s", topic, error)
            self._dropped += 1
            return False
        delivered = True
        for message in messages:
            try:
                self.send(message)
            except Exception as error:  # an rclpy error must not stop the stream: count it, say why
                logger.error("cannot publish %s on %s: %s", message.typename, message.topic, error)
                self._dropped += 1
                delivered = False
                continue
            self._sent += 1
            self._follow_bodies(topic, msg, message)
        return delivered

    def _follow_bodies(self, topic: str, msg: Mapping[str, Any], message: RosMessage) -> None:
        if topic == "actions" and topic_spec(message.topic).per_body:
            self._body_topics[message.topic] = body_id(msg["track"])
        elif message.topic == TRACKED_BODIES.name:
            tracked = set(message.fields["ids"])
            for gone in [t for t, body in self._body_topics.items() if body not in tracked]:
                del self._body_topics[gone]
                self.forget(gone)

    def stats(self) -> dict[str, int]:
        """ROS messages ``sent`` and ``dropped``, and the per-body topics open now (``body_topics``)."""
        return {"sent": self._sent, "dropped": self._dropped, "body_topics": len(self._body_topics)}

    def close(self) -> None:
        """Stop publishing (later messages are dropped); safe to call twice."""
        self._closed = True
