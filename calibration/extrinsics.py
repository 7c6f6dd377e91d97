"""Camera extrinsics: the camera's pose in the robot frame, from a board at a known pose or by hand-eye calibration.

All camera-side transforms are in the camera's **optical** frame (OpenCV / ROS
``camera_optical_frame``: x right, y down, z forward); see `calibration.transforms`
for the skeleton convention. Usage::

    view = board_view(corners, board.object_points, K, D)            # camera <- board
    base_from_camera = camera_pose_from_board(corners, board.object_points, K, D, board_in_base)
    head_from_camera = hand_eye(head_poses_in_base, board_views)       # head <- camera

`hand_eye` refuses motions it cannot solve from (fewer than 3 poses, relative
rotations too small, or all about one axis) with a `CalibrationError` that says
what motion to add.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence

import numpy as np
from scipy.spatial.transform import Rotation

from calibration.opencv import opencv
from calibration.transforms import Transform
from foundation.errors import CalibrationError

logger = logging.getLogger(__name__)

__all__ = ["HAND_EYE_METHODS", "board_view", "camera_pose_from_board", "check_hand_eye_motion", "hand_eye",
           "hand_eye_residual"]  # fmt: skip

HAND_EYE_METHODS = ("tsai", "park", "horaud", "andreff", "daniilidis")
"""`cv2.calibrateHandEye`'s methods, by the suffix of their ``CALIB_HAND_EYE_*`` constant."""

MAX_BOARD_REPROJECTION_PX = 10.0
"""A board view whose RMS reprojection error exceeds this is refused (wrong board spec or intrinsics)."""


def _check_correspondences(image_points: np.ndarray, object_points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    image = np.asarray(image_points, dtype=np.float64).reshape(-1, 2)
    obj = np.asarray(object_points, dtype=np.float64).reshape(-1, 3)
    if len(image) != len(obj):
        raise CalibrationError(f"{len(image)} image points but {len(obj)} object points: they must correspond one to one")
    if len(image) < 4:
        raise CalibrationError(f"need at least 4 board points to find a pose, got {len(image)}")
    if not (np.all(np.isfinite(image)) and np.all(np.isfinite(obj))):
        raise CalibrationError("board points hold non-finite values")
    return image, obj


def board_view(
    image_points: np.ndarray,
    object_points: np.ndarray,
    K: np.ndarray,
    D: np.ndarray | None,
    camera_frame: str = "camera_optical_frame",
    board_frame: str = "board",
) -> tuple[Transform, float]:
    """Pose of a board in the camera, ``camera <- board``, and the RMS reprojection error in pixels.

    ``object_points`` (N, 3) are in the board frame (metres), ``image_points``
    (N, 2) the detected pixels. A planar board (all z = 0) is solved with IPPE,
    anything else with the iterative solver; both refined with Levenberg-Marquardt.
    """
    cv2 = opencv()
    image, obj = _check_correspondences(image_points, object_points)
    K = np.asarray(K, dtype=np.float64)
    D = np.zeros(5) if D is None else np.asarray(D, dtype=np.float64)
    planar = bool(np.allclose(obj[:, 2], 0.0))
    flags = cv2.SOLVEPNP_IPPE if planar else cv2.SOLVEPNP_ITERATIVE
    ok, rvec, tvec = cv2.solvePnP(obj, image, K, D, flags=flags)
    if not ok:
        raise CalibrationError("cv2.solvePnP found no board pose")
    rvec, tvec = cv2.solvePnPRefineLM(obj, image, K, D, rvec, tvec)
    projected, _ = cv2.projectPoints(obj, rvec, tvec, K, D)
    rms = float(np.sqrt(np.mean(np.sum((projected.reshape(-1, 2) - image) ** 2, axis=1))))
    if rms > MAX_BOARD_REPROJECTION_PX:
        raise CalibrationError(
            f"board pose fits badly (RMS reprojection {rms:.1f} px > {MAX_BOARD_REPROJECTION_PX} px): "
            "check the board spec (cols, rows, square size) and the intrinsics"
        )
    if tvec.reshape(3)[2] <= 0:
        raise CalibrationError("board pose puts the board behind the camera: check the intrinsics and the point order")
    return Transform.from_cv(rvec, tvec, camera_frame, board_frame), rms


def camera_pose_from_board(
    image_points: np.ndarray,
    object_points: np.ndarray,
    K: np.ndarray,
    D: np.ndarray | None,
    board_in_base: Transform,
    camera_frame: str = "camera_optical_frame",
) -> Transform:
    """Camera pose in the base frame, ``base <- camera`` (optical frame), from one view of a board at a known pose.

    ``board_in_base`` is ``base <- board``; its child frame names the board frame.
    """
    view, rms = board_view(image_points, object_points, K, D, camera_frame, board_in_base.child_frame)
    logger.info("board view: RMS reprojection %.3f px", rms)
    return board_in_base.compose(view.inverse())


def _relative_motions(poses: Sequence[Transform]) -> list[tuple[int, int, Rotation]]:
    """Rotations ``pose_i^-1 * pose_j`` for every pair, expressed in the moving frame."""
    return [(i, j, poses[i].rotation.inv() * poses[j].rotation) for i, j in itertools.combinations(range(len(poses)), 2)]


def check_hand_eye_motion(
    robot_poses: Sequence[Transform], min_rotation_deg: float = 5.0, min_axis_spread_deg: float = 10.0
) -> None:
    """Raise `CalibrationError` unless the head motions can determine a hand-eye transform.

    AX = XB is solvable only from at least two relative motions whose rotation
    axes are not parallel: each pair of poses gives a relative rotation; those
    above ``min_rotation_deg`` count, and their axes must spread by at least
    ``min_axis_spread_deg``.
    """
    if len(robot_poses) < 3:
        raise CalibrationError(
            f"hand-eye calibration needs at least 3 poses (8 or more recommended), got {len(robot_poses)}: "
            "move the head to more poses, rotating it about two different axes (e.g. pan and tilt)"
        )
    motions = _relative_motions(robot_poses)
    angles = np.array([np.degrees(rotation.magnitude()) for _, _, rotation in motions])
    large = [rotation for (_, _, rotation), angle in zip(motions, angles) if angle >= min_rotation_deg]
    if len(large) < 2:
        raise CalibrationError(
            f"head motion is degenerate: the poses differ by at most {angles.max():.1f} deg of rotation "
            f"(need relative rotations of at least {min_rotation_deg:g} deg about two non-parallel axes): "
            "rotate the head more between poses, e.g. pan and tilt by 15-30 deg"
        )
    axes = np.array([rotation.as_rotvec() / rotation.magnitude() for rotation in large])
    cosines = np.clip(np.abs(axes @ axes.T), 0.0, 1.0)
    spread = float(np.degrees(np.arccos(cosines.min())))
    if spread < min_axis_spread_deg:
        axis = np.round(axes[0] * np.sign(axes[0][np.argmax(np.abs(axes[0]))]), 3)
        raise CalibrationError(
            f"head motion is degenerate: every relative rotation is about the same axis ({axis.tolist()} in the head "
            f"frame, spread {spread:.1f} deg < {min_axis_spread_deg:g} deg), so the camera offset along it is "
            "unobservable: add poses rotated about a second, non-parallel axis (e.g. tilt as well as pan)"
        )


def hand_eye(
    robot_poses: Sequence[Transform],
    board_views: Sequence[Transform],
    method: str = "park",
    min_rotation_deg: float = 5.0,
    min_axis_spread_deg: float = 10.0,
    max_rotation_mismatch_deg: float = 5.0,
) -> Transform:
    """Camera pose on a moving head, ``head <- camera``, by ``cv2.calibrateHandEye`` (eye-in-hand).

    The OpenCV 5.0 build this project pins exports the ``CALIB_HAND_EYE_*`` constants but not
    ``calibrateHandEye`` itself; there the ``park`` method runs a numpy implementation of the same
    closed form (Park & Martin 1994) and the other methods raise `CalibrationError`.

    Args:
        robot_poses: per view, the head (gripper) pose in the base frame, ``base <- head``.
        board_views: per view, the board pose in the camera, ``camera <- board`` (e.g. `board_view`);
            the board stays fixed in the base frame for all views.
        method: one of `HAND_EYE_METHODS` (``tsai``, ``park``, ``horaud``, ``andreff``, ``daniilidis``).
        min_rotation_deg, min_axis_spread_deg: degeneracy thresholds, see `check_hand_eye_motion`.
        max_rotation_mismatch_deg: a rigidly mounted camera rotates exactly as much as the head between two
            views; a larger median mismatch than this means the poses and the views do not correspond.

    Returns the transform ``head_frame <- camera_frame`` named after ``robot_poses[0].child_frame`` and
    ``board_views[0].parent_frame``.
    """
    if len(robot_poses) != len(board_views):
        raise CalibrationError(f"{len(robot_poses)} robot poses but {len(board_views)} board views: need one view per pose")
    if method not in HAND_EYE_METHODS:
        raise CalibrationError(f"unknown hand-eye method {method!r}; choose one of {', '.join(HAND_EYE_METHODS)}")
    check_hand_eye_motion(robot_poses, min_rotation_deg, min_axis_spread_deg)
    head_angles = np.array([r.magnitude() for _, _, r in _relative_motions(robot_poses)])
    views_inv = [view.inverse() for view in board_views]  # board <- camera: relative camera motions
    camera_angles = np.array([r.magnitude() for _, _, r in _relative_motions(views_inv)])
    mismatch = float(np.degrees(np.median(np.abs(head_angles - camera_angles))))
    if mismatch > max_rotation_mismatch_deg:
        raise CalibrationError(
            f"robot poses and board views disagree: between views the camera rotates {mismatch:.1f} deg (median) "
            "more or less than the head; check that the views are in the same order as the poses"
        )
    R, t = _solve_hand_eye(robot_poses, board_views, method)
    if not (np.all(np.isfinite(R)) and np.all(np.isfinite(t))):
        raise CalibrationError(f"hand-eye calibration ({method}) returned no solution")
    # Rotation.from_matrix re-orthonormalises (some methods return a slightly non-orthogonal matrix).
    result = Transform(robot_poses[0].child_frame, board_views[0].parent_frame, Rotation.from_matrix(R), t.reshape(3))
    dt, dr = hand_eye_residual(robot_poses, board_views, result)
    logger.info("hand-eye (%s): board-in-base spread median %.4f m, %.3f deg", method, dt, dr)
    return result


def _solve_hand_eye(
    robot_poses: Sequence[Transform], board_views: Sequence[Transform], method: str
) -> tuple[np.ndarray, np.ndarray]:
    """``(R, t)`` of ``head <- camera``: `cv2.calibrateHandEye` where this OpenCV build has it, else (``park``
    only) `_park_martin`, the same closed form in numpy."""
    cv2 = opencv()
    calibrate = getattr(cv2, "calibrateHandEye", None)
    if calibrate is None:
        if method != "park":
            raise CalibrationError(
                f"this OpenCV build ({cv2.__version__}) has no cv2.calibrateHandEye; only method 'park' "
                "(built in) is available"
            )
        return _park_martin(robot_poses, board_views)
    R_head, t_head = zip(*((pose.rotation.as_matrix(), pose.translation.reshape(3, 1)) for pose in robot_poses))
    R_board, t_board = zip(*((view.rotation.as_matrix(), view.translation.reshape(3, 1)) for view in board_views))
    return calibrate(list(R_head), list(t_head), list(R_board), list(t_board), method=getattr(cv2, f"CALIB_HAND_EYE_{method.upper()}"))


def _park_martin(robot_poses: Sequence[Transform], board_views: Sequence[Transform]) -> tuple[np.ndarray, np.ndarray]:
    """Park & Martin (1994), "Robot sensor calibration: solving AX = XB on the Euclidean group", over all pairs.

    For views i, j: ``A = head_i^-1 head_j``, ``B = cam_i cam_j^-1`` (cam = camera <- board), ``A X = X B``.
    Rotation: the log of R_A equals R_X times the log of R_B, solved as an orthogonal Procrustes problem;
    translation: ``(R_A - I) t_X = R_X t_B - t_A`` stacked, by least squares.
    """
    alphas, betas, lhs, rhs_parts = [], [], [], []
    pairs = list(itertools.combinations(range(len(robot_poses)), 2))
    motions = []
    for i, j in pairs:
        A = robot_poses[i].inverse().matrix @ robot_poses[j].matrix
        B = board_views[i].matrix @ board_views[j].inverse().matrix
        motions.append((A, B))
        alphas.append(Rotation.from_matrix(A[:3, :3]).as_rotvec())
        betas.append(Rotation.from_matrix(B[:3, :3]).as_rotvec())
    H = np.array(betas).T @ np.array(alphas)  # sum of beta alpha^T
    U, _, Vt = np.linalg.svd(H)
    sign = np.sign(np.linalg.det(Vt.T @ U.T))
    R_X = Vt.T @ np.diag([1.0, 1.0, sign]) @ U.T
    for A, B in motions:
        lhs.append(A[:3, :3] - np.eye(3))
        rhs_parts.append(R_X @ B[:3, 3] - A[:3, 3])
    t_X = np.linalg.lstsq(np.vstack(lhs), np.concatenate(rhs_parts), rcond=None)[0]
    return R_X, t_X.reshape(3, 1)


def hand_eye_residual(
    robot_poses: Sequence[Transform], board_views: Sequence[Transform], head_from_camera: Transform
) -> tuple[float, float]:
    """Consistency of a hand-eye result: the board pose in the base it implies per view (``pose @ X @ view``)
    should not move; returns the median distance (m) and rotation (deg) of those poses from their mean."""
    boards = [
        Transform(p.parent_frame, "board", p.rotation * head_from_camera.rotation * v.rotation,
                  p.apply(head_from_camera.apply(v.translation)))  # fmt: skip
        for p, v in zip(robot_poses, board_views)
    ]
    mean_t = np.mean([b.translation for b in boards], axis=0)
    mean_r = Rotation.concatenate([b.rotation for b in boards]).mean()
    dt = np.median([np.linalg.norm(b.translation - mean_t) for b in boards])
    dr = np.median([np.degrees((b.rotation.inv() * mean_r).magnitude()) for b in boards])
    return float(dt), float(dr)
