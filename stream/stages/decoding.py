"""Online decoding: per-window scores → one final label per sample, and start/end events (DESIGN §4).

`OnlineDecoder.add` folds in the (T, K + 1) scores of one track's window; a
sample's probabilities fuse the softmax of every window that covered it
within the lookahead (``fusion``: "recent", the default, weights a window by
how many samples it saw after the sample; "mean"; "max": `models.fusion`), exactly as the
offline `models.fusion.FrameFusion` computes them. `pop_final` returns each sample's `FrameLabel` once, when it is
final; `pop_events` the `ActionEvent` starts and ends, and the gestures recognised::

    decoder = OnlineDecoder.from_checkpoint(config, stride=1, lookahead=0)
    decoder.add(ref.track_id, ref.end, logits, ref.samples)   # for each window of a batch
    labels, events = decoder.pop_final(), decoder.pop_events()
    decoder.flush(track_id)                                    # a track ended: publish its pending samples
    decoder.flush_all()                                        # end of stream
    decoder.set_stride(2)                                      # the windows from now on come every 2 samples

**Finality.** All indices count model-rate samples of one track. Let ``s`` be
the stride, ``T`` the window length and the reach
``R = min(max(lookahead, s - 1), T - 1)`` (``R = T - 1`` when lookahead is
None, i.e. unlimited). A track's windows end at ``e = s-1, 2s-1, 3s-1, …`` (the
`WindowBatcher` grid), and the window ending at ``e`` contributes to sample
``t`` iff ``0 <= e - t <= R``. Once the window ending at ``e`` has been added,
every sample ``t <= e + s - 1 - R`` is final — the next window ends at
``e + s`` and ``e + s - t > R`` — and is published, in order. So:

- lookahead 0 (``R = s - 1``): ``t <= e``; each sample is published with the
  first window ending at or after it, the earliest possible point (latency: up
  to ``s - 1`` samples plus one model call);
- lookahead L (``s - 1 <= L < T``): ``t <= e + s - 1 - L``: every window ending
  up to L samples after ``t`` counts;
- lookahead None: ``t <= e + s - T``; every window that ever covers ``t`` counts.

With lookahead 0 a sample is labelled by one window only, the first ending at
or after it, whatever the stride and the fusion: stride 1 labels it from the
window's last position, the one without any later context; measured on
UTKinect validation that costs nothing against stride 8 (benchmarks/README.md,
"Stride and fusion"). More windows are fused only with a lookahead.

The fused probabilities equal FrameFusion's (same lookahead and fusion) for
every sample of a stream whose last sample is a window end. `flush` publishes a
track's remaining samples with the windows seen so far (after the batcher's
final, partial window); offline, that last window also counts for samples
already final online — the one place the two can differ.

**A stride that changes** (`set_stride`, the automatic stride of
`stream.run.stride_control`) applies from the next window on. A window also
covers every not-yet-final sample it contains, even beyond the reach, so a
sample between the old grid and the new one is never left without scores.

**Smoothing.** ``smoothing = a`` > 0 applies an exponential moving average to
final samples only, in order (``p̃_t = (1 - a)·p_t + a·p̃_{t-1}``): it never
delays a label nor changes a published one. Labels, top-k and events use p̃.

**Events.** Per (track, action), on final samples in order, by the rules of
`models.action_runs` — the checkpoint's (``config.json`` → ``events.runs``),
else `EventRules`' defaults: hysteresis between ``enter_threshold`` and
``exit_threshold``, a ``start`` once a run spans ``min_duration_frames``
samples or has held ``confident_threshold`` for ``confident_frames``, dated
at its first sample; an ``end`` when it closes or its track is flushed — on
the (smoothed) probabilities. The start event lags the action's first frame
by those samples plus the finality delay — that is the price of not reacting
to flicker.

**Gesture events.** A checkpoint whose config declares point events
(``config.json`` → ``events.points``: `models.point_events.PointRules`) also
gets a `models.point_events.PointDetector` per track, fed the same final
(smoothed) probabilities as the labels, sample by sample: each recognised
gesture instance is one ``gesture`` event, dated at the sample where it was
recognised, scored with its probability there (with peak picking, the
peak's), with ``delay_ms`` the stream time since its evidence began (samples
/ fps); a track's flush recognises the gestures still waiting for their peak
at its last sample. Offline,
`models.point_events.detect_points` on the same probabilities gives the same
events; `models.evaluation.gestures` scores them.

Only *primary* samples (`stream.stages.windowing.SampleInfo`) give a `FrameLabel`, so a
source frame covered by several model samples (a slow source) is labelled once;
every sample counts for events (start/end and gestures). Without sample infos (``samples=None``), sample
``t`` is labelled as frame ``t`` with stamp 0.

**Failed windows.** `add_failed` takes a window whose model call failed: its
samples are announced as `add` would, with no scores. A sample fuses the
windows that did get scores; one that becomes final with none at all is still
labelled, once, as `FAILED_LABEL` (score 0, empty top-k), so no frame goes
unlabelled and none is mislabelled as background. Such a sample is no evidence
either way: it neither extends nor closes an event run, nor enters smoothing
nor gesture detection.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from models.action_runs import ActionRuns, EventRules
from models.fusion import FUSIONS, published_labels, softmax
from models.point_events import PointDetector, PointEvent, PointRules
from stream.types import ActionEvent, FrameLabel
from stream.stages.windowing import SampleInfo

if TYPE_CHECKING:
    from models.checkpoint import CheckpointConfig

INPUTS = ("logits", "probs")
FAILED_LABEL = "failed"
"""The label of a frame no model output covered (its model calls failed); never a checkpoint's class name."""


@dataclass
class _Track:
    runs: ActionRuns
    points: PointDetector | None = None
    next_final: int = 0
    last_end: int = -1
    sums: dict[int, np.ndarray] = field(default_factory=dict)
    weights: dict[int, float] = field(default_factory=dict)
    infos: dict[int, SampleInfo] = field(default_factory=dict)
    smoothed: np.ndarray | None = None


class OnlineDecoder:
    """Per-window scores of many tracks → final per-sample labels and start/end events.

    Args:
        labels: class names, ``labels[0]`` the background.
        window: the model's window length T.
        stride: samples between a track's windows (1 <= stride <= window).
        lookahead: extra samples a label may wait for (>= 0), None for every covering window.
        inputs: "logits" (softmax applied) or "probs" (used as given).
        fusion: how the windows covering a sample combine: "recent", "mean" or "max" (`models.fusion`).
        top_k: (label, probability) pairs published with each label.
        min_score: a sample whose most likely action scores below it is labelled background (its top-k and
            events unchanged; `models.fusion.published_labels`).
        smoothing: EMA memory ``a`` in [0, 1) over final samples; 0 disables.
        runs: the rules of start/end events (`models.action_runs.EventRules`: hysteresis, minimum duration,
            confident start); None: their defaults.
        points: gesture rules (`models.point_events.PointRules`): one ``gesture`` event per recognised instance;
            None emits none.
        fps: the samples' rate (the checkpoint's fps), needed with ``points`` (refractory period, delays).
    """

    def __init__(
        self,
        labels: list[str],
        window: int,
        stride: int,
        lookahead: int | None = 0,
        *,
        inputs: str = "logits",
        fusion: str = "recent",
        top_k: int = 3,
        min_score: float = 0.0,
        smoothing: float = 0.0,
        runs: EventRules | None = None,
        points: PointRules | None = None,
        fps: float | None = None,
    ) -> None:
        def integer(name: str, value: object, low: int) -> int:
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"OnlineDecoder {name} must be an integer >= {low}, got {value!r}")
            return int(value)

        labels = list(labels)
        if len(labels) < 2 or not all(isinstance(label, str) for label in labels):
            raise ValueError(f"OnlineDecoder labels must be >= 2 names (background first), got {labels!r}")
        if FAILED_LABEL in labels:
            raise ValueError(f"OnlineDecoder labels must not include {FAILED_LABEL!r}: it is reserved for frames "
                             "whose model calls failed")  # fmt: skip
        self.labels = labels
        self.window = integer("window", window, 1)
        self.lookahead = None if lookahead is None else integer("lookahead", lookahead, 0)
        self.set_stride(stride)
        if inputs not in INPUTS:
            raise ValueError(f"OnlineDecoder inputs must be one of {INPUTS}, got {inputs!r}")
        self.inputs = inputs
        if fusion not in FUSIONS:
            raise ValueError(f"OnlineDecoder fusion must be one of {FUSIONS}, got {fusion!r}")
        self.fusion = fusion
        self.top_k = integer("top_k", top_k, 1)
        if isinstance(min_score, bool) or not isinstance(min_score, (int, float)) or not 0.0 <= min_score < 1.0:
            raise ValueError(f"OnlineDecoder min_score must be in [0, 1), got {min_score!r}")
        self.min_score = float(min_score)
        if not (isinstance(smoothing, (int, float)) and 0.0 <= smoothing < 1.0):
            raise ValueError(f"OnlineDecoder smoothing must be in [0, 1), got {smoothing!r}")
        self.smoothing = float(smoothing)
        if runs is not None and not isinstance(runs, EventRules):
            raise ValueError(f"OnlineDecoder runs must be EventRules or None, got {type(runs).__name__}")
        self.rules = runs or EventRules()
        if points is not None and not isinstance(points, PointRules):
            raise ValueError(f"OnlineDecoder points must be PointRules or None, got {type(points).__name__}")
        if points is not None and not (isinstance(fps, (int, float)) and not isinstance(fps, bool) and fps > 0):
            raise ValueError(f"OnlineDecoder points need the sample rate: fps must be > 0, got {fps!r}")
        self.points = points
        self.fps = None if fps is None else float(fps)
        self._tracks: dict[int, _Track] = {}
        self._labels: list[FrameLabel] = []
        self._events: list[ActionEvent] = []

    @classmethod
    def from_checkpoint(cls, config: CheckpointConfig, stride: int = 8, lookahead: int | None = 0,
                        **options: object) -> OnlineDecoder:  # fmt: skip
        """A decoder for the model of ``config`` (labels, T, its gesture and event rules, min_score and fps);
        ``options`` as in the constructor."""
        options = {"points": config.points, "runs": config.runs, "fps": config.fps, "min_score": config.min_score,
                   **options}  # fmt: skip
        return cls(config.labels, config.num_frames, stride, lookahead, **options)  # type: ignore[arg-type]

    # -- public API --------------------------------------------------------------------------
    def set_stride(self, stride: int) -> None:
        """Samples between a track's windows from the next window on (1 <= stride <= window)."""
        if isinstance(stride, bool) or not isinstance(stride, (int, np.integer)) or stride < 1:
            raise ValueError(f"OnlineDecoder stride must be an integer >= 1, got {stride!r}")
        if stride > self.window:
            raise ValueError(f"OnlineDecoder stride {stride} exceeds the window length {self.window}")
        self.stride = int(stride)
        reach = self.window - 1 if self.lookahead is None else max(self.lookahead, self.stride - 1)
        self.reach = min(reach, self.window - 1)

    @property
    def track_ids(self) -> list[int]:
        return list(self._tracks)

    def pending(self, track_id: int) -> int:
        """Samples of the track folded in but not yet final."""
        state = self._tracks.get(track_id)
        return 0 if state is None else len(state.infos)

    def add(
        self,
        track_id: int,
        end: int,
        scores: np.ndarray,
        samples: tuple[SampleInfo, ...] | list[SampleInfo] | None = None,
    ) -> None:
        """Fold in the (T, K + 1) scores of the track's window ending at sample ``end``; publish what became final.

        ``samples``: the window's `SampleInfo` (`WindowRef.samples`); None labels sample t as frame t.
        Windows of a track must come in increasing ``end``.
        """
        scores = np.asarray(scores)
        if scores.shape != (self.window, len(self.labels)):
            raise ValueError(f"window scores must be (T, K + 1) = ({self.window}, {len(self.labels)}), "
                             f"got {scores.shape}")  # fmt: skip
        if not np.isfinite(scores).all():
            raise ValueError(f"window scores of track {track_id} ending at {end} are not all finite")
        probs = softmax(scores) if self.inputs == "logits" else scores.astype(np.float64)
        self._fold(track_id, end, probs, samples)

    def add_failed(
        self, track_id: int, end: int, samples: tuple[SampleInfo, ...] | list[SampleInfo] | None = None
    ) -> None:
        """A window like `add`'s whose model call failed: its samples are announced without scores.

        Samples that become final with no window's scores are labelled `FAILED_LABEL` (module docstring).
        """
        self._fold(track_id, end, None, samples)

    def _fold(self, track_id: int, end: int, probs: np.ndarray | None,
              samples: tuple[SampleInfo, ...] | list[SampleInfo] | None) -> None:  # fmt: skip
        state = self._tracks.get(track_id)
        if state is None:
            points = None if self.points is None else PointDetector(len(self.labels), self.points, self.fps)
            state = self._tracks[track_id] = _Track(ActionRuns(self.rules), points)
        end = int(end)
        if end <= state.last_end:
            raise ValueError(f"track {track_id}: window ending at {end} after one ending at {state.last_end}; "
                             f"windows must come in increasing order")  # fmt: skip
        # Every sample the window holds that is not final yet: on a fixed grid exactly those within the reach;
        # after a stride change also older ones, which would otherwise get no scores at all.
        first = max(0, end - self.window + 1, state.next_final)
        if samples is not None:
            for info in samples:
                if first <= info.index <= end:
                    state.infos.setdefault(info.index, info)
        for t in range(first, end + 1):
            if samples is None:
                state.infos.setdefault(t, SampleInfo(index=t, tick_ns=0, frame=t, stamp_ns=0))
            if probs is None:
                continue
            row = probs[self.window - (end + 1 - t)]
            weight = float(end - t + 1) if self.fusion == "recent" else 1.0  # recent: samples seen after t, + 1
            if t not in state.sums:
                state.sums[t] = row * weight
                state.weights[t] = weight
            elif self.fusion == "max":
                np.maximum(state.sums[t], row, out=state.sums[t])
            else:
                state.sums[t] += row * weight
                state.weights[t] += weight
        state.last_end = end
        self._finalize(track_id, state, end + self.stride - 1 - self.reach)

    def flush(self, track_id: int) -> None:
        """Publish every pending sample of the track with the windows seen so far, end its open events, forget it.

        Gestures still waiting for their peak are recognised at the track's last sample.
        """
        state = self._tracks.pop(track_id, None)
        if state is None:
            return
        known = [t for t in state.infos if t >= state.next_final]
        self._finalize(track_id, state, max(known, default=-1))
        if state.points is not None:
            self._emit_gestures(track_id, state.points.close())
        for event in state.runs.close():
            self._emit(track_id, event.kind, event.at, event.score, event.action)

    def flush_all(self) -> None:
        """End of stream: `flush` every track, in id order."""
        for track_id in sorted(self._tracks):
            self.flush(track_id)

    def pop_final(self) -> list[FrameLabel]:
        """Labels finalised since the last call; per track in sample order, each sample once."""
        labels, self._labels = self._labels, []
        return labels

    def pop_events(self) -> list[ActionEvent]:
        """Start, end and gesture events since the last call, in the order they happened."""
        events, self._events = self._events, []
        return events

    # -- internals ----------------------------------------------------------------------------
    def _finalize(self, track_id: int, state: _Track, upto: int) -> None:
        now = time.monotonic_ns()
        for t in range(state.next_final, upto + 1):
            info = state.infos.pop(t, None)
            total = state.sums.pop(t, None)
            weight = state.weights.pop(t, 0.0)
            if info is None:
                continue  # never announced by any window: nothing to label
            if total is None:  # every window covering it failed: labelled, but no evidence for events
                if info.primary:
                    self._labels.append(FrameLabel(
                        track_id=track_id, frame=info.frame, stamp_ns=info.stamp_ns, label=FAILED_LABEL, score=0.0,
                        top_k=[], latency_ns=now - info.stamp_ns, truth=info.truth, sample_ns=info.completed_ns,
                    ))  # fmt: skip
                continue
            probs = total / total.sum() if self.fusion == "max" else total / weight
            if self.smoothing > 0 and state.smoothed is not None:
                probs = (1 - self.smoothing) * probs + self.smoothing * state.smoothed
            state.smoothed = probs
            if info.primary:
                order = np.argsort(-probs, kind="stable")[: self.top_k]
                best = int(published_labels(probs, self.min_score))
                self._labels.append(FrameLabel(
                    track_id=track_id, frame=info.frame, stamp_ns=info.stamp_ns, label=self.labels[best],
                    score=float(probs[best]), top_k=[(self.labels[int(i)], float(probs[i])) for i in order],
                    latency_ns=now - info.stamp_ns, truth=info.truth, sample_ns=info.completed_ns,
                ))  # fmt: skip
            for event in state.runs.update(info.index, info, probs):
                self._emit(track_id, event.kind, event.at, event.score, event.action)
            if state.points is not None:
                self._emit_gestures(track_id, state.points.update(info.index, probs, info))
        state.next_final = max(state.next_final, upto + 1)

    def _emit_gestures(self, track_id: int, points: list[PointEvent]) -> None:
        for point in points:
            self._emit(track_id, "gesture", point.at, point.score, point.label,
                       delay_ms=point.evidence_frames / self.fps * 1000.0)  # fmt: skip

    def _emit(self, track_id: int, kind: str, info: SampleInfo, score: float, action: int,
              delay_ms: float | None = None) -> None:  # fmt: skip
        self._events.append(ActionEvent(track_id=track_id, kind=kind, label=self.labels[action], frame=info.frame,
                                        stamp_ns=info.stamp_ns, score=score, delay_ms=delay_ms))  # fmt: skip
