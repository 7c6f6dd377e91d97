"""`RunConfig`: everything `stream-run` needs, from a YAML file (``--config``) overridden by flags."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from models.config_files import load_config
from models.pretrained import DEFAULT_CHECKPOINT
from stream.ros2.topics import check_domain_id, normalize_namespace

PUSHED_SOURCES = ("pushed-images", "pushed-skeletons")
"""Sources an integration feeds (`stream.sources.pushed`: the ROS 2 node's topics), not `stream-run`."""
SOURCES = ("camera", "video", "skeleton-file", "synthetic", *PUSHED_SOURCES)
FORMATS = ("ntu", "pku", "utkinect", "msr", "recording")
ROS2_MODES = ("dds",)
"""``--ros2``: ``dds`` publishes the ROS 2 topics through pip cyclonedds (DDS-direct, no ROS install; docs/ros2.md)."""


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
    checkpoint: str = str(DEFAULT_CHECKPOINT)
    backend: str = "torch"
    threads: int = 1  # see `stream-run --help`: one model thread never spin-waits against the pose step
    stride: int = 8
    lookahead: int = 0
    pose_model: str | None = None
    num_poses: int = 2
    smoothing: bool = True
    intrinsics: str | None = None  # camera_info YAML (stream-calibrate intrinsics): places MediaPipe people by PnP
    extrinsics: str | None = None  # transform YAML (stream-calibrate extrinsics): skeletons in the robot frame
    zmq: str = "tcp://127.0.0.1:5560"
    zmq_json: bool = False
    allow_remote: bool = False
    zmq_curve_secret_key: str | None = None  # CURVE: the server's .key_secret file (stream.curve); encrypts ZeroMQ
    zmq_curve_clients: str | None = None  # CURVE: folder of the allowed clients' .key files (default: any client)
    stream_name: str = "skelstream"
    wait_subscribers: int = 0  # wait (up to 10 s) for this many ZeroMQ subscribers before starting
    show: bool = False
    output: str | None = None
    record: str | None = None
    stats_json: str | None = None
    print_events: bool = False  # print each action start/end to stdout as it is detected
    status_interval_s: float = 1.0
    queue_size: int = 4
    ros2: str | None = None  # "dds": also publish the ROS 2 topics, DDS-direct (docs/ros2.md)
    ros_namespace: str = ""  # ROS namespace of the relative ROS 2 topics (DDS and the bag)
    ros_domain_id: int | None = None  # DDS domain (default: $ROS_DOMAIN_ID, else 0)
    ros_camera_frame: str = "camera_optical_frame"  # the camera's optical frame in ROS (REP-103; docs/ros2.md)
    ros_wait_subscribers: int = 0  # --ros2 dds: wait (up to 10 s) for this many subscribers of skelstream/actions
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
        for name in ("stride", "threads", "people", "num_poses", "queue_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.lookahead < 0:
            raise ValueError(f"lookahead must be >= 0, got {self.lookahead}")
        if self.max_frames is not None and self.max_frames < 1:
            raise ValueError(f"max_frames must be >= 1, got {self.max_frames}")
        self._check_ros()

    def _check_ros(self) -> None:
        if self.ros2 is not None and self.ros2 not in ROS2_MODES:
            raise ValueError(f"ros2 must be one of {ROS2_MODES} (or unset), got {self.ros2!r}")
        normalize_namespace(self.ros_namespace)
        if self.ros_domain_id is not None:
            check_domain_id(self.ros_domain_id)
        if not self.ros_camera_frame:
            raise ValueError("ros_camera_frame must name the camera's ROS frame, got an empty string")
        if self.ros_wait_subscribers < 0:
            raise ValueError(f"ros_wait_subscribers must be >= 0, got {self.ros_wait_subscribers}")
        if self.ros2 == "dds" and not self.allow_remote:
            raise ValueError("ros2: dds publishes over DDS, whose sockets listen on every network interface (Cyclone "
                             "DDS binds 0.0.0.0 even when CYCLONEDDS_URI names only loopback): pass --allow-remote "
                             "(allow_remote: true) to publish there on purpose (docs/reliability.md)")
        if self.ros_wait_subscribers and self.ros2 is None:
            raise ValueError("ros_wait_subscribers waits for DDS subscribers: it needs ros2: dds (--ros2 dds)")

    @property
    def has_images(self) -> bool:
        return self.source in ("camera", "video", "pushed-images")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_run_config(path: str | Path | None = None, **overrides: Any) -> RunConfig:
    """Defaults ← YAML ← flags; unknown keys, wrong types and bad values are errors naming the key."""
    return load_config(RunConfig, path, **overrides)
