"""Multi-person tracking: a stable id for each person across frames (DESIGN §1).

One call per frame; ended tracks are collected for the stages downstream::

    tracker = Tracker(max_distance=0.5, birth_frames=2, death_frames=15)
    for frame in source:
        tracked = tracker.update(frame.people, frame.stamp_ns)  # confirmed tracks observed in this frame
        for track_id in tracker.pop_ended():                     # tracks that died since the last call
            ...                                                  # flush their windows and labels
    tracker.end_all()                                            # end of stream: end every live track

Decisions:

- **Compared in unified_30.** Every skeleton is mapped with `to_unified`, so
  skeletons from any layout (Kinect v1/v2, COCO, MediaPipe) compare joint by
  joint. A joint counts when its confidence is above ``min_confidence`` and its
  coordinates are finite: NaN joints are missing, never a crash.
- **Two spaces.** 3D skeletons (a 3D layout) are compared in metres: cost = the
  mean distance over joints present in both the detection and the track's
  predicted skeleton, gated by ``max_distance``. Image skeletons (a 2D layout, or
  ``space="image"`` with `Person.image_points`) are compared in pixels divided by
  the diagonal of the track's bounding box, so the gate ``max_image_distance``
  means the same for a near and a far person. A track never matches a
  detection from the other space.
- **Prediction.** Each track keeps every joint's last position and one velocity
  (a smoothed mean of the joints' displacement per second); the prediction for a
  frame moves the whole skeleton by velocity × elapsed time (capped at
  ``max_prediction_s``). This carries two people walking past each other through
  the frames where they overlap in the image.
- **Assignment.** `scipy.optimize.linear_sum_assignment` on the gated cost,
  first between confirmed tracks and all detections, then between tentative
  tracks and the detections left, so a newborn track cannot take an established
  person's detection.
- **Hysteresis.** A detection nobody matches opens a *tentative* track; it is
  confirmed (gets an id, is reported) after ``birth_frames`` consecutive matched
  frames, and dropped silently at its first miss. A confirmed track is ended after
  ``death_frames`` consecutive frames without a match, or once it has gone unseen
  for ``timeout_ns`` (whichever comes first). A person who leaves for longer and
  comes back gets a *new* id: identity across a long absence needs
  re-identification, which skeletons alone do not support reliably.
- **What is reported.** `update` returns one `TrackedPerson` per confirmed track
  matched in this frame, in the order of the input detections. A coasting track
  (unmatched but not yet ended) is not reported: nothing was observed. The
  observations of a track's tentative frames are not reported either.
- Ids are positive integers given in order of confirmation and never reused.
- ``Person.source_id`` is not used: the tracker must work for sources without one.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from models.skeleton.layouts import get_layout
from models.skeleton.unified import to_unified
from stream.types import Person, TrackedPerson

logger = logging.getLogger(__name__)

SPACES = ("auto", "3d", "image")
_UNMATCHABLE = 1e9


@dataclass
class _Observation:
    """One detection in unified_30: points (30, D) float64, known (30,) bool, its space."""

    person: Person
    points: np.ndarray
    known: np.ndarray
    space: str


@dataclass
class _Track:
    points: np.ndarray  # (30, D) last position of every joint (stale joints moved with the velocity)
    known: np.ndarray  # (30,) joints ever observed
    space: str
    last_ns: int
    velocity: np.ndarray | None = None  # (D,) per second
    hits: int = 1
    misses: int = 0
    track_id: int | None = None  # None while tentative

    def predict(self, stamp_ns: int, horizon_s: float) -> np.ndarray:
        if self.velocity is None:
            return self.points
        dt = min(max((stamp_ns - self.last_ns) * 1e-9, 0.0), horizon_s)
        return self.points + self.velocity * dt

    def scale(self) -> float:
        """Diagonal of the box around the known joints (image space normaliser)."""
        pts = self.points[self.known]
        if pts.shape[0] < 2:
            return 1.0
        return max(float(np.linalg.norm(pts.max(axis=0) - pts.min(axis=0))), 1.0)


class Tracker:
    """Stable ids for the people of a stream. See the module docstring for the rules.

    Args:
        max_distance: gate for 3D skeletons, metres of mean joint distance (> 0).
        max_image_distance: gate for image skeletons, in units of the track's box diagonal (> 0).
        birth_frames: consecutive matched frames before a track is confirmed (>= 1).
        death_frames: consecutive unmatched frames after which a confirmed track ends (>= 1).
        timeout_ns: a confirmed track also ends when unseen for longer than this (None: no timeout).
        min_confidence: joints with confidence <= this are missing (in [0, 1)).
        space: "auto" (3D for 3D layouts, else image), "3d" or "image".
        velocity_smoothing: weight of a new velocity measurement, in (0, 1].
        max_prediction_s: longest extrapolation of a track's motion, seconds (>= 0).
    """

    def __init__(
        self,
        max_distance: float = 0.5,
        max_image_distance: float = 0.5,
        birth_frames: int = 2,
        death_frames: int = 15,
        timeout_ns: int | None = None,
        min_confidence: float = 0.0,
        space: str = "auto",
        velocity_smoothing: float = 0.5,
        max_prediction_s: float = 0.5,
    ) -> None:
        def positive(name: str, value: float) -> None:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"Tracker {name} must be a positive finite number, got {value!r}")

        def count(name: str, value: int) -> None:
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"Tracker {name} must be an integer >= 1, got {value!r}")

        positive("max_distance", max_distance)
        positive("max_image_distance", max_image_distance)
        count("birth_frames", birth_frames)
        count("death_frames", death_frames)
        if timeout_ns is not None:
            count("timeout_ns", timeout_ns)
        if not (isinstance(min_confidence, (int, float)) and 0.0 <= min_confidence < 1.0):
            raise ValueError(f"Tracker min_confidence must be in [0, 1), got {min_confidence!r}")
        if space not in SPACES:
            raise ValueError(f"Tracker space must be one of {SPACES}, got {space!r}")
        if not (isinstance(velocity_smoothing, (int, float)) and 0.0 < velocity_smoothing <= 1.0):
            raise ValueError(f"Tracker velocity_smoothing must be in (0, 1], got {velocity_smoothing!r}")
        if not (isinstance(max_prediction_s, (int, float)) and math.isfinite(max_prediction_s)
                and max_prediction_s >= 0):  # fmt: skip
            raise ValueError(f"Tracker max_prediction_s must be a finite number >= 0, got {max_prediction_s!r}")
        self.max_distance = float(max_distance)
        self.max_image_distance = float(max_image_distance)
        self.birth_frames = int(birth_frames)
        self.death_frames = int(death_frames)
        self.timeout_ns = None if timeout_ns is None else int(timeout_ns)
        self.min_confidence = float(min_confidence)
        self.space = space
        self.velocity_smoothing = float(velocity_smoothing)
        self.max_prediction_s = float(max_prediction_s)
        self._tracks: list[_Track] = []
        self._next_id = 1
        self._ended: list[int] = []

    # -- public API --------------------------------------------------------------------------
    @property
    def active_ids(self) -> list[int]:
        """Ids of the confirmed tracks alive now (observed or coasting)."""
        return [t.track_id for t in self._tracks if t.track_id is not None]

    def update(self, people: list[Person], stamp_ns: int) -> list[TrackedPerson]:
        """Match this frame's skeletons to tracks; the confirmed tracks observed now, in input order."""
        observations = [self._observe(p) for p in people]
        valid = [j for j, o in enumerate(observations) if o is not None]
        matched: dict[int, _Track] = {}  # detection index -> track
        confirmed = [t for t in self._tracks if t.track_id is not None]
        tentative = [t for t in self._tracks if t.track_id is None]
        free = list(valid)
        for group in (confirmed, tentative):
            pairs = self._assign(group, [observations[j] for j in free], stamp_ns)  # type: ignore[misc]
            for ti, dj in pairs:
                matched[free[dj]] = group[ti]
            taken = {free[dj] for _, dj in pairs}
            free = [j for j in free if j not in taken]

        matched_tracks = {id(t) for t in matched.values()}
        for j, track in matched.items():
            self._absorb(track, observations[j], stamp_ns)  # type: ignore[arg-type]
        survivors = []
        for track in self._tracks:
            if id(track) not in matched_tracks:
                track.misses += 1
                if track.track_id is None:
                    continue  # a tentative track dies at its first miss
                timed_out = self.timeout_ns is not None and stamp_ns - track.last_ns > self.timeout_ns
                if track.misses >= self.death_frames or timed_out:
                    self._ended.append(track.track_id)
                    continue
            survivors.append(track)
        for j in free:
            obs = observations[j]
            assert obs is not None
            track = _Track(points=obs.points.copy(), known=obs.known.copy(), space=obs.space, last_ns=stamp_ns)
            survivors.append(track)
            matched[j] = track  # a new (tentative) track holds this detection
        self._tracks = survivors

        for track in self._tracks:
            if track.track_id is None and track.hits >= self.birth_frames:
                track.track_id = self._next_id
                self._next_id += 1
        return [TrackedPerson(matched[j].track_id, people[j])  # type: ignore[arg-type]
                for j in sorted(matched) if matched[j].track_id is not None]  # fmt: skip

    def pop_ended(self) -> list[int]:
        """Ids of the tracks ended since the last call, in the order they ended."""
        ended, self._ended = self._ended, []
        return ended

    def end_all(self) -> list[int]:
        """End every live track (end of stream); returns everything `pop_ended` would, plus those."""
        for track in self._tracks:
            if track.track_id is not None:
                self._ended.append(track.track_id)
        self._tracks = []
        return self.pop_ended()

    # -- internals ----------------------------------------------------------------------------
    def _observe(self, person: Person) -> _Observation | None:
        """The detection in unified_30 and its space; None when it has no usable joint."""
        layout = get_layout(person.layout)
        space = self.space
        if space == "auto":
            space = "3d" if layout.dims == 3 and np.shape(person.joints)[-1] >= 3 else "image"
        if space == "3d":
            if layout.dims != 3:
                raise ValueError(f"Tracker(space='3d') got a {layout.name} skeleton, which is 2D")
            points = np.asarray(person.joints, dtype=np.float64)[..., :3]
        elif person.image_points is not None:
            points = np.asarray(person.image_points, dtype=np.float64)
        elif layout.dims == 2:
            points = np.asarray(person.joints, dtype=np.float64)[..., :2]
        else:
            raise ValueError(f"Tracker(space='image') needs Person.image_points for a {layout.name} skeleton")
        confidence = np.asarray(person.confidence, dtype=np.float64)
        if points.shape[0] != layout.num_joints or confidence.shape != (layout.num_joints,):
            raise ValueError(f"a {layout.name} Person needs {layout.num_joints} joints and confidences; "
                             f"got {points.shape} and {confidence.shape}")  # fmt: skip
        finite = np.isfinite(points).all(axis=-1) & np.isfinite(confidence)
        confidence = np.where(finite, confidence, 0.0)
        unified, mask = to_unified(np.where(finite[:, None], points, 0.0), confidence, layout)
        known = mask > self.min_confidence
        if not known.any():
            return None
        return _Observation(person, unified.astype(np.float64), known, space)

    def _assign(self, tracks: list[_Track], observations: list[_Observation], stamp_ns: int) -> list[tuple[int, int]]:
        if not tracks or not observations:
            return []
        cost = np.full((len(tracks), len(observations)), _UNMATCHABLE)
        for i, track in enumerate(tracks):
            predicted = track.predict(stamp_ns, self.max_prediction_s)
            gate = self.max_distance if track.space == "3d" else self.max_image_distance
            scale = 1.0 if track.space == "3d" else track.scale()
            for j, obs in enumerate(observations):
                if obs.space != track.space:
                    continue
                common = track.known & obs.known
                if not common.any():
                    continue
                distance = float(np.linalg.norm(predicted[common] - obs.points[common], axis=-1).mean()) / scale
                if distance <= gate:
                    cost[i, j] = distance
        rows, cols = linear_sum_assignment(cost)
        return [(int(r), int(c)) for r, c in zip(rows, cols) if cost[r, c] < _UNMATCHABLE]

    def _absorb(self, track: _Track, obs: _Observation, stamp_ns: int) -> None:
        dt = (stamp_ns - track.last_ns) * 1e-9
        if dt > 0:
            common = track.known & obs.known
            measured = (obs.points[common] - track.points[common]).mean(axis=0) / dt
            a = self.velocity_smoothing
            track.velocity = measured if track.velocity is None else a * measured + (1 - a) * track.velocity
            track.points = track.points + track.velocity * min(dt, self.max_prediction_s)
        track.points[obs.known] = obs.points[obs.known]
        track.known |= obs.known
        track.last_ns = max(track.last_ns, stamp_ns)
        track.hits += 1
        track.misses = 0
