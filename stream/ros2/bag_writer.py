"""Recording everything published as an MCAP rosbag2, replayable with ``ros2 bag play``.

    from stream.ros2.bag_writer import BagWriter
    from stream.ros2.publisher import RosPublisher

    with RosPublisher({"bag": BagWriter("runs/session_bag")}) as bag:   # a new directory: metadata.yaml + .mcap
        bag.publish_label(frame_label)

`stream.ros2.publisher.RosPublisher` converts each schema-v1 message into its ROS messages
(`stream.ros2.conversions`) and counts; this writer records them under the topic names a ROS 2 node of this namespace would publish (``/skelstream/actions``,
``/humans/bodies/body_1/action``, ``/diagnostics``, ...), serialized as CDR from the
``.msg`` definitions (`stream.ros2.interfaces`), each connection carrying the topic's
offered QoS (`stream.ros2.topics`) so that ``ros2 bag play`` republishes with it. A
message's bag timestamp is its header stamp (the capture time for labels, events and
skeletons), so a replay shows each label with its frame; ``ActionLabel.latency`` keeps
how late it really was. Nothing is dropped: a message that cannot be written (a full
disk) is logged and counted (``bag_dropped``).

Crash safety: rosbags keeps a chunk in memory until it holds 1 MiB, so a killed run
lost everything since the last MiB (its first seconds left a 0-byte file). Here a chunk
is closed and handed to the operating system once it is `CHUNK_SECONDS` old or
`CHUNK_BYTES` large, so a killed run keeps every message up to at most a second
before it; the bag then has no summary nor ``metadata.yaml`` until
``stream-run --repair-bag PATH`` (`stream.ros2.bag_repair`) rebuilds them.

Needs rosbags (``pip install skelstream[ros]``); a machine with ROS 2 needs the MCAP
storage plugin to play it (``ros-<distro>-rosbag2-storage-mcap``, default from Iron on).
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from foundation.errors import PublisherError
from foundation.optional import require
from stream.messages.schema import SCHEMA_VERSION
from stream.ros2.conversions import RosMessage
from stream.ros2.interfaces import build_message, numpy_array, typestore
from stream.ros2.publisher import RosWriter
from stream.ros2.topics import QosProfile, normalize_namespace, resolve_topic, topic_spec

logger = logging.getLogger(__name__)

BAG_VERSION = 8  # rosbag2 metadata version 8 (Jazzy); the oldest rosbags writes
CHUNK_SECONDS = 1.0  # a chunk is written out at least this often (what a killed run can lose)
CHUNK_BYTES = 256 << 10  # ... or once it holds this much


def rosbag2_qos(profile: QosProfile) -> Any:
    """A topic's QoS as rosbags' ``Qos`` (what the bag's metadata offers to ``ros2 bag play``)."""
    from rosbags.interfaces import Qos, QosDurability, QosHistory, QosLiveliness, QosReliability, QosTime

    unspecified = QosTime(0, 0)  # RMW_DURATION_UNSPECIFIED: the middleware's default (infinite)
    return Qos(
        QosHistory.KEEP_LAST, profile.depth,
        QosReliability.RELIABLE if profile.reliability == "reliable" else QosReliability.BEST_EFFORT,
        QosDurability.VOLATILE if profile.durability == "volatile" else QosDurability.TRANSIENT_LOCAL,
        unspecified, unspecified, QosLiveliness.AUTOMATIC, unspecified, False,
    )  # fmt: skip


class BagWriter(RosWriter):
    """Writes every ROS message into a new MCAP rosbag2 directory; `close` finalises it.

    Args:
        path: the bag directory to create (it must not exist; missing parents are created).
        namespace: ROS namespace of the relative topic names, as for `stream.ros2.dds_writer.DdsWriter`.
        stream_name: the stream's name, recorded in the bag's custom data.

    Raises:
        MissingDependencyError: rosbags is not installed.
        PublisherError: ``path`` exists, cannot be created (a parent that is a file, no
            permission), or ``namespace`` is not a valid ROS namespace.
    """

    def __init__(
        self,
        path: str | Path,
        namespace: str = "",
        stream_name: str = "skelstream",
    ) -> None:
        rosbag2 = require("rosbags.rosbag2", extra="ros", what="rosbag2 recording (--record-bag)",
                                  pip_name="rosbags")  # fmt: skip
        self.path = Path(path)
        if self.path.exists():
            raise PublisherError(f"cannot record a bag at {self.path}: it exists already (a bag is never overwritten)")
        try:
            self.namespace = normalize_namespace(namespace)
        except ValueError as error:
            raise PublisherError(f"cannot record under ROS namespace {namespace!r}: {error}") from None
        self.lost = 0
        self._store = typestore()
        self._connections: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._write_failed = False  # a write failed (logged once)
        self._failed = False  # a chunk could not be written (a full disk)
        self._writer = rosbag2.Writer(self.path, version=BAG_VERSION, storage_plugin=rosbag2.StoragePlugin.MCAP)
        self._writer.set_custom_data("skelstream.stream", stream_name)
        self._writer.set_custom_data("skelstream.schema_version", str(SCHEMA_VERSION))
        try:
            self._writer.open()
        except (OSError, rosbag2.WriterError) as error:
            raise PublisherError(f"cannot record a bag at {self.path}: {error}") from None
        self._write_error = rosbag2.WriterError
        self._storage = self._writer.storage
        self._chunk_started = time.monotonic()
        if not all(hasattr(self._storage, name) for name in ("chunk", "close_chunk", "bio")):
            logger.warning("this rosbags (%s) does not let chunks be closed early: a killed run loses up to its "
                           "last MiB of messages", getattr(rosbag2, "__version__", "?"))  # fmt: skip
            self._storage = None
        logger.info("recording a rosbag2 (MCAP) at %s", self.path)

    def _bound_chunk(self) -> None:
        """Write the pending chunk out (to the operating system) once it is old or large enough."""
        storage = self._storage
        if storage is None or not storage.chunk.msgs:
            return
        if storage.chunk.bio.tell() < CHUNK_BYTES and time.monotonic() - self._chunk_started < CHUNK_SECONDS:
            return
        storage.close_chunk()
        storage.bio.flush()
        self._chunk_started = time.monotonic()

    def _connection(self, name: str) -> Any:
        connection = self._connections.get(name)
        if connection is None:
            spec = topic_spec(name)
            connection = self._writer.add_connection(resolve_topic(name, self.namespace), spec.typename,
                                                     typestore=self._store,
                                                     offered_qos_profiles=[rosbag2_qos(spec.qos)])  # fmt: skip
            self._connections[name] = connection
        return connection

    def write(self, message: RosMessage) -> bool:
        """Record one ROS message at its header stamp; False when it could not be written (a full disk)."""
        with self._lock:
            if self._closed or self._failed:  # after a chunk could not be written the file is broken: lost
                return False
            data = self._store.serialize_cdr(build_message(message.typename, message.fields,
                                                           self._store.types.__getitem__, numpy_array),
                                             message.typename)  # fmt: skip
            stamp = message.fields["header"]["stamp"]
            try:
                self._writer.write(self._connection(message.topic), stamp["sec"] * 1_000_000_000 + stamp["nanosec"],
                                   data)  # fmt: skip
            except (OSError, self._write_error) as error:
                if not self._write_failed:
                    self._write_failed = True
                    logger.error("cannot write to the bag %s: %s; counting lost messages", self.path, error)
                return False
            try:
                self._bound_chunk()
            except OSError as error:
                lost = sum(len(v) for v in self._storage.chunk.msgs.values())  # type: ignore[union-attr]
                logger.error("cannot write a chunk of the bag %s (%s): its %d messages and every later one are lost; "
                             "the chunks before stay readable (--repair-bag)", self.path, error, lost)  # fmt: skip
                self.lost += lost - 1  # this message is counted as dropped by the caller
                self._failed = True
                return False
            return True

    def close(self) -> None:
        """Finalise the bag (MCAP summary, metadata.yaml); safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._writer.close()
            except (OSError, self._write_error) as error:
                raise PublisherError(f"cannot finalise the bag {self.path}: {error}") from None

    def discard(self) -> None:
        """Abandon the bag of a run that never started: its folder (created here) is removed; safe twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._writer.abort()
            shutil.rmtree(self.path, ignore_errors=True)

    def __str__(self) -> str:
        return f"rosbag2 {self.path}"

    def __repr__(self) -> str:
        return f"BagWriter({str(self.path)!r})"
