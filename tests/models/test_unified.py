"""Mapping layouts into unified_30: direct joints, interpolated spine, explicit missing joints."""

import numpy as np
import pytest

from models.skeleton.layouts import COCO_17, KINECT_V1_20, MEDIAPIPE_33, UNIFIED_30
from models.skeleton.unified import fill_missing, to_unified

U = UNIFIED_30.index


def test_coco_direct_and_interpolated_joints():
    rng = np.random.default_rng(0)
    joints = rng.normal(size=(17, 2)).astype(np.float32)
    mask = np.ones(17, dtype=np.float32)
    unified, unified_mask = to_unified(joints, mask, "coco_17")
    c = COCO_17.index
    assert np.allclose(unified[U("shoulder_left")], joints[c("shoulder_left")])
    assert np.allclose(unified[U("ankle_right")], joints[c("ankle_right")])
    assert np.allclose(unified[U("nose")], joints[c("nose")])
    mid_shoulders = (joints[c("shoulder_left")] + joints[c("shoulder_right")]) / 2
    mid_hips = (joints[c("hip_left")] + joints[c("hip_right")]) / 2
    assert np.allclose(unified[U("spine_shoulder")], mid_shoulders, atol=1e-6)
    assert np.allclose(unified[U("spine_base")], mid_hips, atol=1e-6)
    assert np.allclose(unified[U("spine_mid")], (mid_shoulders + mid_hips) / 2, atol=1e-6)
    missing = [n for n in UNIFIED_30.joint_names if n not in COCO_17.unified_rules]
    assert set(missing) == {"neck", "head", "hand_left", "hand_right", "foot_left", "foot_right",
                            "hand_tip_left", "thumb_left", "hand_tip_right", "thumb_right"}  # fmt: skip
    assert all(unified_mask[U(n)] == 0 for n in missing)
    assert unified_mask.sum() == 20


def test_interpolated_joint_takes_weakest_confidence():
    joints = np.zeros((17, 2), dtype=np.float32)
    mask = np.ones(17, dtype=np.float32)
    mask[COCO_17.index("hip_left")] = 0.3
    _, unified_mask = to_unified(joints, mask, "coco_17")
    assert unified_mask[U("spine_base")] == pytest.approx(0.3)
    assert unified_mask[U("spine_mid")] == pytest.approx(0.3)
    assert unified_mask[U("hip_right")] == 1.0


def test_missing_joints_sit_on_nearest_present_ancestor():
    joints = np.arange(20 * 3, dtype=np.float32).reshape(20, 3)
    unified, unified_mask = to_unified(joints, np.ones(20, np.float32), "kinect_v1_20")
    hand = joints[KINECT_V1_20.index("hand_left")]
    assert unified_mask[U("hand_tip_left")] == 0
    assert np.allclose(unified[U("hand_tip_left")], hand)
    assert np.allclose(unified[U("thumb_left")], hand)
    head = joints[KINECT_V1_20.index("head")]
    for face in ("nose", "eye_left", "ear_right"):
        assert np.allclose(unified[U(face)], head)


def test_kinect_v1_neck_is_between_shoulder_center_and_head():
    joints = np.random.default_rng(1).normal(size=(4, 20, 3)).astype(np.float32)
    unified, _ = to_unified(joints, np.ones((4, 20), np.float32), "kinect_v1_20")
    k = KINECT_V1_20.index
    expected = (joints[:, k("shoulder_center")] + joints[:, k("head")]) / 2
    assert np.allclose(unified[:, U("neck")], expected, atol=1e-6)
    assert np.allclose(unified[:, U("spine_shoulder")], joints[:, k("shoulder_center")])


def test_mediapipe_fills_all_thirty():
    joints = np.random.default_rng(2).normal(size=(3, 2, 33, 3)).astype(np.float32)
    _, unified_mask = to_unified(joints, np.ones((3, 2, 33), np.float32), "mediapipe_33")
    assert (unified_mask == 1).all()
    m = MEDIAPIPE_33.index
    unified, _ = to_unified(joints, np.ones((3, 2, 33), np.float32), "mediapipe_33")
    assert np.allclose(unified[..., U("foot_left"), :], joints[..., m("foot_index_left"), :])


def test_missing_source_joint_propagates_and_nan_is_not_spread():
    joints = np.ones((2, 25, 3), dtype=np.float32)
    joints[1, 7] = np.nan  # a NaN hand the reader flagged with mask 0
    mask = np.ones((2, 25), dtype=np.float32)
    mask[1, 7] = 0
    unified, unified_mask = to_unified(joints, mask, "kinect_v2_25")
    assert np.isfinite(unified).all()
    assert unified_mask[1, 7] == 0 and unified_mask[0, 7] == 1


def test_fill_missing_leaves_absent_body_alone():
    joints = np.zeros((30, 3), dtype=np.float32)
    filled = fill_missing(joints, np.zeros(30, np.float32), UNIFIED_30)
    assert (filled == 0).all()


def test_wrong_joint_count_is_a_clear_error():
    with pytest.raises(ValueError, match="kinect_v1_20 has 20 joints"):
        to_unified(np.zeros((25, 3)), np.ones(25), "kinect_v1_20")
