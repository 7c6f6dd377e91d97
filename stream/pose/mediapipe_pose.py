"""MediaPipe PoseLandmarker (BlazePose GHUM, Tasks API) as the stream's pose step.

One `estimate` call per frame gives a `Person` per detected pose in the
``mediapipe_33`` layout:

- ``joints``: MediaPipe's *world* landmarks in metres, converted to our
  camera-frame convention (`models.skeleton.layouts`: x to the camera's left,
  y up, z away from the camera). MediaPipe's world axes follow its image axes
  (x to the image right, y down, z away from the camera: on the NTU clip the
  world x/y/z correlate with the image x, image y and image-landmark z at
  0.97/0.998/0.998), so the conversion is ``(x, y, z) → (-x, -y, z)``, a 180°
  rotation about the optical axis (handedness kept). On the horizontally
  un-mirrored NTU clip the converted joints agree with the Kinect's 3D joints
  (spine-base centred) at correlation 0.90/0.99/0.92 per axis, median
  |difference| 3.5/6.1/4.5 cm. World landmarks are **hip-centred** (origin
  halfway between the hips): they carry the body's shape and orientation, not
  its position in the room; placing the person needs camera calibration
  (later work).
- ``confidence``: landmark visibility clipped to [0, 1] (low values are kept as
  they are, not zeroed); a landmark with a NaN coordinate or visibility gets
  confidence 0, its world position set to the hip centre (the origin) and its
  image point to the mean of the pose's other points.
- ``image_points``: image landmarks × (width, height), in pixels.

The Tasks API runs in VIDEO mode (the detector runs only when tracking is
lost); MediaPipe needs strictly increasing millisecond timestamps, taken from
``Frame.media_ns`` when the source gives one (a file's own clock, so a fast
replay is smoothed at the recording's speed), else ``Frame.stamp_ns``, and
nudged forward by 1 ms when a frame's time does not increase. The
legacy pipeline's landmark smoothing is gone from the Tasks API; pass
``smoothing=OneEuroConfig(...)`` to filter world joints and image points over
time (one filter per pose, matched frame to frame by position, reset when the
pose disappears).

Bad frames never raise: an image that is None or not a (H, W, 3) uint8 array,
or a frame MediaPipe fails on, gives ``[]`` and counts in `skipped_frames`.

Needs the ``pose`` extra (``pip install -e '.[pose]'``) and a ``.task`` model
(`stream.pose.provision.resolve_pose_model`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from foundation.errors import PoseModelError
from foundation.optional import require
from models.skeleton.layouts import MEDIAPIPE_33
from stream.pose.one_euro import OneEuroConfig, OneEuroFilter
from stream.pose.provision import validate_task_file
from stream.types import Frame, Person

logger = logging.getLogger(__name__)

NUM_LANDMARKS = MEDIAPIPE_33.num_joints
# MediaPipe world axes (x image-right, y down, z away) → ours (x camera-left, y up, z away).
WORLD_TO_CAMERA = np.array([-1.0, -1.0, 1.0])
# A smoothed pose keeps its filter when the new pose's hip centre lies within this many body sizes.
_MATCH_BODY_SIZES = 0.5


def _import_mediapipe():
    mp = require("mediapipe", extra="pose", what="the MediaPipe pose step")
    from mediapipe.tasks.python import BaseOptions
    from mediapipe.tasks.python.vision import PoseLandmarker, PoseLandmarkerOptions, RunningMode

    return mp, BaseOptions, PoseLandmarker, PoseLandmarkerOptions, RunningMode


def _bgr_to_rgb(image: np.ndarray) -> np.ndarray:
    try:
        import cv2
    except ImportError:
        return np.ascontiguousarray(image[..., ::-1])
    return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_BGR2RGB)


@dataclass
class _Track:
    """Smoothing state of one pose across frames."""

    world: OneEuroFilter
    image: OneEuroFilter
    centre: np.ndarray  # last hip centre in pixels
    size: float  # last body size in pixels


class MediaPipePoseEstimator:
    """Images → ``mediapipe_33`` people with MediaPipe's PoseLandmarker (see the module docstring).

    Args:
        model_path: a PoseLandmarker ``.task`` file.
        num_poses: the most people reported per frame. MediaPipe skips its
            person detector only while it tracks ``num_poses`` people, so
            with fewer people in view the detector runs on every frame
            (one person at 1080p here: ≈ 20 ms per frame with 1, ≈ 30 ms with 2).
        min_detection_confidence: the pose detector's score threshold.
        min_presence_confidence: the landmark model's pose-presence threshold.
        min_tracking_confidence: below this, tracking is dropped and the detector runs again.
        smoothing: One-Euro parameters for landmark smoothing; None turns it off.
            Speeds are measured in body sizes per second, so one config fits
            metres and pixels.

    Raises:
        MissingDependencyError: mediapipe is missing.
        PoseModelError: the model is not a valid ``.task`` or fails to load.
    """

    def __init__(
        self,
        model_path: str | Path,
        num_poses: int = 2,
        min_detection_confidence: float = 0.5,
        min_presence_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        smoothing: OneEuroConfig | None = None,
    ) -> None:
        if num_poses < 1:
            raise ValueError(f"num_poses must be >= 1, got {num_poses}")
        for name, value in (("min_detection_confidence", min_detection_confidence),
                            ("min_presence_confidence", min_presence_confidence),
                            ("min_tracking_confidence", min_tracking_confidence)):  # fmt: skip
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value}")
        self.model_path = validate_task_file(model_path)
        self.num_poses = num_poses
        self.smoothing = smoothing
        self.skipped_frames = 0
        self.frames = 0
        self._last_ms: int | None = None
        self._tracks: list[_Track] = []
        self._mp, base_options, landmarker, options, running_mode = _import_mediapipe()
        try:
            self._landmarker = landmarker.create_from_options(
                options(
                    base_options=base_options(model_asset_path=str(self.model_path)),
                    running_mode=running_mode.VIDEO,
                    num_poses=num_poses,
                    min_pose_detection_confidence=min_detection_confidence,
                    min_pose_presence_confidence=min_presence_confidence,
                    min_tracking_confidence=min_tracking_confidence,
                )
            )
        except Exception as error:  # mediapipe raises RuntimeError/ValueError with the C++ status text
            raise PoseModelError(f"cannot load the pose model {self.model_path}: {error}") from error

    # --- lifecycle -------------------------------------------------------------
    def close(self) -> None:
        """Release the MediaPipe graph (idempotent)."""
        landmarker, self._landmarker = getattr(self, "_landmarker", None), None
        if landmarker is not None:
            landmarker.close()

    def __enter__(self) -> MediaPipePoseEstimator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- per frame ---------------------------------------------------------------
    def estimate(self, frame: Frame) -> list[Person]:
        """The people in ``frame.image`` (BGR uint8), ``[]`` when there are none or the image is unusable."""
        if self._landmarker is None:
            raise RuntimeError("MediaPipePoseEstimator is closed")
        self.frames += 1
        image = frame.image
        if not _usable(image):
            self._skip(frame, f"unusable image ({_describe(image)})")
            return []
        height, width = image.shape[:2]
        media_ns = getattr(frame, "media_ns", None)
        timestamp_ms = self._timestamp_ms(frame.stamp_ns if media_ns is None else media_ns)
        try:
            mp_image = self._mp.Image(self._mp.ImageFormat.SRGB, _bgr_to_rgb(image))
            result = self._landmarker.detect_for_video(mp_image, timestamp_ms)
        except Exception as error:  # a frame MediaPipe cannot process must not stop the stream
            self._skip(frame, f"MediaPipe failed: {error}")
            return []
        self._last_ms = timestamp_ms
        poses = []
        for image_landmarks, world_landmarks in zip(result.pose_landmarks, result.pose_world_landmarks):
            poses.append(_convert(image_landmarks, world_landmarks, width, height))
        if self.smoothing is not None:
            poses = self._smooth(poses, timestamp_ms / 1000.0)
        people = []
        for joints, conf, points in poses:
            joints, conf, points = _fill_missing(joints, conf, points)
            people.append(Person(joints=joints, confidence=conf, layout=MEDIAPIPE_33.name, image_points=points))
        return people

    def _timestamp_ms(self, time_ns: int) -> int:
        timestamp_ms = int(time_ns) // 1_000_000
        if self._last_ms is not None and timestamp_ms <= self._last_ms:
            timestamp_ms = self._last_ms + 1  # MediaPipe rejects timestamps that do not increase
        return timestamp_ms

    def _skip(self, frame: Frame, why: str) -> None:
        self.skipped_frames += 1
        if self.skipped_frames <= 3 or self.skipped_frames % 100 == 0:
            logger.warning("pose: skipped frame %d: %s (%d skipped so far)", frame.index, why, self.skipped_frames)

    # --- smoothing -----------------------------------------------------------
    def _smooth(self, poses: list[tuple[np.ndarray, np.ndarray, np.ndarray]], t: float):
        """Filter each pose with the track it continues; tracks without a pose are dropped."""
        previous, self._tracks = self._tracks, []
        free = list(range(len(previous)))
        smoothed = []
        for joints, conf, points in poses:
            centre, size = _hip_centre(points), _body_size(points)
            track = None
            if free:
                distances = [np.linalg.norm(previous[i].centre - centre) / max(previous[i].size, 1.0) for i in free]
                best = int(np.argmin(distances))
                if distances[best] <= _MATCH_BODY_SIZES:
                    track = previous[free.pop(best)]
            if track is None:
                track = _Track(OneEuroFilter(self.smoothing), OneEuroFilter(self.smoothing), centre, size)
            joints = track.world(joints, t, value_scale=1.0 / max(_body_size(joints), 0.1))
            points = track.image(points, t, value_scale=1.0 / max(size, 1.0))
            if np.isfinite(centre).all():
                track.centre, track.size = centre, size
            self._tracks.append(track)
            smoothed.append((joints, conf, points))
        return smoothed


def _usable(image: object) -> bool:
    return (
        isinstance(image, np.ndarray)
        and image.dtype == np.uint8
        and image.ndim == 3
        and image.shape[2] == 3
        and image.shape[0] > 0
        and image.shape[1] > 0
    )


def _describe(image: object) -> str:
    if isinstance(image, np.ndarray):
        return f"array {image.shape} {image.dtype}"
    return "None" if image is None else type(image).__name__


def _convert(image_landmarks, world_landmarks, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MediaPipe landmark lists → (joints (33, 3) metres ours, confidence (33,), image points (33, 2) pixels)."""
    world = np.array([[lm.x, lm.y, lm.z] for lm in world_landmarks], dtype=np.float64).reshape(-1, 3)
    image = np.array([[lm.x, lm.y] for lm in image_landmarks], dtype=np.float64).reshape(-1, 2)
    visibility = np.array([_value(lm.visibility) for lm in world_landmarks], dtype=np.float64)
    if world.shape[0] != NUM_LANDMARKS or image.shape[0] != NUM_LANDMARKS:
        raise PoseModelError(f"the pose model gave {world.shape[0]} landmarks; mediapipe_33 needs {NUM_LANDMARKS}")
    joints = world * WORLD_TO_CAMERA  # None became NaN in np.array(..., float64)
    points = image * np.array([width, height], dtype=np.float64)
    bad = ~(np.isfinite(joints).all(axis=1) & np.isfinite(points).all(axis=1) & np.isfinite(visibility))
    joints[bad], points[bad] = np.nan, np.nan  # filled by _fill_missing, after smoothing
    confidence = np.clip(np.where(bad, 0.0, visibility), 0.0, 1.0)
    return joints, confidence.astype(np.float32), points


def _fill_missing(joints: np.ndarray, conf: np.ndarray, points: np.ndarray):
    """Placeholders for landmarks without a value (confidence 0): the hip centre, the mean image point."""
    bad = ~(np.isfinite(joints).all(axis=1) & np.isfinite(points).all(axis=1))
    if bad.any():
        joints, points, conf = joints.copy(), points.copy(), conf.copy()
        conf[bad] = 0.0
        joints[bad] = 0.0  # world landmarks are hip-centred: the origin is the hip centre
        points[bad] = points[~bad].mean(axis=0) if (~bad).any() else 0.0
    return joints.astype(np.float32), conf, points.astype(np.float32)


def _value(value: float | None) -> float:
    return float("nan") if value is None else float(value)


_HIPS = [MEDIAPIPE_33.index("hip_left"), MEDIAPIPE_33.index("hip_right")]


def _hip_centre(points: np.ndarray) -> np.ndarray:
    """Midpoint of the hips in pixels (the mean of the present landmarks when a hip is missing)."""
    hips = points[_HIPS]
    if np.isfinite(hips).all():
        return hips.mean(axis=0)
    present = points[np.isfinite(points).all(axis=1)]
    return present.mean(axis=0) if len(present) else np.full(2, np.nan)


def _body_size(points: np.ndarray) -> float:
    """Mean of the x and y extents of the present landmarks (pixels or metres; 0 when none)."""
    present = points[np.isfinite(points).all(axis=1)]
    if len(present) == 0:
        return 0.0
    extent = present.max(axis=0) - present.min(axis=0)
    return float(np.mean(extent[:2]))
