"""Camera intrinsics from views of a calibration board (OpenCV's ``calibrateCamera``).

Views are screened before calibrating: a view without the board, a blurred
view (variance of the Laplacian over the board's area below a threshold) and
a duplicate (its corners within a few pixels of an accepted view's) are
rejected and counted. The result carries the total and per-view RMS
reprojection error and the fraction of the image the corners covered::

    board = ChessboardBoard(cols=9, rows=6, square=0.025)
    result = calibrate_intrinsics(images_from_folder("boards/"), board)
    print(format_report(result))
    write_camera_info(result.camera_info, "camera.yaml")

Image sources yield ``(view_id, image)`` pairs: ``images_from_folder``,
``frames_from_video`` (every k-th frame) and ``frames_from_camera``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from calibration.boards import Board, to_gray
from calibration.camera_info import CameraInfo
from calibration.opencv import opencv
from foundation.errors import CalibrationError

logger = logging.getLogger(__name__)

__all__ = [
    "IMAGE_SUFFIXES",
    "IntrinsicsResult",
    "REJECT_BLURRED",
    "REJECT_DUPLICATE",
    "REJECT_NO_BOARD",
    "calibrate_intrinsics",
    "format_report",
    "frames_from_camera",
    "frames_from_video",
    "images_from_folder",
    "sharpness",
]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm")
REJECT_NO_BOARD = "no board"
REJECT_BLURRED = "blurred"
REJECT_DUPLICATE = "duplicate"
COVERAGE_GRID = 10  # the image is split into COVERAGE_GRID x COVERAGE_GRID cells for coverage


@dataclass
class IntrinsicsResult:
    """What ``calibrate_intrinsics`` found.

    ``per_view_rms`` lists ``(view_id, rms_px)`` for every view used;
    ``rejected`` counts the views dropped per reason (``no board``,
    ``blurred``, ``duplicate``) and ``rejected_views`` names them;
    ``coverage`` is the fraction of the image's 10x10 cells holding at least
    one detected corner.
    """

    camera_info: CameraInfo
    rms: float
    per_view_rms: list[tuple[str, float]]
    coverage: float
    views_used: list[str]
    rejected: dict[str, int] = field(default_factory=dict)
    rejected_views: list[tuple[str, str]] = field(default_factory=list)


def sharpness(gray: np.ndarray, image_points: np.ndarray | None = None) -> float:
    """Variance of the Laplacian, over the bounding box of ``image_points`` when given."""
    cv2 = opencv()
    if image_points is not None and len(image_points):
        h, w = gray.shape[:2]
        x0, y0 = np.floor(image_points.min(axis=0)).astype(int)
        x1, y1 = np.ceil(image_points.max(axis=0)).astype(int)
        gray = gray[max(y0, 0) : min(y1 + 1, h), max(x0, 0) : min(x1 + 1, w)]
    if gray.size < 9:
        return 0.0
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def _is_duplicate(image_points: np.ndarray, object_points: np.ndarray,
                  accepted: list[tuple[np.ndarray, np.ndarray]], threshold: float) -> bool:  # fmt: skip
    """True when an accepted view holds most of these corners within ``threshold`` px (median)."""
    keys = {tuple(p): i for i, p in enumerate(np.round(object_points * 1e5).astype(np.int64).tolist())}
    for prev_image, prev_object in accepted:
        pairs = [(keys[k], j) for j, k in enumerate(map(tuple, np.round(prev_object * 1e5).astype(np.int64).tolist()))
                 if k in keys]  # fmt: skip
        if len(pairs) < 0.8 * max(len(object_points), len(prev_object)):
            continue
        mine, theirs = np.array(pairs).T
        if np.median(np.linalg.norm(image_points[mine] - prev_image[theirs], axis=1)) < threshold:
            return True
    return False


def _coverage(points: list[np.ndarray], width: int, height: int, grid: int = COVERAGE_GRID) -> float:
    cells = np.zeros((grid, grid), bool)
    for p in points:
        cx = np.clip((p[:, 0] / width * grid).astype(int), 0, grid - 1)
        cy = np.clip((p[:, 1] / height * grid).astype(int), 0, grid - 1)
        cells[cy, cx] = True
    return float(cells.mean())


def _views(images: Iterable) -> Iterator[tuple[str, np.ndarray]]:
    for index, item in enumerate(images):
        if isinstance(item, tuple) and len(item) == 2:
            yield str(item[0]), item[1]
        else:
            yield f"view {index}", item


def calibrate_intrinsics(images: Iterable, board: Board, *, min_views: int = 5, blur_threshold: float = 100.0,
                         duplicate_threshold: float = 3.0, camera_name: str = "camera",
                         fix_k3: bool = True) -> IntrinsicsResult:  # fmt: skip
    """Calibrate a camera from views of ``board``.

    ``images`` yields BGR or grey arrays, or ``(view_id, array)`` pairs. A
    view whose board area has a Laplacian variance below ``blur_threshold``
    is rejected as blurred; one whose corners lie within
    ``duplicate_threshold`` px (median) of an accepted view's is a duplicate.
    ``fix_k3`` keeps the 6th-order radial term at zero (the ``plumb_bob``
    k3), which few views cannot pin down. Raises CalibrationError when fewer
    than ``min_views`` views remain.
    """
    cv2 = opencv()
    if min_views < 3:
        raise ValueError(f"min_views must be at least 3, got {min_views}")
    size: tuple[int, int] | None = None
    accepted: list[tuple[str, np.ndarray, np.ndarray]] = []
    rejected = {REJECT_NO_BOARD: 0, REJECT_BLURRED: 0, REJECT_DUPLICATE: 0}
    rejected_views: list[tuple[str, str]] = []
    seen = 0
    for view_id, image in _views(images):
        seen += 1
        if image is None or np.asarray(image).size == 0:
            raise CalibrationError(f"{view_id}: empty image")
        gray = to_gray(image)
        view_size = (gray.shape[1], gray.shape[0])
        if size is None:
            size = view_size
        elif view_size != size:
            raise CalibrationError(f"{view_id}: image is {view_size[0]}x{view_size[1]}, earlier views are "
                                   f"{size[0]}x{size[1]}; all views must come from one camera mode")  # fmt: skip
        reason = None
        found = board.detect(gray)
        if found is None:
            reason = REJECT_NO_BOARD
        else:
            image_points, object_points = found
            score = sharpness(gray, image_points)
            if score < blur_threshold:
                reason = REJECT_BLURRED
                logger.debug("%s: sharpness %.1f below %.1f", view_id, score, blur_threshold)
            elif _is_duplicate(image_points, object_points, [(a[1], a[2]) for a in accepted], duplicate_threshold):
                reason = REJECT_DUPLICATE
        if reason is not None:
            rejected[reason] += 1
            rejected_views.append((view_id, reason))
            logger.info("%s: rejected (%s)", view_id, reason)
            continue
        accepted.append((view_id, image_points, object_points))
    if seen == 0:
        raise CalibrationError("no images to calibrate from")
    if len(accepted) < min_views:
        raise CalibrationError(
            f"need at least {min_views} views with the board, found {len(accepted)} of {seen} "
            f"({rejected[REJECT_BLURRED]} blurred, {rejected[REJECT_DUPLICATE]} duplicates, "
            f"{rejected[REJECT_NO_BOARD]} without a board)"
        )
    assert size is not None
    object_points = [a[2].astype(np.float32).reshape(-1, 1, 3) for a in accepted]
    image_points = [a[1].astype(np.float32).reshape(-1, 1, 2) for a in accepted]
    flags = cv2.CALIB_FIX_K3 if fix_k3 else 0
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-12)
    try:
        rms, K, D, rvecs, tvecs = cv2.calibrateCamera(object_points, image_points, size, None, None,
                                                       flags=flags, criteria=criteria)  # fmt: skip
    except cv2.error as exc:
        raise CalibrationError(f"OpenCV calibration failed: {str(exc).strip().splitlines()[-1]}") from None
    if not (np.all(np.isfinite(K)) and np.all(np.isfinite(D))):
        raise CalibrationError("calibration diverged (non-finite camera matrix); add views at varied angles")
    per_view = []
    for (view_id, _, _), obj, img, rvec, tvec in zip(accepted, object_points, image_points, rvecs, tvecs):
        projected, _ = cv2.projectPoints(obj, rvec, tvec, K, D)
        err = np.sqrt(np.mean(np.sum((projected.reshape(-1, 2) - img.reshape(-1, 2)) ** 2, axis=1)))
        per_view.append((view_id, float(err)))
    info = CameraInfo(width=size[0], height=size[1], camera_name=camera_name, K=K, D=D.reshape(-1)[:5])
    return IntrinsicsResult(
        camera_info=info,
        rms=float(rms),
        per_view_rms=per_view,
        coverage=_coverage([a[1] for a in accepted], *size),
        views_used=[a[0] for a in accepted],
        rejected={k: v for k, v in rejected.items()},
        rejected_views=rejected_views,
    )


def format_report(result: IntrinsicsResult) -> str:
    """A short plain-text report: per-view RMS, total RMS, coverage, rejected counts, K and D."""
    width = max([len(v) for v, _ in result.per_view_rms] + [4])
    lines = [f"{'view':<{width}}  rms [px]"]
    lines += [f"{view:<{width}}  {rms:8.3f}" for view, rms in result.per_view_rms]
    info = result.camera_info
    K, D = info.to_cv()
    rejected = ", ".join(f"{n} {reason}" for reason, n in result.rejected.items())
    lines += [
        f"views used: {len(result.views_used)}; rejected: {rejected}",
        f"total RMS reprojection error: {result.rms:.3f} px",
        f"image coverage: {100 * result.coverage:.0f} % of {COVERAGE_GRID}x{COVERAGE_GRID} cells",
        f"image size: {info.width}x{info.height}",
        f"fx={K[0, 0]:.2f} fy={K[1, 1]:.2f} cx={K[0, 2]:.2f} cy={K[1, 2]:.2f}",
        "distortion (k1 k2 p1 p2 k3): " + " ".join(f"{d:.5f}" for d in D),
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Image sources


def images_from_folder(folder: str | Path) -> Iterator[tuple[str, np.ndarray]]:
    """``(file name, BGR image)`` for every image file in ``folder``, sorted by name."""
    cv2 = opencv()
    folder = Path(folder)
    if not folder.is_dir():
        raise CalibrationError(f"{folder}: not a folder of images")
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not paths:
        raise CalibrationError(f"{folder}: no image files ({', '.join(IMAGE_SUFFIXES)})")

    def generate() -> Iterator[tuple[str, np.ndarray]]:
        for path in paths:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                raise CalibrationError(f"{path}: cannot decode image")
            yield path.name, image

    return generate()


def _frames(capture: Any, label: str, every: int, max_frames: int | None) -> Iterator[tuple[str, np.ndarray]]:
    try:
        index = taken = 0
        while max_frames is None or taken < max_frames:
            ok, frame = capture.read()
            if not ok:
                break
            if index % every == 0:
                taken += 1
                yield f"{label}#{index}", frame
            index += 1
    finally:
        capture.release()


def frames_from_video(path: str | Path, every: int = 15, max_frames: int | None = None) -> Iterator[tuple[str, np.ndarray]]:
    """Every ``every``-th frame of a video file, as ``("name#frame", BGR image)``."""
    cv2 = opencv()
    if every < 1:
        raise ValueError(f"every must be at least 1, got {every}")
    path = Path(path)
    if not path.is_file():
        raise CalibrationError(f"{path}: no such video file")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise CalibrationError(f"{path}: cannot open video (unsupported codec or not a video)")
    return _frames(capture, path.name, every, max_frames)


def frames_from_camera(index: int, frames: int = 40, every: int = 15) -> Iterator[tuple[str, np.ndarray]]:
    """``frames`` frames from camera ``index``, one every ``every`` frames (move the board meanwhile)."""
    cv2 = opencv()
    if every < 1 or frames < 1:
        raise ValueError(f"frames and every must be at least 1, got {frames}, {every}")
    capture = cv2.VideoCapture(int(index))
    if not capture.isOpened():
        capture.release()
        raise CalibrationError(f"camera {index}: cannot open (not connected, or in use by another process)")
    return _frames(capture, f"camera{index}", every, frames)
