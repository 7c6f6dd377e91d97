"""Start and end events from per-frame action probabilities: hysteresis and a minimum duration (DESIGN §4).

One rule set for the stream (`stream.stages.decoding.OnlineDecoder`, per track) and for
offline evaluation (`models.evaluation.runner`, per sequence). Per action, on
frames in order, with ``p`` the action's probability:

- a *run* opens at a frame with ``p >= enter_threshold`` and stays open while
  ``p >= exit_threshold``; it closes after ``exit_frames`` consecutive frames
  below ``exit_threshold``;
- once a run spans ``min_duration_frames`` frames (first frame to the latest at
  or above exit), a ``start`` event is emitted, dated at the run's first frame,
  scored with the run's mean ``p`` so far;
- a *confident* run starts sooner: with ``confident_frames`` > 0, a run whose
  latest ``confident_frames`` frames all have ``p >= confident_threshold``
  emits its ``start`` then, even if it is shorter than the minimum duration
  (a surer action needs less time to be trusted; 0: off);
- when that run closes (or `ActionRuns.close` is called: the track ended), an
  ``end`` event is emitted, dated at its last frame at or above exit, scored
  with the run's mean ``p``.

A run that closes shorter than the minimum emits nothing; a probability
hovering around ``enter_threshold`` cannot restart a run that is still open, so
it gives one start and one end. Actions are independent: with thresholds above
0.5 at most one action can be open at a time. A start lags the action's first
frame by ``min_duration_frames`` frames (``confident_frames`` when the model is
sure): the price of not reacting to flicker.

The rules are checkpoint metadata (``config.json`` → ``events.runs``, chosen
on people its recipe's runs never saw); a checkpoint without them gets
`EventRules`' defaults.

Frames are identified by the caller: `ActionRuns.update` takes the frame's
index (for durations) and any marker object (the stream passes its
`SampleInfo`), which comes back in the events as ``at``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from foundation.plain_fields import PlainFields


@dataclass(frozen=True)
class EventRules(PlainFields):
    """Thresholds of the hysteresis (0 < exit <= enter <= confident <= 1) and the run lengths, in frames (>= 1;
    ``confident_frames`` >= 0, 0: no confident start)."""

    enter_threshold: float = 0.6
    exit_threshold: float = 0.4
    min_duration_frames: int = 8
    exit_frames: int = 1
    confident_threshold: float = 1.0
    confident_frames: int = 0

    def __post_init__(self) -> None:
        for name in ("enter_threshold", "exit_threshold"):
            value = getattr(self, name)
            if isinstance(value, bool) or not (isinstance(value, (int, float)) and math.isfinite(value)
                                               and 0.0 < value <= 1.0):  # fmt: skip
                raise ValueError(f"{name} must be in (0, 1], got {value!r}")
        if self.exit_threshold > self.enter_threshold:
            raise ValueError(f"exit_threshold {self.exit_threshold} exceeds enter_threshold {self.enter_threshold}: "
                             "hysteresis needs exit <= enter")  # fmt: skip
        confident = self.confident_threshold
        if isinstance(confident, bool) or not (isinstance(confident, (int, float)) and math.isfinite(confident)
                                               and self.enter_threshold <= confident <= 1.0):  # fmt: skip
            raise ValueError(f"confident_threshold must be in [enter_threshold, 1], got {confident!r}")
        for name, low in (("min_duration_frames", 1), ("exit_frames", 1), ("confident_frames", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")


@dataclass(frozen=True)
class RunEvent:
    """A ``start`` or ``end`` of action index ``action``, dated at the frame whose marker is ``at``."""

    kind: str
    action: int
    at: Any
    score: float


@dataclass
class _Run:
    start: Any
    start_index: int
    last: Any  # the latest frame at or above the exit threshold
    last_index: int
    total: float
    count: int
    below: int = 0
    active: bool = False
    confident: int = 0  # consecutive latest frames at or above the confident threshold

    def score(self) -> float:
        return self.total / self.count


@dataclass
class ActionRuns:
    """The runs of one subject (a track, a sequence); feed its frames in order. Index 0 is the background."""

    rules: EventRules = field(default_factory=EventRules)
    _runs: dict[int, _Run] = field(default_factory=dict)

    def update(self, index: int, at: Any, probs: np.ndarray) -> list[RunEvent]:
        """Fold in frame ``index`` (marker ``at``) with its (K + 1,) probabilities; the events it causes."""
        rules, events = self.rules, []
        entering = np.flatnonzero(probs[1:] >= rules.enter_threshold) + 1
        for k in sorted(set(self._runs) | {int(k) for k in entering}):
            p = float(probs[k])
            run = self._runs.get(k)
            if run is None:
                run = self._runs[k] = _Run(start=at, start_index=index, last=at, last_index=index, total=p, count=1)
                run.confident = int(p >= rules.confident_threshold)
            elif p >= rules.exit_threshold:
                run.last, run.last_index, run.below = at, index, 0
                run.total += p
                run.count += 1
                run.confident = run.confident + 1 if p >= rules.confident_threshold else 0
            else:
                run.below, run.confident = run.below + 1, 0
                if run.below >= rules.exit_frames:
                    if run.active:
                        events.append(RunEvent("end", k, run.last, run.score()))
                    del self._runs[k]
                continue
            long_enough = run.last_index - run.start_index + 1 >= rules.min_duration_frames
            sure_enough = 0 < rules.confident_frames <= run.confident
            if not run.active and (long_enough or sure_enough):
                run.active = True
                events.append(RunEvent("start", k, run.start, run.score()))
        return events

    def close(self) -> list[RunEvent]:
        """The subject ended: an ``end`` for every started run, in action order; forget the runs."""
        events = [RunEvent("end", k, run.last, run.score()) for k, run in sorted(self._runs.items()) if run.active]
        self._runs.clear()
        return events
