"""Training windows drawn from datasets of very different sizes in the shares asked for."""

import numpy as np

from models.skeleton.normalize import NormalizationConfig
from models.skeleton.sequence import SkeletonSequence
from models.training.data import DetectionWindows


def _sequence(frames, name):
    return SkeletonSequence(joints=np.random.default_rng(0).normal(size=(frames, 2, 30, 3)).astype(np.float32),
                            mask=np.ones((frames, 2, 30), np.float32), layout="unified_30", fps=15.0,
                            frame_ids=np.arange(frames), name=name)  # fmt: skip


def test_groups_are_drawn_by_share_not_by_size():
    small, large = [_sequence(20, "small")], [_sequence(2000, f"large{i}") for i in range(5)]
    sequences = small + large
    targets = [np.zeros(s.num_frames, np.int64) for s in sequences]
    data = DetectionWindows(sequences, targets, 16, NormalizationConfig(), length=400, groups=[0, 1, 1, 1, 1, 1],
                            group_shares={0: 0.5, 1: 0.5})  # fmt: skip
    drawn = [data._pick(i)[0].name for i in range(len(data))]
    assert 0.4 < drawn.count("small") / len(drawn) < 0.6
    by_size = DetectionWindows(sequences, targets, 16, NormalizationConfig(), length=400)
    assert [by_size._pick(i)[0].name for i in range(400)].count("small") < 10


def test_without_augmentation_windows_are_the_streams_windows():
    from models.windows import cut_window

    sequence = _sequence(100, "seq")
    data = DetectionWindows([sequence], [np.arange(100)], 16, NormalizationConfig(), length=20)
    for index in range(20):
        window, target = data[index]  # the targets are frame indices: the last one is the window's end
        expected, _ = cut_window(sequence, int(target[-1]), 16, NormalizationConfig())
        np.testing.assert_array_equal(window.numpy(), expected)


def test_a_young_track_repeats_its_first_pose_and_ignores_those_targets():
    from models.training.window_augment import YOUNG_TRACK_FRAMES, WindowAugment

    sequence = _sequence(200, "seq")
    data = DetectionWindows([sequence], [np.arange(200)], 64, NormalizationConfig(), length=30,
                            augment=WindowAugment(young_track=1.0))  # fmt: skip
    for index in range(30):
        window, target = data[index]
        real = (target.numpy() >= 0).sum()
        assert YOUNG_TRACK_FRAMES[0] <= real <= YOUNG_TRACK_FRAMES[1] or real == int(target[-1]) + 1
        cut = 64 - real
        frames = window.numpy()[:, : cut + 1]
        np.testing.assert_array_equal(frames, np.repeat(frames[:, -1:], cut + 1, axis=1))  # padding = first pose


def test_a_lifted_view_is_the_shipped_lifter_on_a_virtual_camera_of_real_joints(data_root):
    from models.datasets.registry import load_dataset
    from models.skeleton.layouts import UNIFIED_30
    from models.training.window_augment import WindowAugment
    from models.windows import cut_window, prepare_sequence

    sequence = prepare_sequence(load_dataset("utkinect", data_root, [1])[0], 15.0)
    targets = [np.arange(sequence.num_frames)]
    plain = DetectionWindows([sequence], targets, 64, NormalizationConfig(), length=8)
    lifted = DetectionWindows([sequence], targets, 64, NormalizationConfig(), length=8,
                              augment=WindowAugment(lifted_view=1.0))  # fmt: skip
    root = UNIFIED_30.index("spine_base")
    for index in range(8):
        window, target = lifted[index]
        window = window.numpy()
        expected, _ = cut_window(sequence, int(target[-1]), 64, NormalizationConfig())
        assert np.isfinite(window).all() and not np.allclose(window, expected, atol=1e-3)
        assert np.allclose(window[:, :, root, 0], window[:, :1, root, 0], atol=1e-5)  # lifted: no root motion
        limb = np.linalg.norm(window[:, :, UNIFIED_30.index("elbow_left"), 0]
                              - window[:, :, UNIFIED_30.index("shoulder_left"), 0], axis=0)  # fmt: skip
        reference = np.linalg.norm(expected[:, :, UNIFIED_30.index("elbow_left"), 0]
                                   - expected[:, :, UNIFIED_30.index("shoulder_left"), 0], axis=0)  # fmt: skip
        assert abs(np.median(limb) - np.median(reference)) < 0.35 * np.median(reference)  # a body, not noise
    assert len(plain[0]) == 2
