"""Resampling onto a regular clock: interpolation, gaps, segments."""

import numpy as np
import pytest

from models.skeleton.resample import resample_sequence
from models.skeleton.sequence import ActionPoint, Segment, SkeletonSequence


def _sequence(frame_ids, fps=30.0, segments=()):
    t = len(frame_ids)
    joints = np.zeros((t, 1, 2, 3), np.float32)
    joints[:, 0, 0, 0] = np.asarray(frame_ids, np.float32)  # x of joint 0 = frame id, linear in time
    return SkeletonSequence(joints=joints, mask=np.ones((t, 1, 2), np.float32), layout="unified_30",
                            fps=fps, frame_ids=np.asarray(frame_ids, np.int64), name="s",
                            segments=list(segments))  # fmt: skip


def test_irregular_ids_are_interpolated_linearly():
    seq = _sequence([0, 4, 8, 10, 16])  # 30 fps id clock, 0.533 s long
    out = resample_sequence(seq, fps=15.0)
    assert out.num_frames == 9  # 0 .. 16 ids at steps of 2 ids
    assert np.allclose(out.joints[:, 0, 0, 0], np.arange(0, 17, 2))
    assert (out.mask == 1).all() and out.fps == 15.0


def test_long_gap_is_marked_missing_not_invented():
    seq = _sequence([0, 2, 4, 64, 66])  # a 2-second hole
    out = resample_sequence(seq, fps=15.0, max_gap_s=0.5)
    x = out.joints[:, 0, 0, 0]
    inside = (x > 4) & (x < 64)
    assert inside.sum() == 0  # values in the hole are copies of a neighbour, never blends
    hole = out.mask[:, 0, 0] == 0
    assert hole.sum() == 29  # target frames at ids 6 .. 62
    assert set(np.unique(x[hole])) <= {4.0, 64.0}


def test_segments_keep_their_time_span():
    seq = _sequence(list(range(0, 60, 2)), segments=[Segment("walk", 5, 15)])  # ids 10 .. 28
    out = resample_sequence(seq, fps=10.0)  # target ids every 3
    (segment,) = out.segments
    assert (segment.start, segment.end) == (4, 10)  # ids 12 .. 27 lie inside 10 .. 28


def test_bad_fps():
    with pytest.raises(ValueError, match="fps"):
        resample_sequence(_sequence([0, 1]), fps=0)


def test_action_points_move_to_the_nearest_target_frame():
    joints = np.zeros((31, 1, 2, 3), np.float32)
    sequence = SkeletonSequence(
        joints=joints, mask=np.ones((31, 1, 2), np.float32), layout="kinect_v1_20", fps=30.0,
        frame_ids=np.arange(31), name="points", action_points=[ActionPoint("wave", 0), ActionPoint("wave", 22)],
        attributes={"view": "1"},
    )
    resampled = resample_sequence(sequence, 15.0)
    assert [(p.label, p.frame) for p in resampled.action_points] == [("wave", 0), ("wave", 11)]
    assert resampled.attributes == {"view": "1"}
