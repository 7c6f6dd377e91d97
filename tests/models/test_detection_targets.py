"""Detection targets from segments, action points and trimmed clips, through a vocabulary table."""

import numpy as np
import pytest

from models.skeleton.sequence import ActionPoint, Segment, SkeletonSequence
from models.synthetic.generator import SyntheticConfig, generate_people
from models.training.clip_targets import active_span, clip_frame_labels
from models.training.detection_targets import detection_targets, movement_onsets
from models.datasets.registry import dataset_spec
from models.training.vocabularies import MSRC12_MAP, UTKINECT_MAP, VOCABULARY_MAPS, mapped_label
from models.windows import IGNORE_INDEX, prepare_sequence

VOCABULARY = ["background", "waveHands", "throw"]


def _blank(frames=40, fps=10.0, **fields):
    return SkeletonSequence(joints=np.zeros((frames, 1, 30, 3), np.float32), mask=np.ones((frames, 1, 30), np.float32),
                            layout="unified_30", fps=fps, frame_ids=np.arange(frames), name="rec", **fields)  # fmt: skip


def test_action_points_become_spans_and_left_out_labels_are_ignored():
    sequence = _blank(action_points=[ActionPoint("throw", 10), ActionPoint("kick", 30), ActionPoint("push", 20)])
    table = {"throw": "throw", "push": None}  # kick: unlisted, so background
    [(_, target)] = detection_targets([sequence], "points", VOCABULARY, lambda l: table.get(l, "background"),
                                      point_span_s=(0.5, 0.2))  # fmt: skip
    expected = np.zeros(40, np.int64)
    expected[5:13] = 2
    expected[15:23] = IGNORE_INDEX
    np.testing.assert_array_equal(target, expected)


def test_segments_map_and_unknown_vocabulary_labels_fail():
    sequence = _blank(segments=[Segment("wave", 2, 6)])
    [(_, target)] = detection_targets([sequence], "detection", VOCABULARY, lambda l: "waveHands", (1.0, 0.2))
    assert target.tolist()[:8] == [0, 0, 1, 1, 1, 1, 0, 0]
    with pytest.raises(KeyError, match="jump"):
        detection_targets([sequence], "detection", VOCABULARY, lambda l: "jump", (1.0, 0.2))


def test_movements_begin_where_any_kept_label_begins_hard_negatives_included():
    points = _blank(action_points=[ActionPoint("throw", 10), ActionPoint("kick", 30), ActionPoint("push", 20)])
    table = {"throw": "throw", "push": None}  # kick becomes background: still a movement; push is left out
    assert movement_onsets(points, "points", lambda label: table.get(label, "background"), (0.5, 0.2)).tolist() == [
        5, 25]
    segments = _blank(segments=[Segment("wave", 2, 6), Segment("drink", 12, 20), Segment("skip", 25, 30)])
    named = {"wave": "waveHands", "drink": "background", "skip": None}.get
    assert movement_onsets(segments, "detection", named, (1.0, 0.2)).tolist() == [2, 12]


def _clip(person, segment):
    frames = slice(max(0, segment.start - 20), segment.end + 20)  # the action with idle time around it
    length = frames.stop - frames.start
    return SkeletonSequence(joints=person.joints[frames], mask=person.mask[frames], layout=person.layout,
                            fps=person.fps, frame_ids=np.arange(length), name="clip", label=segment.label), \
        segment.start - frames.start, segment.end - frames.start  # fmt: skip


def test_a_clip_is_labelled_on_its_active_span_only():
    person = prepare_sequence(generate_people(SyntheticConfig(num_people=1, duration=60.0, seed=4))[0], 15.0)
    segment = next(s for s in person.segments if s.label == "waveHands" and s.start >= 20)
    clip, start, end = _clip(person, segment)
    found_start, found_end = active_span(clip)
    assert abs(found_start - start) <= 5 and abs(found_end - end) <= 5
    target = clip_frame_labels(clip, label=1)
    assert target[0] == 0 and target[-1] == 0 and target[(start + end) // 2] == 1
    [(_, from_table)] = detection_targets([clip], "classification", VOCABULARY, lambda l: "waveHands", (1.0, 0.2))
    np.testing.assert_array_equal(from_table, target)
    assert detection_targets([clip], "classification", VOCABULARY, lambda l: None, (1.0, 0.2)) == []
    assert movement_onsets(clip, "classification", lambda l: "background", (1.0, 0.2)).tolist() == [found_start]
    assert movement_onsets(clip, "classification", lambda l: None, (1.0, 0.2)).tolist() == []


def test_the_utkinect_table_names_only_vocabulary_actions():
    utkinect = {"walk", "sitDown", "standUp", "pickUp", "carry", "throw", "push", "pull", "waveHands", "clapHands"}
    assert {v for table in UTKINECT_MAP.values() for v in table.values() if v is not None} <= utkinect
    assert mapped_label(UTKINECT_MAP, "kinder-gator", "bow") == "background"
    assert mapped_label(UTKINECT_MAP, "nw-ucla", "drop trash") is None


def test_every_table_entry_names_a_label_of_its_dataset():
    """A misspelt entry would silently make its clips background: every key must be one of the dataset's labels."""
    for vocabulary, table in VOCABULARY_MAPS.items():
        own = set(dataset_spec(vocabulary).training_labels)
        for dataset, entries in table.items():
            unknown = set(entries) - set(dataset_spec(dataset).labels)
            assert not unknown, f"{vocabulary} table, {dataset}: {sorted(unknown)} are not its labels"
            assert {v for v in entries.values() if v is not None} <= own


def test_the_gesture_table_leaves_out_what_resembles_a_gesture():
    assert mapped_label(MSRC12_MAP, "kinder-gator", "bow") is None
    assert mapped_label(MSRC12_MAP, "utd-mhad", "squat") is None
    assert mapped_label(MSRC12_MAP, "kinder-gator", "wave_your_hand") == "background"
    assert mapped_label(MSRC12_MAP, "utkinect", "waveHands") == "background"
