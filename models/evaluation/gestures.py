"""Gesture detection on recordings with action points (MSRC-12), as the stream would detect them.

Each recording's per-frame probabilities come from the stream's window
semantics (`models.inference`: windows every ``stride`` frames, fused causally
unless ``lookahead`` allows waiting); `models.point_events` turns them into
events exactly as the stream's decoder does; `point_matching` scores the events
against the action points. An event's time is the frame at which its label
became final: the frame itself, plus the lookahead it waited for.

`evaluate_gesture_detector` runs the whole protocol for a checkpoint (what
``stream-eval --dataset msrc12`` reports): raw recordings prepared as the
stream prepares them, the checkpoint's own gesture rules (``config.json`` →
``events.points``), causal by default. `frame_baseline_probabilities` gives the
project's simple baseline (`models.evaluation.baseline`) on the same protocol,
and `gesture_table` prints the figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from models.checkpoint import CheckpointConfig
from models.evaluation.confusion import plot_confusion
from models.evaluation.point_matching import (MISSED, NO_GESTURE, TOLERANCES_S, TimedLabel, point_confusion,
                                              point_event_scores)
from models.point_events import PointRules, detect_points
from models.skeleton.sequence import SkeletonSequence
from models.windows import prepare_sequence

BASELINE_TRAIN_FRAMES = 20_000
"""The simple baseline fits on at most this many training frames (evenly spaced in each recording)."""

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
                      rules: PointRules, lookahead: int = 0, tolerances_s: tuple[float, ...] = TOLERANCES_S,
                      confusion_png: str | Path | None = None) -> dict[str, Any]:  # fmt: skip
    """Event precision, recall and F1 per Δ, per gesture, and delays (`point_matching.point_event_scores`), and
    ``confusion`` at the widest Δ (`point_matching.point_confusion`; drawn to ``confusion_png`` when given).

    ``probabilities[name]`` holds each prepared recording's (T, K + 1) scores, class 0 background.
    """
    pairs = [(recording_events(probabilities[s.name], labels, s.fps, rules, lookahead), action_points(s))
             for s in sequences]  # fmt: skip
    scores = point_event_scores(pairs, labels[1:], tolerances_s)
    scores["num_recordings"] = len(sequences)
    scores["num_points"] = sum(len(points) for _, points in pairs)
    scores["rules"] = rules.to_dict()
    scores["lookahead_frames"] = lookahead
    widest = max(tolerances_s)
    matrix = point_confusion(pairs, labels[1:], widest)
    scores["confusion"] = {"tolerance_s": widest, "rows": [*labels[1:], NO_GESTURE], "columns": [*labels[1:], MISSED],
                           "counts": matrix.tolist()}  # fmt: skip
    if confusion_png is not None:
        confusion = scores["confusion"]
        plot_confusion(matrix, confusion["rows"], confusion_png, predicted_names=confusion["columns"])
    return scores


def evaluate_gesture_detector(logits: Callable[[np.ndarray], np.ndarray], config: CheckpointConfig,
                              sequences: list[SkeletonSequence], stride: int = 1, lookahead: int = 0,
                              tolerances_s: tuple[float, ...] = TOLERANCES_S,
                              confusion_png: str | Path | None = None) -> dict[str, Any]:  # fmt: skip
    """`evaluate_gestures` of a detector (``logits``: windows → per-frame logits, `models.inference.LogitsFn`)
    with the gesture rules of its ``config``, its windows run every ``stride`` frames and fused as a stream
    with this ``lookahead`` fuses them (0: causal, as ``stream-run``)."""
    from models.inference import fused_probabilities

    if config.points is None:
        raise ValueError("the checkpoint declares no gesture events (config.json events.points): the action-point "
                         "protocol scores gesture events")  # fmt: skip
    prepared = [prepare_sequence(raw, config.fps, config.model.M) for raw in sequences]
    probabilities = {s.name: fused_probabilities(logits, s, config, stride=stride, lookahead=lookahead)
                     for s in prepared}  # fmt: skip
    scores = evaluate_gestures(probabilities, prepared, list(config.labels), config.points, lookahead, tolerances_s,
                               confusion_png)  # fmt: skip
    return {**scores, "stride": stride}


def frame_baseline_probabilities(train: list[SkeletonSequence], test: list[SkeletonSequence],
                                 config: CheckpointConfig, point_span_s: tuple[float, float],
                                 future: int = 0) -> tuple[dict[str, np.ndarray], list[SkeletonSequence]]:  # fmt: skip
    """The simple baseline (`models.evaluation.baseline.frame_baseline`: pooled joints and velocities of the
    window ending ``future`` frames after each frame → logistic regression), fitted on the ``train``
    recordings with dense targets from their action points (``point_span_s`` before and after each point,
    as the checkpoint was trained); per-frame probabilities of the prepared ``test`` recordings, and those.
    At most `BASELINE_TRAIN_FRAMES` training frames are used (evenly spaced): eighteen MSRC-12 people are
    225 000 frames at 15 fps, and the cross-validated fit on every fourth of them took over 25 minutes."""
    from models.evaluation.baseline import frame_baseline
    from models.training.detection_targets import detection_targets

    labels = list(config.labels)
    prepared_train = [prepare_sequence(raw, config.fps, config.model.M) for raw in train]
    prepared_test = [prepare_sequence(raw, config.fps, config.model.M) for raw in test]
    pairs = detection_targets(prepared_train, "points", labels, lambda label: label, point_span_s)
    every = max(4, math.ceil(sum(s.num_frames for s, _ in pairs) / BASELINE_TRAIN_FRAMES))
    probabilities = frame_baseline([s for s, _ in pairs], prepared_test, labels, future=future, every=every,
                                   targets=[t for _, t in pairs])  # fmt: skip
    return probabilities, prepared_test


def gesture_table(rows: dict[str, dict[str, Any]]) -> str:
    """Each row's pooled F1 / precision / recall per Δ and its delays (``rows``: name → `evaluate_gestures`
    scores, e.g. ``{"causal": ..., "lookahead 2": ...}``), then each row's F1 per gesture at every Δ."""
    keys = list(next(iter(rows.values()))["event_f1"])
    widest = keys[-1]
    width = max(len(name) for name in rows)
    cells = [f"{measure}@{k}" for k in keys for measure in ("F1", "P", "R")]
    lines = [f"{'':<{width}}  " + "  ".join(cells) + f"  delay p50 / p90 ms (correct at {widest} s)"]
    for name, scores in rows.items():
        values = [scores[f"event_{m}"][k] for k in keys for m in ("f1", "precision", "recall")]
        delay = scores["delay_ms"]
        lines.append(f"{name:<{width}}  " + "  ".join(f"{v:>{len(c)}.3f}" for v, c in zip(values, cells))
                     + f"  {delay['p50']:.0f} / {delay['p90']:.0f}")  # fmt: skip
    gestures = list(next(iter(rows.values()))["per_gesture"])
    first = max(len(g) for g in gestures)
    column = max(len(keys) * 6 - 1, *(len(name) for name in rows))
    lines += ["", f"F1 per gesture at {' / '.join(keys)} s",
              f"{'':<{first}}  " + "  ".join(f"{name:<{column}}" for name in rows).rstrip()]  # fmt: skip
    for gesture in gestures:
        triples = [" ".join(f"{rows[name]['per_gesture'][gesture]['f1'][k]:5.3f}" for k in keys) for name in rows]
        lines.append(f"{gesture:<{first}}  " + "  ".join(f"{t:<{column}}" for t in triples).rstrip())
    return "\n".join(lines)
