"""Person position from 2D landmarks + root-relative metric 3D landmarks, on synthetic data and on NTU RGB+D.

NTU conventions, established from the data (`test_ntu_colour_pixels_are_mirrored`): a least-squares fit of
the colour pixels against the Kinect camera-space joints gives ``u = +1050 x/z + 976`` and
``v = -1056 y/z + 567`` (S001 C001 files): u grows with x (the sensor's left) so the Kinect v2 colour image
is **mirrored**; v falls as y (up) grows. Unmirrored (``u' = 1919 - u``), the pixels follow the optical frame
``diag(-1, -1, 1) @ p_kinect``, i.e. Kinect camera space is exactly our skeleton convention.

Intrinsics: the documented approximate Kinect v2 colour values (fx = fy = 1060, cx = 960, cy = 540, in
the unmirrored image cx = 959) and, per file, `cv2.calibrateCamera` on 5 frames of the file's own
2D-3D pairs (no distortion): fx 1055-1061, cy 544-570, RMS 0.01-0.04 px. The calibrated views'
translation is the same in every file, (-5.3, 0.1, ~0) cm in the optical frame: the colour camera sits
5.3 cm from the depth camera whose frame the joints are in, so positions recovered in the colour camera
are that far from the Kinect's SpineBase.

Measured median error of the root (SpineBase) position, cm, body 0, every frame, free rotation:

    file                       documented K   calibrated K   calibrated K, baseline removed
    S001C001P001R001A001           11.1            4.2               1.4
    S001C001P001R001A002           11.2            4.8               1.1
    S001C001P001R001A003           11.1            4.3               1.4
    S001C001P001R001A004           11.2            4.3               1.5
    S001C001P001R001A005           11.1            4.7               1.0
    S001C003P008R002A058            3.4            5.3               2.0
    overall                        11.1            4.3

(rotation="fixed" gives the same to 0.2 cm.) With confidence 0 on 13 of 25 joints, or 3 confident joints
moved by 100 px, the baseline-removed medians do not change by more than 0.1 cm.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from calibration.person_position import normalised_to_pixels, person_pose, person_position, skeleton_in_frame
from calibration.transforms import Transform, optical_to_skeleton, skeleton_to_optical
from foundation.errors import CalibrationError
from tests.conftest import shared_dataset


K = np.array([[900.0, 0.0, 640.0], [0.0, 900.0, 360.0], [0.0, 0.0, 1.0]])


def synthetic_person(rng: np.random.Generator, num_joints: int = 33) -> np.ndarray:
    """Root-centred joints (skeleton convention) of a roughly human-sized, non-planar body."""
    return rng.normal(0.0, 1.0, (num_joints, 3)) * [0.2, 0.45, 0.12]


def project_skeleton(points_camera_skeleton: np.ndarray, rng, noise_px: float = 1.0) -> np.ndarray:
    optical = skeleton_to_optical(points_camera_skeleton)
    pixels, _ = cv2.projectPoints(optical, np.zeros(3), np.zeros(3), K, None)
    return pixels.reshape(-1, 2) + rng.normal(0.0, noise_px, (len(optical), 2))


@pytest.mark.parametrize("rotation", ["free", "fixed"])
def test_synthetic_person_position(rotation):
    rng = np.random.default_rng(0)
    for _ in range(10):
        world = synthetic_person(rng)
        turn = Rotation.from_euler("y", rng.uniform(-60, 60), degrees=True) if rotation == "free" else Rotation.identity()
        root = np.array([rng.uniform(-1, 1), rng.uniform(-0.5, 0.5), rng.uniform(2, 5)])
        pixels = project_skeleton(turn.apply(world) + root, rng)
        pose = person_pose(pixels, world, np.ones(len(world)), K, rotation=rotation)
        assert np.linalg.norm(pose.translation - root) < 0.05 * root[2] / 2, (pose.translation, root)
        np.testing.assert_allclose(pose.to_camera(world), turn.apply(world) + root, atol=0.1)
        assert pose.num_inliers == len(world) and pose.rms_px < 3


def test_mediapipe_world_convention_and_low_confidence():
    rng = np.random.default_rng(1)
    world = synthetic_person(rng)
    root = np.array([0.3, -0.2, 3.0])
    pixels = project_skeleton(world + root, rng)
    # MediaPipe world landmarks: x right, y down (image axes) = the optical axes.
    mediapipe_world = skeleton_to_optical(world)
    confidence = np.ones(len(world))
    confidence[::2] = 0.1  # half the joints unreliable ...
    pixels[::2] += rng.normal(0, 80, pixels[::2].shape)  # ... and wildly off
    for convention, points in (("mediapipe", mediapipe_world), ("skeleton", world)):
        for rotation in ("free", "fixed"):
            pose = person_pose(pixels, points, confidence, K, world_convention=convention, rotation=rotation)
            assert np.linalg.norm(pose.translation - root) < 0.05
            assert pose.num_inliers <= 16 and not pose.inliers[::2].any()
            np.testing.assert_allclose(pose.to_camera(points), world + root, atol=0.05)


def test_outlier_joints_are_dropped():
    rng = np.random.default_rng(2)
    world = synthetic_person(rng)
    root = np.array([-0.4, 0.1, 2.5])
    pixels = project_skeleton(world + root, rng, noise_px=0.5)
    pixels[:4] += 150.0  # confident but wrong
    for rotation in ("free", "fixed"):
        translation, inliers = person_position(pixels, world, None, K, rotation=rotation)
        assert np.linalg.norm(translation - root) < 0.05 and inliers == len(world) - 4


def test_too_few_confident_joints():
    rng = np.random.default_rng(3)
    world = synthetic_person(rng, 10)
    pixels = project_skeleton(world + [0, 0, 3], rng)
    confidence = np.zeros(10)
    confidence[:5] = 0.9
    with pytest.raises(CalibrationError, match="only 5 joints have confidence >= 0.5"):
        person_position(pixels, world, confidence, K)
    translation, inliers = person_position(pixels, world, confidence, K, rotation="fixed")
    assert inliers == 5 and np.linalg.norm(translation - [0, 0, 3]) < 0.1
    with pytest.raises(ValueError, match="world_convention"):
        person_position(pixels, world, confidence, K, world_convention="opengl")


def test_skeleton_in_frame_and_normalised_pixels():
    # Camera 1.5 m up, looking along base +x: optical z -> base x, optical x -> base -y, optical y -> base -z.
    base_from_camera = Transform("base_link", "camera_optical_frame",
                                 Rotation.from_euler("xyz", [-90, 0, -90], degrees=True), [0.0, 0.0, 1.5])  # fmt: skip
    # A person 3 m ahead, 0.5 m to the camera's left (skeleton x), head 0.6 m above the hips.
    joints = np.array([[0.5, 0.0, 3.0], [0.5, 0.6, 3.0]])
    np.testing.assert_allclose(skeleton_in_frame(joints, base_from_camera), [[3.0, 0.5, 1.5], [3.0, 0.5, 2.1]], atol=1e-12)
    np.testing.assert_allclose(normalised_to_pixels(np.array([[0.5, 0.25, -0.1]]), 1280, 720), [[640.0, 180.0]])


# ------------------------------------------------------------------------------------------------ NTU RGB+D

COLOUR_WIDTH = 1920
K_DOCUMENTED = np.array([[1060.0, 0.0, COLOUR_WIDTH - 1 - 960.0], [0.0, 1060.0, 540.0], [0.0, 0.0, 1.0]])


def ntu_frames(sequence):
    """(joints (25, 3) Kinect metres, unmirrored colour pixels (25, 2), tracked mask (25,)) of body 0 per frame."""
    for t in range(sequence.joints.shape[0]):
        mask = sequence.mask[t, 0]
        if mask.sum() == 0:
            continue
        pixels = sequence.projections["color"][t, 0].astype(np.float64).copy()
        pixels[:, 0] = COLOUR_WIDTH - 1 - pixels[:, 0]  # the Kinect v2 colour image is mirrored
        yield sequence.joints[t, 0].astype(np.float64), pixels, (mask >= 1.0).astype(np.float64)


def calibrate_from_file(sequence, num_frames: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Colour intrinsics from the file's own 2D-3D pairs, and the mean view translation (the colour camera's
    offset from the depth camera, optical frame)."""
    frames = list(ntu_frames(sequence))
    objects, images = [], []
    for index in np.linspace(0, len(frames) - 1, num_frames).astype(int):
        joints, pixels, tracked = frames[index]
        keep = tracked > 0
        objects.append(skeleton_to_optical(joints[keep]).astype(np.float32))
        images.append(pixels[keep].astype(np.float32))
    flags = (cv2.CALIB_USE_INTRINSIC_GUESS | cv2.CALIB_ZERO_TANGENT_DIST
             | cv2.CALIB_FIX_K1 | cv2.CALIB_FIX_K2 | cv2.CALIB_FIX_K3)  # fmt: skip
    rms, K_file, _, _, tvecs = cv2.calibrateCamera(objects, images, (COLOUR_WIDTH, 1080), K_DOCUMENTED.copy(), np.zeros(5), flags=flags)
    assert rms < 0.5
    return K_file, np.array(tvecs).reshape(-1, 3).mean(axis=0)


@pytest.fixture(scope="module")
def ntu_sequences():
    from models.datasets.ntu import read_ntu_skeleton

    files = sorted(Path(shared_dataset("ntu_rgbd_skeleton")).glob("*.skeleton"))
    if not files:
        pytest.skip("no .skeleton files in the NTU folder")
    return [(path.stem, read_ntu_skeleton(path)) for path in files]


def test_ntu_colour_pixels_are_mirrored(ntu_sequences):
    for _, sequence in ntu_sequences:
        tracked = sequence.mask[:, 0].reshape(-1) >= 1
        joints = sequence.joints[:, 0].reshape(-1, 3)[tracked].astype(np.float64)
        raw = sequence.projections["color"][:, 0].reshape(-1, 2)[tracked].astype(np.float64)
        slope_u = np.polyfit(joints[:, 0] / joints[:, 2], raw[:, 0], 1)[0]
        slope_v = np.polyfit(joints[:, 1] / joints[:, 2], raw[:, 1], 1)[0]
        assert 1000 < slope_u < 1100, "u grows with Kinect x (the sensor's left): the colour image is mirrored"
        assert -1100 < slope_v < -1000, "v falls as Kinect y (up) grows"


def test_ntu_person_position(ntu_sequences):
    rng = np.random.default_rng(0)
    rows, all_documented, all_calibrated = [], [], []
    for name, sequence in ntu_sequences:
        K_file, colour_offset_optical = calibrate_from_file(sequence)
        # The colour camera is ~5 cm beside the depth camera (the Kinect v2 baseline).
        assert 0.04 < np.linalg.norm(colour_offset_optical) < 0.07
        offset = optical_to_skeleton(colour_offset_optical)
        documented, calibrated, corrected, half = [], [], [], []
        for joints, pixels, tracked in ntu_frames(sequence):
            root = joints[0]  # SpineBase
            world = joints - root  # stand-in for MediaPipe's hip-centred world landmarks
            translation, _ = person_position(pixels, world, tracked, K_DOCUMENTED)
            documented.append(np.linalg.norm(translation - root))
            translation, _ = person_position(pixels, world, tracked, K_file)
            calibrated.append(np.linalg.norm(translation - root))
            corrected.append(np.linalg.norm(translation - (root + offset)))
            low = tracked.copy()
            low[rng.permutation(25)[:13]] = 0.0
            translation, inliers = person_position(pixels, world, low, K_file)
            assert inliers <= 12
            half.append(np.linalg.norm(translation - (root + offset)))
        medians = [100 * np.median(e) for e in (documented, calibrated, corrected, half)]
        rows.append((name, *medians))
        all_documented += documented
        all_calibrated += calibrated
        assert medians[0] < 15.0  # documented intrinsics: 3-11 cm measured
        assert medians[1] < 8.0  # calibrated intrinsics: 4-5.3 cm, the colour/depth baseline
        assert medians[2] < 3.0  # baseline removed: 1.0-2.0 cm
        assert medians[3] < 3.0  # half the joints at confidence 0: unchanged
    print("\nNTU root position median error, cm (documented K, calibrated K, baseline removed, half confident)")
    for name, *medians in rows:
        print(f"  {name}  " + "  ".join(f"{m:6.2f}" for m in medians))
    overall = 100 * np.median(all_documented), 100 * np.median(all_calibrated)
    print(f"  overall: documented K {overall[0]:.2f} cm, calibrated K {overall[1]:.2f} cm")
    assert overall[0] < 13.0 and overall[1] < 6.0
