"""A person's 3D position in the camera from 2D landmarks and metric root-relative 3D landmarks, and skeletons in the robot frame.

A monocular pose estimator such as MediaPipe BlazePose gives, per joint, an
image landmark (normalised to the image; `normalised_to_pixels` turns it into
pixels) and a *world* landmark in metres centred on the hips, but not where
the person is. PnP between the two recovers the rigid transform camera <- world
landmarks, whose translation is the position of the landmarks' origin (the hip
centre) in the camera. Only joints with ``confidence >= min_confidence`` are
used, RANSAC drops the remaining outliers, and Levenberg-Marquardt refines the
pose on the inliers.

Conventions. Intrinsics ``K, D`` are OpenCV's, for pixel coordinates x right,
y down in an unmirrored image. Results are in the **skeleton** camera
convention (x left, y up, z forward; `calibration.transforms`). World
landmarks may come in either convention (``world_convention``):

* ``"skeleton"``: x left, y up, z forward (e.g. root-relative Kinect joints);
* ``"mediapipe"``: MediaPipe world landmarks, x right, y down, z away from the
  camera (the image axes; the same axes as the optical frame).

With ``rotation="free"`` (default) the world landmarks' orientation is
estimated, so the convention only fixes the meaning of the returned rotation;
with ``rotation="fixed"`` the world axes are taken as parallel to the camera's
(true for root-relative camera-frame joints, roughly true for MediaPipe) and
only the translation is solved, linearly: the most robust choice when few
joints are confident.

Usage::

    pose = person_pose(pixels, world, confidence, K, D)
    joints_camera = pose.to_camera(world)                       # (V, 3) skeleton convention
    joints_base = skeleton_in_frame(joints_camera, base_from_camera)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from calibration.opencv import opencv
from calibration.transforms import SKELETON_TO_OPTICAL, Transform, optical_to_skeleton, skeleton_to_optical
from foundation.errors import CalibrationError

logger = logging.getLogger(__name__)

__all__ = ["PersonPose", "normalised_to_pixels", "person_pose", "person_position", "skeleton_in_frame"]

WORLD_TO_OPTICAL = {"skeleton": SKELETON_TO_OPTICAL, "mediapipe": np.eye(3)}
"""Per world-landmark convention, the rotation into optical-frame axes."""


@dataclass(frozen=True)
class PersonPose:
    """Where a person's world landmarks sit in the camera (skeleton convention: x left, y up, z forward).

    Attributes:
        translation: (3,) metres, the world landmarks' origin (hip centre) in the camera.
        rotation: camera (skeleton convention) <- world landmarks, in the world convention given.
        inliers: (V,) bool, the joints the final fit used.
        rms_px: RMS reprojection error over the inliers, pixels.
    """

    translation: np.ndarray
    rotation: Rotation
    inliers: np.ndarray
    rms_px: float

    @property
    def num_inliers(self) -> int:
        return int(self.inliers.sum())

    def to_camera(self, world_points: np.ndarray) -> np.ndarray:
        """(V, 3) world landmarks -> camera coordinates in the skeleton convention."""
        return self.rotation.apply(np.asarray(world_points, dtype=np.float64)) + self.translation


def normalised_to_pixels(landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
    """MediaPipe image landmarks (..., >=2) normalised to [0, 1] -> (..., 2) pixels (x right, y down)."""
    landmarks = np.asarray(landmarks, dtype=np.float64)
    return landmarks[..., :2] * np.array([float(width), float(height)])


def _translation_only(obj: np.ndarray, rays: np.ndarray) -> np.ndarray:
    """Translation t (optical) with ``obj + t`` projecting onto the normalised ``rays`` (a, b): linear least
    squares on ``(X + tx) = a (Z + tz)``, ``(Y + ty) = b (Z + tz)``, reweighted by depth to approximate pixels."""
    a, b = rays[:, 0], rays[:, 1]
    weights = np.ones(len(obj))
    t = np.zeros(3)
    for _ in range(3):
        rows = np.zeros((2 * len(obj), 3))
        rows[0::2, 0] = 1.0
        rows[0::2, 2] = -a
        rows[1::2, 1] = 1.0
        rows[1::2, 2] = -b
        rhs = np.empty(2 * len(obj))
        rhs[0::2] = a * obj[:, 2] - obj[:, 0]
        rhs[1::2] = b * obj[:, 2] - obj[:, 1]
        w = np.repeat(weights, 2)
        t = np.linalg.lstsq(rows * w[:, None], rhs * w, rcond=None)[0]
        depth = obj[:, 2] + t[2]
        if np.any(depth <= 0):
            break
        weights = 1.0 / depth
    return t


def person_pose(
    image_points: np.ndarray,
    world_points: np.ndarray,
    confidence: np.ndarray | None,
    K: np.ndarray,
    D: np.ndarray | None = None,
    min_confidence: float = 0.5,
    world_convention: str = "skeleton",
    rotation: str = "free",
    reprojection_threshold_px: float = 8.0,
) -> PersonPose:
    """Pose of a person's world landmarks in the camera by PnP on the confident joints.

    Args:
        image_points: (V, 2) pixels (x right, y down; unmirrored image).
        world_points: (V, 3) metres, root-centred, in ``world_convention`` (``"skeleton"`` or ``"mediapipe"``).
        confidence: (V,) per joint in [0, 1] (MediaPipe visibility), or None for all confident.
        K, D: OpenCV intrinsics (D None for no distortion).
        min_confidence: joints below it are ignored.
        rotation: ``"free"`` (RANSAC PnP + LM refinement, needs >= 6 confident joints) or ``"fixed"``
            (world axes parallel to the camera's; translation only, needs >= 3).
        reprojection_threshold_px: RANSAC / outlier threshold.

    Raises CalibrationError when too few confident joints remain or no pose in front of the camera fits.
    """
    cv2 = opencv()
    image = np.asarray(image_points, dtype=np.float64).reshape(-1, 2)
    world = np.asarray(world_points, dtype=np.float64).reshape(-1, 3)
    if len(image) != len(world):
        raise ValueError(f"{len(image)} image points but {len(world)} world points")
    conf = np.ones(len(image)) if confidence is None else np.asarray(confidence, dtype=np.float64).reshape(-1)
    if len(conf) != len(image):
        raise ValueError(f"{len(conf)} confidences for {len(image)} joints")
    if world_convention not in WORLD_TO_OPTICAL:
        raise ValueError(f"world_convention must be one of {sorted(WORLD_TO_OPTICAL)}, got {world_convention!r}")
    if rotation not in ("free", "fixed"):
        raise ValueError(f"rotation must be 'free' or 'fixed', got {rotation!r}")
    K = np.asarray(K, dtype=np.float64)
    D = np.zeros(5) if D is None else np.asarray(D, dtype=np.float64)

    usable = (conf >= min_confidence) & np.all(np.isfinite(image), axis=1) & np.all(np.isfinite(world), axis=1)
    needed = 6 if rotation == "free" else 3
    if usable.sum() < needed:
        raise CalibrationError(
            f"only {int(usable.sum())} joints have confidence >= {min_confidence} (need {needed} for rotation={rotation!r})"
        )
    index = np.flatnonzero(usable)
    world_to_optical = WORLD_TO_OPTICAL[world_convention]
    obj = world[index] @ world_to_optical.T  # world points with optical-frame axes (same origin)
    img = image[index]

    if rotation == "free":
        ok, rvec, tvec, inlier_index = cv2.solvePnPRansac(
            obj, img, K, D, iterationsCount=200, reprojectionError=reprojection_threshold_px, confidence=0.999,
            flags=cv2.SOLVEPNP_SQPNP,
        )  # fmt: skip
        if not ok or inlier_index is None or len(inlier_index) < 4:
            raise CalibrationError("PnP found no pose consistent with the confident joints")
        keep = inlier_index.reshape(-1)
        rvec, tvec = cv2.solvePnPRefineLM(obj[keep], img[keep], K, D, rvec, tvec)
        rot_optical = Rotation.from_rotvec(rvec.reshape(3))
        t_optical = tvec.reshape(3)
    else:
        rays = cv2.undistortPoints(img.reshape(-1, 1, 2), K, D).reshape(-1, 2)
        t_optical = _translation_only(obj, rays)
        keep = np.arange(len(obj))
        for _ in range(2):  # drop joints that reproject beyond the threshold, refit
            projected, _ = cv2.projectPoints(obj, np.zeros(3), t_optical, K, D)
            err = np.linalg.norm(projected.reshape(-1, 2) - img, axis=1)
            new_keep = np.flatnonzero(err <= max(reprojection_threshold_px, np.median(err)))
            if len(new_keep) < 3 or len(new_keep) == len(keep):
                break
            keep = new_keep
            t_optical = _translation_only(obj[keep], rays[keep])
        rot_optical = Rotation.identity()

    projected, _ = cv2.projectPoints(obj[keep], rot_optical.as_rotvec(), t_optical, K, D)
    rms = float(np.sqrt(np.mean(np.sum((projected.reshape(-1, 2) - img[keep]) ** 2, axis=1))))
    if t_optical[2] <= 0:
        raise CalibrationError(f"the fitted person is behind the camera (z = {t_optical[2]:.2f} m)")
    inliers = np.zeros(len(image), dtype=bool)
    inliers[index[keep]] = True
    # camera_skeleton <- world = (skeleton <- optical) * (optical <- world-in-optical-axes) * (world axes -> optical)
    to_skeleton = Rotation.from_matrix(SKELETON_TO_OPTICAL)  # its own inverse
    world_rotation = to_skeleton * rot_optical * Rotation.from_matrix(world_to_optical)
    return PersonPose(optical_to_skeleton(t_optical), world_rotation, inliers, rms)


def person_position(
    image_points: np.ndarray,
    world_points: np.ndarray,
    confidence: np.ndarray | None,
    K: np.ndarray,
    D: np.ndarray | None = None,
    min_confidence: float = 0.5,
    **options,
) -> tuple[np.ndarray, int]:
    """``(translation (3,), inlier count)``: the world landmarks' origin in the camera (skeleton convention,
    metres) and how many joints the fit used. See `person_pose` for the arguments and ``options``."""
    pose = person_pose(image_points, world_points, confidence, K, D, min_confidence, **options)
    return pose.translation, pose.num_inliers


def skeleton_in_frame(joints: np.ndarray, camera_to_target: Transform) -> np.ndarray:
    """(..., 3) joints in the skeleton camera convention -> the target frame.

    ``camera_to_target`` is ``target <- camera optical frame`` (what `camera_pose_from_board` and the
    ``extrinsics`` command write, composed with ``hand_eye``'s result for a moving head).
    """
    return camera_to_target.apply(skeleton_to_optical(joints))
