"""Training windows: drawn from datasets of very different sizes in the shares asked for, and augmented."""

import numpy as np
import pytest

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
    drawn = [data.pick(i)[0].name for i in range(len(data))]
    assert 0.4 < drawn.count("small") / len(drawn) < 0.6
    by_size = DetectionWindows(sequences, targets, 16, NormalizationConfig(), length=400)
    assert [by_size.pick(i)[0].name for i in range(400)].count("small") < 10


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


def _linear_sequence(frames, name="linear"):
    """Joints moving at constant velocity: any fractional frame's true pose is known."""
    rng = np.random.default_rng(1)
    base, velocity = rng.normal(size=(1, 2, 30, 3)), rng.normal(scale=0.01, size=(1, 2, 30, 3))
    joints = (base + velocity * np.arange(frames)[:, None, None, None]).astype(np.float32)
    return SkeletonSequence(joints=joints, mask=np.ones((frames, 2, 30), np.float32), layout="unified_30",
                            fps=15.0, frame_ids=np.arange(frames), name=name), base, velocity  # fmt: skip


@pytest.mark.parametrize("speed", [0.75, 1.5, 2.0])
def test_a_window_at_another_speed_is_the_recording_read_at_that_pace(speed):
    from models.training.window_augment import WindowAugment
    from models.windows import cut_window

    sequence, base, velocity = _linear_sequence(300)
    data = DetectionWindows([sequence], [np.arange(300)], 16, NormalizationConfig(), length=40,
                            augment=WindowAugment(speed_range=(speed, speed)))  # fmt: skip
    checked = 0
    for index in range(len(data)):
        window, target = data[index]
        end = int(target[-1])  # the targets are frame indices: the nearest frame of each position
        positions = end - speed * np.arange(15, -1, -1)
        if positions[0] < 0:
            continue
        np.testing.assert_array_equal(target.numpy(), np.rint(positions).astype(np.int64))
        truth = (base + velocity * positions[:, None, None, None]).astype(np.float32)  # the pose at each position
        played = SkeletonSequence(joints=truth, mask=np.ones((16, 2, 30), np.float32), layout="unified_30",
                                  fps=15.0, frame_ids=np.arange(16), name="played")  # fmt: skip
        expected, _ = cut_window(played, 15, 16, NormalizationConfig())
        np.testing.assert_allclose(window.numpy(), expected, atol=1e-4)
        checked += 1
    assert checked > 20


def test_a_faster_window_starting_before_the_recording_ignores_those_targets():
    from models.training.window_augment import WindowAugment

    sequence, _, _ = _linear_sequence(40)
    data = DetectionWindows([sequence], [np.arange(40)], 16, NormalizationConfig(), length=60,
                            augment=WindowAugment(speed_range=(2.0, 2.0)))  # fmt: skip
    for index in range(len(data)):
        _, target = data[index]
        end = int(target[-1])
        assert (target.numpy() >= 0).sum() == min(16, end // 2 + 1)  # positions end, end - 2, ... down to 0


def test_speeds_are_drawn_in_the_range_and_one_range_draws_nothing():
    from models.training.window_augment import WindowAugment

    rng = np.random.default_rng(0)
    speeds = np.array([WindowAugment(speed_range=(0.5, 2.0)).speed(rng) for _ in range(2000)])
    assert speeds.min() >= 0.5 and speeds.max() <= 2.0
    assert 0.45 < (speeds < 1.0).mean() < 0.55  # log-uniform: as many slower as faster
    untouched = np.random.default_rng(3)
    assert WindowAugment().speed(untouched) == 1.0 and not WindowAugment().active
    assert untouched.uniform() == np.random.default_rng(3).uniform()
    for bad in ((0.0, 1.0), (1.5, 1.2), (-1.0, 2.0)):
        with pytest.raises(ValueError, match="speed_range"):
            WindowAugment(speed_range=bad)


def test_an_interpolated_joint_is_present_only_where_both_frames_have_it():
    from models.training.window_augment import read_frames

    joints = np.arange(4, dtype=np.float32)[:, None, None, None] * np.ones((4, 1, 2, 3), np.float32)
    mask = np.ones((4, 1, 2), np.float32)
    mask[2, 0, 1] = 0.0
    read, present = read_frames(joints, mask, np.array([0.5, 1.25, 1.0, 2.5, 3.0]))
    np.testing.assert_allclose(read[:, 0, 0, 0], [0.5, 1.25, 1.0, 2.5, 3.0])
    assert present[:, 0, 0].tolist() == [1.0] * 5
    assert present[:, 0, 1].tolist() == [1.0, 0.0, 1.0, 0.0, 1.0]  # frame 1.0 takes nothing of frame 2


def test_the_training_config_checks_the_speed_range():
    from models.training.config import ConfigError, load_train_config

    for bad in ([1.2, 0.8], [1.0], [0.0, 1.0]):
        with pytest.raises(ConfigError, match="speed_range"):
            load_train_config(task="detect", speed_range=bad)
    assert load_train_config(task="detect", speed_range=[0.75, 1.33]).speed_range == [0.75, 1.33]


def test_action_onsets_are_the_first_frames_of_actions():
    from models.training.data import action_onsets
    from models.windows import IGNORE_INDEX

    targets = np.array([2, 2, 0, 0, 1, 1, 3, 3, 0, IGNORE_INDEX, 1, 0])
    assert action_onsets(targets).tolist() == [0, 4, 6, 10]
    assert action_onsets(np.zeros(5, np.int64)).tolist() == []


def test_an_onset_share_of_windows_end_just_after_an_action_begins():
    background, action = _sequence(300, "background"), _sequence(300, "action")
    targets = [np.zeros(300, np.int64), np.r_[np.zeros(100), np.ones(50), np.zeros(100), np.full(50, 2)].astype(int)]
    data = DetectionWindows([background, action], targets, 16, NormalizationConfig(), length=4000,
                            onset_share=0.4, onset_frames=5)  # fmt: skip
    picks = [data.pick(i) for i in range(len(data))]
    near = [(s.name, end) for s, end in picks if s.name == "action" and (100 <= end < 105 or 250 <= end < 255)]
    # uniform ends would put 10 of 600 frames there: 0.3 % of 4000 draws; the onset draws add 40 %
    assert 0.37 < len(near) / len(picks) < 0.45
    assert {end for _, end in near} == {*range(100, 105), *range(250, 255)}
    given = DetectionWindows([background, action], targets, 16, NormalizationConfig(), length=1000, onset_share=0.5,
                             onset_frames=1, onsets=[np.array([40]), np.array([], np.int64)])  # a hard negative's onset
    ends = [end for sequence, end in (given.pick(i) for i in range(1000)) if sequence.name == "background"]
    assert 0.45 < ends.count(40) / 1000 < 0.55
    with pytest.raises(ValueError, match="needs a sequence with an onset"):
        DetectionWindows([background], targets[:1], 16, NormalizationConfig(), length=10, onset_share=0.2)


def test_the_training_config_checks_the_onset_share():
    from models.training.config import ConfigError, load_train_config

    for share, frames in ((1.0, 8), (-0.1, 8), (0.2, 0)):
        with pytest.raises(ConfigError, match="onset_share"):
            load_train_config(task="detect", onset_share=share, onset_frames=frames)
    with pytest.raises(ConfigError, match="onset_kind"):
        load_train_config(task="detect", onset_kind="gestures")
    assert load_train_config(task="detect", onset_share=0.3).onset_frames == 8
