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
