"""Cutting model windows: padding a young track, bodies, clip resizing."""

import numpy as np
import pytest

from models.skeleton.normalize import NormalizationConfig
from models.skeleton.sequence import Segment, SkeletonSequence
from models.windows import cut_window, prepare_sequence, resize_clip, window_ends, window_frames

RAW = NormalizationConfig(center="none", align="none", scale="none")


def _sequence(frames: int, bodies: int = 1, layout: str = "kinect_v2_25", joints: int = 25) -> SkeletonSequence:
    data = np.zeros((frames, bodies, joints, 3), np.float32)
    data[..., 0] = np.arange(frames, dtype=np.float32)[:, None, None]  # x = frame index
    return SkeletonSequence(joints=data, mask=np.ones(data.shape[:3], np.float32), layout=layout, fps=30.0,
                            frame_ids=np.arange(frames), name="seq",
                            segments=[Segment("walk", 2, 5)] if frames >= 5 else [])  # fmt: skip


def test_young_track_repeats_first_frame():
    seq = prepare_sequence(_sequence(10), fps=30.0)
    window, real = cut_window(seq, end=3, length=8, normalization=RAW)
    assert window.shape == (3, 8, 30, 2)
    assert np.allclose(window[0, :, 0, 0], [0, 0, 0, 0, 0, 1, 2, 3])
    assert real.tolist() == [False] * 4 + [True] * 4
    assert (window[:, :, :, 1] == 0).all()  # the padded second body is absent


def test_prepare_maps_resamples_and_pads_bodies():
    seq = prepare_sequence(_sequence(30), fps=15.0)
    assert seq.layout == "unified_30" and seq.num_bodies == 2 and seq.num_frames == 15
    assert (seq.mask[:, 1] == 0).all()
    assert seq.segments[0].label == "walk"
    three = prepare_sequence(_sequence(4, bodies=3), fps=30.0)
    assert three.num_bodies == 2


def test_window_ends_cover_the_last_frame():
    assert window_ends(20, 8).tolist() == [7, 15, 19]
    assert window_ends(16, 8).tolist() == [7, 15]
    assert window_ends(3, 8).tolist() == [2]
    assert window_frames(5, 1, 4).tolist() == [0, 0, 0, 1]


def test_resize_clip_keeps_order_and_ends():
    clip = resize_clip(_sequence(10), 64)
    assert clip.num_frames == 64
    x = clip.joints[:, 0, 0, 0]
    assert x[0] == 0 and x[-1] == 9 and (np.diff(x) >= 0).all()


def test_window_of_wrong_layout_is_rejected():
    seq = _sequence(5)
    with pytest.raises(ValueError, match="unified_30"):
        cut_window(seq, end=4, length=4, normalization=NormalizationConfig())  # still kinect_v2_25: not prepared
