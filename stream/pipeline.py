"""The streaming loop: source → pose → tracker → windows → backend → decoder → publishers.

`Pipeline.run()` reads frames from the source's capture thread (which drops
the oldest frame when the loop falls behind, so the camera is never blocked),
runs every stage, times each one per frame, and publishes labels, events,
skeletons and a status message over ZeroMQ without ever blocking. At the end
of the stream, on `--max-frames`, or on SIGINT/SIGTERM (`stop()`), every
track is flushed: its pending frames are labelled and published, events
closed, files completed.

Latency statistics: one entry per stage and frame (``pose`` on image frames
only; ``model`` is 0 on frames without a model call, ``model_call`` times each
call), ``frame`` (all stages of a frame), ``after_pose`` (all but pose),
``end_to_end`` (capture → the frame's
outputs published, queue wait included) and ``label`` (capture → the frame's
final label: adds the wait for the next window, about stride/2 model frames,
plus ``lookahead``).
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from stream.backends import Backend
from stream.decoding import OnlineDecoder
from stream.label_recorder import LabelledRecorder
from stream.publishers.base import Publisher
from stream.run_config import RunConfig
from stream.sources.base import Source
from stream.stats import StageStats
from stream.tracking import Tracker
from stream.types import ActionEvent, Frame, FrameLabel, Person, TrackedPerson
from stream.windowing import WindowBatcher

if TYPE_CHECKING:  # calibration (OpenCV) is needed only by runs that place people
    from stream.localization import Localizer

logger = logging.getLogger(__name__)
STAGES = ("pose", "track", "window", "model", "decode", "publish")


@dataclass
class RunSummary:
    """What a run did, for the exit table and ``--stats-json``."""

    frames: int = 0
    labels: int = 0
    events: int = 0
    model_calls: int = 0
    windows: int = 0
    correct: int = 0  # labels matching the source's ground truth, where it has one
    scored: int = 0
    source: dict[str, Any] = field(default_factory=dict)
    publisher: dict[str, Any] = field(default_factory=dict)
    latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    seconds: float = 0.0
    stop_reason: str = ""

    @property
    def frame_accuracy(self) -> float | None:
        return self.correct / self.scored if self.scored else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "frames": self.frames, "labels": self.labels, "events": self.events,
            "model_calls": self.model_calls, "windows": self.windows,
            "frame_accuracy": self.frame_accuracy, "scored_labels": self.scored,
            "fps": self.frames / self.seconds if self.seconds else 0.0, "seconds": self.seconds,
            "source": self.source, "publisher": self.publisher, "latency_ms": self.latency_ms,
            "stop_reason": self.stop_reason,
        }  # fmt: skip


class Pipeline:
    """One streaming run over already-constructed stages (see `stream.cli.run` for building them)."""

    def __init__(
        self,
        config: RunConfig,
        source: Source,
        backend: Backend,
        publisher: Publisher,
        pose: Any | None = None,
        overlay: Any | None = None,
        recorder: LabelledRecorder | None = None,
        localizer: Localizer | None = None,
        status_line: bool = True,
    ) -> None:
        self.config = config
        self.source = source
        self.backend = backend
        self.publisher = publisher
        self.pose = pose
        self.overlay = overlay
        self.recorder = recorder
        self.localizer = localizer
        self.status_line = status_line and sys.stderr.isatty()
        checkpoint = backend.config
        self.tracker = Tracker(space="image" if config.has_images else "3d")
        self.batcher = WindowBatcher.from_checkpoint(checkpoint, stride=config.stride)
        self.decoder = OnlineDecoder.from_checkpoint(checkpoint, stride=config.stride, lookahead=config.lookahead)
        self.stats = StageStats()
        self.summary = RunSummary()
        self._stop = threading.Event()
        self._latest: dict[int, FrameLabel] = {}
        self._started_at = time.perf_counter()
        self._last_frame = -1
        self._first_stamp: int | None = None
        self._last_line = 0.0

    def stop(self, reason: str = "stopped") -> None:
        """Ask the loop to finish (safe from a signal handler or another thread)."""
        self.summary.stop_reason = self.summary.stop_reason or reason
        self._stop.set()

    def run(self) -> RunSummary:
        """Process frames until the source ends, ``max_frames`` or `stop()`; then flush everything."""
        self._started_at = last_status = time.perf_counter()
        while not self._stop.is_set():
            frame = self.source.read(timeout=0.5)
            if frame is None:
                if self.source.ended:
                    self.summary.stop_reason = self.summary.stop_reason or (self.source.error or "end of stream")
                    break
                continue
            if self._first_stamp is None:
                self._first_stamp = frame.stamp_ns
            self._step(frame)
            self._last_frame = frame.index
            self.summary.frames += 1
            if self.config.max_frames is not None and self.summary.frames >= self.config.max_frames:
                self.stop("max frames reached")
            now = time.perf_counter()
            if now - last_status >= self.config.status_interval_s:
                self._publish_status(frame.index)
                last_status = now
        self._finish(time.perf_counter() - self._started_at)
        return self.summary

    # -- one frame -----------------------------------------------------------------------------
    def _step(self, frame: Frame) -> None:
        # The stream's own clock (media time for files and synthetic scenes, capture time for cameras)
        # drives tracking and resampling, so a --fast replay behaves exactly like a real-time one.
        clock = frame.stamp_ns if frame.media_ns is None else frame.media_ns
        t0 = time.perf_counter_ns()
        people = frame.people if frame.people is not None else self._estimate(frame)
        t1 = time.perf_counter_ns()
        tracked = self.tracker.update(people, clock)
        ended = self.tracker.pop_ended()
        t2 = time.perf_counter_ns()
        self.batcher.push_tracked(tracked, frame.index, frame.stamp_ns, clock)
        for track_id in ended:
            self.batcher.end_track(track_id)
        windows, refs = self.batcher.due_windows()
        t3 = time.perf_counter_ns()
        self._run_model(windows, refs)
        t4 = time.perf_counter_ns()
        for track_id in ended:
            self.decoder.flush(track_id)
            self._latest.pop(track_id, None)
        labels, events = self.decoder.pop_final(), self.decoder.pop_events()
        t5 = time.perf_counter_ns()
        self._publish(frame, clock, people, tracked, labels, events, ended)
        t6 = time.perf_counter_ns()
        for stage, duration in zip(STAGES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5)):
            if stage != "pose" or frame.people is None:
                self.stats.add(stage, duration)
        self.stats.add("frame", t6 - t0)
        self.stats.add("after_pose", t6 - t1)  # everything this frame cost except pose estimation
        self.stats.add("end_to_end", time.monotonic_ns() - frame.stamp_ns)  # capture → this frame published
        if self.status_line:
            self._print_status_line()

    def _estimate(self, frame: Frame) -> list[Person]:
        if self.pose is None:
            raise RuntimeError("an image source needs a pose estimator")
        return self.pose.estimate(frame)

    def _run_model(self, windows: np.ndarray, refs: list) -> None:
        if not refs:
            return
        started = time.perf_counter_ns()
        logits = self.backend.run(windows)
        self.stats.add("model_call", time.perf_counter_ns() - started)  # per call; "model" is per frame
        self.summary.model_calls += 1
        self.summary.windows += len(refs)
        for ref, track_logits in zip(refs, logits):
            self.decoder.add(ref.track_id, ref.end, track_logits, ref.samples)

    def _publish(
        self,
        frame: Frame,
        clock: int,
        people: list[Person],
        tracked: list[TrackedPerson],
        labels: list[FrameLabel],
        events: list[ActionEvent],
        ended: list[int],
    ) -> None:
        for label in labels:
            self.publisher.publish_label(label)
            self.stats.add("label", label.latency_ns)  # capture → final label (includes stride and lookahead)
            self._latest[label.track_id] = label
            self._score(label)
        self._publish_events(events)
        self.summary.labels += len(labels)
        if tracked:
            self._publish_skeletons(frame, tracked)
        if self.overlay is not None:
            self.overlay.update(frame, tracked, self._latest)
            if getattr(self.overlay, "stop_requested", False):
                self.stop("overlay window closed")
        if self.recorder is not None:
            self.recorder.add_frame(frame.index, clock, people, tracked)
            self.recorder.add_labels(labels)
            self.recorder.end_tracks(ended)

    def _publish_skeletons(self, frame: Frame, tracked: list[TrackedPerson]) -> None:
        if self.localizer is None:
            self.publisher.publish_skeletons(frame.index, frame.stamp_ns, tracked)
            return
        placed, positions = [], {}
        for t in tracked:
            joints, position = self.localizer.place(t.person)
            placed.append(TrackedPerson(t.track_id, dataclasses.replace(t.person, joints=joints)))
            if position is not None:
                positions[t.track_id] = position
        self.publisher.publish_skeletons(frame.index, frame.stamp_ns, placed, self.localizer.frame_id, positions)

    def _publish_events(self, events: list[ActionEvent]) -> None:
        for event in events:
            self.publisher.publish_event(event)
            if self.config.print_events:
                fps = self.source.fps
                seconds = event.frame / fps if fps else (event.stamp_ns - (self._first_stamp or 0)) / 1e9
                print(f"{seconds:7.1f} s  person {event.track_id:<3} {event.kind:<5} {event.label:<10} "
                      f"(score {event.score:.2f})", flush=True)  # fmt: skip
        self.summary.events += len(events)

    def _score(self, label: FrameLabel) -> None:
        if self.config.has_truth:
            truth = label.truth if label.truth is not None else "background"
            self.summary.scored += 1
            self.summary.correct += int(label.label == truth)

    # -- status and the end ----------------------------------------------------------------------
    def _status(self) -> dict[str, Any]:
        source = self.source.stats()
        stages = (*STAGES, "model_call", "frame", "after_pose", "end_to_end", "label")
        latency = {stage: self.stats.percentiles_ms(stage) for stage in stages}
        return {
            "rates": {"frames": self.summary.frames / max(1e-9, time.perf_counter() - self._started_at)},
            "drops": {"capture": int(source.get("dropped", 0)), "publish": int(self.publisher.stats()["dropped"])},
            "latency_ms": {k: v for k, v in latency.items() if v},
            "tracks": len(self.tracker.active_ids),
        }

    def _publish_status(self, frame: int) -> None:
        self.publisher.publish_status(self._status(), frame)

    def _print_status_line(self) -> None:
        now = time.perf_counter()
        if now - self._last_line < 0.25:  # a few refreshes a second are enough for a person
            return
        self._last_line = now
        status = self._status()
        latency = status["latency_ms"]
        stages = " ".join(f"{stage} {latency[stage]['p50']:.1f}/{latency[stage]['p95']:.1f}"
                          for stage in (*STAGES, "end_to_end") if stage in latency)  # fmt: skip
        line = (f"\r{status['rates']['frames']:5.1f} fps  tracks {status['tracks']}  drops {status['drops']['capture']}"
                f"  p50/p95 ms: {stages} ")  # fmt: skip
        print(line, end="", file=sys.stderr, flush=True)

    def _finish(self, seconds: float) -> None:
        ended = self.tracker.end_all()
        for track_id in ended:
            self.batcher.end_track(track_id)
        windows, refs = self.batcher.due_windows()
        self._run_model(windows, refs)
        self.decoder.flush_all()
        labels, events = self.decoder.pop_final(), self.decoder.pop_events()
        for label in labels:
            self.publisher.publish_label(label)
            self.stats.add("label", label.latency_ns)
            self._score(label)
        self._publish_events(events)
        self.summary.labels += len(labels)
        if self.recorder is not None:
            self.recorder.add_labels(labels)
            self.recorder.end_tracks(ended)
        if self.status_line:
            print(file=sys.stderr)
        self.summary.seconds = seconds
        self.summary.source = self.source.stats()
        self.summary.publisher = self.publisher.stats()
        self.summary.latency_ms = self.stats.summary()
        self._publish_status(self._last_frame)
