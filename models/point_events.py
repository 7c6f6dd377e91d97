"""Gesture events at the moment of recognition: one event per instance, from per-frame probabilities.

A robot reacting to "stop" or "come here" needs the instant a gesture is
recognised, once. MSRC-12 calls that instant the *action point*. One rule set
serves the stream (`stream.stages.decoding`, per track) and the offline evaluation
(`stream-eval --dataset msrc12`), so both count the same events. Per gesture,
on frames in order, with ``p`` the gesture's probability:

- *evidence* begins at the first frame of a run of frames with ``p >= release``;
- the gesture is *recognised* at the ``confirm_frames``-th consecutive frame with
  ``p >= threshold``: one event, scored with ``p`` there, carrying the frames
  since the evidence began;
- with ``peak_frames`` > 0 the confirmed gesture waits for its *peak*: it is
  recognised at the first later frame whose ``p`` falls more than ``peak_drop``
  below the highest ``p`` since confirmation (the peak, seen one frame after
  it), at the latest ``peak_frames`` frames after confirmation, and scored
  with that highest ``p``. Checkpoints whose dense targets centre on the
  action point peak on it, so this is causal peak picking: a little waiting
  that moves the event from the rising edge onto the point;
- it can be recognised again only after ``p`` fell below ``release`` and at
  least ``refractory_s`` after its previous event (a gesture held or repeated
  within the refractory period is one instance).

A gesture still waiting for its peak when the person's frames end is
recognised at the last frame (`PointDetector.close`).

Gestures are independent of each other. Thresholds and the refractory period
are checkpoint metadata (``config.json`` → ``events``), chosen on validation
people, never hard-coded in the stream.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from foundation.plain_fields import PlainFields


@dataclass(frozen=True)
class PointRules(PlainFields):
    """When a gesture counts as recognised (see the module docstring)."""

    threshold: float = 0.5
    release: float = 0.3
    refractory_s: float = 0.5
    confirm_frames: int = 1
    peak_frames: int = 0
    peak_drop: float = 0.05

    def __post_init__(self) -> None:
        for name in ("threshold", "release"):
            value = getattr(self, name)
            if isinstance(value, bool) or not (isinstance(value, (int, float)) and 0.0 < value <= 1.0):
                raise ValueError(f"point rules: {name} must be in (0, 1], got {value!r}")
        if self.release > self.threshold:
            raise ValueError(f"point rules: release {self.release} exceeds threshold {self.threshold}")
        if not (isinstance(self.refractory_s, (int, float)) and math.isfinite(self.refractory_s)
                and self.refractory_s >= 0):  # fmt: skip
            raise ValueError(f"point rules: refractory_s must be a finite number >= 0, got {self.refractory_s!r}")
        if isinstance(self.confirm_frames, bool) or not isinstance(self.confirm_frames, int) or self.confirm_frames < 1:
            raise ValueError(f"point rules: confirm_frames must be an integer >= 1, got {self.confirm_frames!r}")
        if isinstance(self.peak_frames, bool) or not isinstance(self.peak_frames, int) or self.peak_frames < 0:
            raise ValueError(f"point rules: peak_frames must be an integer >= 0, got {self.peak_frames!r}")
        drop = self.peak_drop
        if isinstance(drop, bool) or not (isinstance(drop, (int, float)) and 0.0 <= drop < 1.0):
            raise ValueError(f"point rules: peak_drop must be in [0, 1), got {self.peak_drop!r}")


@dataclass(frozen=True)
class PointEvent:
    """A recognised gesture instance: class index, frame of recognition, score, frames since its evidence began."""

    label: int
    frame: int
    score: float
    evidence_frames: int
    at: Any = None


class PointDetector:
    """The rules applied online, frame by frame, for one person (one track)."""

    def __init__(self, num_classes: int, rules: PointRules, fps: float, background: int = 0) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.rules = rules
        self.classes = [k for k in range(num_classes) if k != background]
        self.refractory_frames = int(math.ceil(rules.refractory_s * fps - 1e-9))
        self._evidence: dict[int, int | None] = {k: None for k in self.classes}  # first frame of the run
        self._above: dict[int, int] = dict.fromkeys(self.classes, 0)  # consecutive frames >= threshold
        self._armed: dict[int, bool] = dict.fromkeys(self.classes, True)  # fell below release since last event
        self._last: dict[int, int | None] = {k: None for k in self.classes}  # frame of the last event
        self._waiting: dict[int, tuple[int, float]] = {}  # confirmed, waiting for the peak: (frame, highest p)
        self._latest: tuple[int, Any] | None = None  # the last frame seen, and its ``at``

    def update(self, frame: int, probabilities: np.ndarray, at: Any = None) -> list[PointEvent]:
        """Fold in frame ``frame``'s (K + 1,) probabilities; returns the gestures recognised at it."""
        self._latest = (frame, at)
        events = []
        for k in self.classes:
            p = float(probabilities[k])
            if k in self._waiting:
                confirmed, highest = self._waiting[k]
                highest = max(highest, p)
                past_peak = p < highest - self.rules.peak_drop or p < self.rules.release
                if past_peak or frame - confirmed >= self.rules.peak_frames:
                    events.append(self._recognise(k, frame, highest, at))
                else:
                    self._waiting[k] = (confirmed, highest)
            if p < self.rules.release:
                self._evidence[k], self._above[k], self._armed[k] = None, 0, True
                continue
            if self._evidence[k] is None:
                self._evidence[k] = frame
            self._above[k] = self._above[k] + 1 if p >= self.rules.threshold else 0
            last = self._last[k]
            rested = last is None or frame - last >= self.refractory_frames
            if self._armed[k] and rested and self._above[k] >= self.rules.confirm_frames:
                self._armed[k] = False
                if self.rules.peak_frames > 0:
                    self._waiting[k] = (frame, p)
                else:
                    events.append(self._recognise(k, frame, p, at))
        return events

    def close(self) -> list[PointEvent]:
        """The person's frames ended: gestures still waiting for their peak are recognised at the last frame."""
        if self._latest is None:
            return []
        frame, at = self._latest
        return [self._recognise(k, frame, highest, at) for k, (_, highest) in sorted(self._waiting.items())]

    def _recognise(self, k: int, frame: int, score: float, at: Any) -> PointEvent:
        self._waiting.pop(k, None)
        evidence = self._evidence[k]
        assert evidence is not None, "a confirmed gesture has evidence until it is recognised"
        self._last[k] = frame
        return PointEvent(k, frame, score, frame - evidence, at)


def detect_points(probabilities: np.ndarray, rules: PointRules, fps: float, background: int = 0) -> list[PointEvent]:
    """The events of a whole sequence's (T, K + 1) probabilities, exactly as the stream would emit them."""
    detector = PointDetector(probabilities.shape[1], rules, fps, background)
    events = [event for frame, row in enumerate(probabilities) for event in detector.update(frame, row)]
    return events + detector.close()
