"""Window normalisation: centring, facing the camera, unit torso, recorded parameters."""

import numpy as np
import pytest

from models.skeleton.layouts import UNIFIED_30
from models.skeleton.normalize import NormalizationConfig, normalize_window

U = UNIFIED_30.index


def _body(rng: np.random.Generator, yaw: float, offset: np.ndarray, torso: float = 0.5) -> np.ndarray:
    joints = rng.normal(scale=0.2, size=(30, 3)).astype(np.float32)
    joints[U("spine_base")] = 0
    joints[U("spine_shoulder")] = [0, torso, 0]
    joints[U("hip_left")] = [-0.1, 0, 0]  # facing the camera: left hip at smaller x
    joints[U("hip_right")] = [0.1, 0, 0]
    c, s = np.cos(yaw), np.sin(yaw)
    rotation = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]], dtype=np.float32)
    return joints @ rotation.T + offset


def test_center_align_scale_recover_canonical_pose():
    rng = np.random.default_rng(0)
    canonical = _body(rng, 0.0, np.zeros(3))
    moved = _body(np.random.default_rng(0), 1.1, np.array([0.4, -0.2, 3.0]), torso=0.5)
    window = np.stack([moved] * 8)[:, None]  # (T=8, M=1, V, 3)
    mask = np.ones(window.shape[:3], np.float32)
    out, params = normalize_window(window, mask, "unified_30", NormalizationConfig())
    assert params.scale == pytest.approx(0.5)
    assert np.allclose(out[0, 0], canonical / 0.5, atol=1e-5)
    hips = out[0, 0, U("hip_left")] - out[0, 0, U("hip_right")]
    assert hips[0] < 0 and abs(hips[2]) < 1e-5
    restored = out * params.scale @ params.rotation + params.origin  # the params invert the transform
    assert np.allclose(restored, window, atol=1e-5)


def test_relative_positions_of_people_are_kept():
    rng = np.random.default_rng(1)
    a = _body(rng, 0.0, np.zeros(3))
    b = _body(rng, 0.0, np.array([1.0, 0, 0]))
    window = np.stack([np.stack([a, b])] * 4)
    out, _ = normalize_window(window, np.ones((4, 2, 30), np.float32), "unified_30",
                              NormalizationConfig(scale="none"))  # fmt: skip
    assert np.allclose(out[:, 1] - out[:, 0], window[:, 1] - window[:, 0], atol=1e-5)


def test_absent_body_and_frames_stay_zero():
    rng = np.random.default_rng(2)
    window = np.stack([np.stack([_body(rng, 0.3, np.ones(3)), np.full((30, 3), 7.0)])] * 5)
    mask = np.ones((5, 2, 30), np.float32)
    mask[:, 1] = 0
    mask[0, 0] = 0
    out, _ = normalize_window(window, mask, "unified_30", NormalizationConfig())
    assert (out[:, 1] == 0).all() and (out[0, 0] == 0).all()
    assert np.isfinite(out).all()


def test_per_frame_centring():
    rng = np.random.default_rng(3)
    window = np.stack([_body(rng, 0.0, np.array([t, 0, 2.0])) for t in range(6)])[:, None]
    out, _ = normalize_window(window, np.ones((6, 1, 30), np.float32), "unified_30",
                              NormalizationConfig(center="frame", align="none", scale="none"))  # fmt: skip
    assert np.allclose(out[:, 0, U("spine_base")], 0)


def test_bad_config_names_the_field():
    with pytest.raises(ValueError, match="align"):
        NormalizationConfig(align="shoulders")


def test_joint_subset_collapses_unused_joints_onto_ancestors():
    rng = np.random.default_rng(4)
    window = np.stack([_body(rng, 0.0, np.zeros(3))] * 3)[:, None]
    mask = np.ones((3, 1, 30), np.float32)
    kinect_v1 = tuple(n for n in UNIFIED_30.joint_names if "tip" not in n and "thumb" not in n
                      and n not in ("nose", "eye_left", "eye_right", "ear_left", "ear_right"))  # fmt: skip
    config = NormalizationConfig(align="none", scale="none", joints=kinect_v1)
    out, _ = normalize_window(window, mask, "unified_30", config)
    assert np.allclose(out[:, 0, U("hand_tip_left")], out[:, 0, U("hand_left")])
    assert np.allclose(out[:, 0, U("ear_right")], out[:, 0, U("head")])
    full, _ = normalize_window(window, mask, "unified_30", NormalizationConfig(align="none", scale="none"))
    assert np.allclose(out[:, 0, U("elbow_left")], full[:, 0, U("elbow_left")])
    assert NormalizationConfig(**config.to_dict()) == config  # survives a JSON round trip


def test_joint_subset_must_keep_the_centre():
    with pytest.raises(ValueError, match="center_joint"):
        NormalizationConfig(joints=("head",))
