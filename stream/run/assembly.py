"""A run assembled from its `RunConfig`: the one assembly `stream-run` and the ROS 2 node both call.

    with ExitStack() as outputs:
        run = open_run(config, outputs, lambda: my_publisher)   # backend, source, pose, placement, overlay,
        run.source.start()                                       # recording, pipeline; warmed up
        summary = run.pipeline.run()

`open_run` builds the stages in the order that fails fastest (the backend, then
the source: no camera fails before anything else opens), each entered into the
caller's exit stack. Its parts are usable alone: `open_backend`,
`make_source_config`, `make_pose_estimator`, `make_localizer`, `make_recorder`,
`warm_up`.

Each stage's heavy dependency (OpenCV, MediaPipe, calibration) is imported only
when that stage is built. Sources an integration feeds (``pushed-images``,
``pushed-skeletons``) are built by that integration as a
`stream.sources.pushed.PushSourceConfig`, since only it knows their name and layout.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stream.run.config import PUSHED_SOURCES, RunConfig

if TYPE_CHECKING:
    from models.checkpoint import CheckpointConfig
    from stream.backends import Backend
    from stream.pose.estimator import PoseEstimator
    from stream.publishers.base import Publisher
    from stream.publishers.overlay import Overlay
    from stream.publishers.recorder import LabelledRecorder
    from stream.run.pipeline import Pipeline
    from stream.sources.base import Source, SourceConfig
    from stream.stages.localization import Localizer


@dataclass
class OpenRun:
    """The stages of one run, built by `open_run`; the source is not started yet."""

    backend: Backend
    backend_reason: str  # why this backend: auto's reason, or "asked for"
    source: Source
    pose: PoseEstimator | None
    localizer: Localizer | None
    overlay: Overlay | None
    recorder: LabelledRecorder | None
    pipeline: Pipeline


def open_run(
    config: RunConfig,
    outputs: ExitStack,
    publisher: Callable[[], Publisher],
    *,
    source: Source | None = None,
    localizer: Localizer | None = None,
    started: Callable[[], bool] = lambda: True,
    status_line: bool = True,
) -> OpenRun:
    """Build every stage of ``config``'s run, each entered into ``outputs``, and warm the model and pose up.

    ``publisher`` makes the run's publishers (called once the source is open: ZeroMQ and ROS 2 for
    stream-run, ROS topics for the node). ``source``: one the caller feeds (the node's topics), else
    ``config.source``'s, opened here. ``localizer``: the caller's (the node publishes in its TF frame),
    else `make_localizer`. The overlay video and the recording are completed when ``outputs`` closes, or
    discarded when ``started()`` says the run never started. Raises what cannot start
    (`foundation.errors.SkelstreamError`, OSError, ValueError), with everything opened so far left to
    ``outputs``.
    """
    from stream.run.pipeline import Pipeline
    from stream.sources import make_source

    backend, reason = open_backend(config)
    if source is None:
        source = make_source(make_source_config(config)).open()  # no camera: fail before anything else opens
    outputs.callback(source.stop)
    pose = make_pose_estimator(config)
    if pose is not None:
        outputs.enter_context(pose)
    localizer = localizer if localizer is not None else make_localizer(config)
    publishing = publisher()
    overlay = None
    if config.show or config.output:
        from stream.publishers.overlay import Overlay

        overlay = Overlay(show=config.show, output=config.output, fps=source.fps or Overlay.DEFAULT_FPS)
        outputs.callback(lambda: overlay.close() if started() else overlay.discard())
    recorder = make_recorder(config, source, backend.config)
    if recorder is not None:
        outputs.callback(lambda: recorder.close() if started() else recorder.discard())
    warm_up(backend, pose)  # lazy initialisation must not cost the first captured frames
    pipeline = Pipeline(config, source, backend, publishing, pose=pose, overlay=overlay, recorder=recorder,
                        localizer=localizer, status_line=status_line)  # fmt: skip
    return OpenRun(backend, reason, source, pose, localizer, overlay, recorder, pipeline)


def open_backend(config: RunConfig) -> tuple[Backend, str]:
    """The run's backend (``auto`` resolved, `stream.backends.choose_backend`) and why it was chosen; the
    checkpoint checked against what the run asks of it (stride, lookahead)."""
    from stream.backends import choose_backend, make_backend

    name, why = choose_backend(config.checkpoint) if config.backend == "auto" else (config.backend, "asked for")
    backend = make_backend(name, config.checkpoint, threads=config.threads, precision=config.precision)
    config.check_model(backend.config, config.checkpoint)
    return backend, f"auto: {why}" if config.backend == "auto" else why


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


def make_pose_estimator(config: RunConfig) -> PoseEstimator | None:
    """The MediaPipe pose estimator of an image source (enter it as a context manager), lifted as
    ``config.pose_3d`` asks (`with_pose_3d`), else None."""
    if not config.has_images:
        return None
    from stream.pose.mediapipe_pose import MediaPipePoseEstimator
    from stream.pose.one_euro import OneEuroConfig
    from stream.pose.provision import resolve_pose_model

    return with_pose_3d(config, MediaPipePoseEstimator(resolve_pose_model(config.pose_model),
                                                       num_poses=config.num_poses,
                                                       smoothing=OneEuroConfig() if config.smoothing else None))


def with_pose_3d(config: RunConfig, pose: PoseEstimator) -> PoseEstimator:
    """``pose`` with its people's image landmarks lifted to 3D by ``config.lifter`` (`RunConfig.lifts`,
    `stream.pose.lifted_pose`), else as is (MediaPipe's world landmarks)."""
    if not config.lifts:
        return pose
    from stream.pose.lifted_pose import LiftedPose

    return LiftedPose.from_path(pose, config.lifter)


def make_localizer(config: RunConfig, camera_frame: str | None = None) -> Localizer | None:
    """Places skeletons in the robot frame of ``extrinsics`` (MediaPipe people by PnP with ``intrinsics``); else,
    given a ``camera_frame`` (an integration publishing in a TF frame: the ROS 2 node), in that optical frame
    by the identity; else None (skeletons stay in the camera convention)."""
    if not (config.intrinsics or config.extrinsics or camera_frame):
        return None
    from calibration.camera_info import read_camera_info
    from calibration.transforms import Transform, read_transform
    from stream.stages.localization import Localizer

    extrinsics = read_transform(config.extrinsics) if config.extrinsics else None
    if extrinsics is None and camera_frame:
        extrinsics = Transform(camera_frame, camera_frame)
    return Localizer(read_camera_info(config.intrinsics) if config.intrinsics else None, extrinsics)


def recording_layout(config: RunConfig, source: Source) -> str:
    """The layout a recording of this run stores: MediaPipe's for images (unified_30 when lifted), else the
    source's (unified_30 if unknown)."""
    if config.has_images:
        return "unified_30" if config.lifts else "mediapipe_33"
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


def warm_up(backend: Backend, pose: PoseEstimator | None) -> None:
    """Run the model (and the pose estimator) once so their lazy initialisation happens before capture starts."""
    import numpy as np

    from stream.types import Frame

    backend.run(np.zeros((1, *backend.config.model.input_shape), np.float32))
    if pose is not None:
        pose.estimate(Frame(index=-1, stamp_ns=0, image=np.zeros((256, 256, 3), np.uint8), media_ns=0))
