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
