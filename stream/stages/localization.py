"""Placing people in the robot's frame: camera intrinsics + camera-to-robot extrinsics (`calibration`).

MediaPipe's world landmarks are metric but hip-centred; with the camera's
intrinsics, PnP between a person's image points and those landmarks recovers
where the person is in the camera frame. Kinect and synthetic skeletons are
already in the camera frame. With an extrinsic (``base ← camera optical
frame``, from `stream-calibrate extrinsics`), every skeleton and each person's
position are published in the robot's frame, named in every message.
"""

from __future__ import annotations

import logging

import numpy as np

from calibration.camera_info import CameraInfo
from calibration.person_position import person_pose, skeleton_in_frame
from calibration.transforms import Transform
from foundation.errors import CalibrationError
from models.skeleton.layouts import get_layout
from stream.types import Person

logger = logging.getLogger(__name__)
ROOTS = {"mediapipe_33": ("hip_left", "hip_right"), "coco_17": ("hip_left", "hip_right")}


def root_position(joints: np.ndarray, layout: str) -> np.ndarray:
    """The person's position: the mid-hip point, or the layout's root joint (spine_base, hip_center)."""
    spec = get_layout(layout)
    if layout in ROOTS:
        left, right = (spec.index(name) for name in ROOTS[layout])
        return (joints[left] + joints[right]) / 2
    root = int(np.flatnonzero(spec.parent_indices == np.arange(spec.num_joints))[0])
    return joints[root]


class Localizer:
    """Skeletons and positions in ``frame_id`` (the extrinsic's parent frame, else "camera")."""

    def __init__(self, intrinsics: CameraInfo | None = None, extrinsics: Transform | None = None) -> None:
        self.intrinsics = intrinsics
        self.extrinsics = extrinsics
        self.failed = 0  # people whose position could not be recovered (too few confident joints)

    @property
    def frame_id(self) -> str:
        return self.extrinsics.parent_frame if self.extrinsics is not None else "camera"

    def place(self, person: Person) -> tuple[np.ndarray, np.ndarray | None]:
        """(V, 3) joints in ``frame_id`` and the person's (3,) position there, or None when unknown."""
        joints = np.asarray(person.joints, dtype=np.float64)
        if joints.shape[-1] != 3:
            return joints, None  # 2D keypoints: nothing to place
        if person.layout == "mediapipe_33":  # hip-centred world landmarks: place them by PnP
            if self.intrinsics is None or person.image_points is None:
                return joints, None
            K, D = self.intrinsics.to_cv()
            try:
                pose = person_pose(person.image_points, joints, person.confidence, K, D)
            except CalibrationError as error:
                self.failed += 1
                logger.debug("cannot place a person: %s", error)
                return joints, None
            joints = pose.to_camera(joints)
        if self.extrinsics is not None:
            joints = skeleton_in_frame(joints, self.extrinsics)
        return joints, root_position(joints, person.layout)
