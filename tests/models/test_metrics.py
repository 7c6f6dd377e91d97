"""Evaluation metrics against cases computed by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import matplotlib.image
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.evaluation.clip_metrics import clip_accuracy, nearest_neighbour_accuracy
from models.evaluation.confusion import confusion_matrix, plot_confusion
from models.evaluation.frame_metrics import frame_accuracy, frame_average_precision, frame_map
from models.evaluation.segment_map import segment_average_precision, segment_map, temporal_iou
from models.evaluation.segments import ClassSegment, frames_to_segments, labels_to_segments


# --- frame metrics -----------------------------------------------------------------------------


def test_frame_accuracy_ten_frames():
    true = np.array([0, 0, 1, 1, 1, 2, 2, 0, 0, 2])
    pred = np.array([0, 1, 1, 1, 0, 2, 2, 0, 2, 2])
    # Wrong at frames 1, 4 and 8: 7 of 10 right.
    assert frame_accuracy(pred, true) == pytest.approx(0.7)


def test_frame_average_precision_step_wise():
    # Column 1 ranks the frames 0 (neg), 1 (pos), 2 (pos), 3 (neg).
    scores = np.array([[0.1, 0.9], [0.2, 0.8], [0.3, 0.7], [0.4, 0.6]])
    true = np.array([0, 1, 1, 0])
    # precision 0/1, 1/2, 2/3, 2/4 at recall 0, 1/2, 1, 1:
    # AP = (1/2 - 0)·1/2 + (1 - 1/2)·2/3 = 1/4 + 1/3 = 7/12 (no interpolation;
    # the interpolated AP would be 2/3).
    assert frame_average_precision(scores, true) == {1: pytest.approx(7 / 12)}


def test_frame_average_precision_groups_tied_scores():
    # Two frames tied at 0.5, one positive: one threshold, precision 1/2 at recall 1 -> AP 1/2.
    scores = np.array([[0.5, 0.5], [0.5, 0.5]])
    assert frame_average_precision(scores, np.array([1, 0]))[1] == pytest.approx(0.5)


def test_frame_map_averages_only_action_classes_present():
    scores = np.array([[0.1, 0.9, 0.0], [0.2, 0.8, 0.0], [0.3, 0.7, 0.0], [0.4, 0.6, 0.0]])
    true = np.array([0, 1, 1, 0])
    # Class 2 never occurs and class 0 is background: the mean is class 1's 7/12.
    assert frame_map(scores, true) == pytest.approx(7 / 12)
    per_class = frame_average_precision(scores, true, classes=[1, 2])
    assert np.isnan(per_class[2])


def test_frame_metric_errors():
    with pytest.raises(ValueError, match="differ in length"):
        frame_accuracy(np.array([0, 1]), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="empty"):
        frame_accuracy(np.array([], int), np.array([], int))
    with pytest.raises(ValueError, match="frames"):
        frame_average_precision(np.zeros((3, 2)), np.array([0, 1]))
    with pytest.raises(ValueError, match="only background"):
        frame_map(np.zeros((2, 2)), np.array([0, 0]))


# --- segments ----------------------------------------------------------------------------------

# 10 frames, background + 2 actions; arg-max per frame: -, 1, 1, 1(0.5), -, 1, 2, 2, 2, -.
PROBS = np.array(
    [
        [0.8, 0.1, 0.1],
        [0.1, 0.7, 0.2],
        [0.1, 0.6, 0.3],
        [0.2, 0.5, 0.3],
        [0.6, 0.2, 0.2],
        [0.1, 0.8, 0.1],
        [0.1, 0.1, 0.8],
        [0.1, 0.2, 0.7],
        [0.1, 0.1, 0.8],
        [0.5, 0.3, 0.2],
    ]
)


def _triples(segments):
    return [(s.label, s.start, s.end, round(s.score, 4)) for s in segments]


def test_frames_to_segments_runs_and_scores():
    # Runs: class 1 on [1, 4) mean (.7+.6+.5)/3 = .6; class 1 on [5, 6) = .8; class 2 on [6, 9) (.8+.7+.8)/3.
    assert _triples(frames_to_segments(PROBS)) == [(1, 1, 4, 0.6), (1, 5, 6, 0.8), (2, 6, 9, round(2.3 / 3, 4))]


def test_frames_to_segments_threshold_min_length_merge():
    # Threshold .55 turns frame 3 (max .5) to background: class 1 on [1, 3), mean (.7+.6)/2 = .65.
    assert _triples(frames_to_segments(PROBS, threshold=0.55))[0] == (1, 1, 3, 0.65)
    # min_length 2 drops the one-frame run [5, 6).
    assert [(s.label, s.start, s.end) for s in frames_to_segments(PROBS, min_length=2)] == [(1, 1, 4), (2, 6, 9)]
    # merge_gap 1 joins class 1's [1, 4) and [5, 6) (gap of 1 frame) into [1, 6):
    # mean of column 1 over frames 1..5 = (.7+.6+.5+.2+.8)/5 = .56.
    merged = frames_to_segments(PROBS, merge_gap=1)
    assert _triples(merged)[0] == (1, 1, 6, 0.56)
    # Merging happens before the length filter: [1, 6) (5 frames) survives min_length 4, [6, 9) does not.
    assert [(s.start, s.end) for s in frames_to_segments(PROBS, merge_gap=1, min_length=4)] == [(1, 6)]


def test_labels_to_segments():
    segments = labels_to_segments(np.array([0, 1, 1, 0, 2, 2, 2, 1]))
    assert [(s.label, s.start, s.end) for s in segments] == [(1, 1, 3), (2, 4, 7), (1, 7, 8)]
    assert labels_to_segments(np.array([], int)) == []


def test_segment_errors():
    with pytest.raises(ValueError, match=r"\(T, K\+1\)"):
        frames_to_segments(np.zeros(5))
    with pytest.raises(ValueError, match="min_length"):
        frames_to_segments(PROBS, min_length=0)
    with pytest.raises(ValueError, match="empty"):
        ClassSegment(1, 4, 4)


# --- temporal IoU and segment AP ---------------------------------------------------------------


def test_temporal_iou_known_pairs():
    assert temporal_iou((0, 5), (5, 10)) == 0.0  # touching, end exclusive: disjoint
    assert temporal_iou((0, 10), (0, 10)) == 1.0
    assert temporal_iou((0, 10), (5, 15)) == pytest.approx(5 / 15)  # half of each overlaps: 5 / 15
    assert temporal_iou((0, 10), (0, 5)) == pytest.approx(0.5)  # contained half: 5 / 10
    with pytest.raises(ValueError, match="empty or reversed"):
        temporal_iou((3, 3), (0, 5))


def test_segment_average_precision_by_hand():
    ground_truths = {"a": [ClassSegment(1, 0, 10), ClassSegment(1, 20, 30)]}
    detections = {
        "a": [
            ClassSegment(1, 2, 10, 0.9),  # tIoU 8/10 = .8 with g1
            ClassSegment(1, 0, 10, 0.8),  # tIoU 1 with g1, but g1 is taken: duplicate
            ClassSegment(1, 24, 34, 0.7),  # tIoU with g2: 6 / 14 = .43
        ]
    }
    # θ = .3: TP, FP, TP -> precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1;
    #   envelope 1, 2/3, 2/3 -> AP = 1/2·1 + 1/2·2/3 = 5/6.
    # θ = .5: TP, FP, FP -> AP = 1/2·1 = 1/2.
    assert segment_average_precision(detections, ground_truths, 0.3) == {1: pytest.approx(5 / 6)}
    assert segment_average_precision(detections, ground_truths, 0.5) == {1: pytest.approx(0.5)}
    assert segment_map(detections, ground_truths, thresholds=(0.3, 0.5)) == {
        0.3: pytest.approx(5 / 6),
        0.5: pytest.approx(0.5),
    }


def test_segment_ap_is_interpolated():
    ground_truths = {"a": [ClassSegment(1, 0, 10), ClassSegment(1, 20, 30)]}
    detections = {"a": [ClassSegment(1, 40, 50, 0.9), ClassSegment(1, 0, 10, 0.8), ClassSegment(1, 20, 30, 0.7)]}
    # FP, TP, TP: precision 0, 1/2, 2/3 at recall 0, 1/2, 1; envelope 2/3 everywhere -> AP = 2/3
    # (the step-wise frame definition would give 1/2·1/2 + 1/2·2/3 = 7/12).
    assert segment_average_precision(detections, ground_truths, 0.5)[1] == pytest.approx(2 / 3)


def test_segment_matching_respects_sequence_and_class():
    ground_truths = {"a": [ClassSegment(1, 0, 10)], "b": [ClassSegment(2, 0, 10)]}
    detections = {
        "a": [ClassSegment(1, 0, 10, 0.9)],  # TP for class 1
        "b": [ClassSegment(1, 0, 10, 0.8), ClassSegment(2, 0, 10, 0.7)],  # wrong class (FP), then TP
    }
    # mAP_a: class 1 ranks TP, FP with 1 GT -> AP 1; class 2: TP -> 1. Mean 1.
    assert segment_map(detections, ground_truths, thresholds=(0.5,)) == {0.5: 1.0}
    # mAP_v: video a -> 1; video b ranks FP, TP with 1 GT -> precision 1/2 at recall 1 -> 1/2. Mean 3/4.
    assert segment_map(detections, ground_truths, thresholds=(0.5,), average="video") == {0.5: pytest.approx(0.75)}
    # The same span in a sequence without that ground truth is a false positive.
    assert segment_average_precision({"b": [ClassSegment(1, 0, 10, 0.9)]}, ground_truths, 0.5)[1] == 0.0


def test_segment_map_errors():
    with pytest.raises(ValueError, match="no segment"):
        segment_map({}, {"a": []})
    with pytest.raises(ValueError, match="without a ground-truth entry"):
        segment_map({"z": [ClassSegment(1, 0, 1, 0.5)]}, {"a": [ClassSegment(1, 0, 1)]})
    with pytest.raises(ValueError, match="iou_threshold"):
        segment_average_precision({}, {"a": [ClassSegment(1, 0, 1)]}, 0.0)


# --- perfect predictions -----------------------------------------------------------------------


def test_perfect_predictions_score_one():
    labels = {"a": np.array([0, 0, 1, 1, 1, 0, 2, 2, 0, 0]), "b": np.array([3, 3, 3, 0, 0, 1, 1, 1, 1, 0])}
    detections, ground_truths = {}, {}
    for name, frame_labels in labels.items():
        probs = np.eye(4)[frame_labels]
        assert frame_accuracy(probs.argmax(1), frame_labels) == 1.0
        assert frame_map(probs, frame_labels) == 1.0
        detections[name] = frames_to_segments(probs, threshold=0.5)
        ground_truths[name] = labels_to_segments(frame_labels)
    assert segment_map(detections, ground_truths) == {0.1: 1.0, 0.3: 1.0, 0.5: 1.0}
    assert segment_map(detections, ground_truths, average="video") == {0.1: 1.0, 0.3: 1.0, 0.5: 1.0}
    clips = np.array([0, 2, 1, 3])
    assert clip_accuracy(clips, clips) == 1.0
    assert clip_accuracy(np.eye(4)[clips], clips) == 1.0
    assert np.array_equal(confusion_matrix(clips, clips, 4), np.diag([1, 1, 1, 1]))


# --- clip metrics ------------------------------------------------------------------------------


def test_clip_accuracy_top_k():
    scores = np.array([[0.6, 0.3, 0.1], [0.5, 0.4, 0.1], [0.1, 0.2, 0.7]])
    true = np.array([0, 1, 0])
    # top-1 picks 0, 0, 2: one right of 3. top-2 sets {0,1}, {0,1}, {2,1}: two right.
    assert clip_accuracy(scores, true) == pytest.approx(1 / 3)
    assert clip_accuracy(scores, true, top_k=2) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="top_k"):
        clip_accuracy(np.array([0, 1, 0]), true, top_k=2)


def test_nearest_neighbour_on_separable_toy_set():
    rng = np.random.default_rng(0)
    centres = np.array([[5.0, 0.0, 0.0], [0.0, 5.0, 0.0], [0.0, 0.0, 5.0]])
    train_labels = np.repeat(np.arange(3), 10)
    test_labels = np.repeat(np.arange(3), 4)
    train = centres[train_labels] + rng.normal(scale=0.3, size=(30, 3))
    test = centres[test_labels] + rng.normal(scale=0.3, size=(12, 3))
    for metric in ("cosine", "euclidean"):
        assert nearest_neighbour_accuracy(train, train_labels, test, test_labels, metric=metric) == 1.0
    with pytest.raises(ValueError, match="dims"):
        nearest_neighbour_accuracy(train, train_labels, test[:, :2], test_labels)


# --- confusion ---------------------------------------------------------------------------------


def test_confusion_matrix_counts():
    pred = np.array([0, 1, 1, 2, 2, 2, 0])
    true = np.array([0, 1, 2, 2, 2, 0, 0])
    # (true, pred) pairs: (0,0) (1,1) (2,1) (2,2) (2,2) (0,2) (0,0).
    expected = np.array([[2, 0, 1], [0, 1, 0], [0, 1, 2]])
    assert np.array_equal(confusion_matrix(pred, true, 3), expected)
    with pytest.raises(ValueError, match="lie in"):
        confusion_matrix(np.array([0, 3]), np.array([0, 1]), 3)


def test_plot_confusion_writes_png(tmp_path):
    matrix = np.array([[2, 0, 1], [0, 0, 0], [0, 1, 2]])  # an all-zero row must not divide by zero
    path = plot_confusion(matrix, ["walk", "sit", "wave"], tmp_path / "confusion.png")
    image = matplotlib.image.imread(path)
    # 3 classes: the minimum 4 in side -> (4 + 1) x 4 inches at 100 dpi, RGBA.
    assert image.shape == (400, 500, 4)
    assert image[..., :3].std() > 0  # not a blank canvas
    with pytest.raises(ValueError, match="class names"):
        plot_confusion(matrix, ["walk", "sit"], tmp_path / "bad.png")


# --- property ----------------------------------------------------------------------------------

_spans = st.tuples(st.integers(1, 3), st.integers(0, 40), st.integers(1, 15))


@settings(max_examples=60, deadline=None)
@given(
    truths=st.lists(st.lists(_spans, max_size=4), min_size=1, max_size=3),
    found=st.lists(st.lists(st.tuples(_spans, st.floats(0, 1)), max_size=6), min_size=1, max_size=3),
    average=st.sampled_from(["action", "video"]),
)
def test_segment_map_lies_in_unit_interval(truths, found, average):
    ground_truths = {f"s{i}": [ClassSegment(k, s, s + n) for k, s, n in spans] for i, spans in enumerate(truths)}
    detections = {
        f"s{i}": [ClassSegment(k, s, s + n, score) for (k, s, n), score in spans]
        for i, spans in enumerate(found)
        if f"s{i}" in ground_truths
    }
    if not any(ground_truths.values()):
        ground_truths["s0"] = [ClassSegment(1, 0, 5)]
    for value in segment_map(detections, ground_truths, average=average).values():
        assert 0.0 <= value <= 1.0
