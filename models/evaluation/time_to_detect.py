"""Time to detect: how long after an action truly begins the first output names it.

Ground truth is one `TrueAction` per action instance of one subject (``key``: a
track id, a sequence name), of either kind:

- a **segment** (dense labels: UTKinect, synthetic scenes): the reference time
  is its true start; an output counts for it when it names the action and
  labels a moment inside ``[start_s, end_s)``;
- an **action point** (MSRC-12: the instant a system should recognise the
  gesture): the reference time is the point; an output counts when it names
  the action and labels a moment inside ``[point - before_s, point + after_s]``.

An output is ``(kind, key, label, frame_s, available_s)``: ``kind`` "label" (an
``actions`` message naming ``label`` for the frame at ``frame_s``) or "start"
(a ``start`` event dated at ``frame_s``); ``available_s`` is when it was
published (live) or could have been (offline: the stream time of the window
that made it final). All times are seconds on one clock.

The **time to detect** of an instance, per kind, is the earliest
``available_s`` among the outputs that count for it minus its reference time
(negative when an action point is named before the point). An instance that
no output of a kind counts for is **never detected** by that kind. The
summary gives, per kind, the instances decided, how many were detected, the
fraction never detected and the p50/p95/p99 of the delays in milliseconds;
`DetectionDelays.by_action` gives the same per action (which actions are slow
to name: a raised hand, or a push that begins like a clap).

`DetectionDelays` takes truths and outputs as they happen (a live stream: a
truth before the outputs that could name it, outputs of one key in the order
they were published) with bounded memory; `time_to_detect` takes whole lists
(offline evaluation)::

    delays = DetectionDelays()
    delays.begin(track, "wave", start_s)             # the truth turned to "wave" at start_s
    delays.output("label", track, "wave", frame_s, published_s)
    delays.end(track, end_s)                         # the truth left "wave"
    delays.close(track)                              # the track ended: decide what is left
    delays.summary()   # {"label": {"instances": 1, "detected": 1, "never_detected": 0.0, "p50": ..., ...}, ...}
    delays.by_action() # {"label": {"wave": {"instances": 1, ...}}, "start": {"wave": {...}}}

Deciding live: an instance is decided for a kind as soon as it is detected;
otherwise once the key's outputs have moved ``grace_s`` past its span (a
``start`` event is dated at its run's first frame, published up to the
decoder's minimum duration later, so it can name a moment the labels have long
passed), or when its key is closed.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

import numpy as np

KINDS = ("label", "start")
DEFAULT_KEEP = 20_000  # delays kept per kind for the percentiles (the most recent ones)


@dataclass(frozen=True)
class TrueAction:
    """One true action instance of one subject.

    Attributes:
        key: the subject (a track id, a sequence name).
        label: the action.
        start_s: the reference time: the true start of a segment, or the action point.
        end_s: a segment's end (exclusive); None while it is still going (live) or for a point.
        point: an action point (the span is ``[start_s - before_s, start_s + after_s]``) instead of a segment.
    """

    key: Hashable
    label: str
    start_s: float
    end_s: float | None = None
    point: bool = False


@dataclass(frozen=True)
class Output:
    """An output naming an action: kind "label" or "start" (see the module docstring)."""

    kind: str
    key: Hashable
    label: str
    frame_s: float
    available_s: float


@dataclass
class _Instance:
    truth: TrueAction
    span_start: float
    span_end: float  # inf while open
    detected: dict[str, float] = field(default_factory=dict)  # kind -> delay (s)


class DetectionDelays:
    """Time to detect of live or recorded action instances (module docstring).

    Args:
        before_s, after_s: an action point's span around the point.
        grace_s: how far a key's outputs must move past an instance's span before it is decided as missed
            (``math.inf``: only at `close`).
        keep: delays kept per kind for the percentiles.
    """

    def __init__(self, before_s: float = 1.0, after_s: float = 1.0, grace_s: float = 5.0,
                 keep: int = DEFAULT_KEEP) -> None:  # fmt: skip
        for name, value in (("before_s", before_s), ("after_s", after_s), ("grace_s", grace_s)):
            if not (isinstance(value, (int, float)) and value >= 0 and (math.isfinite(value) or name == "grace_s")):
                raise ValueError(f"DetectionDelays {name} must be a number >= 0 (finite but grace_s), got {value!r}")
        if not isinstance(keep, int) or keep < 1:
            raise ValueError(f"DetectionDelays keep must be an integer >= 1, got {keep!r}")
        self.before_s, self.after_s, self.grace_s = float(before_s), float(after_s), float(grace_s)
        self._open: dict[Hashable, list[_Instance]] = {}
        self._recent: dict[Hashable, deque[Output]] = {}  # outputs of the last before_s, for action points
        self._latest: dict[Hashable, float] = {}  # the latest frame_s an output of the key named
        self._delays = {kind: deque(maxlen=keep) for kind in KINDS}
        self._detected = dict.fromkeys(KINDS, 0)
        self._missed = dict.fromkeys(KINDS, 0)
        self._action_delays = {kind: defaultdict(lambda: deque(maxlen=keep)) for kind in KINDS}
        self._action_detected = {kind: defaultdict(int) for kind in KINDS}
        self._action_missed = {kind: defaultdict(int) for kind in KINDS}

    # -- truths -------------------------------------------------------------------------------
    def begin(self, key: Hashable, label: str, start_s: float, point: bool = False) -> None:
        """A true instance of ``label`` starts (a segment, open until `end`) or happens (an action point)."""
        self.add(TrueAction(key, label, start_s, None, point))

    def end(self, key: Hashable, end_s: float) -> None:
        """The key's open segment (if any) ends at ``end_s``."""
        for instance in self._open.get(key, []):
            if not instance.truth.point and math.isinf(instance.span_end):
                instance.span_end = max(float(end_s), instance.span_start)

    def add(self, truth: TrueAction) -> None:
        """A true instance, open (segment without ``end_s``) or complete."""
        if not math.isfinite(truth.start_s) or (truth.end_s is not None and not truth.end_s >= truth.start_s):
            raise ValueError(f"a true action needs a finite start and an end at or after it: {truth}")
        if truth.point:
            instance = _Instance(truth, truth.start_s - self.before_s, truth.start_s + self.after_s)
        else:
            instance = _Instance(truth, truth.start_s, math.inf if truth.end_s is None else truth.end_s)
        self._open.setdefault(truth.key, []).append(instance)
        for output in self._recent.get(truth.key, ()):  # outputs that came before an action point was known
            self._match(instance, output)
        self._decide_if_done(truth.key)

    # -- outputs ------------------------------------------------------------------------------
    def output(self, kind: str, key: Hashable, label: str, frame_s: float, available_s: float) -> None:
        """An output of ``kind`` naming ``label`` for the moment ``frame_s``, published at ``available_s``."""
        if kind not in KINDS:
            raise ValueError(f"output kind must be one of {KINDS}, got {kind!r}")
        output = Output(kind, key, label, float(frame_s), float(available_s))
        for instance in self._open.get(key, []):
            self._match(instance, output)
        if self.before_s > 0:
            recent = self._recent.setdefault(key, deque())
            recent.append(output)
            while recent and recent[0].frame_s < output.frame_s - self.before_s - self.after_s:
                recent.popleft()
        self._latest[key] = max(self._latest.get(key, -math.inf), output.frame_s)
        self._decide_if_done(key)

    def close(self, key: Hashable) -> None:
        """No more truths or outputs for ``key`` (a track ended): every instance of it is decided."""
        for instance in self._open.pop(key, []):
            self._decide(instance)
        self._recent.pop(key, None)
        self._latest.pop(key, None)

    def close_all(self) -> None:
        for key in list(self._open):
            self.close(key)

    # -- results ------------------------------------------------------------------------------
    def summary(self) -> dict[str, dict[str, float]]:
        """Per kind: ``instances`` decided, ``detected``, ``never_detected`` (fraction, 0 when none decided) and,
        once something was detected, ``p50``/``p95``/``p99`` delays in ms."""
        return {kind: _entry(self._detected[kind], self._missed[kind], self._delays[kind]) for kind in KINDS}

    def by_action(self) -> dict[str, dict[str, dict[str, float]]]:
        """`summary`'s figures per kind and action (actions in name order; an action appears once one of its
        instances is decided). Detected counts are exact; percentiles use the most recent ``keep`` delays."""
        out = {}
        for kind in KINDS:
            delays, detected, missed = self._action_delays[kind], self._action_detected[kind], self._action_missed[kind]
            out[kind] = {action: _entry(detected.get(action, 0), missed.get(action, 0), delays.get(action, ()))
                         for action in sorted(set(detected) | set(missed))}  # fmt: skip
        return out

    def delays(self, kind: str) -> np.ndarray:
        """The kept delays of ``kind`` in seconds, in the order the instances were detected."""
        return np.fromiter(self._delays[kind], float)

    # -- internals ----------------------------------------------------------------------------
    def _match(self, instance: _Instance, output: Output) -> None:
        if (output.label == instance.truth.label and output.kind not in instance.detected
                and instance.span_start <= output.frame_s
                and (output.frame_s <= instance.span_end if instance.truth.point
                     else output.frame_s < instance.span_end)):  # fmt: skip
            delay = output.available_s - instance.truth.start_s
            instance.detected[output.kind] = delay
            self._delays[output.kind].append(delay)
            self._detected[output.kind] += 1
            self._action_delays[output.kind][output.label].append(delay)
            self._action_detected[output.kind][output.label] += 1

    def _decide_if_done(self, key: Hashable) -> None:
        latest = self._latest.get(key, -math.inf)
        kept = []
        for instance in self._open.get(key, []):
            if len(instance.detected) == len(KINDS) or latest > instance.span_end + self.grace_s:
                self._decide(instance)
            else:
                kept.append(instance)
        if key in self._open:
            self._open[key] = kept

    def _decide(self, instance: _Instance) -> None:
        for kind in KINDS:
            if kind not in instance.detected:
                self._missed[kind] += 1
                self._action_missed[kind][instance.truth.label] += 1


def detection_delays(truths: Iterable[TrueAction], outputs: Iterable[Output], before_s: float = 1.0,
                     after_s: float = 1.0) -> DetectionDelays:  # fmt: skip
    """The delays of whole lists, every instance decided: every truth is known before any output, outputs count
    in the order they became available."""
    delays = DetectionDelays(before_s=before_s, after_s=after_s, grace_s=math.inf)
    for truth in truths:
        delays.add(truth)
    for output in sorted(outputs, key=lambda o: o.available_s):
        delays.output(output.kind, output.key, output.label, output.frame_s, output.available_s)
    delays.close_all()
    return delays


def time_to_detect(truths: Iterable[TrueAction], outputs: Iterable[Output], before_s: float = 1.0,
                   after_s: float = 1.0) -> dict[str, dict[str, float]]:  # fmt: skip
    """`DetectionDelays.summary` of whole lists (`detection_delays`)."""
    return detection_delays(truths, outputs, before_s, after_s).summary()


def _entry(detected: int, missed: int, delays: Iterable[float]) -> dict[str, float]:
    """A summary entry: instances, detected, the fraction never detected and, if any, p50/p95/p99 in ms."""
    entry: dict[str, float] = {"instances": detected + missed, "detected": detected,
                               "never_detected": missed / (detected + missed) if detected + missed else 0.0}
    values = np.fromiter(delays, float)
    if values.size:
        p50, p95, p99 = np.percentile(values, [50, 95, 99]) * 1e3
        entry.update(p50=float(p50), p95=float(p95), p99=float(p99))
    return entry


def truths_from_frame_labels(key: Hashable, labels: Iterable[str | None], times_s: Iterable[float],
                             end_s: float | None = None, background: str | None = None) -> list[TrueAction]:  # fmt: skip
    """Segments from per-frame true labels (None or ``background``: no action) at the frames' times: each
    maximal run of one action, from its first frame's time to the next frame's time; the last run ends at
    ``end_s`` (default: one frame step after the last frame)."""
    labels, times = list(labels), [float(t) for t in times_s]
    if len(labels) != len(times):
        raise ValueError(f"{len(labels)} labels for {len(times)} frame times")
    if end_s is None and times:
        end_s = times[-1] + (times[-1] - times[-2] if len(times) > 1 else 0.0)
    truths, current, start = [], None, 0.0
    for label, time_s in zip([*labels, None], [*times, end_s]):
        label = None if label == background else label
        if label != current:
            if current is not None:
                truths.append(TrueAction(key, current, start, max(float(time_s), start)))
            current, start = label, time_s
    return truths
