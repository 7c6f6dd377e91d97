"""A run's stages built from its `RunConfig`: what `stream-run` and the ROS 2 node share.

    source = make_source(make_source_config(config)).open()   # not started yet: no camera fails here
    pose = make_pose_estimator(config)         # MediaPipe for image sources (a context manager), else None
    localizer = make_localizer(config)         # people in the robot frame with intrinsics/extrinsics, else None
    recorder = make_recorder(config, source, backend.config)   # skeletons + labels to config.record, else None
    warm_up(backend, pose)                     # lazy initialisation before capture starts
    source.start()

Each stage's heavy dependency (OpenCV, MediaPipe, calibration) is imported only
when that stage is built. Sources an integration feeds (``pushed-images``,
``pushed-skeletons``) are built by that integration as a
`stream.sources.pushed.PushSourceConfig`, since only it knows their name and layout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stream.run.config import PUSHED_SOURCES, RunConfig

if TYPE_CHECKING:
    from models.checkpoint import CheckpointConfig
    from stream.backends import Backend
    from stream.publishers.recorder import LabelledRecorder
    from stream.stages.localization import Localizer
    from stream.sources.base import Source, SourceConfig


def make_source_config(config: RunConfig) -> SourceConfig:
    """The source config of ``config.source`` (camera, video, skeleton file or synthetic scene)."""
    from models.synthetic.generator import SyntheticConfig
    from stream.sources.camera import CameraConfig
    from stream.sources.skeleton_file import SkeletonFileConfig
    from stream.sources.synthetic import SyntheticSourceConfig
    from stream.sources.video import VideoConfig

    common = {"queue_size": config.queue_size}
    if config.source in PUSHED_SOURCES:
        raise ValueError(f"source {config.source!r} is fed by an integration (the ROS 2 node pushes its topics "
                         "into a stream.sources.pushed.PushSource); stream-run reads camera, video, "
                         "skeleton-file or synthetic")  # fmt: skip
    if config.source == "camera":
        device: int | str = int(config.camera) if config.camera.isdigit() else config.camera
        return CameraConfig(device=device, **common)
    if config.source == "video":
        return VideoConfig(path=config.video, fast=config.fast, **common)
    if config.source == "skeleton-file":
        return SkeletonFileConfig(path=config.skeleton_file, format=config.format, fast=config.fast, **common)
    scene = SyntheticConfig(num_people=config.people, seed=config.seed, duration=config.seconds, noise_std=0.01,
                            missing_prob=0.02)  # fmt: skip
    return SyntheticSourceConfig(scene=scene, fast=config.fast, **common)


def make_pose_estimator(config: RunConfig) -> Any | None:
    """The MediaPipe pose estimator of an image source (enter it as a context manager), else None."""
    if not config.has_images:
        return None
    from stream.pose.mediapipe_pose import MediaPipePoseEstimator
    from stream.pose.one_euro import OneEuroConfig
    from stream.pose.provision import resolve_pose_model

    return MediaPipePoseEstimator(resolve_pose_model(config.pose_model), num_poses=config.num_poses,
                                  smoothing=OneEuroConfig() if config.smoothing else None)  # fmt: skip


def make_localizer(config: RunConfig) -> Localizer | None:
    """Places skeletons in the robot frame when ``intrinsics`` or ``extrinsics`` is given, else None."""
    if not (config.intrinsics or config.extrinsics):
        return None
    from calibration.camera_info import read_camera_info
    from calibration.transforms import read_transform
    from stream.stages.localization import Localizer

    return Localizer(read_camera_info(config.intrinsics) if config.intrinsics else None,
                     read_transform(config.extrinsics) if config.extrinsics else None)  # fmt: skip


def recording_layout(config: RunConfig, source: Source) -> str:
    """The layout a recording of this run stores: MediaPipe's for images, else the source's (unified_30 if unknown)."""
    if config.has_images:
        return "mediapipe_33"
    return getattr(source, "layout", None) or "unified_30"


def make_recorder(config: RunConfig, source: Source, checkpoint: CheckpointConfig) -> LabelledRecorder | None:
    """A recorder of skeletons and labels to ``config.record`` (close it at the end), else None."""
    if not config.record:
        return None
    from stream.publishers.recorder import LabelledRecorder
    from stream.recordings.skrec import RecordingHeader, RecordingWriter

    header = RecordingHeader(layout=recording_layout(config, source), fps=source.fps or checkpoint.fps,
                             labels=tuple(checkpoint.labels), source=config.source)  # fmt: skip
    return LabelledRecorder(RecordingWriter(config.record, header))


def warm_up(backend: Backend, pose: Any | None) -> None:
    """Run the model (and the pose estimator) once so their lazy initialisation happens before capture starts."""
    import numpy as np

    from stream.types import Frame

    backend.run(np.zeros((1, *backend.config.model.input_shape), np.float32))
    if pose is not None:
        pose.estimate(Frame(index=-1, stamp_ns=0, image=np.zeros((256, 256, 3), np.uint8), media_ns=0))
