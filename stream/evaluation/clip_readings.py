"""A clip's per-frame labels (and events) → the one class the clip is predicted as, read four ways.

The streaming pipeline labels every frame of every track; a trimmed clip holds
one action of one person, so its frames' labels (or its events) are reduced to
one prediction:

- **subject**: the track with the most labelled frames (ties: the lowest id),
  the clip's actor; other tracks (a bystander at the edge of the image) are
  reported separately, never voted.
- **any action** (``any_action``): the subject's most frequent non-background
  label, or background when every labelled frame was background. This is the
  reading of a robot that reacts to any action at all: a clip of an action the
  checkpoint does not know counts as left alone only if no frame fired.
- **majority vote** (``majority``): the subject's most frequent label,
  background included.
- **start event** (``start``): the label of the subject's first ``start``
  event (`models.action_runs`: a run of frames above the enter threshold that
  lasts the minimum duration, or is confident sooner), or background when it
  got none. A robot acting
  on action events reacts to exactly this; a clip too short for the minimum
  duration gets none.
- **gesture event** (``gesture``): the label of the subject's first
  ``gesture`` event, or background when it got none — for checkpoints that
  emit gesture events (``config.json`` → ``events.points``, e.g. `gestures`).
  A robot acting on gesture events reacts to exactly this: a clip of an
  action that is none of its gestures counts as left alone only if no event
  fired.

Ties between labels of equal count go to the higher summed score, then to the
label first seen. Frames labelled ``"failed"`` (no model output covered them)
are counted but never voted. A clip in which no track was confirmed (no person
found, or seen in one frame only) has no labels and reads as background in every
reading (``tracks`` is 0 then, so it can be told apart).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from stream.stages.decoding import FAILED_LABEL
from stream.types import ActionEvent, FrameLabel


BACKGROUND = "background"
READINGS = ("any_action", "majority", "start", "gesture")
COMMON_READINGS = READINGS[:3]
"""The readings of what every checkpoint publishes: frame labels and start events."""


def readings_of(emits_gestures: bool) -> tuple[str, ...]:
    """The readings that apply to a checkpoint: the gesture-event one only when it emits gesture events."""
    return READINGS if emits_gestures else COMMON_READINGS


@dataclass(frozen=True)
class ClipReading:
    """One clip's labels, reduced.

    Attributes:
        any_action: the "any non-background label" prediction.
        majority: the majority-vote prediction.
        start: the subject's first start event's label, background without one.
        gesture: the subject's first gesture event's label, background without one.
        subject_track: the subject's track id, None when no track was confirmed.
        tracks: confirmed tracks that got labels.
        counts: the subject's labels and how many frames got each (``"failed"`` included).
        other_tracks: labels of the other tracks and their counts.
    """

    any_action: str
    majority: str
    start: str
    gesture: str
    subject_track: int | None
    tracks: int
    counts: dict[str, int] = field(default_factory=dict)
    other_tracks: dict[str, int] = field(default_factory=dict)

    def prediction(self, reading: str) -> str:
        """The prediction of ``reading`` (one of `READINGS`)."""
        if reading not in READINGS:
            raise ValueError(f"reading must be one of {READINGS}, got {reading!r}")
        return getattr(self, reading)


def _vote(labels: list[FrameLabel]) -> str | None:
    """The most frequent label (ties: higher summed score, then first seen); None without labels."""
    if not labels:
        return None
    counts: Counter[str] = Counter()
    scores: Counter[str] = Counter()
    first: dict[str, int] = {}
    for position, label in enumerate(labels):
        counts[label.label] += 1
        scores[label.label] += label.score
        first.setdefault(label.label, position)
    return min(counts, key=lambda name: (-counts[name], -scores[name], first[name]))


def read_clip(labels: list[FrameLabel], background: str = BACKGROUND,
              events: list[ActionEvent] | tuple[ActionEvent, ...] = ()) -> ClipReading:  # fmt: skip
    """Reduce one clip's published labels and events (every track) to its `ClipReading` (module docstring)."""
    per_track: dict[int, list[FrameLabel]] = {}
    for label in labels:
        per_track.setdefault(label.track_id, []).append(label)
    if not per_track:
        return ClipReading(any_action=background, majority=background, start=background, gesture=background,
                           subject_track=None, tracks=0)  # fmt: skip
    subject = min(per_track, key=lambda track: (-len(per_track[track]), track))
    own = per_track[subject]
    voted = [label for label in own if label.label != FAILED_LABEL]
    actions = [label for label in voted if label.label != background]
    others = Counter(label.label for track, found in per_track.items() if track != subject for label in found)
    first = {kind: sorted((e.frame, e.label) for e in events if e.kind == kind and e.track_id == subject)
             for kind in ("start", "gesture")}  # fmt: skip
    return ClipReading(
        any_action=_vote(actions) or background,
        majority=_vote(voted) or background,
        start=first["start"][0][1] if first["start"] else background,
        gesture=first["gesture"][0][1] if first["gesture"] else background,
        subject_track=subject,
        tracks=len(per_track),
        counts=dict(Counter(label.label for label in own)),
        other_tracks=dict(others),
    )
