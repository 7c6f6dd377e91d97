"""`ImageRootMotion`: root-relative camera skeletons get back the motion their root makes across the image."""

import numpy as np
import pytest

from models.datasets.registry import load_dataset
from models.skeleton.unified import sequence_to_unified
from stream.stages.image_root_motion import ImageRootMotion, image_scale
from stream.types import Person, TrackedPerson

FOCAL, CENTRE = 600.0, np.array([320.0, 240.0])


def seen_by_camera(joints: np.ndarray, confidence: np.ndarray | None = None) -> Person:
    """A camera's person: (30, 3) camera-frame joints (x left, y up, z away) → root-relative joints and their
    pinhole image points, as the lifter and MediaPipe's world landmarks give them."""
    image = CENTRE + FOCAL * np.stack([-joints[:, 0], -joints[:, 1]], axis=1) / joints[:, 2:3]
    confidence = np.ones(len(joints), np.float32) if confidence is None else confidence
    return Person(joints=(joints - joints[0]).astype(np.float32), confidence=confidence, layout="unified_30",
                  image_points=image)  # fmt: skip


def body(rng: np.random.Generator, depth: float = 3.0) -> np.ndarray:
    """30 joints spread about a root at (0, 0, depth), all at that depth (so weak perspective is exact)."""
    joints = rng.normal(scale=0.3, size=(30, 3))
    joints[0] = 0.0
    joints[:, 2] = depth
    return joints


def test_the_scale_is_the_weak_perspective_fit_of_image_to_joints():
    rng = np.random.default_rng(0)
    joints = rng.normal(size=(30, 3))
    image = 100.0 + 250.0 * np.stack([-joints[:, 0], -joints[:, 1]], axis=1)  # x left, y up → image x right, y down
    assert image_scale(image, joints, np.ones(30), "unified_30") == pytest.approx(250.0)
    assert image_scale(image, joints, np.zeros(30), "unified_30") is None  # no confident joints
    mirrored = 100.0 + 250.0 * joints[:, :2]
    assert image_scale(mirrored, joints, np.ones(30), "unified_30") is None  # no positive scale fits


def test_a_moving_root_is_placed_where_the_image_says_and_depth_stays():
    rng = np.random.default_rng(1)
    shape = body(rng)
    placement = ImageRootMotion()
    first = placement.place(7, seen_by_camera(shape))
    assert np.allclose(first.joints, shape - shape[0], atol=1e-6)  # the first frame is the reference
    moved = placement.place(7, seen_by_camera(shape + np.array([0.2, -0.4, 0.0])))
    assert np.allclose(moved.joints[0], [0.2, -0.4, 0.0], atol=1e-3)  # same depth: the move, exactly
    assert np.allclose(moved.joints - moved.joints[0], shape - shape[0], atol=1e-6)  # the body itself untouched
    farther = placement.place(7, seen_by_camera(shape + np.array([0.2, -0.4, 0.5])))
    assert farther.joints[0, 2] == 0.0  # depth is never moved


def test_one_bad_scale_does_not_move_the_root():
    """The median of the track's scales: one frame whose joints fit another scale (a lifter reading a bow short)
    does not turn into motion."""
    rng = np.random.default_rng(2)
    shape = body(rng)
    placement = ImageRootMotion()
    for _ in range(5):
        placement.place(1, seen_by_camera(shape + np.array([0.0, 0.3, 0.0])))
    squashed = seen_by_camera(shape + np.array([0.0, 0.3, 0.0]))
    squashed = Person(squashed.joints * 0.5, squashed.confidence, squashed.layout, squashed.image_points)
    placed = placement.place(1, squashed)
    assert np.allclose(placed.joints[0], [0.0, 0.0, 0.0], atol=1e-6)


def test_people_without_image_points_pass_and_tracks_are_separate_and_forgotten():
    rng = np.random.default_rng(3)
    shape = body(rng)
    kinect = Person(joints=shape.astype(np.float32), confidence=np.ones(30, np.float32), layout="unified_30")
    placement = ImageRootMotion()
    assert placement.place(1, kinect) is kinect
    tracked = [TrackedPerson(1, seen_by_camera(shape)), TrackedPerson(2, seen_by_camera(shape + [0.5, 0, 0]))]
    placement.place_all(tracked)
    later = placement.place_all([TrackedPerson(1, seen_by_camera(shape + [0.1, 0, 0])),
                                 TrackedPerson(2, seen_by_camera(shape + [0.5, 0, 0]))])  # fmt: skip
    assert later[0].person.joints[0] == pytest.approx([0.1, 0.0, 0.0], abs=1e-3)  # each from its own first frame
    assert later[1].person.joints[0] == pytest.approx([0.0, 0.0, 0.0], abs=1e-6)
    placement.end_track(1)
    again = placement.place(1, seen_by_camera(shape + [0.1, 0, 0]))
    assert again.joints[0] == pytest.approx([0.0, 0.0, 0.0], abs=1e-6)  # a new track starts where it is


def test_a_frame_without_confident_joints_keeps_the_last_placement():
    rng = np.random.default_rng(4)
    shape = body(rng)
    placement = ImageRootMotion()
    placement.place(1, seen_by_camera(shape))
    placement.place(1, seen_by_camera(shape + [0.0, -0.2, 0.0]))
    blind = seen_by_camera(shape + [0.0, -0.3, 0.0], confidence=np.zeros(30, np.float32))
    assert placement.place(1, blind).joints[0] == pytest.approx([0.0, -0.3, 0.0], abs=1e-3)  # the median scale
    lost = Person(blind.joints, blind.confidence, blind.layout, np.full((30, 2), np.nan))
    assert placement.place(1, lost).joints[0] == pytest.approx([0.0, -0.3, 0.0], abs=1e-3)  # no root: the last


def test_real_people_sitting_down_and_standing_up_get_their_hips_back(data_root):
    """UTKinect's Kinect skeletons seen by a pinhole camera, root-relative as a camera's skeletons are: the
    vertical path of the hips through each sit-down and stand-up comes back within a few centimetres
    (without the placement it would be the whole 0.4 m drop)."""
    errors, drops = [], []
    for sequence in load_dataset("utkinect", data_root / "utkinect_action3d", [1, 2]):
        unified = sequence_to_unified(sequence)
        joints, mask = np.asarray(unified.joints[:, 0], np.float64), np.asarray(unified.mask[:, 0], np.float32)
        sit = next(s for s in unified.segments if s.label == "sitDown")
        stand = next(s for s in unified.segments if s.label == "standUp")
        placement, found, true = ImageRootMotion(), [], []
        for t in range(sit.start - 15, stand.end + 5):
            found.append(placement.place(1, seen_by_camera(joints[t], mask[t])).joints[0, 1])
            true.append(joints[t, 0, 1] - joints[sit.start - 15, 0, 1])
        found, true = np.array(found), np.array(true)
        errors.append(np.sqrt(np.mean((found - true) ** 2)))
        drops.append(np.ptp(true))
    assert len(errors) == 4
    assert min(drops) > 0.3 and max(errors) < 0.06, (drops, errors)
