"""The simple baseline: features of what the model sees, a classifier chosen without the test split."""

import numpy as np

from models.evaluation.baseline import PyramidFeatures, clip_baseline, frame_baseline
from models.evaluation.clip_metrics import clip_accuracy
from models.evaluation.runner import detection_metrics
from models.skeleton.sequence import SkeletonSequence
from models.synthetic.actions import ACTIONS
from models.synthetic.generator import SyntheticConfig, generate_people
from models.windows import prepare_sequence


def _people(seed):
    return [prepare_sequence(p, 15.0) for p in generate_people(SyntheticConfig(num_people=2, duration=40.0, seed=seed))]


def _clips(people):
    clips = []
    for person in people:
        for segment in person.segments:
            frames = slice(segment.start, segment.end)
            clips.append(SkeletonSequence(joints=person.joints[frames], mask=person.mask[frames], layout=person.layout,
                                          fps=person.fps, frame_ids=np.arange(segment.length),
                                          name=f"{person.name}-{segment.start}", label=segment.label,
                                          subject=person.subject))  # fmt: skip
    return clips


def test_features_ignore_where_the_person_stands():
    person = _people(1)[0]
    moved = SkeletonSequence(joints=person.joints + np.array([0.7, 0.0, 1.5], np.float32), mask=person.mask,
                             layout=person.layout, fps=person.fps, frame_ids=person.frame_ids, name="moved")  # fmt: skip
    features = PyramidFeatures()
    np.testing.assert_allclose(features.of_clip(moved), features.of_clip(person), atol=1e-4)
    assert features.of_frames(person, 16).shape[0] == person.num_frames


def test_clip_baseline_recognises_synthetic_actions_far_above_chance():
    train, test = _clips(_people(1) + _people(2)), _clips(_people(3))
    probabilities = clip_baseline(train, test, list(ACTIONS))
    accuracy = clip_accuracy(probabilities, np.array([ACTIONS.index(c.label) for c in test]))
    assert accuracy > 3 / len(ACTIONS)


def test_frame_baseline_scores_go_through_the_detection_metrics():
    labels = ["background", *ACTIONS]
    train, test = _people(1) + _people(2), _people(3)
    scores = frame_baseline(train, test, labels, window=16)
    assert all(scores[s.name].shape == (s.num_frames, len(labels)) for s in test)
    np.testing.assert_allclose(scores[test[0].name].sum(axis=1), 1.0, atol=1e-5)
    metrics = detection_metrics(test, scores, labels)
    background = np.mean(np.concatenate([s.frame_labels(labels) for s in test]) == 0)
    assert metrics["frame_accuracy"] > background
    errors = metrics["frame_errors"]
    assert errors["frames"] == metrics["num_frames"]
    assert errors["errors"] == round((1 - metrics["frame_accuracy"]) * metrics["num_frames"])
    assert errors["errors"] == errors["action_missed"] + errors["background_named"] + errors["actions_confused"]


def test_a_one_frame_clip_has_finite_features():
    person = _people(1)[0]
    one = SkeletonSequence(joints=person.joints[:1], mask=person.mask[:1], layout=person.layout, fps=person.fps,
                           frame_ids=person.frame_ids[:1], name="one")  # fmt: skip
    assert np.isfinite(PyramidFeatures().of_clip(one)).all()
