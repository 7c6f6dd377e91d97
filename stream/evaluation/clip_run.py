"""One video clip through the streaming pipeline, exactly as ``stream-run --video CLIP --fast`` runs it.

    backend = make_backend(config.backend, config.checkpoint, threads=config.threads)
    result = run_clip(clip_path, config, backend, cache)    # ClipRun: the labels every track got

The stages are the ones ``stream-run`` builds (`stream.run.assembly`): the video
source (``fast``: every frame, the file's own clock), the pose step (MediaPipe,
through `stream.evaluation.pose_cache.CachingPose`), `stream.run.pipeline.Pipeline`
with its tracker, window batcher and online decoder, after the same
`stream.run.assembly.warm_up`. Only the output differs: labels and events are kept in
memory (`LabelCollector`) instead of going out over ZeroMQ.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from foundation.errors import SourceError
from stream.backends import Backend
from stream.evaluation.camera_skeletons import SkeletonTap
from stream.evaluation.pose_cache import CachingPose, PoseCache
from stream.publishers.base import Publisher
from stream.run.assembly import make_pose_estimator, make_source_config, warm_up, with_pose_3d
from stream.run.config import RunConfig
from stream.run.pipeline import Pipeline
from stream.sources import make_source
from stream.types import ActionEvent, FrameLabel


class LabelCollector(Publisher):
    """A publisher that keeps every label and event in memory (and counts the other messages)."""

    def __init__(self) -> None:
        self.labels: list[FrameLabel] = []
        self.events: list[ActionEvent] = []

    def publish(self, topic: str, msg: Mapping[str, Any]) -> bool:
        self.sent += 1
        return True

    def publish_label(self, label: FrameLabel) -> bool:
        self.labels.append(label)
        return super().publish_label(label)

    def publish_event(self, event: ActionEvent) -> bool:
        self.events.append(event)
        return super().publish_event(event)

    def close(self) -> None:
        """Nothing to release."""


@dataclass
class ClipRun:
    """What the pipeline made of one clip.

    Attributes:
        frames: source frames streamed.
        frames_with_people: frames in which the pose step found at least one person.
        labels: every published `FrameLabel`, all tracks, in publishing order.
        events: every start/end `ActionEvent`.
        pose_cached: the people came from the pose cache (MediaPipe did not run).
        errors: what failed mid-run (a model that kept failing), as `stream.run.pipeline.RunSummary.errors`.
        seconds: wall time of the run.
        fps: the video's frame rate.
    """

    frames: int
    frames_with_people: int
    labels: list[FrameLabel] = field(default_factory=list)
    events: list[ActionEvent] = field(default_factory=list)
    pose_cached: bool = False
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    fps: float = 0.0


def clip_config(base: RunConfig, clip: str | Path) -> RunConfig:
    """``base`` streaming ``clip`` as ``stream-run --video CLIP --fast`` (no outputs besides the labels)."""
    return dataclasses.replace(base, source="video", video=str(clip), fast=True, show=False, output=None, record=None,
                               stats_json=None, print_events=False, ros2=None, record_bag=None)  # fmt: skip


def run_clip(clip: str | Path, base: RunConfig, backend: Backend, cache: PoseCache | None = None,
             tap: SkeletonTap | None = None) -> ClipRun:  # fmt: skip
    """Stream ``clip`` through the pipeline with ``base``'s settings and ``backend``; its labels and events.

    With a ``cache``, the pose step replays the clip's cached people when there are any, and
    otherwise runs MediaPipe and stores what it found. A ``tap`` keeps the skeletons the model saw.

    Raises:
        SourceError: the clip cannot be opened or decoded.
        PoseModelError: the pose model cannot be loaded.
    """
    started = time.perf_counter()
    config = clip_config(base, clip)
    cached = cache.load(clip) if cache is not None else None
    source = make_source(make_source_config(config)).open()
    try:
        raw = dataclasses.replace(config, pose_3d="world")  # the cache holds what MediaPipe gave
        with CachingPose(cached, lambda: make_pose_estimator(raw)) as pose:
            collector = LabelCollector()
            warm_up(backend, pose)
            source.start()
            summary = Pipeline(config, source, backend, collector, pose=with_pose_3d(config, pose),
                               status_line=False, model_input=tap).run()  # fmt: skip
    finally:
        source.stop()
    if source.error:
        raise SourceError(f"{Path(clip).name}: {source.error}")
    if cache is not None and cached is None:
        cache.save(clip, source.fps, pose.recorded)
    return ClipRun(frames=summary.frames, frames_with_people=pose.frames_with_people, labels=collector.labels,
                   events=collector.events, pose_cached=cached is not None, errors=list(summary.errors),
                   seconds=time.perf_counter() - started, fps=source.fps or 0.0)  # fmt: skip
