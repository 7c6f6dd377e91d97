"""`Publisher`: the one interface through which labels, events, skeletons and status leave the pipeline.

Every publisher receives the schema-v1 message dicts of `stream.messages`
(built once per message by the ``publish_*`` helpers here) and sends them its
own way: ZeroMQ payloads, DDS samples with ROS 2 names, rosbag2 records. A
publisher must never block the streaming loop: what it cannot send now is
dropped and counted in `stats()`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

import numpy as np

from stream.messages.builders import action_message, event_message, skeleton_message, status_message
from stream.types import ActionEvent, FrameLabel, TrackedPerson


class Publisher(ABC):
    """Sends schema-v1 messages (`stream.messages`) on the topics actions, events, skeletons and status."""

    stream_name: str = "skelstream"
    sent: int = 0
    """Messages sent so far (what a message is, is the publisher's: a payload, a DDS sample, a bag record)."""
    dropped: int = 0
    """Messages that could not be sent so far."""

    @abstractmethod
    def publish(self, topic: str, msg: Mapping[str, Any]) -> bool:
        """Send one message of ``topic``; False when it was dropped (never blocks)."""

    def stats(self) -> dict[str, int]:
        """Counters for the ``status`` topic and the run summary: at least ``sent`` and ``dropped``."""
        return {"sent": self.sent, "dropped": self.dropped}

    @abstractmethod
    def close(self) -> None:
        """Release sockets and files; safe to call twice."""

    def publish_label(self, label: FrameLabel) -> bool:
        return self.publish("actions", action_message(self.stream_name, label))

    def publish_event(self, event: ActionEvent) -> bool:
        return self.publish("events", event_message(self.stream_name, event))

    def publish_skeletons(
        self,
        frame: int,
        stamp_ns: int,
        tracked: list[TrackedPerson],
        frame_id: str = "camera",
        positions: Mapping[int, np.ndarray] | None = None,
    ) -> bool:
        message = skeleton_message(self.stream_name, frame, stamp_ns, tracked, frame_id, positions=positions)
        return self.publish("skeletons", message)

    def publish_status(self, stats: Mapping[str, Any], frame: int = -1) -> bool:
        return self.publish("status", status_message(self.stream_name, stats, frame=frame))

    def __enter__(self) -> Publisher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
