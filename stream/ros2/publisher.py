"""`RosPublisher`: every ROS 2 output of a run on one base, each schema-v1 message converted once.

    ros = RosPublisher({"dds": DdsWriter(domain_id=0), "bag": BagWriter("runs/bag")}, stream_name="lab-cam")
    ros.publish_label(label)     # one RosConverter.convert; each writer writes the same ROS messages

The writers only write: `stream.ros2.dds_writer.DdsWriter` (DDS-direct, ``--ros2 dds``),
`stream.ros2.bag_writer.BagWriter` (``--record-bag``) and the ROS 2 node's rclpy writer
(``skelstream_ros.rclpy_writer``). What every ROS output does the same way is done here, once:

- the conversion (`stream.ros2.conversions.RosConverter`: one converter, so the stamps of all
  writers agree and its state, the tracked bodies and the drops seen, is kept once);
- counting: ``sent`` and ``dropped`` per writer (``<name>_sent``, ``<name>_dropped``) and in total;
  a message that cannot be converted, or that a writer cannot write, is logged, counted and
  skipped: the streaming loop never stops for a ROS output;
- per-body topics (REP-155 ``humans/bodies/<body_id>/action``): a body's topic is prepared
  (`RosWriter.prepare`) when the body first appears on ``humans/bodies/tracked`` (before its first
  label, so subscribers that follow the tracked list have matched), and forgotten
  (`RosWriter.forget`) once the list no longer names it, so a long run does not keep a writer for
  every person it ever saw.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from foundation.errors import MessageError
from stream.publishers.base import Publisher
from stream.ros2.conversions import RosConverter, RosMessage
from stream.ros2.topics import BODY_ACTION, TRACKED_BODIES, body_id, topic_spec

logger = logging.getLogger(__name__)


class RosWriter(ABC):
    """Writes ROS messages one way (DDS, a bag, rclpy); `RosPublisher` converts, counts and follows bodies."""

    lost: int = 0
    """Messages this writer counted as written that were lost afterwards (a bag chunk that failed)."""

    @abstractmethod
    def write(self, message: RosMessage) -> bool:
        """Write one ROS message; False (or an exception) when it was dropped. Never blocks."""

    def prepare(self, topic: str) -> None:
        """A per-body topic is about to be used (its body appeared): create what it needs now."""

    def forget(self, topic: str) -> None:
        """A per-body topic whose body is no longer tracked: release what it holds."""

    def close(self) -> None:
        """Finish the output (a bag is finalised); safe to call twice."""

    def discard(self) -> None:
        """Abandon the output of a run that never started (a bag is removed); default `close`."""
        self.close()


class RosPublisher(Publisher):
    """Publishes a stream's messages through each of ``writers`` as ROS messages (see the module docstring).

    Args:
        writers: name → writer, e.g. ``{"dds": ..., "bag": ...}``; the names prefix their counters.
        stream_name: the ``stream`` field of the messages built here.
        converter: schema-v1 → ROS (its stamp offset and camera frame); default `RosConverter()`.
    """

    def __init__(self, writers: Mapping[str, RosWriter], stream_name: str = "skelstream",
                 converter: RosConverter | None = None) -> None:  # fmt: skip
        if not writers:
            raise ValueError("RosPublisher needs at least one writer")
        self.writers = dict(writers)
        self.stream_name = stream_name
        self.converter = converter if converter is not None else RosConverter()
        self._counts = {name: {"sent": 0, "dropped": 0} for name in self.writers}
        self._body_topics: dict[str, str] = {}  # per-body topic -> its body id
        self._reported: set[tuple[str, str, str]] = set()
        self._closed = False

    def publish(self, topic: str, msg: Mapping[str, Any]) -> bool:
        """Convert one schema-v1 message and write its ROS messages with every writer; False if any was dropped."""
        if self._closed:
            self._drop_everywhere()
            return False
        try:
            messages = self.converter.convert(topic, msg)
        except (MessageError, ValueError) as error:
            logger.error("cannot convert a %s message to ROS: %s", topic, error)
            self._drop_everywhere()
            return False
        delivered = True
        for message in messages:
            for name, writer in self.writers.items():
                delivered = self._write(name, writer, message) and delivered
            self._follow_bodies(topic, msg, message)
        return delivered

    def _write(self, name: str, writer: RosWriter, message: RosMessage) -> bool:
        try:
            written = bool(writer.write(message))
        except Exception as error:  # a writer's failure must not stop the stream: count it, say why once
            written = False
            if (name, message.topic, type(error).__name__) not in self._reported:
                self._reported.add((name, message.topic, type(error).__name__))
                logger.error("%s cannot write %s on %s: %s; counting drops", name, message.typename, message.topic,
                             error)  # fmt: skip
        self._counts[name]["sent" if written else "dropped"] += 1
        return written

    def _drop_everywhere(self) -> None:
        for counts in self._counts.values():
            counts["dropped"] += 1

    def _follow_bodies(self, topic: str, msg: Mapping[str, Any], message: RosMessage) -> None:
        if topic == "actions" and topic_spec(message.topic).per_body:
            self._body_topics[message.topic] = body_id(msg["track"])
        elif message.topic == TRACKED_BODIES.name:
            tracked = set(message.fields["ids"])
            known = set(self._body_topics.values())
            for body in sorted(tracked - known):
                name = BODY_ACTION.for_body(body)
                self._body_topics[name] = body
                for writer in self.writers.values():
                    writer.prepare(name)
            for gone in [t for t, body in self._body_topics.items() if body not in tracked]:
                del self._body_topics[gone]
                for writer in self.writers.values():
                    writer.forget(gone)

    def stats(self) -> dict[str, int]:
        """``sent``/``dropped`` in total and per writer (``dds_sent``, ...), and the per-body topics open now."""
        stats = {"sent": 0, "dropped": 0}
        for name, counts in self._counts.items():
            lost = self.writers[name].lost
            sent, dropped = counts["sent"] - lost, counts["dropped"] + lost
            stats.update({f"{name}_sent": sent, f"{name}_dropped": dropped})
            stats["sent"] += sent
            stats["dropped"] += dropped
        stats["body_topics"] = len(self._body_topics)
        return stats

    def close(self) -> None:
        """Close every writer (later messages are dropped, counted); the first writer's error is raised after all
        were closed. Safe to call twice."""
        self._closed = True
        self._each("close")

    def discard(self) -> None:
        """Abandon the outputs of a run that never started (a bag's folder is removed)."""
        self._closed = True
        self._each("discard")

    def _each(self, method: str) -> None:
        errors = []
        for writer in self.writers.values():
            try:
                getattr(writer, method)()
            except Exception as error:  # noqa: BLE001 - close the others, then raise the first
                errors.append(error)
        if errors:
            raise errors[0]

    def __str__(self) -> str:
        return ", ".join(str(writer) for writer in self.writers.values())
