"""The values that flow between the streaming stages (DESIGN §1).

Source → `Frame` (an image, or skeletons for sources that skip pose) →
PoseEstimator → `Person` observations → Tracker → `TrackedPerson` →
windows → model → Decoder → `FrameLabel` and `ActionEvent` → publishers.

Coordinates: 3D joints are metres in the camera frame with y up (Kinect
convention: x to the camera's left, z away from it); image points are pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Person:
    """One person's skeleton in one frame, before tracking.

    Attributes:
        joints: (V, 3) positions in ``layout``.
        confidence: (V,) in [0, 1]; 0 marks a missing joint.
        layout: a layout name of `models.skeleton.layouts`.
        image_points: (V, 2) pixel coordinates when the skeleton came from an image.
        source_id: an identity the source itself gives (Kinect body id, synthetic
            person index), a hint the tracker may use; None when unknown.
        truth: the ground-truth action label where the source knows it
            (synthetic scenes, labelled recordings); None for background or unknown.
        action_point: the action whose action point this frame is (MSRC-12: the
            instant a system should recognise the gesture), else None.
    """

    joints: np.ndarray
    confidence: np.ndarray
    layout: str
    image_points: np.ndarray | None = None
    source_id: int | None = None
    truth: str | None = None
    action_point: str | None = None


@dataclass
class Frame:
    """What a source delivers: a capture time, an index, and an image or skeletons.

    Attributes:
        index: the source's frame index (counts every captured frame, so dropped
            frames leave gaps).
        stamp_ns: capture time, `time.monotonic_ns()` when captured (replayed
            files: when the frame was released by the pacing clock).
        image: BGR uint8 (H, W, 3) for camera and video sources, else None.
        people: skeletons for sources that skip the pose step, else None.
        media_ns: the frame's time on the source's own clock since its first
            frame (files: from their frame rate or frame ids; None for cameras).
            Resampling uses it when present, so a ``--fast`` replay keeps the
            recording's timing.
    """

    index: int
    stamp_ns: int
    image: np.ndarray | None = None
    people: list[Person] | None = None
    media_ns: int | None = None


@dataclass
class TrackedPerson:
    """A person observation with the tracker's stable id."""

    track_id: int
    person: Person


@dataclass
class FrameLabel:
    """The final label of one frame of one track (published once).

    Attributes:
        track_id: the tracker's id of the person.
        frame: the source frame index this label belongs to.
        stamp_ns: that frame's capture time.
        label: the predicted class name ("background" when no action).
        score: its fused probability.
        top_k: (label, probability) pairs, best first.
        latency_ns: capture → label ready.
        truth: the ground-truth label where the source knows it.
        sample_ns: capture time of the frame that completed the label's model-rate sample (``stamp_ns``, or
            the next frame's when the model tick fell between two frames; 0 when unknown).
    """

    track_id: int
    frame: int
    stamp_ns: int
    label: str
    score: float
    top_k: list[tuple[str, float]] = field(default_factory=list)
    latency_ns: int = 0
    truth: str | None = None
    sample_ns: int = 0


EVENT_KINDS = ("start", "end", "gesture")
"""What an `ActionEvent` says: an action started or ended, or a gesture instance was recognised."""


@dataclass
class ActionEvent:
    """An action of one track started or ended (hysteresis, a minimum duration), or a gesture was recognised.

    ``frame``/``stamp_ns``: the action's first frame (``start``), its last frame (``end``), or the frame at which
    the gesture was recognised (``gesture``, once per instance: `models.point_events`). ``delay_ms`` (gestures
    only): stream time from the first frame of the gesture's evidence to its recognition.
    """

    track_id: int
    kind: str  # one of EVENT_KINDS
    label: str
    frame: int
    stamp_ns: int
    score: float
    delay_ms: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise ValueError(f"event kind must be one of {', '.join(map(repr, EVENT_KINDS))}, got {self.kind!r}")
        if (self.kind == "gesture") != (self.delay_ms is not None):
            raise ValueError(f"a {self.kind} event {'needs' if self.kind == 'gesture' else 'has no'} delay_ms")
