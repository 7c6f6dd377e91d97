"""The latency-aware action-point protocol: one-to-one matching within Δ, F1 and delays."""

import math

import pytest

from models.evaluation.point_matching import TimedLabel, match_points, point_confusion, point_event_scores


def test_each_point_is_claimed_once_by_the_nearest_event_of_its_gesture():
    points = [TimedLabel(1.0, "duck"), TimedLabel(3.0, "duck"), TimedLabel(5.0, "kick")]
    events = [TimedLabel(0.9, "duck"), TimedLabel(1.1, "duck"), TimedLabel(3.4, "duck"), TimedLabel(5.0, "duck")]
    matching = match_points(events, points, tolerance_s=0.5)
    assert [(g, round(d, 3)) for g, d in matching.matched] == [("duck", -0.1), ("duck", 0.4)]
    assert matching.false_positives == ("duck", "duck")  # the second event near 1 s, and the wrong gesture at 5 s
    assert matching.missed == ("kick",)


def test_scores_per_tolerance_and_gesture():
    points = [TimedLabel(1.0, "duck"), TimedLabel(3.0, "kick")]
    events = [TimedLabel(1.2, "duck"), TimedLabel(3.8, "kick")]
    scores = point_event_scores([(events, points)], ["duck", "kick"], tolerances_s=(0.333, 1.0))
    assert scores["event_f1"] == {"0.333": pytest.approx(0.5), "1.0": pytest.approx(1.0)}
    assert scores["per_gesture"]["kick"]["recall"]["0.333"] == 0.0
    assert scores["per_gesture"]["duck"]["precision"]["0.333"] == 1.0
    assert scores["delay_ms"]["p50"] == pytest.approx(500.0)  # delays 200 and 800 ms at the widest Δ
    assert scores["delay_ms"]["by_tolerance"]["0.333"]["count"] == 1


def test_no_events_gives_zero_recall_and_undefined_precision():
    scores = point_event_scores([([], [TimedLabel(1.0, "duck")])], ["duck"])
    assert scores["event_recall"]["0.5"] == 0.0 and math.isnan(scores["event_precision"]["0.5"])
    assert scores["event_f1"]["1.0"] == 0.0


def test_the_confusion_names_what_each_mistake_was():
    points = [TimedLabel(1.0, "duck"), TimedLabel(3.0, "duck"), TimedLabel(5.0, "kick"), TimedLabel(9.0, "kick")]
    events = [TimedLabel(0.9, "duck"), TimedLabel(1.1, "duck"), TimedLabel(3.4, "kick"), TimedLabel(5.2, "kick"),
              TimedLabel(7.0, "bow")]  # fmt: skip
    matrix = point_confusion([(events, points)], ["duck", "kick", "bow"], tolerance_s=0.5)
    # rows duck, kick, bow, no gesture; columns duck, kick, bow, missed
    assert matrix.tolist() == [[1, 1, 0, 0],  # the 1 s duck found; the 3 s duck called kick
                               [0, 1, 0, 1],  # the 5 s kick found; the 9 s kick missed
                               [0, 0, 0, 0],
                               [1, 0, 1, 0]]  # a second duck at 1.1 s and a bow at 7 s: false alarms
    scores = point_event_scores([(events, points)], ["duck", "kick", "bow"], tolerances_s=(0.5,))
    assert matrix.diagonal()[:-1].sum() == scores["counts"]["0.5"]["correct"]  # the diagonal is the protocol's
    assert matrix[:-1].sum() == len(points)
