"""The MediaPipe-like view of Kinect windows: each part does what the measurement says, on real windows."""

from pathlib import Path

import numpy as np
import pytest

from models.augment.mediapipe_like import MediaPipeLikeConfig, mediapipe_like, owners, slow_noise
from models.checkpoint import read_config
from models.datasets.utkinect import read_utkinect_folder
from models.pretrained import DEFAULT_CHECKPOINT
from models.skeleton.layouts import UNIFIED_30
from models.windows import cut_window, prepare_sequence
from tests.conftest import REPO_ROOT, shared_dataset

MEASUREMENT = REPO_ROOT / "benchmarks" / "results" / "pose_gap.json"
ROOT = UNIFIED_30.index("spine_base")
QUIET = dict(joint_bias={}, slow_std={}, fast_std={}, scale_std=0.0)  # every part off


@pytest.fixture(scope="module")
def windows() -> list[np.ndarray]:
    """Real normalised windows (C, T, V, M) of UTKinect subject 1, as training cuts them."""
    config = read_config(DEFAULT_CHECKPOINT)
    sequences = read_utkinect_folder(shared_dataset("utkinect_action3d"), subjects=[1])
    prepared = [prepare_sequence(s, config.fps, config.model.M) for s in sequences]
    return [cut_window(s, end, config.num_frames, config.normalization)[0]
            for s in prepared for end in range(63, s.num_frames, 64)]  # fmt: skip


def test_the_defaults_are_the_measurement_on_file():
    measured = MediaPipeLikeConfig.from_measurement(MEASUREMENT)
    default = MediaPipeLikeConfig()
    for table in ("joint_bias", "slow_std", "fast_std"):
        ours, theirs = getattr(default, table), getattr(measured, table)
        assert set(ours) == set(theirs), table
        for name in ours:
            np.testing.assert_allclose(ours[name], theirs[name], atol=5e-4, err_msg=f"{table}[{name}]")
    assert default.scale_std == pytest.approx(measured.scale_std, abs=5e-4)


def test_root_motion_is_removed_and_nothing_else_changes_when_every_part_is_off(windows):
    window = windows[3]
    view = mediapipe_like(window, np.random.default_rng(0), MediaPipeLikeConfig(**QUIET))
    body = window[..., 0]
    assert np.abs(body[:, :, ROOT]).max() > 0.01  # the Kinect root moves within the window
    assert np.abs(view[:, :, ROOT, 0]).max() == 0.0
    np.testing.assert_allclose(view[..., 0], body - body[:, :, ROOT : ROOT + 1], atol=1e-6)
    assert np.all(view[..., 1] == 0)  # the empty body slot stays empty
    kept = mediapipe_like(window, np.random.default_rng(0), MediaPipeLikeConfig(**QUIET, remove_root_motion=False))
    np.testing.assert_allclose(kept, window, atol=1e-6)


def test_the_bias_is_added_as_measured_and_joints_without_numbers_follow_their_owner(windows):
    window = windows[0]
    config = MediaPipeLikeConfig(**{**QUIET, "joint_bias": MediaPipeLikeConfig().joint_bias})
    view = mediapipe_like(window, np.random.default_rng(0), config)
    base = mediapipe_like(window, np.random.default_rng(0), MediaPipeLikeConfig(**QUIET))
    shift = (view - base)[..., 0].mean(axis=1).T  # (V, 3)
    for name in ("foot_right", "head", "hip_left"):
        np.testing.assert_allclose(shift[UNIFIED_30.index(name)], config.joint_bias[name], atol=1e-5)
    tip, hand = UNIFIED_30.index("hand_tip_left"), UNIFIED_30.index("hand_left")
    np.testing.assert_allclose(shift[tip], shift[hand], atol=1e-6)
    assert owners({"hand_left", "spine_base"})[tip] == hand


def test_slow_error_and_scale_have_the_measured_size_and_are_slow(windows):
    config = MediaPipeLikeConfig(**{**QUIET, "slow_std": MediaPipeLikeConfig().slow_std})
    rng = np.random.default_rng(1)
    base = [mediapipe_like(w, rng, MediaPipeLikeConfig(**QUIET)) for w in windows]
    noise = np.stack([mediapipe_like(w, rng, config) - b for w, b in zip(windows, base)])[..., 0]  # (N, C, T, V)
    elbow = UNIFIED_30.index("elbow_right")
    measured_std = noise[:, :, :, elbow].std(axis=(0, 2))
    np.testing.assert_allclose(measured_std, config.slow_std["elbow_right"], rtol=0.2)
    series = noise[:, 2, :, elbow]  # depth, the largest
    lag1 = np.mean([np.corrcoef(s[:-1], s[1:])[0, 1] for s in series])
    assert lag1 > 0.6  # correlated over ~5 frames: 0.8 expected
    tip = UNIFIED_30.index("hand_tip_right")
    np.testing.assert_allclose(noise[:, :, :, tip], noise[:, :, :, UNIFIED_30.index("hand_right")], atol=1e-6)
    unit = slow_noise(np.random.default_rng(2), 20000, (), 5)
    assert unit.std() == pytest.approx(1.0, abs=0.05) and np.corrcoef(unit[:-5], unit[5:])[0, 1] < 0.1


def test_dropout_places_joints_on_their_nearest_kept_ancestor(windows):
    config = MediaPipeLikeConfig(**QUIET, dropout=0.5)
    view = mediapipe_like(windows[1], np.random.default_rng(3), config)[..., 0].transpose(1, 2, 0)  # (T, V, 3)
    base = mediapipe_like(windows[1], np.random.default_rng(3), MediaPipeLikeConfig(**QUIET))[..., 0]
    base = base.transpose(1, 2, 0)
    moved = ~np.isclose(view, base, atol=1e-6).all(axis=-1)
    assert 0.2 < moved.mean() < 0.6
    parents = UNIFIED_30.parent_indices
    for t, joint in zip(*np.nonzero(moved)):
        node, targets = parents[joint], []
        while True:
            targets.append(view[t, node])
            if node == parents[node]:
                break
            node = parents[node]
        assert any(np.allclose(view[t, joint], target, atol=1e-6) for target in targets)


def test_the_input_is_untouched_the_draw_is_seeded_and_bad_input_refused(windows):
    window = windows[2].copy()
    a = mediapipe_like(window, np.random.default_rng(5))
    b = mediapipe_like(window, np.random.default_rng(5))
    assert np.array_equal(a, b) and np.array_equal(window, windows[2]) and a.dtype == np.float32
    assert not np.array_equal(a, mediapipe_like(window, np.random.default_rng(6)))
    with pytest.raises(ValueError, match=r"\(3, T, 30, M\)"):
        mediapipe_like(window[:, :, :25], np.random.default_rng(0))
    with pytest.raises(KeyError, match="elbow_middle"):
        MediaPipeLikeConfig(joint_bias={"elbow_middle": (0.0, 0.0, 0.0)})
    with pytest.raises(ValueError, match="dropout"):
        MediaPipeLikeConfig(dropout=1.0)
    with pytest.raises(ValueError, match=">= 0"):
        MediaPipeLikeConfig(slow_std={"head": (0.1, -0.1, 0.0)})


def test_the_measurement_file_exists():
    assert Path(MEASUREMENT).is_file(), "run python -m benchmarks.pose_gap"
