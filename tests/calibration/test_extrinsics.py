"""Transforms, board extrinsics and hand-eye calibration on synthetic views with known answers.

Measured (seeded, 0.3 px corner noise, 9x6 board of 25 mm at 0.4-0.8 m, K f=800 at 1280x720):
board extrinsics over 50 random views: median 0.14 cm / 0.13 deg, max 0.65 cm / 0.49 deg;
hand-eye (park, 10 head poses, pan +-30, tilt +-25, roll +-10 deg) over 20 trials:
median 0.23 cm / 0.13 deg, max 0.44 cm / 0.21 deg. Bounds below: 1 cm and 1 deg.
"""

from __future__ import annotations

import argparse

import numpy as np
import pytest
import yaml
from scipy.spatial.transform import Rotation

from calibration.extrinsics import board_view, camera_pose_from_board, hand_eye, hand_eye_residual
from calibration.transforms import (
    Transform,
    optical_to_skeleton,
    read_transform,
    skeleton_to_optical,
    write_transform,
)
from foundation.errors import CalibrationError


K = np.array([[800.0, 0.0, 640.0], [0.0, 800.0, 360.0], [0.0, 0.0, 1.0]])
D = np.zeros(5)
BOARD_POINTS = np.array([[c * 0.025, r * 0.025, 0.0] for r in range(6) for c in range(9)])
NOISE_PX = 0.3


def project(camera_from_board: Transform, rng: np.random.Generator) -> np.ndarray:
    points = camera_from_board.apply(BOARD_POINTS)
    pixels = points[:, :2] / points[:, 2:] * K[0, 0] + K[:2, 2]
    return pixels + rng.normal(0.0, NOISE_PX, pixels.shape)


def random_view(rng: np.random.Generator) -> Transform:
    rotation = Rotation.from_euler("xyz", rng.uniform(-30, 30, 3), degrees=True) * Rotation.from_euler("x", 180, degrees=True)
    translation = [rng.uniform(-0.1, 0.0), rng.uniform(-0.1, 0.0), rng.uniform(0.4, 0.8)]
    return Transform("camera_optical_frame", "board", rotation, translation)


# ---------------------------------------------------------------------------------------------- transforms


def random_transform(rng, parent="a", child="b") -> Transform:
    return Transform(parent, child, Rotation.random(random_state=int(rng.integers(1 << 30))), rng.normal(size=3))


def test_transform_compose_inverse_apply():
    rng = np.random.default_rng(1)
    ab, bc = random_transform(rng, "a", "b"), random_transform(rng, "b", "c")
    points = rng.normal(size=(7, 3))
    ac = ab @ bc
    assert (ac.parent_frame, ac.child_frame) == ("a", "c")
    np.testing.assert_allclose(ac.apply(points), ab.apply(bc.apply(points)), atol=1e-12)
    np.testing.assert_allclose(ab.inverse().apply(ab.apply(points)), points, atol=1e-12)
    np.testing.assert_allclose((ab @ ab.inverse()).matrix, np.eye(4), atol=1e-12)
    with pytest.raises(ValueError, match="cannot compose"):
        ab.compose(ab)
    # A 3x3 matrix and a rotation vector are accepted; a reflection is not.
    assert Transform("a", "b", ab.rotation.as_matrix(), ab.translation).distance_to(ab) == pytest.approx((0, 0), abs=1e-6)
    with pytest.raises(ValueError, match="proper rotation"):
        Transform("a", "b", np.diag([1.0, 1.0, -1.0]))


def test_transform_yaml_round_trip(tmp_path):
    rng = np.random.default_rng(2)
    original = random_transform(rng, "base_link", "camera_optical_frame")
    path = write_transform(original, tmp_path / "t.yaml")
    doc = yaml.safe_load(path.read_text())
    assert list(doc) == ["parent_frame", "child_frame", "translation", "rotation"]
    assert list(doc["rotation"]) == ["x", "y", "z", "w"]  # ROS quaternion order
    np.testing.assert_allclose([doc["rotation"][k] for k in "xyzw"], original.rotation.as_quat() * np.sign(original.rotation.as_quat()[3]))
    loaded = read_transform(path)
    assert (loaded.parent_frame, loaded.child_frame) == ("base_link", "camera_optical_frame")
    dt, dr = loaded.distance_to(original)
    assert dt < 1e-12 and dr < 1e-6


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("child_frame: c\ntranslation: {x: 0, y: 0, z: 0}\nrotation: {x: 0, y: 0, z: 0, w: 1}\n", "'parent_frame'"),
        ("parent_frame: p\nchild_frame: c\ntranslation: {x: 0, y: 0}\nrotation: {x: 0, y: 0, z: 0, w: 1}\n", "translation.z"),
        ("parent_frame: p\nchild_frame: c\ntranslation: {x: 0, y: 0, z: a}\nrotation: {x: 0, y: 0, z: 0, w: 1}\n", "translation.z"),
        ("parent_frame: p\nchild_frame: c\ntranslation: {x: 0, y: 0, z: 0}\nrotation: {x: 0, y: 0, z: 0, w: 2}\n", "unit quaternion"),
        ("[1, 2", "not valid YAML"),
    ],
)
def test_read_transform_errors_name_file_and_key(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(CalibrationError, match=message) as info:
        read_transform(path)
    assert str(path) in str(info.value)
    with pytest.raises(CalibrationError, match="cannot read"):
        read_transform(tmp_path / "missing.yaml")


def test_skeleton_optical_conventions():
    # Skeleton convention: x left, y up, z forward; optical: x right, y down, z forward.
    left_up_forward = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(skeleton_to_optical(left_up_forward), [-1.0, -2.0, 3.0])
    np.testing.assert_array_equal(optical_to_skeleton(skeleton_to_optical(left_up_forward)), left_up_forward)


# ---------------------------------------------------------------------------------------------- extrinsics


def test_camera_pose_from_board_recovers_pose():
    rng = np.random.default_rng(0)
    board_in_base = Transform("base_link", "board", Rotation.from_euler("z", 30, degrees=True), [0.6, 0.1, 0.02])
    errors = []
    for _ in range(20):
        camera_from_board = random_view(rng)
        truth = board_in_base @ camera_from_board.inverse()
        estimate = camera_pose_from_board(project(camera_from_board, rng), BOARD_POINTS, K, D, board_in_base)
        assert (estimate.parent_frame, estimate.child_frame) == ("base_link", "camera_optical_frame")
        errors.append(estimate.distance_to(truth))
    errors = np.array(errors)
    assert errors[:, 0].max() < 0.01, errors[:, 0].max()
    assert errors[:, 1].max() < 1.0, errors[:, 1].max()
    assert np.median(errors[:, 0]) < 0.004 and np.median(errors[:, 1]) < 0.3


def test_board_view_refuses_bad_input():
    rng = np.random.default_rng(3)
    pixels = project(random_view(rng), rng)
    with pytest.raises(CalibrationError, match="correspond"):
        board_view(pixels[:-1], BOARD_POINTS, K, D)
    with pytest.raises(CalibrationError, match="at least 4"):
        board_view(pixels[:3], BOARD_POINTS[:3], K, D)
    with pytest.raises(CalibrationError, match="board spec"):  # a wrong square size / shuffled corners
        board_view(pixels[rng.permutation(len(pixels))], BOARD_POINTS, K, D)


# ---------------------------------------------------------------------------------------------- hand-eye

HEAD_FROM_CAMERA = Transform(
    "head_link", "camera_optical_frame",
    Rotation.from_euler("xyz", [-90, 0, -90], degrees=True) * Rotation.from_euler("xyz", [2, -3, 5], degrees=True),
    [0.05, 0.02, 0.08],
)  # fmt: skip
BOARD_IN_BASE = Transform("base_link", "board", Rotation.from_euler("x", 180, degrees=True), [1.0, 0.0, 0.8])


def head_views(rng, angles_deg: np.ndarray) -> tuple[list[Transform], list[Transform]]:
    """Head poses (yaw, pitch, roll in degrees, z-y-x) and the noisy board views the camera gets there."""
    poses, views = [], []
    for yaw, pitch, roll in angles_deg:
        head = Transform("base_link", "head_link", Rotation.from_euler("zyx", [yaw, pitch, roll], degrees=True),
                         np.array([0.0, 0.0, 1.2]) + rng.normal(0, 0.05, 3))  # fmt: skip
        camera_from_board = (head @ HEAD_FROM_CAMERA).inverse() @ BOARD_IN_BASE
        view, _ = board_view(project(camera_from_board, rng), BOARD_POINTS, K, D)
        poses.append(head)
        views.append(view)
    return poses, views


def test_hand_eye_recovers_camera_on_head():
    rng = np.random.default_rng(4)
    for _ in range(5):
        angles = np.column_stack([rng.uniform(-30, 30, 10), rng.uniform(-25, 25, 10), rng.uniform(-10, 10, 10)])
        poses, views = head_views(rng, angles)
        estimate = hand_eye(poses, views)
        assert (estimate.parent_frame, estimate.child_frame) == ("head_link", "camera_optical_frame")
        dt, dr = estimate.distance_to(HEAD_FROM_CAMERA)
        assert dt < 0.01 and dr < 0.5, (dt, dr)
        spread_t, spread_r = hand_eye_residual(poses, views, estimate)
        assert spread_t < 0.01 and spread_r < 0.5


def test_hand_eye_refuses_degenerate_motion():
    rng = np.random.default_rng(5)
    pan_only = np.column_stack([np.linspace(-30, 30, 8), np.zeros(8), np.zeros(8)])
    poses, views = head_views(rng, pan_only)
    with pytest.raises(CalibrationError, match="same axis.*second, non-parallel axis"):
        hand_eye(poses, views)
    varied = np.column_stack([rng.uniform(-30, 30, 8), rng.uniform(-25, 25, 8), np.zeros(8)])
    poses, views = head_views(rng, varied)
    with pytest.raises(CalibrationError, match="at least 3 poses"):
        hand_eye(poses[:2], views[:2])
    still = np.column_stack([rng.uniform(-1, 1, 8), rng.uniform(-1, 1, 8), np.zeros(8)])
    tiny_poses, tiny_views = head_views(rng, still)
    with pytest.raises(CalibrationError, match="rotate the head more"):
        hand_eye(tiny_poses, tiny_views)
    with pytest.raises(CalibrationError, match="same order"):
        hand_eye(poses, views[::-1])
    with pytest.raises(CalibrationError, match="one view per pose"):
        hand_eye(poses, views[:-1])
    with pytest.raises(CalibrationError, match="unknown hand-eye method"):
        hand_eye(poses, views, method="magic")


# ---------------------------------------------------------------------------------------------- commands


def run_command(module, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="stream-calibrate")
    module.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.run(args)


@pytest.fixture
def camera_yaml(tmp_path):
    from calibration.camera_info import CameraInfo, write_camera_info

    return write_camera_info(CameraInfo(1280, 720, "test", K, D), tmp_path / "camera.yaml")


BOARD_ARGS = ["--pattern", "chessboard", "--cols", "9", "--rows", "6", "--square", "0.025"]


def test_extrinsics_command_on_rendered_board(tmp_path, camera_yaml, capsys):
    import cv2

    from calibration.boards import ChessboardBoard, render_board_view
    from calibration.cli import extrinsics

    rng = np.random.default_rng(6)
    # Board upside down in the image (185 deg about its normal): the detector returns the corners reversed,
    # and detect_oriented must turn them back, else the pose is off by 180 deg.
    camera_from_board = Transform("camera_optical_frame", "board",
                                  Rotation.from_euler("xyz", [10, 15, 185], degrees=True), [-0.1, -0.06, 0.5])  # fmt: skip
    image = render_board_view(ChessboardBoard(9, 6, 0.025), K, D, camera_from_board.rotation.as_rotvec(),
                              camera_from_board.translation, (1280, 720), noise_std=2.0, rng=rng)  # fmt: skip
    cv2.imwrite(str(tmp_path / "board.png"), image)
    board_in_base = Transform("base_link", "board", Rotation.from_quat([0, 0, 0.2588190, 0.9659258]), [0.6, 0.0, 0.02])
    pose = ",".join(str(v) for v in [*board_in_base.translation, *board_in_base.rotation.as_quat()])
    out = tmp_path / "camera_in_base.yaml"
    argv = ["extrinsics", "--intrinsics", str(camera_yaml), "--image", str(tmp_path / "board.png"), *BOARD_ARGS,
            "--board-pose", pose, "--output", str(out)]  # fmt: skip
    assert run_command(extrinsics, argv) == 0
    result = read_transform(out)
    assert (result.parent_frame, result.child_frame) == ("base_link", "camera_optical_frame")
    dt, dr = result.distance_to(board_in_base @ camera_from_board.inverse())
    assert dt < 0.005 and dr < 0.5, (dt, dr)

    bad = [*argv[:-4], "--board-pose", "1,2,3", "--output", str(out)]
    assert run_command(extrinsics, bad) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("stream-calibrate: error: --board-pose must be 7 numbers")
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((720, 1280, 3), 128, np.uint8))
    assert run_command(extrinsics, [*argv[:4], str(blank), *argv[5:]]) == 2
    assert "board not found" in capsys.readouterr().err


def test_handeye_command_on_rendered_views(tmp_path, camera_yaml, capsys):
    import cv2

    from calibration.boards import ChessboardBoard, render_board_view
    from calibration.cli import handeye

    rng = np.random.default_rng(7)
    board = ChessboardBoard(9, 6, 0.025)
    # Board 0.6 m in front of the head; head pans/tilts; camera looks forward along the head's x.
    board_in_base = Transform("base_link", "board", Rotation.from_euler("xyz", [-90, 0, -90], degrees=True)
                              * Rotation.from_euler("z", 180, degrees=True), [0.75, 0.1, 1.25])  # fmt: skip
    poses_doc = {"parent_frame": "base_link", "child_frame": "head_link", "poses": []}
    images = tmp_path / "views"
    images.mkdir()
    for index, (yaw, pitch) in enumerate([(-12, -8), (10, -6), (0, 8), (-8, 6), (12, 4), (4, -10), (-4, 0), (8, 10)]):
        head = Transform("base_link", "head_link", Rotation.from_euler("zy", [yaw, pitch], degrees=True), [0, 0, 1.2])
        camera_from_board = (head @ HEAD_FROM_CAMERA).inverse() @ board_in_base
        image = render_board_view(board, K, D, camera_from_board.rotation.as_rotvec(), camera_from_board.translation,
                                  (1280, 720), noise_std=2.0, rng=rng)  # fmt: skip
        cv2.imwrite(str(images / f"view_{index:02d}.png"), image)
        q = head.rotation.as_quat()
        poses_doc["poses"].append({"translation": dict(zip("xyz", map(float, head.translation))),
                                   "rotation": dict(zip("xyzw", map(float, q)))})  # fmt: skip
    poses = tmp_path / "poses.yaml"
    poses.write_text(yaml.safe_dump(poses_doc))
    out = tmp_path / "camera_on_head.yaml"
    argv = ["handeye", "--intrinsics", str(camera_yaml), "--poses", str(poses), "--images", str(images), *BOARD_ARGS,
            "--output", str(out)]  # fmt: skip
    assert run_command(handeye, argv) == 0
    result = read_transform(out)
    assert (result.parent_frame, result.child_frame) == ("head_link", "camera_optical_frame")
    dt, dr = result.distance_to(HEAD_FROM_CAMERA)
    assert dt < 0.01 and dr < 0.5, (dt, dr)

    poses_doc["poses"] = poses_doc["poses"][:-1]
    poses.write_text(yaml.safe_dump(poses_doc))
    assert run_command(handeye, argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "8 images but" in err[0] and "7 poses" in err[0]
