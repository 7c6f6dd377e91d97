"""Gesture events: once per instance, at the frame of recognition, with the evidence's age."""

import numpy as np
import pytest

from models.point_events import PointDetector, PointRules, detect_points


def _probabilities(gesture_curve, classes=3, gesture=1):
    """(T, classes) probabilities: ``gesture`` follows the curve, background takes the rest."""
    p = np.zeros((len(gesture_curve), classes))
    p[:, gesture] = gesture_curve
    p[:, 0] = 1 - p[:, gesture]
    return p


def test_one_event_per_excursion_at_the_threshold_crossing():
    curve = [0.1, 0.35, 0.45, 0.6, 0.9, 0.8, 0.4, 0.7, 0.2, 0.1, 0.6, 0.1]
    events = detect_points(_probabilities(curve), PointRules(threshold=0.5, release=0.3, refractory_s=0.0), fps=10)
    assert [(e.label, e.frame, e.evidence_frames) for e in events] == [(1, 3, 2), (1, 10, 0)]
    assert events[0].score == pytest.approx(0.6)


def test_the_refractory_period_merges_a_quick_repeat():
    curve = [0.9, 0.1, 0.9, 0.1, 0.1, 0.1, 0.9]
    rules = PointRules(threshold=0.5, release=0.3, refractory_s=0.45)
    assert [e.frame for e in detect_points(_probabilities(curve), rules, fps=10)] == [0, 6]


def test_confirmation_frames_delay_and_filter_flicker():
    curve = [0.6, 0.1, 0.6, 0.6, 0.6]
    rules = PointRules(threshold=0.5, release=0.3, refractory_s=0.0, confirm_frames=2)
    assert [e.frame for e in detect_points(_probabilities(curve), rules, fps=10)] == [3]


def test_peak_picking_waits_for_the_first_drop_and_scores_the_peak():
    curve = [0.1, 0.3, 0.5, 0.7, 0.9, 0.92, 0.8, 0.1]
    rules = PointRules(threshold=0.5, release=0.3, refractory_s=0.0, peak_frames=5, peak_drop=0.05)
    [event] = detect_points(_probabilities(curve), rules, fps=10)
    assert (event.frame, event.evidence_frames) == (6, 5)  # confirmed at 2; 0.92 at 5; 0.8 < 0.92 - 0.05 at 6
    assert event.score == pytest.approx(0.92)


def test_peak_picking_waits_at_most_peak_frames_and_ignores_small_dips():
    curve = [0.6, 0.7, 0.68, 0.8, 0.9, 0.95, 0.97, 0.99, 0.1]
    rules = PointRules(threshold=0.5, release=0.3, refractory_s=0.0, peak_frames=4, peak_drop=0.05)
    [event] = detect_points(_probabilities(curve), rules, fps=10)
    assert (event.frame, event.score) == (4, pytest.approx(0.9))  # the dip at 2 is within peak_drop; 4 = 0 + 4


def test_a_gesture_waiting_for_its_peak_when_the_frames_end_is_recognised_at_the_last():
    rules = PointRules(threshold=0.5, release=0.3, refractory_s=0.0, peak_frames=10)
    detector = PointDetector(3, rules, fps=10)
    assert [e for t, p in enumerate(_probabilities([0.2, 0.6, 0.7])) for e in detector.update(t, p, at=f"s{t}")] == []
    [event] = detector.close()
    assert (event.label, event.frame, event.at, event.evidence_frames) == (1, 2, "s2", 1)
    assert detector.close() == []


@pytest.mark.parametrize("peak_frames", [0, 4])
def test_online_equals_offline(peak_frames):
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(4) * 0.3, size=300)
    rules = PointRules(threshold=0.6, release=0.4, refractory_s=0.3, confirm_frames=2, peak_frames=peak_frames)
    detector = PointDetector(4, rules, fps=15)
    online = [e for t, row in enumerate(probabilities) for e in detector.update(t, row)] + detector.close()
    assert online == detect_points(probabilities, rules, fps=15) and online


@pytest.mark.parametrize("bad", [{"threshold": 0.0}, {"release": 0.9, "threshold": 0.5}, {"refractory_s": -1},
                                 {"confirm_frames": 0}, {"threshold": True}, {"peak_frames": -1},
                                 {"peak_frames": 1.5}, {"peak_drop": 1.0}, {"peak_drop": -0.1}])
def test_bad_rules_are_refused(bad):
    with pytest.raises(ValueError, match="point rules"):
        PointRules(**bad)
    with pytest.raises(ValueError, match="unknown keys"):
        PointRules.from_dict({"threshold": 0.5, "hysteresis": 1})
