"""Gesture detection on recordings with action points (MSRC-12), as the stream would detect them.

Each recording's per-frame probabilities come from the stream's window
semantics (`models.inference`: windows every ``stride`` frames, fused causally
unless ``lookahead`` allows waiting); `models.point_events` turns them into
events exactly as the stream's decoder does; `point_matching` scores the events
against the action points. An event's time is the frame at which its label
became final: the frame itself, plus the lookahead it waited for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from models.evaluation.point_matching import TOLERANCES_S, TimedLabel, point_event_scores
from models.point_events import PointRules, detect_points
from models.skeleton.sequence import SkeletonSequence

ProbabilitiesFn = Callable[[SkeletonSequence], np.ndarray]


def recording_events(probabilities: np.ndarray, labels: list[str], fps: float, rules: PointRules,
                     lookahead: int = 0) -> list[TimedLabel]:  # fmt: skip
    """The gesture events of one recording's (T, K + 1) probabilities, timed when they would be published."""
    return [TimedLabel((event.frame + lookahead) / fps, labels[event.label])
            for event in detect_points(probabilities, rules, fps)]  # fmt: skip


def action_points(sequence: SkeletonSequence) -> list[TimedLabel]:
    """The recording's action points as times (seconds from its first frame)."""
    return [TimedLabel(point.frame / sequence.fps, point.label) for point in sequence.action_points]


def evaluate_gestures(probabilities: dict[str, np.ndarray], sequences: list[SkeletonSequence], labels: list[str],
                      rules: PointRules, lookahead: int = 0,
                      tolerances_s: tuple[float, ...] = TOLERANCES_S) -> dict[str, Any]:  # fmt: skip
    """Event precision, recall and F1 per Δ, per gesture, and delays (`point_matching.point_event_scores`).

    ``probabilities[name]`` holds each prepared recording's (T, K + 1) scores, class 0 background.
    """
    pairs = [(recording_events(probabilities[s.name], labels, s.fps, rules, lookahead), action_points(s))
             for s in sequences]  # fmt: skip
    scores = point_event_scores(pairs, labels[1:], tolerances_s)
    scores["num_recordings"] = len(sequences)
    scores["num_points"] = sum(len(points) for _, points in pairs)
    scores["rules"] = rules.to_dict()
    scores["lookahead_frames"] = lookahead
    return scores
