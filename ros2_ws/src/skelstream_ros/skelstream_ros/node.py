"""The skelstream ROS 2 node: a thin rclpy adapter over `stream`.

    ros2 run skelstream_ros skelstream_node --ros-args -r image_raw:=/camera/color/image_raw
    ros2 launch skelstream_ros skelstream.launch.py camera:=0 backend:=onnxruntime

It does only the ROS part; everything else is `stream` and the rclpy-free
modules beside this one, which are tested without ROS:

- declares the parameters of `skelstream_ros.parameters` (read-only, with
  descriptions) and checks them into the run's `RunConfig`;
- builds the run with `stream.run.assembly.open_run`, as stream-run does:
  backend, source (the camera or a synthetic scene, or a
  `stream.sources.pushed.PushSource` fed by its subscription), MediaPipe for
  images, a localizer publishing in a TF frame (`skelstream_ros.placement`);
- subscribes to ``sensor_msgs/Image`` or the Azure Kinect driver's
  ``visualization_msgs/MarkerArray`` with sensor-data QoS (best effort: it
  matches reliable and best-effort publishers); the callbacks only convert and
  enqueue, dropping the oldest frame when the pipeline falls behind;
- runs the pipeline in a worker thread and publishes its messages through
  `stream.ros2.publisher.RosPublisher` (as every ROS output of skelstream) with
  an rclpy writer (`skelstream_ros.rclpy_writer`), in the types and QoS of
  `stream.ros2.topics`;
- reports its input and pipeline on /diagnostics at 1 Hz, broadcasts the
  extrinsics as a static TF (through tf2_ros, or `skelstream_ros.static_tf` without
  it), and shuts down cleanly (pending labels published);
- says at start-up whether the upstream interface packages are a ROS install's or
  skelstream's own builds (`skelstream_ros.interface_origins`).

Bad input is logged (throttled) and counted, and the node goes on: an image of
an unsupported encoding, a malformed marker array. What cannot work stops it at
start with one error line and exit code 2: an unknown parameter value, a
missing checkpoint or calibration file, a camera that does not open.
"""

from __future__ import annotations

import functools
import importlib
import logging
import signal
import sys
import threading
import time
from contextlib import ExitStack
from typing import Any

import rclpy
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from rclpy.signals import SignalHandlerOptions
from sensor_msgs.msg import Image
from visualization_msgs.msg import Marker, MarkerArray

from foundation.errors import SkelstreamError
from skelstream_ros.health import InputHealth
from skelstream_ros.image_conversion import UnsupportedImage, image_to_bgr
from skelstream_ros.interface_origins import interface_origins
from skelstream_ros.parameters import PARAMETERS, settings_from_parameters
from skelstream_ros.placement import node_localizer, transform_stamped
from skelstream_ros.rclpy_writer import RclpyWriter
from skelstream_ros.stamps import header_to_monotonic
from skelstream_ros.static_tf import static_broadcaster, tf_origin
from stream.ros2 import topics
from stream.ros2.conversions import RosConverter, RosMessage
from stream.ros2.interfaces import build_message
from stream.ros2.publisher import RosPublisher
from stream.sources.azure_kinect_bodies import LAYOUT as AZURE_KINECT_LAYOUT
from stream.sources.azure_kinect_bodies import people_from_markers

logger = logging.getLogger(__name__)
NODE_NAME = "skelstream"
JOIN_TIMEOUT_S = 10.0
WAIT_FOR_SUBSCRIBERS_S = 10.0


class StartupError(Exception):
    """The node cannot start; the reason was logged."""


@functools.cache
def message_class(typename: str) -> type:
    """The rclpy class of ``"pkg/msg/Name"``."""
    package, _, name = typename.split("/")
    return getattr(importlib.import_module(f"{package}.msg"), name)


def rclpy_value(value: Any, element_type: str) -> Any:
    """rclpy wants ``bytes`` for a ``byte`` field and a one-character ``str`` for a ``char``."""
    if element_type == "byte":
        return bytes([value])
    if element_type == "char":
        return chr(value)
    return value


def qos_profile(qos: topics.QosProfile) -> QoSProfile:
    """The rclpy QoS of a topic of `stream.ros2.topics` (keep last ``depth``)."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=qos.depth,
        reliability=ReliabilityPolicy.RELIABLE if qos.reliability == "reliable" else ReliabilityPolicy.BEST_EFFORT,
        durability=DurabilityPolicy.VOLATILE if qos.durability == "volatile" else DurabilityPolicy.TRANSIENT_LOCAL,
    )


class SkelstreamNode(Node):
    """Skeleton action detection on ROS 2 (see the module docstring); raises `StartupError` when it cannot start."""

    def __init__(self) -> None:
        super().__init__(NODE_NAME)
        self._stack = ExitStack()
        self._ros_publishers: dict[str, Any] = {}
        self._publishers_lock = threading.Lock()  # publishers are created and destroyed from the pipeline's thread
        self._pipeline_error: str | None = None
        self._warned_frames: set[str] = set()
        self.finished = threading.Event()
        try:
            self._start()
        except (SkelstreamError, OSError, ValueError, ParameterException) as error:
            self.get_logger().error(f"cannot start: {error}")
            self._stack.close()
            raise StartupError(str(error)) from None

    # --- start ---------------------------------------------------------------------------------

    def _start(self) -> None:
        from stream.run.assembly import open_run
        from stream.sources import make_source
        from stream.sources.pushed import PushSource, PushSourceConfig

        self.settings = settings = settings_from_parameters(self._declare_parameters())
        run = settings.run
        localizer, self.camera_frame = node_localizer(settings)
        source = self.input_name = None
        if settings.input in ("image_topic", "body_markers"):
            topic = settings.image_topic if settings.input == "image_topic" else settings.body_markers_topic
            self.input_name = self.resolve_topic_name(topic)
            layout = AZURE_KINECT_LAYOUT if settings.input == "body_markers" else None
            source = make_source(PushSourceConfig(name=f"topic {self.input_name}", layout=layout,
                                                  queue_size=run.queue_size))  # fmt: skip
        self.converter = RosConverter(camera_frame=self.camera_frame)
        self.publisher = RosPublisher({"rclpy": RclpyWriter(self._send, self._prepare, self._forget)},
                                      run.stream_name, self.converter)  # fmt: skip
        opened = open_run(run, self._stack, lambda: self.publisher, source=source, localizer=localizer,
                          status_line=False)  # fmt: skip
        self.source, self.pipeline = opened.source, opened.pipeline
        self.input_name = self.input_name or self.source.name
        for spec in topics.TOPICS:
            if not spec.per_body:  # open now, so subscribers are matched before the first message
                self._publisher(spec.name, spec.typename)
        self.get_logger().info(f"interfaces: {interface_origins()}; {tf_origin()}")
        if run.extrinsics:
            self._tf = static_broadcaster(self, message_class)
            stamp = self.converter.header(time.monotonic_ns(), "")["stamp"]
            self._tf.sendTransform(self._build("geometry_msgs/msg/TransformStamped",
                                               transform_stamped(localizer.extrinsics, stamp)))  # fmt: skip
        if settings.wait_for_subscribers:
            self._wait_for_subscribers(settings.wait_for_subscribers)
        self.source.start()
        self.health = InputHealth(f"{NODE_NAME}: {run.stream_name} input", self.input_name, time.monotonic_ns())
        if settings.input == "image_topic":
            self.create_subscription(Image, settings.image_topic, self._on_image, qos_profile_sensor_data)
        elif settings.input == "body_markers":
            self.create_subscription(MarkerArray, settings.body_markers_topic, self._on_body_markers,
                                     qos_profile_sensor_data)  # fmt: skip
        self.create_timer(1.0, self._publish_health)
        self._fed_by_topic = isinstance(self.source, PushSource)
        self._worker = threading.Thread(target=self._run_pipeline, name="skelstream-pipeline", daemon=True)
        self._worker.start()
        actions = self.resolve_topic_name(topics.ACTIONS.name)
        self.get_logger().info(f"{settings.input} {self.input_name} → {opened.backend.name} → skeletons in "
                               f"{localizer.frame_id}, labels on {actions}")  # fmt: skip

    def _declare_parameters(self) -> dict[str, Any]:
        values = {}
        for parameter in PARAMETERS:
            descriptor = ParameterDescriptor(description=parameter.description, read_only=True,
                                             dynamic_typing=isinstance(parameter.default, float))  # 10 for 10.0
            values[parameter.name] = self.declare_parameter(parameter.name, parameter.default, descriptor).value
        return values

    def _wait_for_subscribers(self, count: int) -> None:
        """Wait (up to `WAIT_FOR_SUBSCRIBERS_S`) until ``count`` subscribers of the actions topic have matched."""
        actions = self._publisher(topics.ACTIONS.name, topics.ACTIONS.typename)
        deadline = time.monotonic() + WAIT_FOR_SUBSCRIBERS_S
        while actions.get_subscription_count() < count and time.monotonic() < deadline:
            time.sleep(0.05)  # matching happens in the middleware's threads: no spinning needed
        matched, topic = actions.get_subscription_count(), actions.topic_name
        if matched < count:
            self.get_logger().warning(f"starting with {matched} of {count} subscribers of {topic}: "
                                      f"waited {WAIT_FOR_SUBSCRIBERS_S:.0f} s")  # fmt: skip
        else:
            self.get_logger().info(f"{matched} subscriber(s) of {topic} matched")

    # --- input callbacks: convert and enqueue, nothing else ----------------------------------------

    def _on_image(self, msg: Image) -> None:
        try:
            image = image_to_bgr(msg.height, msg.width, msg.encoding, msg.step, msg.data)
        except UnsupportedImage as error:
            self._refuse("image", str(error))
            return
        self._check_frame(msg.header.frame_id)
        self.source.push_image(image, self._stamp(msg.header))

    def _on_body_markers(self, msg: MarkerArray) -> None:
        joints = [(m.id, m.pose.position.x, m.pose.position.y, m.pose.position.z)
                  for m in msg.markers if m.action == Marker.ADD]  # fmt: skip
        try:
            people = people_from_markers(joints)
        except ValueError as error:
            self._refuse("markers", str(error))
            return
        header = msg.markers[0].header if msg.markers else None
        if header is not None:
            self._check_frame(header.frame_id)
        self.source.push_people(people, self._stamp(header) if header is not None else None)

    def _stamp(self, header: Any) -> int:
        return header_to_monotonic(header.stamp.sec, header.stamp.nanosec, self.converter.stamp_offset_ns,
                                   time.monotonic_ns())  # fmt: skip

    def _refuse(self, reason: str, detail: str) -> None:
        self.health.on_refused(reason, detail)
        self.get_logger().error(f"{self.input_name}: message refused: {detail}", throttle_duration_sec=5.0)

    def _check_frame(self, frame_id: str) -> None:
        if frame_id and frame_id != self.camera_frame and frame_id not in self._warned_frames:
            self._warned_frames.add(frame_id)
            self.get_logger().warning(f"{self.input_name} is in frame {frame_id!r} but skeletons are placed from "
                                      f"camera_frame {self.camera_frame!r}: set camera_frame (or the extrinsics' "
                                      "camera frame) to the input's frame")  # fmt: skip

    # --- output -----------------------------------------------------------------------------------

    def _build(self, typename: str, fields: dict) -> Any:
        return build_message(typename, fields, message_class, primitive_value=rclpy_value)

    def _publisher(self, topic: str, typename: str) -> Any:
        with self._publishers_lock:
            publisher = self._ros_publishers.get(topic)
            if publisher is None:
                qos = qos_profile(topics.topic_spec(topic).qos)
                publisher = self._ros_publishers[topic] = self.create_publisher(message_class(typename), topic, qos)
            return publisher

    def _send(self, message: RosMessage) -> None:
        self._publisher(message.topic, message.typename).publish(self._build(message.typename, message.fields))

    def _prepare(self, topic: str) -> None:
        self._publisher(topic, topics.topic_spec(topic).typename)

    def _forget(self, topic: str) -> None:
        with self._publishers_lock:
            publisher = self._ros_publishers.pop(topic, None)
        if publisher is not None:
            self.destroy_publisher(publisher)

    def _publish_health(self) -> None:
        status = self.health.status(time.monotonic_ns(), self.source.stats(), self._pipeline_error)
        array = {"header": self.converter.header(time.monotonic_ns(), ""), "status": [status]}
        self._publisher(topics.DIAGNOSTICS.name, topics.DIAGNOSTICS.typename).publish(
            self._build(topics.DIAGNOSTICS.typename, array))

    # --- the pipeline and the end -------------------------------------------------------------------

    def _run_pipeline(self) -> None:
        try:
            summary = self.pipeline.run()
            if self.source.error:
                self._pipeline_error = self.source.error
            self.get_logger().info(f"stopped ({summary.stop_reason}): {summary.frames} frames, {summary.labels} "
                                   f"labels, {summary.events} events")  # fmt: skip
        except Exception as error:  # a bug must not leave a silent node: say it, report it, end
            logger.exception("the pipeline failed")
            self._pipeline_error = f"{type(error).__name__}: {error}"
        finally:
            self.finished.set()

    def shutdown(self, reason: str) -> None:
        """Stop the pipeline (pending labels are published), release everything; safe to call twice.

        After an external shutdown of the ROS context nothing can be published any more: the
        pending messages are then dropped (counted) rather than each failing with an error.
        """
        if not self.context.ok():
            self.publisher.close()
        self.pipeline.stop(reason)
        if self._fed_by_topic:
            self.source.end()
        self._worker.join(JOIN_TIMEOUT_S)
        if self._worker.is_alive():
            self.get_logger().warning(f"the pipeline did not stop within {JOIN_TIMEOUT_S:.0f} s")
        self.publisher.close()
        self._stack.close()

    @property
    def exit_code(self) -> int:
        """0 after a clean run, 1 when the pipeline or its source failed."""
        return 1 if self._pipeline_error else 0


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(args: list[str] | None = None) -> int:
    """``ros2 run skelstream_ros skelstream_node``: spin until shutdown or the end of the stream."""
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s] [%(name)s]: %(message)s")
    # rclpy's own SIGINT handler would shut the ROS context down at once, and the labels still pending
    # in the pipeline could no longer be published: SIGINT and SIGTERM stop the spin loop instead, and
    # the context is shut down after the pipeline has flushed them.
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    previous = {signum: signal.signal(signum, _interrupt) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        return _run()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        rclpy.try_shutdown()


def _run() -> int:
    try:
        node = SkelstreamNode()
    except StartupError:
        return 2
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    reason = "end of stream"
    try:
        while rclpy.ok() and not node.finished.is_set():
            executor.spin_once(timeout_sec=0.2)
    except (KeyboardInterrupt, ExternalShutdownException):
        reason = "shutdown"
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # a second Ctrl-C ends the process at once
    node.shutdown(reason)
    code = node.exit_code
    node.destroy_node()
    return code

if __name__ == "__main__":
    sys.exit(main())
