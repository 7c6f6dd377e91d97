"""Online decoding: per-window scores → one final label per sample, and start/end events (DESIGN §4).

`OnlineDecoder.add` folds in the (T, K + 1) scores of one track's window; a
sample's probabilities are the mean softmax of every window that covered it
within the lookahead, exactly as the offline `models.inference.FrameFusion`
computes them. `pop_final` returns each sample's `FrameLabel` once, when it is
final; `pop_events` the `ActionEvent` starts and ends::

    decoder = OnlineDecoder.from_checkpoint(config, stride=8, lookahead=0)
    decoder.add(ref.track_id, ref.end, logits, ref.samples)   # for each window of a batch
    labels, events = decoder.pop_final(), decoder.pop_events()
    decoder.flush(track_id)                                    # a track ended: publish its pending samples
    decoder.flush_all()                                        # end of stream

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

The fused probabilities equal FrameFusion's (same lookahead) for every sample
of a stream whose last sample is a window end. `flush` publishes a track's
remaining samples with the windows seen so far (after the batcher's final,
partial window); offline, that last window also counts for samples already
final online — the one place the two can differ.

**Smoothing.** ``smoothing = a`` > 0 applies an exponential moving average to
final samples only, in order (``p̃_t = (1 - a)·p_t + a·p̃_{t-1}``): it never
delays a label nor changes a published one. Labels, top-k and events use p̃.

**Events.** Per (track, action) with hysteresis, on final samples in order,
with ``p`` the action's (smoothed) probability:

- a *run* opens at a sample with ``p >= enter_threshold`` and stays open while
  ``p >= exit_threshold``; it closes after ``exit_frames`` consecutive samples
  below ``exit_threshold``;
- once a run spans ``min_duration_frames`` samples (first sample to the latest
  at or above exit), a ``start`` event is emitted, dated at the run's first
  sample, scored with the run's mean ``p`` so far;
- when that run closes (or its track is flushed), an ``end`` event is emitted,
  dated at its last sample at or above exit, scored with the run's mean ``p``.

A run that closes shorter than the minimum emits nothing; a probability
hovering around ``enter_threshold`` cannot restart a run that is still open, so
it gives one start and one end. Actions are independent: with thresholds above
0.5 at most one action of a track can be open at a time. The start event lags
the action's first frame by ``min_duration_frames`` samples plus the finality
delay — that is the price of not reacting to flicker.

Only *primary* samples (`stream.windowing.SampleInfo`) give a `FrameLabel`, so a
source frame covered by several model samples (a slow source) is labelled once;
every sample counts for events. Without sample infos (``samples=None``), sample
``t`` is labelled as frame ``t`` with stamp 0.

**Failed windows.** `add_failed` takes a window whose model call failed: its
samples are announced as `add` would, with no scores. A sample fuses the
windows that did get scores; one that becomes final with none at all is still
labelled, once, as `FAILED_LABEL` (score 0, empty top-k), so no frame goes
unlabelled and none is mislabelled as background. Such a sample is no evidence
either way: it neither extends nor closes an event run, nor enters smoothing.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from stream.types import ActionEvent, FrameLabel
from stream.windowing import SampleInfo

if TYPE_CHECKING:
    from models.checkpoint import CheckpointConfig

INPUTS = ("logits", "probs")
FAILED_LABEL = "failed"
"""The label of a frame no model output covered (its model calls failed); never a checkpoint's class name."""


@dataclass
class _Run:
    start: SampleInfo
    last: SampleInfo  # latest sample at or above the exit threshold
    total: float
    count: int
    below: int = 0
    active: bool = False

    def score(self) -> float:
        return self.total / self.count


@dataclass
class _Track:
    next_final: int = 0
    last_end: int = -1
    sums: dict[int, np.ndarray] = field(default_factory=dict)
    counts: dict[int, int] = field(default_factory=dict)
    infos: dict[int, SampleInfo] = field(default_factory=dict)
    smoothed: np.ndarray | None = None
    runs: dict[int, _Run] = field(default_factory=dict)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


class OnlineDecoder:
    """Per-window scores of many tracks → final per-sample labels and start/end events.

    Args:
        labels: class names, ``labels[0]`` the background.
        window: the model's window length T.
        stride: samples between a track's windows (1 <= stride <= window).
        lookahead: extra samples a label may wait for (>= 0), None for every covering window.
        inputs: "logits" (softmax applied) or "probs" (used as given).
        top_k: (label, probability) pairs published with each label.
        smoothing: EMA memory ``a`` in [0, 1) over final samples; 0 disables.
        enter_threshold, exit_threshold: hysteresis thresholds, 0 < exit <= enter <= 1.
        min_duration_frames: samples a run must span before it starts an event.
        exit_frames: consecutive samples below exit that close a run.
    """

    def __init__(
        self,
        labels: list[str],
        window: int,
        stride: int,
        lookahead: int | None = 0,
        *,
        inputs: str = "logits",
        top_k: int = 3,
        smoothing: float = 0.0,
        enter_threshold: float = 0.6,
        exit_threshold: float = 0.4,
        min_duration_frames: int = 8,
        exit_frames: int = 1,
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
        self.stride = integer("stride", stride, 1)
        if self.stride > self.window:
            raise ValueError(f"OnlineDecoder stride {stride} exceeds the window length {window}")
        self.lookahead = None if lookahead is None else integer("lookahead", lookahead, 0)
        if inputs not in INPUTS:
            raise ValueError(f"OnlineDecoder inputs must be one of {INPUTS}, got {inputs!r}")
        self.inputs = inputs
        self.top_k = integer("top_k", top_k, 1)
        if not (isinstance(smoothing, (int, float)) and 0.0 <= smoothing < 1.0):
            raise ValueError(f"OnlineDecoder smoothing must be in [0, 1), got {smoothing!r}")
        self.smoothing = float(smoothing)
        for name, value in (("enter_threshold", enter_threshold), ("exit_threshold", exit_threshold)):
            if not (isinstance(value, (int, float)) and math.isfinite(value) and 0.0 < value <= 1.0):
                raise ValueError(f"OnlineDecoder {name} must be in (0, 1], got {value!r}")
        if exit_threshold > enter_threshold:
            raise ValueError(f"OnlineDecoder exit_threshold {exit_threshold} exceeds enter_threshold "
                             f"{enter_threshold}: hysteresis needs exit <= enter")  # fmt: skip
        self.enter_threshold = float(enter_threshold)
        self.exit_threshold = float(exit_threshold)
        self.min_duration_frames = integer("min_duration_frames", min_duration_frames, 1)
        self.exit_frames = integer("exit_frames", exit_frames, 1)
        reach = self.window - 1 if self.lookahead is None else max(self.lookahead, self.stride - 1)
        self.reach = min(reach, self.window - 1)
        self._tracks: dict[int, _Track] = {}
        self._labels: list[FrameLabel] = []
        self._events: list[ActionEvent] = []

    @classmethod
    def from_checkpoint(cls, config: CheckpointConfig, stride: int = 8, lookahead: int | None = 0,
                        **options: object) -> OnlineDecoder:  # fmt: skip
        """A decoder for the model of ``config`` (labels, T); ``options`` as in the constructor."""
        return cls(config.labels, config.num_frames, stride, lookahead, **options)  # type: ignore[arg-type]

    # -- public API --------------------------------------------------------------------------
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
        state = self._tracks.setdefault(track_id, _Track())
        end = int(end)
        if end <= state.last_end:
            raise ValueError(f"track {track_id}: window ending at {end} after one ending at {state.last_end}; "
                             f"windows must come in increasing order")  # fmt: skip
        first = max(0, end - self.reach, state.next_final)
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
            if t in state.sums:
                state.sums[t] += row
                state.counts[t] += 1
            else:
                state.sums[t] = row.copy()
                state.counts[t] = 1
        state.last_end = end
        self._finalize(track_id, state, end + self.stride - 1 - self.reach)

    def flush(self, track_id: int) -> None:
        """Publish every pending sample of the track with the windows seen so far, end its open events, forget it."""
        state = self._tracks.pop(track_id, None)
        if state is None:
            return
        known = [t for t in state.infos if t >= state.next_final]
        self._finalize(track_id, state, max(known, default=-1))
        for action, run in sorted(state.runs.items()):
            if run.active:
                self._emit(track_id, "end", run.last, run, action)
        state.runs.clear()

    def flush_all(self) -> None:
        """End of stream: `flush` every track, in id order."""
        for track_id in sorted(self._tracks):
            self.flush(track_id)

    def pop_final(self) -> list[FrameLabel]:
        """Labels finalised since the last call; per track in sample order, each sample once."""
        labels, self._labels = self._labels, []
        return labels

    def pop_events(self) -> list[ActionEvent]:
        """Start/end events since the last call, in the order they happened."""
        events, self._events = self._events, []
        return events

    # -- internals ----------------------------------------------------------------------------
    def _finalize(self, track_id: int, state: _Track, upto: int) -> None:
        now = time.monotonic_ns()
        for t in range(state.next_final, upto + 1):
            info = state.infos.pop(t, None)
            total = state.sums.pop(t, None)
            count = state.counts.pop(t, 0)
            if info is None:
                continue  # never announced by any window: nothing to label
            if total is None:  # every window covering it failed: labelled, but no evidence for events
                if info.primary:
                    self._labels.append(FrameLabel(
                        track_id=track_id, frame=info.frame, stamp_ns=info.stamp_ns, label=FAILED_LABEL, score=0.0,
                        top_k=[], latency_ns=now - info.stamp_ns, truth=info.truth,
                    ))  # fmt: skip
                continue
            probs = total / count
            if self.smoothing > 0 and state.smoothed is not None:
                probs = (1 - self.smoothing) * probs + self.smoothing * state.smoothed
            state.smoothed = probs
            if info.primary:
                order = np.argsort(-probs, kind="stable")[: self.top_k]
                best = int(order[0])
                self._labels.append(FrameLabel(
                    track_id=track_id, frame=info.frame, stamp_ns=info.stamp_ns, label=self.labels[best],
                    score=float(probs[best]), top_k=[(self.labels[int(i)], float(probs[i])) for i in order],
                    latency_ns=now - info.stamp_ns, truth=info.truth,
                ))  # fmt: skip
            self._update_events(track_id, state, info, probs)
        state.next_final = max(state.next_final, upto + 1)

    def _update_events(self, track_id: int, state: _Track, info: SampleInfo, probs: np.ndarray) -> None:
        entering = np.flatnonzero(probs[1:] >= self.enter_threshold) + 1
        for k in sorted(set(state.runs) | {int(k) for k in entering}):
            p = float(probs[k])
            run = state.runs.get(k)
            if run is None:
                run = state.runs[k] = _Run(start=info, last=info, total=p, count=1)
            elif p >= self.exit_threshold:
                run.last, run.below = info, 0
                run.total += p
                run.count += 1
            else:
                run.below += 1
                if run.below >= self.exit_frames:
                    if run.active:
                        self._emit(track_id, "end", run.last, run, k)
                    del state.runs[k]
                continue
            if not run.active and run.last.index - run.start.index + 1 >= self.min_duration_frames:
                run.active = True
                self._emit(track_id, "start", run.start, run, k)

    def _emit(self, track_id: int, kind: str, info: SampleInfo, run: _Run, action: int) -> None:
        self._events.append(ActionEvent(track_id=track_id, kind=kind, label=self.labels[action], frame=info.frame,
                                        stamp_ns=info.stamp_ns, score=run.score()))  # fmt: skip
