"""Dense targets from action points."""

import numpy as np
import pytest

from models.skeleton.sequence import ActionPoint, SkeletonSequence
from models.training.point_targets import point_frame_labels


def _sequence(points, frames=40, fps=10.0):
    return SkeletonSequence(joints=np.zeros((frames, 1, 20, 3), np.float32), mask=np.ones((frames, 1, 20), np.float32),
                            layout="kinect_v1_20", fps=fps, frame_ids=np.arange(frames), name="rec",
                            action_points=points)  # fmt: skip


def test_each_point_labels_its_span_and_the_rest_is_background():
    labels = ["background", "duck", "kick"]
    target = point_frame_labels(_sequence([ActionPoint("duck", 10), ActionPoint("kick", 1)]), labels, 0.5, 0.2)
    expected = np.zeros(40, np.int64)
    expected[0:4] = 2  # kick at 1: frames max(0, 1 - 5) .. 1 + 2
    expected[5:13] = 1  # duck at 10: frames 5 .. 12
    np.testing.assert_array_equal(target, expected)


def test_unknown_gestures_and_negative_spans_are_refused():
    with pytest.raises(KeyError, match="wave"):
        point_frame_labels(_sequence([ActionPoint("wave", 3)]), ["background", "duck"], 0.5, 0.2)
    with pytest.raises(ValueError, match="negative"):
        point_frame_labels(_sequence([]), ["background"], -1.0, 0.0)
