"""Root motion from the image, for camera skeletons that have none.

A camera's 3D skeletons are root-relative: MediaPipe's world landmarks are
hip-centred and the lifter (`stream.pose.lifted_pose`) puts the root at the
origin, so a person sitting down keeps their hips where they were and the
action model sees only the legs fold. Kinect skeletons, which the model learnt
from, move. `ImageRootMotion` gives each track's skeletons back the motion of
their root across the image:

- each frame, the person's scale in the image (pixels per metre) is the
  weak-perspective fit of their root-centred image points to their
  root-centred 3D joints (x and y, the confident joints), and the track keeps
  the median of its last ``history`` scales, so the fit's noise (an arm raised,
  a bow the lifter reads short) does not turn into motion;
- the root is placed at its image displacement since the track's first frame,
  divided by that median scale, in the skeleton convention (x to the camera's
  left, y up); depth is not moved (a camera's depth from scale is noise at
  this level: it made waves and bows read as actions on the Florence clips,
  models/MODEL_CARD.md).

The placed skeletons feed the model's windows only; published skeletons stay as
the pose step gave them. A person without image points, or a frame without a
confident root or joints, passes through (the last placement is kept)::

    placement = ImageRootMotion()
    model_people = placement.place_all(tracked)   # before WindowBatcher.push_tracked
    placement.end_track(track_id)                 # when the tracker ends it
"""

from __future__ import annotations

import dataclasses
from collections import deque

import numpy as np

from stream.stages.localization import root_position
from stream.types import Person, TrackedPerson

MIN_CONFIDENCE = 0.5
"""Joints below this confidence take no part in the scale fit."""
MIN_JOINTS = 4
"""A frame with fewer confident joints than this gives no scale."""


@dataclasses.dataclass
class _TrackPlacement:
    first_root: np.ndarray  # (2,) pixels: the track's root in its first usable frame
    scales: deque  # the last pixels-per-metre fits
    offset: np.ndarray  # (3,) metres: the latest placement, kept when a frame gives none


def image_scale(image_points: np.ndarray, joints: np.ndarray, confidence: np.ndarray, layout: str) -> float | None:
    """Pixels per joint unit of one person by weak perspective (module docstring), or None when the confident
    joints are too few or do not fit a positive scale."""
    image = np.asarray(image_points, np.float64)
    body = np.asarray(joints, np.float64)[:, :2]
    usable = (np.asarray(confidence) >= MIN_CONFIDENCE) & np.isfinite(image).all(axis=1) & np.isfinite(body).all(axis=1)
    if usable.sum() < MIN_JOINTS:
        return None
    image_root, body_root = root_position(image, layout), root_position(body, layout)
    if not (np.isfinite(image_root).all() and np.isfinite(body_root).all()):
        return None
    seen = image_root - image[usable]  # image x right, y down → skeleton x left, y up
    shape = body[usable] - body_root
    spread = float((shape**2).sum())
    scale = float((seen * shape).sum()) / spread if spread > 0 else 0.0
    return scale if scale > 0 and np.isfinite(scale) else None


class ImageRootMotion:
    """Per track, the root placed where the image says it moved (module docstring)."""

    def __init__(self, history: int = 90) -> None:
        if history < 1:
            raise ValueError(f"ImageRootMotion history must be >= 1 frame, got {history}")
        self.history = history
        self._tracks: dict[int, _TrackPlacement] = {}

    def place(self, track_id: int, person: Person) -> Person:
        """``person`` with its joints moved by the track's image root motion (unchanged without image points)."""
        if person.image_points is None or np.shape(person.joints)[-1] != 3:
            return person
        image = np.asarray(person.image_points, np.float64)
        root = root_position(image, person.layout)
        state = self._tracks.get(track_id)
        if np.isfinite(root).all():
            if state is None:
                state = self._tracks[track_id] = _TrackPlacement(root, deque(maxlen=self.history), np.zeros(3))
            scale = image_scale(image, person.joints, person.confidence, person.layout)
            if scale is not None:
                state.scales.append(scale)
            if state.scales:
                moved = state.first_root - root  # image x right, y down → skeleton x left, y up
                state.offset = np.array([*moved, 0.0]) / float(np.median(state.scales))
        if state is None or not state.offset.any():
            return person
        joints = np.asarray(person.joints, np.float32) + state.offset.astype(np.float32)
        return dataclasses.replace(person, joints=joints)

    def place_all(self, tracked: list[TrackedPerson]) -> list[TrackedPerson]:
        """`place` every tracked person of one frame."""
        return [TrackedPerson(t.track_id, self.place(t.track_id, t.person)) for t in tracked]

    def end_track(self, track_id: int) -> None:
        """Forget a track's placement."""
        self._tracks.pop(track_id, None)
