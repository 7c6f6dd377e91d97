"""Rigid transforms between named frames, their YAML files, and the skeleton/optical camera conventions.

A `Transform` maps points from its ``child_frame`` into its ``parent_frame``
(``p_parent = R @ p_child + t``), the meaning of a ROS ``geometry_msgs/Transform``
stamped ``header.frame_id = parent``, ``child_frame_id = child``. ``a.compose(b)``
(or ``a @ b``) chains ``parent <- a.child == b.parent <- child``.

File format (quaternion in ROS order x, y, z, w)::

    parent_frame: base_link
    child_frame: camera_optical_frame
    translation: {x: 0.6, y: 0.0, z: 1.2}
    rotation: {x: 0.0, y: 0.0, z: 0.0, w: 1.0}

Camera conventions. Two camera frames share the same origin and differ by a
180 degree rotation about the optical axis:

* the **optical** frame of OpenCV and ROS ``*_optical_frame``: x right in the
  image, y down, z forward (out of the lens). Intrinsics, `cv2.solvePnP` and the
  extrinsics/hand-eye transforms here use it.
* the **skeleton** frame skelstream stores 3D skeletons in
  (`models.skeleton.layouts`, the Kinect camera space): x to the camera's left,
  y up, z forward.

``p_optical = SKELETON_TO_OPTICAL @ p_skeleton`` with
``SKELETON_TO_OPTICAL = diag(-1, -1, 1)`` (its own inverse); see
`skeleton_to_optical` / `optical_to_skeleton`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml
from scipy.spatial.transform import Rotation

from foundation.errors import CalibrationError
from foundation.output_files import write_atomically
from foundation.yaml_files import quote
from foundation.yaml_files import read_yaml

__all__ = [
    "SKELETON_TO_OPTICAL",
    "Transform",
    "optical_to_skeleton",
    "read_transform",
    "skeleton_to_optical",
    "write_transform",
]

SKELETON_TO_OPTICAL = np.diag([-1.0, -1.0, 1.0])
"""Rotation taking skeleton-convention camera coordinates (x left, y up, z forward) to the optical frame."""


def skeleton_to_optical(points: np.ndarray) -> np.ndarray:
    """(..., 3) points in the skeleton camera convention -> the OpenCV/ROS optical frame (same origin)."""
    return np.asarray(points, dtype=np.float64) * np.array([-1.0, -1.0, 1.0])


def optical_to_skeleton(points: np.ndarray) -> np.ndarray:
    """(..., 3) points in the OpenCV/ROS optical frame -> the skeleton camera convention (same origin)."""
    return np.asarray(points, dtype=np.float64) * np.array([-1.0, -1.0, 1.0])


def _as_rotation(rotation: Rotation | np.ndarray) -> Rotation:
    if isinstance(rotation, Rotation):
        return rotation
    matrix = np.asarray(rotation, dtype=np.float64)
    if matrix.shape == (3,):  # a rotation vector, as cv2 returns
        return Rotation.from_rotvec(matrix)
    if matrix.shape == (3, 1):
        return Rotation.from_rotvec(matrix[:, 0])
    if matrix.shape != (3, 3):
        raise ValueError(f"rotation must be a scipy Rotation, a 3x3 matrix or a rotation vector, got shape {matrix.shape}")
    if not np.all(np.isfinite(matrix)):
        raise ValueError("rotation matrix holds non-finite values")
    if abs(np.linalg.det(matrix) - 1.0) > 1e-3 or not np.allclose(matrix @ matrix.T, np.eye(3), atol=1e-3):
        raise ValueError(f"rotation matrix is not a proper rotation (det {np.linalg.det(matrix):.4f})")
    return Rotation.from_matrix(matrix)


@dataclass(frozen=True)
class Transform:
    """Rigid transform ``parent_frame <- child_frame``: ``p_parent = rotation.apply(p_child) + translation``.

    ``rotation`` accepts a scipy `Rotation`, a 3x3 rotation matrix or a rotation
    vector (stored as a `Rotation`); ``translation`` is (3,) metres.
    """

    parent_frame: str
    child_frame: str
    rotation: Rotation = field(default_factory=Rotation.identity)
    translation: np.ndarray = field(default_factory=lambda: np.zeros(3))

    def __post_init__(self) -> None:
        for name in ("parent_frame", "child_frame"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"{name} must be a non-empty string, got {value!r}")
        object.__setattr__(self, "rotation", _as_rotation(self.rotation))
        translation = np.asarray(self.translation, dtype=np.float64).reshape(-1)
        if translation.shape != (3,) or not np.all(np.isfinite(translation)):
            raise ValueError(f"translation must be 3 finite numbers, got {self.translation!r}")
        object.__setattr__(self, "translation", translation)

    @classmethod
    def from_matrix(cls, matrix: np.ndarray, parent_frame: str, child_frame: str) -> Transform:
        """From a 4x4 homogeneous matrix."""
        matrix = np.asarray(matrix, dtype=np.float64)
        if matrix.shape != (4, 4):
            raise ValueError(f"expected a 4x4 matrix, got shape {matrix.shape}")
        return cls(parent_frame, child_frame, matrix[:3, :3], matrix[:3, 3])

    @classmethod
    def from_cv(cls, rvec: np.ndarray, tvec: np.ndarray, parent_frame: str, child_frame: str) -> Transform:
        """From OpenCV's ``(rvec, tvec)`` (e.g. `cv2.solvePnP`: camera <- object)."""
        return cls(parent_frame, child_frame, np.asarray(rvec, dtype=np.float64).reshape(3), tvec)

    @property
    def matrix(self) -> np.ndarray:
        """4x4 homogeneous matrix."""
        out = np.eye(4)
        out[:3, :3] = self.rotation.as_matrix()
        out[:3, 3] = self.translation
        return out

    def apply(self, points: np.ndarray) -> np.ndarray:
        """Map (N, 3) or (3,) points from ``child_frame`` to ``parent_frame``."""
        points = np.asarray(points, dtype=np.float64)
        if points.shape[-1] != 3:
            raise ValueError(f"points must have 3 coordinates in the last axis, got shape {points.shape}")
        flat = points.reshape(-1, 3)
        return (self.rotation.apply(flat) + self.translation).reshape(points.shape)

    def inverse(self) -> Transform:
        """``child_frame <- parent_frame``."""
        inv = self.rotation.inv()
        return Transform(self.child_frame, self.parent_frame, inv, -inv.apply(self.translation))

    def compose(self, other: Transform) -> Transform:
        """``self.parent <- other.child``; ``self.child_frame`` must equal ``other.parent_frame``."""
        if self.child_frame != other.parent_frame:
            raise ValueError(
                f"cannot compose {self.parent_frame}<-{self.child_frame} with {other.parent_frame}<-{other.child_frame}: "
                f"{self.child_frame!r} != {other.parent_frame!r}"
            )
        return Transform(
            self.parent_frame,
            other.child_frame,
            self.rotation * other.rotation,
            self.rotation.apply(other.translation) + self.translation,
        )

    def __matmul__(self, other: Transform) -> Transform:
        return self.compose(other)

    def distance_to(self, other: Transform) -> tuple[float, float]:
        """``(translation difference in metres, rotation difference in degrees)`` to another transform."""
        dt = float(np.linalg.norm(self.translation - other.translation))
        dr = float(np.degrees((self.rotation.inv() * other.rotation).magnitude()))
        return dt, dr

    def __repr__(self) -> str:
        x, y, z = self.translation
        qx, qy, qz, qw = self.rotation.as_quat()
        return (
            f"Transform({self.parent_frame}<-{self.child_frame}, t=[{x:.4f}, {y:.4f}, {z:.4f}], "
            f"q_xyzw=[{qx:.4f}, {qy:.4f}, {qz:.4f}, {qw:.4f}])"
        )


def transform_to_dict(transform: Transform) -> dict:
    """The YAML document of a transform (plain floats, quaternion x y z w with w >= 0)."""
    quat = transform.rotation.as_quat()
    if quat[3] < 0:
        quat = -quat
    x, y, z = (float(v) for v in transform.translation)
    qx, qy, qz, qw = (float(v) for v in quat)
    return {
        "parent_frame": transform.parent_frame,
        "child_frame": transform.child_frame,
        "translation": {"x": x, "y": y, "z": z},
        "rotation": {"x": qx, "y": qy, "z": qz, "w": qw},
    }


def write_transform(transform: Transform, path: str | Path) -> Path:
    """Write ``transform`` as YAML to ``path`` safely (`foundation.output_files.write_atomically`: parent folders
    created, a temporary file renamed into place); returns the path."""
    path = Path(path)
    write_atomically(path, yaml.safe_dump(transform_to_dict(transform), sort_keys=False))
    return path


def _numbers(doc: dict, key: str, names: str, path: Path) -> list[float]:
    entry = doc.get(key)
    if not isinstance(entry, dict):
        raise CalibrationError(f"{path}: missing or malformed key {key!r} (expected a mapping with {', '.join(names)})")
    values = []
    for name in names:
        if name not in entry:
            raise CalibrationError(f"{path}: key {key}.{name} is missing")
        value = entry[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not _finite(value):
            raise CalibrationError(f"{path}: key {key}.{name} must be a finite number, got {quote(value)}")
        values.append(float(value))
    return values


def _finite(value: int | float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def transform_from_dict(doc: object, path: str | Path = "<transform>") -> Transform:
    """Parse the YAML document `transform_to_dict` writes; errors name ``path`` and the key."""
    path = Path(path)
    if not isinstance(doc, dict):
        raise CalibrationError(f"{path}: expected a mapping with parent_frame, child_frame, translation, rotation")
    frames = []
    for key in ("parent_frame", "child_frame"):
        value = doc.get(key)
        if not isinstance(value, str) or not value:
            raise CalibrationError(f"{path}: key {key!r} must be a non-empty frame name, got {quote(value)}")
        frames.append(value)
    translation = _numbers(doc, "translation", "xyz", path)
    quat = np.array(_numbers(doc, "rotation", "xyzw", path))
    norm = np.linalg.norm(quat)
    if abs(norm - 1.0) > 1e-3:
        raise CalibrationError(f"{path}: key 'rotation' is not a unit quaternion (norm {norm:.6f})")
    return Transform(frames[0], frames[1], Rotation.from_quat(quat / norm), translation)


def read_transform(path: str | Path) -> Transform:
    """Read a transform YAML file; raises CalibrationError naming the file and the bad key."""
    path = Path(path)
    return transform_from_dict(read_yaml(path, "transform", CalibrationError), path)
