"""A clip's per-frame labels → the one class the clip is predicted as, read two ways.

The streaming pipeline labels every frame of every track; a trimmed clip holds
one action of one person, so its frames' labels are reduced to one prediction:

- **subject**: the track with the most labelled frames (ties: the lowest id),
  the clip's actor; other tracks (a bystander at the edge of the image) are
  reported separately, never voted.
- **any action** (``any_action``): the subject's most frequent non-background
  label, or background when every labelled frame was background. This is the
  reading of a robot that reacts to any action at all: a clip of an action the
  checkpoint does not know counts as left alone only if no frame fired.
- **majority vote** (``majority``): the subject's most frequent label,
  background included.

Ties between labels of equal count go to the higher summed score, then to the
label first seen. Frames labelled ``"failed"`` (no model output covered them)
are counted but never voted. A clip in which no track was confirmed (no person
found, or seen in one frame only) has no labels and reads as background in both
readings (``tracks`` is 0 then, so it can be told apart).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from stream.stages.decoding import FAILED_LABEL
from stream.types import FrameLabel


BACKGROUND = "background"
READINGS = ("any_action", "majority")


@dataclass(frozen=True)
class ClipReading:
    """One clip's labels, reduced.

    Attributes:
        any_action: the "any non-background label" prediction.
        majority: the majority-vote prediction.
        subject_track: the subject's track id, None when no track was confirmed.
        tracks: confirmed tracks that got labels.
        counts: the subject's labels and how many frames got each (``"failed"`` included).
        other_tracks: labels of the other tracks and their counts.
    """

    any_action: str
    majority: str
    subject_track: int | None
    tracks: int
    counts: dict[str, int] = field(default_factory=dict)
    other_tracks: dict[str, int] = field(default_factory=dict)

    def prediction(self, reading: str) -> str:
        """The prediction of ``reading`` (one of `READINGS`)."""
        if reading not in READINGS:
            raise ValueError(f"reading must be one of {READINGS}, got {reading!r}")
        return self.any_action if reading == "any_action" else self.majority


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


def read_clip(labels: list[FrameLabel], background: str = BACKGROUND) -> ClipReading:
    """Reduce one clip's published labels (every track) to its `ClipReading` (module docstring)."""
    per_track: dict[int, list[FrameLabel]] = {}
    for label in labels:
        per_track.setdefault(label.track_id, []).append(label)
    if not per_track:
        return ClipReading(any_action=background, majority=background, subject_track=None, tracks=0)
    subject = min(per_track, key=lambda track: (-len(per_track[track]), track))
    own = per_track[subject]
    voted = [label for label in own if label.label != FAILED_LABEL]
    actions = [label for label in voted if label.label != background]
    others = Counter(label.label for track, found in per_track.items() if track != subject for label in found)
    return ClipReading(
        any_action=_vote(actions) or background,
        majority=_vote(voted) or background,
        subject_track=subject,
        tracks=len(per_track),
        counts=dict(Counter(label.label for label in own)),
        other_tracks=dict(others),
    )
