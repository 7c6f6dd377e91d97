"""`RunConfig`: everything `stream-run` needs, from a YAML file (``--config``) overridden by flags."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from foundation.config_files import load_config
from models.checkpoint import CheckpointError
from models.fusion import FUSIONS
from models.pretrained import DEFAULT_CHECKPOINT, resolve_checkpoint
from stream.ros2.topics import check_domain_id, normalize_namespace

if TYPE_CHECKING:
    from models.checkpoint import CheckpointConfig

PUSHED_SOURCES = ("pushed-images", "pushed-skeletons")
"""Sources an integration feeds (`stream.sources.pushed`: the ROS 2 node's topics), not `stream-run`."""
SOURCES = ("camera", "video", "skeleton-file", "synthetic", *PUSHED_SOURCES)
FORMATS = ("ntu", "pku", "utkinect", "msr", "msrc12", "recording")
ROS2_MODES = ("dds",)
"""``--ros2``: ``dds`` publishes the ROS 2 topics through pip cyclonedds (DDS-direct, no ROS install; docs/ros2.md)."""
BACKENDS = ("auto", "torch", "onnxruntime", "tensorrt")  # as stream.backends.CHOICES, without importing it
POSE_3D = ("auto", "world", "lifted")  # where image sources' 3D joints come from (RunConfig.lifts)
MAX_PEOPLE = 16  # --people, --num-poses: 8 people were soaked for 20 min at 30 fps on 2 cores (docs/reliability.md)
MAX_THREADS = 64  # --threads
MAX_WAITED_SUBSCRIBERS = 100  # --wait-subscribers, --ros-wait-subscribers (each wait lasts at most WAIT_S)
WAIT_S = 10.0  # how long stream-run waits for subscribers before starting anyway
MAX_SEED = 2**32 - 1  # --seed: what numpy's generators take
FLAGS = {"zmq_curve_secret_key": "--zmq-curve-secret"}
"""Config keys whose flag is not ``--`` + the key with dashes."""


def flag(name: str) -> str:
    """The `stream-run` flag of config key ``name`` (``people`` → ``--people``)."""
    return FLAGS.get(name, "--" + name.replace("_", "-"))


def named(name: str) -> str:
    """How a message names a setting: the config key and its flag, ``people (--people)``."""
    return f"{name} ({flag(name)})"


def check_stride(stride: int | str, window: int | None = None, fps: float | None = None) -> None:
    """``stride``: "auto" (`stream.run.stride_control` picks it), or 1 to ``window`` model frames (the checkpoint's
    window length; unknown: no upper bound yet). The one place the stride is checked."""
    if stride == "auto":
        return
    if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
        raise ValueError(f"{named('stride')} must be 'auto' or an integer >= 1 (model frames between model calls), "
                         f"got {stride!r}")
    if window is not None and stride > window:
        raise ValueError(f"{named('stride')} must be between 1 and {window}, the checkpoint's window length "
                         f"({window} model frames{_seconds(window, fps)}): frames between windows would never be "
                         f"labelled; got {stride}")  # fmt: skip


def _seconds(frames: int, fps: float | None) -> str:
    return f", {frames / fps:.1f} s at {fps:g} fps" if fps else ""


@dataclass
class RunConfig:
    """One streaming run: source, model, pose, outputs."""

    source: str = "synthetic"
    camera: str = "0"  # index, device path or URL
    video: str | None = None
    skeleton_file: str | None = None
    format: str | None = None
    fast: bool = False  # files: as fast as possible instead of real time
    people: int = 2  # synthetic source
    seed: int = 0  # synthetic source
    seconds: float | None = None  # synthetic source length (None: endless)
    max_frames: int | None = None
    checkpoint: str = str(DEFAULT_CHECKPOINT)  # a shipped checkpoint's name (actions, gestures) or a directory
    backend: str = "auto"  # TensorRT on an NVIDIA GPU, else ONNX Runtime when installed, else torch
    threads: int | None = None  # None: torch 1 (never spin-waits against pose), onnxruntime 2 (streams in parallel)
    stride: int | str = "auto"  # "auto": the smallest the machine sustains (stream.run.stride_control); N pins it
    lookahead: int = 0
    fusion: str = "recent"  # how the windows covering a frame combine (models.fusion)
    min_score: float | None = None  # an action scoring below it is published as background (None: the checkpoint's)
    precision: str | None = None  # the backend's default (fp32; TensorRT fp16); onnxruntime also int8
    pose_model: str | None = None
    num_poses: int = 2
    smoothing: bool = True
    pose_3d: str = "auto"  # images: lifted image landmarks, or world landmarks (auto: world with intrinsics)
    lifter: str | None = None  # pose_3d lifted: a lifter directory (None: the shipped one)
    root_motion: bool = True  # images: the model sees each person's root move as in the image (image_root_motion.py)
    intrinsics: str | None = None  # camera_info YAML (stream-calibrate intrinsics): places MediaPipe people by PnP
    extrinsics: str | None = None  # transform YAML (stream-calibrate extrinsics): skeletons in the robot frame
    zmq: str = "tcp://127.0.0.1:5560"
    zmq_json: bool = False
    allow_remote: bool = False
    zmq_curve_secret_key: str | None = None  # CURVE: the server's .key_secret file (stream.publishers.curve); encrypts ZeroMQ
    zmq_curve_clients: str | None = None  # CURVE: folder of the allowed clients' .key files (default: any client)
    stream_name: str = "skelstream"
    wait_subscribers: int = 0  # wait (up to WAIT_S) for this many ZeroMQ subscribers before starting
    show: bool = False
    output: str | None = None
    record: str | None = None
    stats_json: str | None = None
    print_events: bool = False  # print each action start/end and each gesture to stdout as it is detected
    status_interval_s: float = 1.0
    queue_size: int = 4
    ros2: str | None = None  # "dds": also publish the ROS 2 topics, DDS-direct (docs/ros2.md)
    ros_namespace: str = ""  # ROS namespace of the relative ROS 2 topics (DDS and the bag)
    ros_domain_id: int | None = None  # DDS domain (default: $ROS_DOMAIN_ID, else 0)
    ros_camera_frame: str = "camera_optical_frame"  # the camera's optical frame in ROS (REP-103; docs/ros2.md)
    ros_wait_subscribers: int = 0  # --ros2 dds: wait (up to WAIT_S) for this many subscribers of skelstream/actions
    record_bag: str | None = None  # record every ROS 2 message published as an MCAP rosbag2 (a new directory)

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {self.source!r}")
        if self.source == "video" and not self.video:
            raise ValueError("source 'video' needs video: PATH (--video PATH)")
        if self.source == "skeleton-file":
            if not self.skeleton_file:
                raise ValueError("source 'skeleton-file' needs skeleton_file: PATH (--skeleton-file PATH)")
            if self.format not in FORMATS:
                raise ValueError(f"--skeleton-file needs --format, one of {', '.join(FORMATS)}; got {self.format!r}")
        try:
            self.checkpoint = str(resolve_checkpoint(self.checkpoint))
        except CheckpointError as error:
            raise ValueError(f"{named('checkpoint')}: {error}") from None
        check_stride(self.stride)
        self._check_range("people", 1, MAX_PEOPLE)
        self._check_range("num_poses", 1, MAX_PEOPLE)
        if self.threads is not None:
            self._check_range("threads", 1, MAX_THREADS)
        if self.backend not in BACKENDS:
            raise ValueError(f"{named('backend')} must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        if self.fusion not in FUSIONS:
            raise ValueError(f"{named('fusion')} must be one of {', '.join(FUSIONS)}, got {self.fusion!r}")
        self._check_range("seed", 0, MAX_SEED)
        self._check_range("wait_subscribers", 0, MAX_WAITED_SUBSCRIBERS)
        self._check_range("lookahead", 0, None)
        if self.pose_3d not in POSE_3D:
            raise ValueError(f"{named('pose_3d')} must be one of {', '.join(POSE_3D)}, got {self.pose_3d!r}")
        if self.pose_3d == "lifted" and self.intrinsics:  # auto takes the world landmarks there
            raise ValueError(f"{named('pose_3d')} lifted gives joints of a nominal size: placing people by PnP "
                             f"({named('intrinsics')}) needs MediaPipe's metric world landmarks (pose_3d world)")  # fmt: skip
        if self.min_score is not None and not 0.0 <= self.min_score < 1.0:
            raise ValueError(f"{named('min_score')} must be a probability from 0 to below 1 (0 publishes the most "
                             f"likely class always), got {self.min_score}")  # fmt: skip
        if self.queue_size < 1:
            raise ValueError(f"queue_size must be >= 1, got {self.queue_size}")
        if self.max_frames is not None:
            self._check_range("max_frames", 1, None)
        if self.seconds is not None and not (math.isfinite(self.seconds) and self.seconds > 0):
            raise ValueError(f"{named('seconds')} must be a positive number of seconds (leave it out for an "
                             f"endless scene), got {self.seconds}")  # fmt: skip
        if not self.camera:
            raise ValueError(f"{named('camera')} must be a camera index, device path or URL, got an empty string")
        self._check_ros()

    @property
    def lifts(self) -> bool:
        """Whether image sources' 3D joints are lifted from MediaPipe's image landmarks
        (`stream.pose.lifted_pose`: ``pose_3d`` lifted, or auto without ``intrinsics``) rather than its world
        landmarks (metric, which placing people by PnP needs)."""
        return self.pose_3d == "lifted" or (self.pose_3d == "auto" and not self.intrinsics)

    def _check_range(self, name: str, low: int, high: int | None) -> None:
        value = getattr(self, name)
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f">= {low}"
            raise ValueError(f"{named(name)} must be {bound}, got {value}")

    def check_model(self, checkpoint: CheckpointConfig, where: str = "") -> None:
        """What this run asks of its checkpoint (``where``: its path, for messages): the stride and the
        lookahead within its window, and no class named like the runtime's reserved label; ValueError."""
        from stream.stages.decoding import FAILED_LABEL

        if FAILED_LABEL in checkpoint.labels:
            raise ValueError(f"{f'checkpoint {where}' if where else 'the checkpoint'} names a class "
                             f"{FAILED_LABEL!r}: stream-run reserves that "
                             "label for frames no model call covered (docs/messages.md); rename the class")  # fmt: skip
        window, fps = checkpoint.num_frames, checkpoint.fps
        check_stride(self.stride, window, fps)
        if self.lookahead > window - 1:
            raise ValueError(f"{named('lookahead')} must be between 0 and {window - 1} model frames"
                             f"{_seconds(window - 1, fps)}: no window of {window} frames covers a frame from "
                             f"further ahead, so more only holds labels back; got {self.lookahead}")  # fmt: skip

    def _check_ros(self) -> None:
        if self.ros2 is not None and self.ros2 not in ROS2_MODES:
            raise ValueError(f"ros2 must be one of {ROS2_MODES} (or unset), got {self.ros2!r}")
        normalize_namespace(self.ros_namespace)
        if self.ros_domain_id is not None:
            try:
                check_domain_id(self.ros_domain_id)
            except ValueError as error:
                raise ValueError(f"{named('ros_domain_id')}: {error}") from None
        if not self.ros_camera_frame:
            raise ValueError("ros_camera_frame must name the camera's ROS frame, got an empty string")
        self._check_range("ros_wait_subscribers", 0, MAX_WAITED_SUBSCRIBERS)
        if self.ros2 == "dds" and not self.allow_remote:
            raise ValueError("ros2: dds publishes over DDS, whose sockets listen on every network interface (Cyclone "
                             "DDS binds 0.0.0.0 even when CYCLONEDDS_URI names only loopback): pass --allow-remote "
                             "(allow_remote: true) to publish there on purpose (docs/reliability.md)")
        if self.ros_wait_subscribers and self.ros2 is None:
            raise ValueError("ros_wait_subscribers waits for DDS subscribers: it needs ros2: dds (--ros2 dds)")

    @property
    def pinned_stride(self) -> int | None:
        """The stride ``--stride N`` pins, None for the automatic one."""
        return None if self.stride == "auto" else int(self.stride)

    @property
    def has_images(self) -> bool:
        return self.source in ("camera", "video", "pushed-images")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_run_config(path: str | Path | None = None, **overrides: Any) -> RunConfig:
    """Defaults ← YAML ← flags; unknown keys, wrong types and bad values are errors naming the key."""
    return load_config(RunConfig, path, **overrides)
