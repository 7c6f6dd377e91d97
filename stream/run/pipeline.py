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
final label: adds the wait for the window that makes it final, up to
stride - 1 model frames, plus ``lookahead``). Where a label's time goes, per
label a model call made final (they add up to its latency):
``label.resample`` (capture → the frame that completed its model-rate sample:
0 when the model tick falls on a source frame), ``label.window`` (→ the frame
whose window made it final: stride and lookahead), ``label.queue`` (→ the loop
took that frame: the capture queue), ``label.stages`` (pose, tracking,
windowing of that frame), ``label.model`` (the batched call) and
``label.publish`` (decoding and publishing).

The stride is `stream.run.stride_control.StrideController`'s: pinned by
``config.stride``, or automatic (the smallest the measured model cost and the
track count sustain; each change logged and kept in `stream.run.report.RunSummary.stride`).
With ``--fast`` there is no real time to keep up with (every frame is processed
whatever it costs), so the automatic stride stays at 1: an offline run labels
the same whatever the machine's load, and a replay of cached poses labels
exactly as the live run did.

Image sources' skeletons are root-relative (lifted, or MediaPipe's hip-centred
world landmarks): the windows take them with each track's root motion across
the image put back (`stream.stages.image_root_motion`, ``config.root_motion``);
skeletons are published as the pose step gave them.

Scoring against ground truth, time to detect, printed events and the status
line are the run's report (`stream.run.report.RunReport`), told what was
published; the summary it keeps is what `run` returns.

Faults (docs/reliability.md):

- A model call that raises, or returns logits of the wrong shape or not
  finite, does not end the run: its windows go to the decoder as failed
  (`OnlineDecoder.add_failed`), so every frame still gets exactly one label,
  ``"failed"`` where no model output covered it; the call is logged and its
  windows counted (``status.drops.model``). After `MAX_MODEL_FAILURES` failed
  calls in a row the run stops with an error (a backend gone for good: a
  supervisor can restart the process).
- A recording that cannot be written (disk full, file too large) is closed
  with every complete frame kept; the error is logged and reported at the end
  (``RunSummary.errors``), and publishing goes on.
- While the source stalls, status messages keep coming. When the stream's
  clock then jumps by more than a window's span, every track is ended (its
  pending frames published) and people are tracked afresh, so the work after a
  gap never grows with its length.
- A skeleton the stages cannot use (an unknown layout, joints that do not fit
  it, 2D joints in a 3D stream: a bad file or message from outside) is
  dropped, counted (``status.drops.people``) and logged once per kind.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from foundation.errors import PublisherError
from models.skeleton.layouts import LAYOUTS
from stream.backends import Backend
from stream.publishers.base import Publisher
from stream.publishers.recorder import LabelledRecorder
from stream.run.config import RunConfig
from stream.run.report import RunReport, RunSummary
from stream.run.stats import StageStats
from stream.run.stride_control import StrideController
from stream.sources.base import Source
from stream.stages.decoding import OnlineDecoder
from stream.stages.image_root_motion import ImageRootMotion
from stream.stages.tracking import Tracker
from stream.stages.windowing import WindowBatcher
from stream.types import ActionEvent, Frame, FrameLabel, Person, TrackedPerson

if TYPE_CHECKING:  # calibration, OpenCV and MediaPipe are needed only by runs that use them
    from stream.pose.estimator import PoseEstimator
    from stream.publishers.overlay import Overlay
    from stream.stages.localization import Localizer

logger = logging.getLogger(__name__)
STAGES = ("pose", "track", "window", "model", "decode", "publish")
LABEL_PARTS = ("resample", "window", "queue", "stages", "model", "publish")  # where a label's latency goes
MAX_MODEL_FAILURES = 10  # failed model calls in a row that end the run


def unusable(person: Person, space: str) -> str | None:
    """Why the stages cannot use ``person`` in a stream tracked in ``space`` ("3d" or "image"); None if they can."""
    layout = LAYOUTS.get(person.layout) if isinstance(person.layout, str) else None
    if layout is None:
        return f"unknown layout {str(person.layout)[:40]!r}"
    joints, confidence = np.shape(person.joints), np.shape(person.confidence)
    if len(joints) != 2 or joints[0] != layout.num_joints or joints[1] not in (2, 3) \
            or confidence != (layout.num_joints,):  # fmt: skip
        return f"{layout.name} joints {joints} and confidence {confidence} do not fit the layout"
    if space == "3d" and (layout.dims != 3 or joints[1] != 3):
        return f"{layout.name} joints {joints} in a stream of 3D skeletons"
    if space == "image" and layout.dims == 3 and np.shape(person.image_points) != (layout.num_joints, 2):
        return f"{layout.name} image points {np.shape(person.image_points)} in a stream tracked in the image"
    return None


class Pipeline:
    """One streaming run over already-constructed stages (see `stream.cli.run` for building them)."""

    def __init__(
        self,
        config: RunConfig,
        source: Source,
        backend: Backend,
        publisher: Publisher,
        pose: PoseEstimator | None = None,
        overlay: Overlay | None = None,
        recorder: LabelledRecorder | None = None,
        localizer: Localizer | None = None,
        status_line: bool = True,
        model_input: Callable[[int, list[TrackedPerson]], None] | None = None,
    ) -> None:
        """``model_input``, when given, sees every frame's tracked people as the model's windows take them
        (source frame index, people): `stream.evaluation.camera_skeletons` keeps them for training."""
        self.config = config
        self.source = source
        self.backend = backend
        self.publisher = publisher
        self.pose = pose
        self.overlay = overlay
        self.recorder = recorder
        self.localizer = localizer
        self.model_input = model_input
        checkpoint = backend.config
        self.tracker = Tracker(space="image" if config.has_images else "3d")
        self.root_motion = ImageRootMotion() if config.has_images and config.root_motion else None
        self.strides = StrideController(checkpoint.fps, checkpoint.num_frames, pinned=config.pinned_stride)
        self.batcher = WindowBatcher.from_checkpoint(checkpoint, stride=self.strides.stride)
        levels = {} if config.min_score is None else {"min_score": config.min_score}
        self.decoder = OnlineDecoder.from_checkpoint(checkpoint, stride=self.strides.stride, lookahead=config.lookahead,
                                                     fusion=config.fusion, **levels)  # fmt: skip
        self._marks: tuple[int, int, int] | None = None  # this frame's loop start, model start, model end
        self.stats = StageStats()
        self.report = RunReport(self.decoder.labels, source.has_truth, source.has_points, source.fps,
                                config.print_events, status_line, gestures=self.decoder.points is not None)  # fmt: skip
        self.summary = self.report.summary
        self._stop = threading.Event()
        self._latest: dict[int, FrameLabel] = {}
        self._started_at = time.perf_counter()
        self._last_frame = -1
        self._last_stamp = 0
        self._failed_calls = 0  # model calls failed in a row
        self._faults_logged: set[str] = set()
        self._last_clock: int | None = None
        self._window_span_ns = int(self.batcher.num_frames / self.batcher.fps * 1e9)

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
                    ended = self.source.error or ("end of stream" + (f" ({self.source.end_note})"
                                                                     if self.source.end_note else ""))  # fmt: skip
                    self.summary.stop_reason = self.summary.stop_reason or ended
                    break
                if time.perf_counter() - last_status >= self.config.status_interval_s:  # a stalled source
                    self._publish_status(self._last_frame)
                    last_status = time.perf_counter()
                continue
            self.report.frame(frame.stamp_ns)
            self._step(frame)
            self._last_frame, self._last_stamp = frame.index, frame.stamp_ns
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
        started = time.monotonic_ns()
        self._marks = None
        t0 = time.perf_counter_ns()
        people = self._usable(frame.people if frame.people is not None else self._estimate(frame))
        t1 = time.perf_counter_ns()
        stale = self._end_tracks_after_a_gap(clock)
        tracked = self.tracker.update(people, clock)
        ended = stale + self.tracker.pop_ended()
        self.report.follow_truth(frame.stamp_ns, tracked, ended)
        t2 = time.perf_counter_ns()
        seen = self._as_model_sees(tracked)
        if self.model_input is not None:
            self.model_input(frame.index, seen)
        self.batcher.push_tracked(seen, frame.index, frame.stamp_ns, frame.media_ns)  # no media clock: a live source
        for track_id in ended:
            self._end_track(track_id)
        windows, refs = self.batcher.due_windows()
        t3 = time.perf_counter_ns()
        if refs:
            model_started = time.monotonic_ns()
            self._run_model(windows, refs)
            self._marks = (started, model_started, time.monotonic_ns())
        t4 = time.perf_counter_ns()
        for track_id in ended:
            self.decoder.flush(track_id)
            self._latest.pop(track_id, None)
        labels, events = self.decoder.pop_final(), self.decoder.pop_events()
        t5 = time.perf_counter_ns()
        self._publish(frame, clock, people, tracked, labels, events, ended)
        self.report.tracks_ended(ended)
        t6 = time.perf_counter_ns()
        for stage, duration in zip(STAGES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5)):
            if stage != "pose" or frame.people is None:
                self.stats.add(stage, duration)
        self.stats.add("frame", t6 - t0)
        self.stats.add("after_pose", t6 - t1)  # everything this frame cost except pose estimation
        self.stats.add("end_to_end", time.monotonic_ns() - frame.stamp_ns)  # capture → this frame published
        self._adapt_stride(clock, (t6 - t0 - (t4 - t3)) / 1e9)
        if self.report.status_line:
            self.report.show_status(self._status, STAGES)

    def _as_model_sees(self, tracked: list[TrackedPerson]) -> list[TrackedPerson]:
        """The tracked people as the model's windows take them: camera skeletons with their image root motion."""
        return tracked if self.root_motion is None else self.root_motion.place_all(tracked)

    def _end_track(self, track_id: int) -> None:
        self.batcher.end_track(track_id)
        if self.root_motion is not None:
            self.root_motion.end_track(track_id)

    def _adapt_stride(self, clock: int, other_seconds: float) -> None:
        """Tell the stride controller what this frame cost besides the model; apply the stride it picks."""
        if self.config.fast:
            return  # nothing to sustain: the automatic stride stays at 1 (module docstring)
        self.strides.observe_frame(other_seconds)
        stride = self.strides.update(clock / 1e9, len(self.tracker.active_ids), self._frame_rate())
        if stride is not None:
            self.batcher.set_stride(stride)
            self.decoder.set_stride(stride)

    def _frame_rate(self) -> float:
        """Source frames a second: the source's nominal rate, else the rate measured so far."""
        if self.source.fps:
            return float(self.source.fps)
        return self.summary.frames / max(1e-9, time.perf_counter() - self._started_at)

    def _end_tracks_after_a_gap(self, clock: int) -> list[int]:
        """Every track, ended, when the clock jumped past a whole window (a stall, a paused recording)."""
        last, self._last_clock = self._last_clock, clock
        if last is None or clock - last <= self._window_span_ns or not self.tracker.active_ids:
            return []
        logger.warning("the stream's clock jumped %.1f s (longer than a %.1f s window): every track ended, "
                       "people are tracked afresh", (clock - last) / 1e9, self._window_span_ns / 1e9)  # fmt: skip
        return self.tracker.end_all()

    def _usable(self, people: list[Person]) -> list[Person]:
        kept = []
        for person in people:
            reason = unusable(person, self.tracker.space)
            if reason is None:
                kept.append(person)
                continue
            self.summary.dropped_people += 1
            if reason not in self._faults_logged and len(self._faults_logged) < 100:
                self._faults_logged.add(reason)
                logger.warning("dropped a skeleton the stages cannot use: %s (counted in status drops.people)", reason)
        return kept

    def _estimate(self, frame: Frame) -> list[Person]:
        if self.pose is None:
            raise RuntimeError("an image source needs a pose estimator")
        return self.pose.estimate(frame)

    def _run_model(self, windows: np.ndarray, refs: list) -> None:
        if not refs:
            return
        started = time.perf_counter_ns()
        try:
            logits = self.backend.run(windows)
            expected = (len(refs), self.decoder.window, len(self.decoder.labels))
            if getattr(logits, "shape", None) != expected:
                raise ValueError(f"the backend returned logits of shape {getattr(logits, 'shape', None)}, "
                                 f"expected {expected}")  # fmt: skip
        except Exception as error:  # noqa: BLE001 - any backend failure: these windows fail, the run goes on
            logits, failure = None, f"{type(error).__name__}: {error}"
        else:
            finite = np.isfinite(logits).all(axis=(1, 2))
            failure = None if finite.all() else f"non-finite logits in {int((~finite).sum())} of {len(refs)} windows"
        duration = time.perf_counter_ns() - started
        self.stats.add("model_call", duration)  # per call; "model" is per frame
        self.strides.observe_call(len(refs), duration / 1e9)
        self.summary.model_calls += 1
        self.summary.windows += len(refs)
        for row, ref in enumerate(refs):
            if logits is not None and finite[row]:
                self.decoder.add(ref.track_id, ref.end, logits[row], ref.samples)
            else:
                self.decoder.add_failed(ref.track_id, ref.end, ref.samples)
                self.summary.failed_windows += 1
        if failure is None:
            self._failed_calls = 0
            return
        self._failed_calls += 1
        tracks = sorted({ref.track_id for ref in refs})
        logger.error("model call %d failed on %d windows (tracks %s): %s; their frames without model output are "
                     "labelled 'failed'", self.summary.model_calls, len(refs), tracks, failure)  # fmt: skip
        if self._failed_calls >= MAX_MODEL_FAILURES:
            message = f"the model failed {self._failed_calls} calls in a row (last: {failure})"
            self.summary.errors.append(message)
            self.stop(message)

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
        self._publish_final(labels, events)
        for label in labels:
            self._latest[label.track_id] = label
            self._label_parts(label, frame.stamp_ns)
        if tracked:
            self._publish_skeletons(frame, tracked)
        if self.overlay is not None:
            self.overlay.update(frame, tracked, self._latest)
            if getattr(self.overlay, "stop_requested", False):
                self.stop("overlay window closed")
        if self.recorder is not None:
            try:
                self.recorder.add_frame(frame.index, clock, people, tracked)
                self.recorder.add_labels(labels)
                self.recorder.end_tracks(ended)
            except PublisherError as error:
                self._recording_failed(error)

    def _recording_failed(self, error: PublisherError) -> None:
        """Stop recording (the file keeps every complete frame), say why, go on streaming."""
        message = f"recording stopped: {error}"
        logger.error("%s; streaming goes on", message)
        self.summary.errors.append(message)
        self.recorder = None

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

    def _label_parts(self, label: FrameLabel, frame_stamp_ns: int) -> None:
        """Where the latency of a label this frame's model call made final went (`LABEL_PARTS`)."""
        if self._marks is None or not label.sample_ns:
            return  # made final without a model call (a track that ended), or by a decoder without sample times
        started, model_started, model_ended = self._marks
        parts = (label.sample_ns - label.stamp_ns, frame_stamp_ns - label.sample_ns, started - frame_stamp_ns,
                 model_started - started, model_ended - model_started, time.monotonic_ns() - model_ended)
        for part, duration in zip(LABEL_PARTS, parts):
            self.stats.add(f"label.{part}", duration)

    def _publish_final(self, labels: list[FrameLabel], events: list[ActionEvent]) -> None:
        """Publish final labels and events (each told to the report)."""
        for label in labels:
            self.publisher.publish_label(label)
            self.stats.add("label", label.latency_ns)  # capture → final label (includes stride and lookahead)
            self.report.label(label)
        for event in events:
            self.publisher.publish_event(event)
            self.report.event(event)

    # -- status and the end ----------------------------------------------------------------------
    def _status(self) -> dict[str, Any]:
        source = self.source.stats()
        stages = (*STAGES, "model_call", "frame", "after_pose", "end_to_end", "label")
        latency = {stage: self.stats.percentiles_ms(stage) for stage in stages} | self.report.detection_ms()
        queues = {"capture": int(source.get("queue_depth", 0)),
                  "decoder": sum(self.decoder.pending(t) for t in self.decoder.track_ids)}  # fmt: skip
        if self.recorder is not None:
            queues["recorder"] = self.recorder.pending
        return {
            "rates": {"frames": self.summary.frames / max(1e-9, time.perf_counter() - self._started_at)},
            "drops": {"capture": int(source.get("dropped", 0)), "publish": int(self.publisher.stats()["dropped"]),
                      "model": self.summary.failed_windows, "people": self.summary.dropped_people},  # fmt: skip
            "latency_ms": {k: v for k, v in latency.items() if v},
            "tracks": len(self.tracker.active_ids),
            "queues": queues,
        }

    def _publish_status(self, frame: int) -> None:
        self.publisher.publish_status(self._status(), frame)

    def _finish(self, seconds: float) -> None:
        ended = self.tracker.end_all()
        self.report.follow_truth(self._last_stamp, [], ended)
        for track_id in ended:
            self._end_track(track_id)
        windows, refs = self.batcher.due_windows()
        self._run_model(windows, refs)
        self.decoder.flush_all()
        labels, events = self.decoder.pop_final(), self.decoder.pop_events()
        self._publish_final(labels, events)
        self.report.end()
        if self.recorder is not None:
            try:
                self.recorder.add_labels(labels)
                self.recorder.end_tracks(ended)
                self.recorder.close()  # the frames still waiting are written now, so a failure is reported
            except PublisherError as error:
                self._recording_failed(error)
        self.summary.seconds = seconds
        self.summary.source = self.source.stats()
        self.summary.publisher = self.publisher.stats()
        self.summary.latency_ms = self.stats.summary() | self.report.detection_ms()
        self.summary.detect_by_action = self.report.detection_by_action_ms()
        self.summary.stride = {"mode": "auto" if self.strides.automatic else "pinned", "stride": self.strides.stride,
                               "changes": [change.to_dict() for change in self.strides.changes]}  # fmt: skip
        self._publish_status(self._last_frame)
