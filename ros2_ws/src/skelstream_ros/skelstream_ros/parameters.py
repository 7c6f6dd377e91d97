"""The node's parameters: one table mirroring `stream.run.config.RunConfig`, turned into the run's settings.

No rclpy here: the node declares `PARAMETERS` (name, default, description) and
hands the values it got to `settings_from_parameters`, which checks them and
builds the `RunConfig` of the run, so a bad value is one clear error naming the
parameter, tested without ROS.

Parameter names are RunConfig keys, plus the node's own: ``input`` (where
skeletons come from), the input topics, ``camera_frame`` and ``wait_for_subscribers``. ROS parameters
have no null, so an optional RunConfig key is "not set" when empty (``""``) or
zero (``max_frames: 0``, ``seconds: 0.0``). RunConfig keys that make no sense in
a node are listed in `NOT_PARAMETERS` with the reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from foundation.config_files import ConfigError, load_config
from models.checkpoint import CheckpointError
from models.pretrained import resolve_checkpoint
from stream.backends import CHOICES as BACKENDS
from stream.run.config import RunConfig


INPUTS = {"camera": "camera", "image_topic": "pushed-images", "body_markers": "pushed-skeletons",
          "synthetic": "synthetic"}  # fmt: skip
"""``input`` → the RunConfig source it runs: the pipeline owns the camera, or the node pushes topic messages."""


class ParameterError(ConfigError):
    """A node parameter is unknown, of the wrong type or has a bad value; the message names it."""


@dataclass(frozen=True)
class Parameter:
    """One node parameter: its name, default (which fixes its ROS type) and description."""

    name: str
    default: str | int | float | bool
    description: str


NODE_PARAMETERS = (
    Parameter("input", "image_topic", "where skeletons come from: camera (the node opens it with OpenCV), "
              "image_topic (sensor_msgs/Image, MediaPipe pose), body_markers (the Azure Kinect ROS driver's "
              "body tracking MarkerArray) or synthetic (a generated scene, no hardware)"),
    Parameter("image_topic", "image_raw", "input image_topic: the sensor_msgs/Image topic to subscribe to "
              "(encodings rgb8, bgr8, mono8, rgba8, bgra8)"),
    Parameter("body_markers_topic", "body_tracking_data", "input body_markers: the Azure Kinect driver's "
              "visualization_msgs/MarkerArray topic"),
    Parameter("camera_frame", "", "TF frame of the camera (its optical frame: x right, y down, z forward); "
              "skeletons are published in it unless extrinsics place them in a robot frame. Empty: the "
              "extrinsics' camera frame, else depth_camera_link for body_markers, else camera_optical_frame"),
    Parameter("wait_for_subscribers", 0, "wait, up to 10 s before the input starts, until this many subscribers "
              "of skelstream/actions have matched, so none misses the first labels (volatile QoS); 0: start at "
              "once"),
)  # fmt: skip

_RUN_CONFIG_DESCRIPTIONS = {
    "camera": "input camera: camera index, device path or stream URL",
    "people": "input synthetic: people in the scene",
    "seed": "input synthetic: scene seed",
    "seconds": "input synthetic: length of the scene in seconds; 0: endless",
    "max_frames": "stop after this many frames (the node then exits); 0: no limit",
    "checkpoint": "detection checkpoint: a shipped one's name (actions: UTKinect actions; gestures: MSRC-12 "
                  "gestures, with gesture events) or a checkpoint directory; empty: actions",
    "backend": f"model backend: {' | '.join(BACKENDS)}",
    "threads": "CPU threads for the model; 0: the backend's default (torch 1, onnxruntime 2)",
    "stride": "model-rate frames between model calls; 0: automatic, the smallest the machine sustains",
    "lookahead": "frames of delay traded for accuracy; 0: causal",
    "fusion": "how the windows covering a frame combine: recent | mean | max",
    "min_score": "a frame whose most likely action scores below this probability is published as background; "
                 "0: the checkpoint's min_score",
    "precision": "model precision: fp32, fp16 (torch on CUDA, tensorrt), int8 (onnxruntime, tensorrt: static, "
                 "calibrated on the checkpoint's training data); empty: the backend's default",
    "pose_model": "images: a MediaPipe pose_landmarker .task file; empty: the one prepared offline",
    "num_poses": "images: people MediaPipe looks for",
    "smoothing": "images: One-Euro landmark smoothing",
    "pose_3d": "images: 3D joints lifted from MediaPipe's image landmarks (lifted) or its world landmarks (world); "
               "auto: lifted, world with intrinsics",
    "lifter": "pose_3d lifted: a lifter directory; empty: the shipped one",
    "root_motion": "images: the model sees each person's root move as it moves in the image (camera skeletons "
                   "are root-relative)",
    "intrinsics": "camera_info YAML (stream-calibrate intrinsics): places people seen in images by PnP; empty: none",
    "extrinsics": "transform YAML robot frame <- camera optical frame (stream-calibrate extrinsics): skeletons "
                  "published in the robot frame, the transform broadcast as a static TF; empty: none",
    "stream_name": "the stream's name in diagnostics",
    "record": "record skeletons and labels to this file (replay: stream-run --skeleton-file F --format "
              "recording); empty: no recording",
    "print_events": "print each action start/end to stdout as it is detected",
    "status_interval_s": "seconds between status reports on /diagnostics",
    "queue_size": "frames queued between the input and the pipeline (the oldest is dropped when full)",
}  # fmt: skip

_FILE_INPUTS = "file inputs: replay them with stream-run, or publish them on an image topic (e.g. ros2 bag play)"
NOT_PARAMETERS = {
    "source": "chosen by the input parameter",
    "video": _FILE_INPUTS, "skeleton_file": _FILE_INPUTS, "format": _FILE_INPUTS, "fast": _FILE_INPUTS,
    "zmq": "ZeroMQ output: the node publishes on ROS topics", "zmq_json": "ZeroMQ output",
    "allow_remote": "ZeroMQ output", "wait_subscribers": "ZeroMQ output",
    "zmq_curve_secret_key": "ZeroMQ output", "zmq_curve_clients": "ZeroMQ output",
    "show": "no window in a node: view the skeletons in rviz", "output": "annotated video: use stream-run",
    "stats_json": "the node reports on /diagnostics",
    "ros2": "DDS-direct publishing of stream-run: the node publishes with rclpy",
    "ros_namespace": "the node's own namespace applies (launch argument namespace, or -r __ns:=/robot)",
    "ros_domain_id": "the node's ROS_DOMAIN_ID applies",
    "ros_camera_frame": "the node's camera_frame parameter (a TF frame, also of the skeletons)",
    "ros_wait_subscribers": "DDS-direct publishing of stream-run",
    "record_bag": "record with ros2 bag record",
}  # fmt: skip
"""RunConfig keys that are not node parameters, and why."""

_EXISTING_PATHS = ("pose_model", "intrinsics", "extrinsics", "lifter")  # checkpoint: a name, or a path RunConfig checks
MAX_WAIT_FOR_SUBSCRIBERS = 1000
_AUTOMATIC = ("stride",)
"""Integer parameters whose 0 means RunConfig's automatic choice (``"auto"``)."""


def _ros_default(field: dataclasses.Field) -> str | int | float | bool:
    """A RunConfig field's default as a ROS parameter value: None becomes the empty value of its type."""
    if field.name == "checkpoint":
        return ""  # the shipped checkpoint, wherever skelstream is installed
    if field.name in _AUTOMATIC:
        return 0
    if field.default is not None:
        return field.default
    annotation = str(field.type)
    return 0 if annotation.startswith("int") else 0.0 if annotation.startswith("float") else ""


_RUN_FIELDS = {field.name: field for field in dataclasses.fields(RunConfig)}
PARAMETERS: tuple[Parameter, ...] = NODE_PARAMETERS + tuple(
    Parameter(name, _ros_default(_RUN_FIELDS[name]), text) for name, text in _RUN_CONFIG_DESCRIPTIONS.items()
)
"""Every node parameter, the node's own first."""
DEFAULTS: dict[str, Any] = {parameter.name: parameter.default for parameter in PARAMETERS}


@dataclass(frozen=True)
class NodeSettings:
    """What the node runs: the stream's `RunConfig` and the ROS side of it.

    Attributes:
        input: one of `INPUTS`.
        run: the run (its ``source`` follows ``input``).
        image_topic, body_markers_topic: the input topics (ROS names, relative to the node's namespace).
        camera_frame: the camera's TF frame, or "" for the default (`skelstream_ros.placement.camera_frame`).
        wait_for_subscribers: subscribers of the actions topic to wait for before the input starts (0: none).
    """

    input: str
    run: RunConfig
    image_topic: str
    body_markers_topic: str
    camera_frame: str
    wait_for_subscribers: int = 0


def _unset(name: str, value: Any) -> bool:
    """Whether ``value`` means "not set" for the optional RunConfig key ``name``."""
    optional = "None" in str(_RUN_FIELDS[name].type) or name == "checkpoint" or name in _AUTOMATIC
    return optional and not isinstance(value, bool) and value in ("", 0)


def _check_choice(name: str, value: Any, choices) -> None:
    if value not in choices:
        raise ParameterError(f"parameter {name!r} must be one of {', '.join(choices)}; got {value!r}")


def _check_topic(name: str, value: Any) -> None:
    from stream.ros2.topics import resolve_topic

    if not isinstance(value, str) or not value:
        raise ParameterError(f"parameter {name!r} must be a topic name, got {value!r}")
    try:
        resolve_topic(value)
    except ValueError as error:
        raise ParameterError(f"parameter {name!r}: {error}") from None


def settings_from_parameters(values: Mapping[str, Any]) -> NodeSettings:
    """The node's settings from parameter values (missing ones take `DEFAULTS`).

    Raises:
        ParameterError: an unknown parameter, a value of the wrong type, an
            unknown choice (``input``, ``backend``), a bad topic name, a file
            or checkpoint that does not exist, or a value RunConfig refuses.
    """
    unknown = sorted(set(values) - set(DEFAULTS))
    if unknown:
        raise ParameterError(f"unknown parameter(s) {unknown}; known: {', '.join(DEFAULTS)}")
    merged = {**DEFAULTS, **values}
    for name, value in merged.items():
        expected = type(DEFAULTS[name])
        ok = isinstance(value, expected) and (expected is bool or not isinstance(value, bool))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            ok = True  # 10 for 10.0
        if not ok:
            kind = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}[expected]
            raise ParameterError(f"parameter {name!r} must be {kind}, got {type(value).__name__} {value!r}")
    _check_choice("input", merged["input"], tuple(INPUTS))
    _check_choice("backend", merged["backend"], BACKENDS)
    _check_topic("image_topic", merged["image_topic"])
    _check_topic("body_markers_topic", merged["body_markers_topic"])
    if merged["camera_frame"] != merged["camera_frame"].strip() or " " in merged["camera_frame"]:
        raise ParameterError(f"parameter 'camera_frame' must be a TF frame name without spaces, "
                             f"got {merged['camera_frame']!r}")  # fmt: skip
    if not 0 <= merged["wait_for_subscribers"] <= MAX_WAIT_FOR_SUBSCRIBERS:
        raise ParameterError(f"parameter 'wait_for_subscribers' must be 0-{MAX_WAIT_FOR_SUBSCRIBERS}, "
                             f"got {merged['wait_for_subscribers']}")  # fmt: skip
    run_values = {name: merged[name] for name in _RUN_CONFIG_DESCRIPTIONS if not _unset(name, merged[name])}
    for name in _EXISTING_PATHS:
        if name in run_values and not Path(run_values[name]).exists():
            raise ParameterError(f"parameter {name!r}: {run_values[name]} does not exist")
    if "checkpoint" in run_values:
        try:
            checkpoint = resolve_checkpoint(run_values["checkpoint"])
        except CheckpointError as error:
            raise ParameterError(f"parameter 'checkpoint': {error}") from None
        if not checkpoint.exists():
            raise ParameterError(f"parameter 'checkpoint': {checkpoint} does not exist")
    try:
        run = load_config(RunConfig, None, source=INPUTS[merged["input"]], **run_values)
    except ConfigError as error:
        raise ParameterError(f"bad parameter value: {error}") from None
    return NodeSettings(input=merged["input"], run=run, image_topic=merged["image_topic"],
                        body_markers_topic=merged["body_markers_topic"],
                        camera_frame=merged["camera_frame"],
                        wait_for_subscribers=merged["wait_for_subscribers"])  # fmt: skip
