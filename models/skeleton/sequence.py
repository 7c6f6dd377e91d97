"""The one structure every reader and source returns: a skeleton sequence."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Segment:
    """A labelled span of frames, as array positions: ``start`` inclusive, ``end`` exclusive."""

    label: str
    start: int
    end: int
    confidence: float | None = None

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"segment {self.label!r} is empty or reversed: [{self.start}, {self.end})")

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class ActionPoint:
    """The instant an action should be recognised (MSRC-12's "action point"), as an array position."""

    label: str
    frame: int


@dataclass
class SkeletonSequence:
    """Joints of up to M bodies over T frames, in one declared layout.

    Attributes:
        joints: (T, M, V, C) float32 positions (metres for 3D layouts, pixels or
            normalised image units for 2D ones, as the layout says).
        mask: (T, M, V) float32 confidence in [0, 1]; 0 marks a missing joint or
            an absent body. Missing joints are never silently zero.
        layout: name of a layout in `models.skeleton.layouts`.
        fps: frame rate of ``frame_ids`` (frames per second).
        frame_ids: (T,) int64 frame ids as the source numbers them (may skip).
        name: clip or file identifier.
        label: clip label for trimmed data, else None.
        segments: temporal segments for untrimmed data, in array positions.
        action_points: instants at which an action should be recognised, in
            array positions (datasets that mark a moment rather than a span).
        subject: performer id where the dataset gives one.
        projections: extra per-joint arrays keyed by name, e.g. ``"color"`` ->
            (T, M, V, 2) pixel coordinates.
        skipped: counts of recoverable quirks the reader handled, by kind.
        attributes: other facts the dataset records about the sequence, e.g.
            ``{"view": "2"}``, ``{"group": "child"}``, ``{"instruction": "video"}``.
    """

    joints: np.ndarray
    mask: np.ndarray
    layout: str
    fps: float
    frame_ids: np.ndarray
    name: str
    label: str | None = None
    segments: list[Segment] = field(default_factory=list)
    subject: int | None = None
    projections: dict[str, np.ndarray] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    action_points: list[ActionPoint] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.joints.ndim != 4:
            raise ValueError(f"{self.name}: joints must be (T, M, V, C), got shape {self.joints.shape}")
        if self.mask.shape != self.joints.shape[:3]:
            raise ValueError(f"{self.name}: mask shape {self.mask.shape} != joints (T, M, V) {self.joints.shape[:3]}")
        if self.frame_ids.shape != (self.joints.shape[0],):
            raise ValueError(f"{self.name}: {len(self.frame_ids)} frame ids for {self.joints.shape[0]} frames")
        if self.fps <= 0:
            raise ValueError(f"{self.name}: fps must be positive, got {self.fps}")
        for segment in self.segments:
            if segment.start < 0 or segment.end > self.num_frames:
                raise ValueError(f"{self.name}: segment {segment} outside [0, {self.num_frames})")
        for point in self.action_points:
            if not 0 <= point.frame < self.num_frames:
                raise ValueError(f"{self.name}: action point {point} outside [0, {self.num_frames})")

    @property
    def num_frames(self) -> int:
        return int(self.joints.shape[0])

    @property
    def num_bodies(self) -> int:
        return int(self.joints.shape[1])

    @property
    def num_joints(self) -> int:
        return int(self.joints.shape[2])

    def frame_labels(self, label_names: list[str], background: int = 0) -> np.ndarray:
        """Per-frame class indices (T,) from the segments; frames in no segment get ``background``.

        Where segments overlap, the later one in ``segments`` wins.
        """
        labels = np.full(self.num_frames, background, dtype=np.int64)
        index = {name: i for i, name in enumerate(label_names)}
        for segment in self.segments:
            if segment.label not in index:
                raise KeyError(f"{self.name}: segment label {segment.label!r} not in {label_names}")
            labels[segment.start : segment.end] = index[segment.label]
        return labels
