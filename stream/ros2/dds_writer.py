"""DDS-direct writer: skelstream's ROS 2 topics over pip cyclonedds, for ROS 2 nodes, from a machine without ROS.

    from stream.ros2.dds_writer import DdsWriter
    from stream.ros2.publisher import RosPublisher

    with RosPublisher({"dds": DdsWriter(domain_id=0, namespace="lab")}) as pub:
        pub.publish_label(frame_label)   # rt/lab/skelstream/actions + rt/lab/humans/bodies/body_1/action
        pub.publish_event(action_event)  # rt/lab/skelstream/events

`stream.ros2.publisher.RosPublisher` converts each schema-v1 message into its ROS messages
(`stream.ros2.conversions`) and counts; this writer writes them as rmw_cyclonedds does: DDS topic ``rt/<namespace>/<name>``, type
``pkg::msg::dds_::Name_``, XCDR1, the QoS of `stream.ros2.topics`. A ROS 2 node using
rmw_cyclonedds_cpp on the same domain receives them as ordinary topics (``ros2 topic echo
/lab/skelstream/actions``). Which network: Cyclone DDS's own configuration,
``CYCLONEDDS_URI`` (docs/ros2.md has one for a robot's network).

Never blocking. A reliable writer of Cyclone DDS keeps the samples a reader has not
acknowledged; with keep-last history it silently overwrites the oldest of them, with
keep-all it blocks ``max_blocking_time`` once they pass its high-water mark (500 kB).
The reliable topics here are written keep-all with ``max_blocking_time`` 0: while a
reader lags by more than the high-water mark the write fails at once, and the sample is
dropped (for every reader, as with ZeroMQ's counted drops) and counted (``dds_dropped``).
History is not part of DDS matching, so subscribers see the table's profile otherwise.
Best-effort topics never wait for anyone.

Per-body topics (``humans/bodies/<body_id>/action``) get their DDS writer when
`RosPublisher` prepares them (the body first appears on ``humans/bodies/tracked``, a
model window before its first label, so subscribers that follow the tracked list have
matched by then) and lose it when it forgets them (the body left); at most
``max_body_writers`` are kept all the same, the least recently used deleted first.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from typing import Any

from foundation.errors import PublisherError
from foundation.optional import require
from stream.ros2.conversions import RosMessage
from stream.ros2.interfaces import build_message, typestore
from stream.ros2.publisher import RosWriter
from stream.ros2.topics import (ACTIONS, MAX_DOMAIN_ID, TOPICS, TopicSpec, check_domain_id, dds_topic,
                                 normalize_namespace, topic_spec)  # fmt: skip

logger = logging.getLogger(__name__)

def default_domain_id() -> int:
    """``ROS_DOMAIN_ID`` when set (as ROS 2 nodes read it), else 0."""
    text = os.environ.get("ROS_DOMAIN_ID", "").strip()
    if not text:
        return 0
    if not text.isdigit():
        raise PublisherError(f"ROS_DOMAIN_ID={text!r} is not a domain id (an integer 0-{MAX_DOMAIN_ID})")
    return int(text)


class DdsWriter(RosWriter):
    """Writes ROS messages as ROS 2 topics through Cyclone DDS; `write` never blocks.

    Args:
        domain_id: DDS domain (= ROS_DOMAIN_ID of the receiving nodes); default `default_domain_id`.
        namespace: ROS namespace of the relative topics (e.g. ``"lab"`` → ``/lab/skelstream/actions``).
        max_body_writers: per-body writers kept at most.

    Raises:
        MissingDependencyError: cyclonedds (or rosbags, for the definitions) is not installed.
        PublisherError: a bad domain id or namespace, or the DDS participant cannot start
            (e.g. a CYCLONEDDS_URI naming a missing interface).
    """

    def __init__(
        self,
        domain_id: int | None = None,
        namespace: str = "",
        max_body_writers: int = 64,
    ) -> None:
        require("cyclonedds", extra="ros", what="DDS-direct publishing (--ros2 dds)")
        from cyclonedds.core import DDSException
        from cyclonedds.domain import DomainParticipant

        try:
            self.domain_id = check_domain_id(default_domain_id() if domain_id is None else domain_id)
        except ValueError as error:
            raise PublisherError(str(error)) from None
        if max_body_writers < 1:
            raise ValueError(f"max_body_writers must be >= 1, got {max_body_writers}")
        try:
            self.namespace = normalize_namespace(namespace)
        except ValueError as error:
            raise PublisherError(f"cannot publish under ROS namespace {namespace!r}: {error}") from None
        self.max_body_writers = max_body_writers
        self._lock = threading.Lock()
        self._closed = False
        self._reported: set[tuple[str, int]] = set()
        self._writers: dict[str, Any] = {}
        self._body_writers: OrderedDict[str, Any] = OrderedDict()
        self._timeout_code = DDSException.DDS_RETCODE_TIMEOUT
        try:
            self._participant = DomainParticipant(self.domain_id)
            for spec in TOPICS:
                if not spec.per_body:  # fixed topics now: discovery starts before the first message
                    self._writers[spec.name] = self._create_writer(spec, spec.name)
        except DDSException as error:
            self._participant = None
            self._writers.clear()
            raise PublisherError(f"cannot start DDS on domain {self.domain_id}: {error} (check CYCLONEDDS_URI: "
                                 f"{os.environ.get('CYCLONEDDS_URI') or 'not set'})") from None  # fmt: skip
        logger.info("DDS-direct publishing on domain %d under %r", self.domain_id, self.namespace or "/")

    # --- writers -------------------------------------------------------------------------
    def _create_writer(self, spec: TopicSpec, name: str) -> Any:
        from cyclonedds.core import Policy, Qos
        from cyclonedds.pub import DataWriter
        from cyclonedds.topic import Topic

        from stream.ros2.dds_types import dds_class

        reliable, volatile = spec.qos.reliability == "reliable", spec.qos.durability == "volatile"
        typehash = f"typehash={typestore().hash_rihs01(spec.typename)};".encode()  # as rmw_cyclonedds (Iron+) adds
        qos = Qos(
            Policy.Reliability.Reliable(max_blocking_time=0) if reliable else Policy.Reliability.BestEffort,
            Policy.History.KeepAll if reliable and volatile else Policy.History.KeepLast(spec.qos.depth),
            Policy.Durability.Volatile if volatile else Policy.Durability.TransientLocal,
            Policy.Userdata(typehash),
        )  # fmt: skip
        topic = Topic(self._participant, dds_topic(name, self.namespace), dds_class(spec.typename))
        return DataWriter(self._participant, topic, qos=qos)

    def _writer(self, name: str) -> Any:
        writer = self._writers.get(name)
        if writer is not None:
            return writer
        writer = self._body_writers.get(name)
        if writer is None:
            writer = self._create_writer(topic_spec(name), name)
            self._body_writers[name] = writer
            while len(self._body_writers) > self.max_body_writers:
                self._body_writers.popitem(last=False)  # deleted with its last reference
        self._body_writers.move_to_end(name)
        return writer

    # --- writing -------------------------------------------------------------------------
    def write(self, message: RosMessage) -> bool:
        """Write one ROS message; False when DDS refused it (a reader lagging past the high-water mark)."""
        from cyclonedds.core import DDSException

        from stream.ros2.dds_types import dds_class

        with self._lock:
            if self._closed:
                return False
            try:
                self._writer(message.topic).write(build_message(message.typename, message.fields, dds_class))
            except DDSException as error:
                if error.code != self._timeout_code and (message.topic, error.code) not in self._reported:
                    self._reported.add((message.topic, error.code))
                    logger.warning("DDS write on %s failed (%s); counting it as a drop", message.topic, error)
                return False
            return True

    def prepare(self, topic: str) -> None:
        with self._lock:
            if not self._closed:
                self._writer(topic)

    def forget(self, topic: str) -> None:
        with self._lock:
            self._body_writers.pop(topic, None)  # deleted with its last reference

    # --- subscribers -----------------------------------------------------------------------
    def subscriber_count(self, topic: str = ACTIONS.name) -> int:
        """DDS readers (ROS 2 subscriptions) matched now on ``topic`` (a ROS name of `stream.ros2.topics`)."""
        with self._lock:
            if self._closed:
                return 0
            return self._writer(topic).get_publication_matched_status().current_count

    def wait_for_subscribers(self, count: int = 1, topic: str = ACTIONS.name, timeout_s: float = 5.0) -> bool:
        """Wait until ``count`` readers match ``topic``; False after ``timeout_s``. Blocks: call it before the loop."""
        deadline = time.monotonic() + timeout_s
        while self.subscriber_count(topic) < count:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    # --- lifetime ----------------------------------------------------------------------------
    def close(self) -> None:
        """Delete the writers and the participant (readers see the publications end); safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._writers.clear()
            self._body_writers.clear()
            self._participant = None  # the last references: Cyclone DDS deletes the entities with them

    def __str__(self) -> str:
        return f"ROS 2 over DDS (domain {self.domain_id}, namespace {self.namespace or '/'})"

    def __repr__(self) -> str:
        return f"DdsWriter(domain {self.domain_id}, namespace {self.namespace!r})"
