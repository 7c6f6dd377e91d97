"""Intrinsics recovered from rendered board views with a known camera (real OpenCV, no mocks).

Views are rendered by ``render_board_view`` with K = (fx=fy=800, cx=640,
cy=360), 1280x720, distortion k1=-0.1, k2=0.02, p1=0.001, p2=-0.0015, grey
noise sigma 3 and varied poses, some with the board partly outside the image.
Measured when written: chessboard fx/fy/cx/cy within 0.12 %, RMS 0.068 px;
ChArUco within 0.22 %, RMS 0.099 px. The bounds below (1 %, RMS < 0.3 px)
leave room for OpenCV version differences.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import yaml

from calibration.boards import CharucoBoard, ChessboardBoard, make_board, render_board_view
from calibration.camera_info import read_camera_info
from calibration.cli import main
from calibration.intrinsics import calibrate_intrinsics, frames_from_camera, frames_from_video, images_from_folder
from foundation.errors import CalibrationError


K_TRUE = np.array([[800.0, 0.0, 640.0], [0.0, 800.0, 360.0], [0.0, 0.0, 1.0]])
D_TRUE = np.array([-0.1, 0.02, 0.001, -0.0015, 0.0])
SIZE = (1280, 720)
NOISE = 3.0
RMS_BOUND = 0.3
CHESSBOARD = ChessboardBoard(cols=9, rows=6, square=0.03)
CHARUCO = CharucoBoard(squares_x=8, squares_y=6, square=0.035, marker=0.026)


def board_poses(board, n: int, partial: int, rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """``n`` poses (rvec, tvec) at 0.45-0.85 m, tilted up to ~35 degrees; the first ``partial`` cut by the image edge."""
    op = board.object_points
    x0, x1, y0, y1 = op[:, 0].min(), op[:, 0].max(), op[:, 1].min(), op[:, 1].max()
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2, 0.0])
    outline = np.array([[x0, y0, 0], [x1, y0, 0], [x0, y1, 0], [x1, y1, 0]], np.float64)
    poses = []
    while len(poses) < n:
        want_partial = len(poses) < partial
        rvec = rng.uniform(-0.6, 0.6, 3) * np.array([1.0, 1.0, 0.5])
        R, _ = cv2.Rodrigues(rvec)
        u = rng.choice([40.0, 1240.0]) if want_partial else rng.uniform(150, 1130)
        ray = np.linalg.solve(K_TRUE, [u, rng.uniform(120, 600), 1.0])
        tvec = ray * rng.uniform(0.45, 0.85) - R @ centre
        pixels, _ = cv2.projectPoints(outline, rvec, tvec, K_TRUE, D_TRUE)
        inside = np.all((pixels.reshape(-1, 2) >= [20, 20]) & (pixels.reshape(-1, 2) <= [1260, 700]), axis=1)
        if inside.all() != want_partial:
            poses.append((rvec, tvec))
    return poses


def render_views(board, n: int, partial: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [render_board_view(board, K_TRUE, D_TRUE, r, t, SIZE, NOISE, rng) for r, t in board_poses(board, n, partial, rng)]


def assert_intrinsics_close(K: np.ndarray, tolerance: float = 0.01) -> None:
    for (i, j), name in zip([(0, 0), (1, 1), (0, 2), (1, 2)], ["fx", "fy", "cx", "cy"]):
        assert abs(K[i, j] - K_TRUE[i, j]) / K_TRUE[i, j] < tolerance, f"{name}={K[i, j]:.2f}, true {K_TRUE[i, j]}"


@pytest.fixture(scope="module")
def chess_views() -> list[np.ndarray]:
    return render_views(CHESSBOARD, n=16, partial=3, seed=1)


@pytest.fixture(scope="module")
def chess_result(chess_views):
    return calibrate_intrinsics(chess_views, CHESSBOARD)


@pytest.fixture(scope="module")
def charuco_views() -> list[np.ndarray]:
    return render_views(CHARUCO, n=16, partial=4, seed=2)


def test_rendered_corners_lie_at_the_true_projection():
    rng = np.random.default_rng(5)
    for board in (CHESSBOARD, CHARUCO):
        for rvec, tvec in board_poses(board, 2, 0, rng):
            image_points, object_points = board.detect(render_board_view(board, K_TRUE, D_TRUE, rvec, tvec, SIZE))
            true, _ = cv2.projectPoints(object_points.astype(np.float64), rvec, tvec, K_TRUE, D_TRUE)
            true = true.reshape(-1, 2)
            if isinstance(board, ChessboardBoard) and np.linalg.norm(true - image_points, axis=1).mean() > 5:
                true = true[::-1]  # the chessboard's 180 degree ambiguity: same corners, reverse order
            # Detector noise is ~0.05-0.2 px per view; a rendering error (half-pixel shift, wrong
            # distortion direction) would show as a systematic offset or errors of pixels.
            assert np.linalg.norm(true - image_points, axis=1).mean() < 0.25
            assert np.linalg.norm((image_points - true).mean(axis=0)) < 0.1


def test_chessboard_recovers_known_camera(chess_result):
    assert_intrinsics_close(chess_result.camera_info.K)
    assert chess_result.rms < RMS_BOUND
    D = chess_result.camera_info.D
    assert D[0] == pytest.approx(D_TRUE[0], abs=0.01) and D[1] == pytest.approx(D_TRUE[1], abs=0.01)
    assert (chess_result.camera_info.width, chess_result.camera_info.height) == SIZE


def test_chessboard_partial_views_rejected_as_no_board(chess_result):
    assert chess_result.rejected == {"no board": 3, "blurred": 0, "duplicate": 0}
    assert [v for v, _ in chess_result.rejected_views] == ["view 0", "view 1", "view 2"]
    assert len(chess_result.views_used) == 13
    ids = [v for v, _ in chess_result.per_view_rms]
    assert ids == chess_result.views_used and ids[0] == "view 3"
    assert all(0 < rms < RMS_BOUND for _, rms in chess_result.per_view_rms)
    assert 0.3 < chess_result.coverage <= 1.0


def test_charuco_recovers_known_camera_using_partial_views(charuco_views):
    result = calibrate_intrinsics(charuco_views, CHARUCO)
    assert_intrinsics_close(result.camera_info.K)
    assert result.rms < RMS_BOUND
    assert len(result.views_used) == 16, result.rejected_views  # partial views are used
    full = len(CHARUCO.object_points)
    counts = [len(CHARUCO.detect(v)[0]) for v in charuco_views[:4]]
    assert all(c < full for c in counts), counts


def test_blurred_and_duplicate_views_are_rejected(chess_views):
    good = chess_views[3:8]
    blurred = cv2.GaussianBlur(chess_views[8], (0, 0), 3.0)
    result = calibrate_intrinsics([*good, blurred, good[0].copy()], CHESSBOARD, min_views=3)
    assert result.rejected == {"no board": 0, "blurred": 1, "duplicate": 1}
    assert result.rejected_views == [("view 5", "blurred"), ("view 6", "duplicate")]
    assert len(result.views_used) == 5


def test_too_few_views_is_a_clear_error(chess_views, tmp_path):
    for i, image in enumerate(chess_views[3:5]):
        cv2.imwrite(str(tmp_path / f"{i}.png"), image)
    with pytest.raises(CalibrationError, match=r"need at least 5 views with the board, found 2 of 2"):
        calibrate_intrinsics(images_from_folder(tmp_path), CHESSBOARD)


def test_no_board_anywhere_names_the_count():
    rng = np.random.default_rng(0)
    blank = [np.clip(rng.normal(128, 20, (720, 1280)), 0, 255).astype(np.uint8) for _ in range(3)]
    with pytest.raises(CalibrationError, match=r"found 0 of 3 \(0 blurred, 0 duplicates, 3 without a board\)"):
        calibrate_intrinsics(blank, CHARUCO)


def test_mixed_image_sizes_and_empty_input_are_refused(charuco_views):
    with pytest.raises(CalibrationError, match="all views must come from one camera mode"):
        calibrate_intrinsics([charuco_views[5], cv2.resize(charuco_views[6], (640, 360))], CHARUCO, min_views=3)
    with pytest.raises(CalibrationError, match="no images"):
        calibrate_intrinsics([], CHARUCO)


def test_video_source_takes_every_kth_frame(charuco_views, tmp_path):
    path = tmp_path / "sweep.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, SIZE)
    if not writer.isOpened():
        pytest.skip("this OpenCV build cannot write MJPG video")
    for image in charuco_views[4:12]:
        writer.write(image)
    writer.release()
    frames = list(frames_from_video(path, every=2))
    assert [name for name, _ in frames] == ["sweep.avi#0", "sweep.avi#2", "sweep.avi#4", "sweep.avi#6"]
    result = calibrate_intrinsics(frames_from_video(path, every=1), CHARUCO)
    assert len(result.views_used) == 8
    assert_intrinsics_close(result.camera_info.K, tolerance=0.02)  # JPEG-compressed frames


def test_bad_sources_are_clear_errors(tmp_path):
    with pytest.raises(CalibrationError, match="no such video"):
        frames_from_video(tmp_path / "absent.mp4")
    (tmp_path / "not_a_video.mp4").write_text("hello")
    with pytest.raises(CalibrationError, match="cannot open video"):
        frames_from_video(tmp_path / "not_a_video.mp4")
    with pytest.raises(CalibrationError, match="camera 97: cannot open"):
        frames_from_camera(97)
    with pytest.raises(CalibrationError, match="no image files"):
        images_from_folder(tmp_path)
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(CalibrationError, match="broken.png: cannot decode"):
        list(images_from_folder(tmp_path))


def test_make_board_validates():
    assert make_board("charuco", 8, 6, 0.04).marker == pytest.approx(0.03)
    with pytest.raises(ValueError, match="unknown pattern"):
        make_board("circles", 4, 11, 0.02)
    with pytest.raises(ValueError, match="marker size"):
        make_board("charuco", 8, 6, 0.04, marker=0.05)
    with pytest.raises(ValueError, match="dictionary"):
        make_board("charuco", 8, 6, 0.04, dictionary="DICT_NOPE")


def test_cli_end_to_end(chess_views, tmp_path, capsys):
    folder = tmp_path / "boards"
    folder.mkdir()
    for i, image in enumerate(chess_views[:11]):
        cv2.imwrite(str(folder / f"view_{i:02d}.png"), image)
    output = tmp_path / "camera.yaml"
    argv = ["intrinsics", "--images", str(folder), "--pattern", "chessboard", "--cols", "9", "--rows", "6",
            "--square", "0.03", "--camera-name", "head", "--output", str(output)]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "view_05.png" in out and "total RMS reprojection error" in out and "coverage" in out
    assert "3 no board" in out
    info = read_camera_info(output)
    assert info.camera_name == "head" and (info.width, info.height) == SIZE
    assert_intrinsics_close(info.K, tolerance=0.02)
    assert yaml.safe_load(output.read_text())["distortion_model"] == "plumb_bob"


def test_cli_folder_without_boards_fails_with_one_line(tmp_path, capsys):
    folder = tmp_path / "empty_scenes"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"{i}.png"), np.full((240, 320, 3), 90 + 40 * i, np.uint8))
    argv = ["intrinsics", "--images", str(folder), "--pattern", "charuco", "--cols", "8", "--rows", "6",
            "--square", "0.035", "--output", str(tmp_path / "camera.yaml")]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("stream-calibrate: error: need at least 5 views"), err
    assert "3 without a board" in err[0]
    assert not (tmp_path / "camera.yaml").exists()
