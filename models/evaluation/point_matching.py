"""Latency-aware event scoring against action points (the MSRC-12 protocol of Fothergill et al., CHI 2012).

A detected event is correct if it names the right gesture and lies within Δ
of a true action point of that gesture in the same recording that no earlier
event has claimed (one to one). Events are taken in time order and each claims
the nearest unclaimed point of its gesture within Δ. From the counts over all
recordings: precision, recall and F1, pooled and per gesture, for each Δ; and
the delays of the correct events (event time − action point; negative means
early), median and 90th percentile.

`point_confusion` says what the mistakes were: after the one-to-one matching,
each point still unclaimed is paired with the nearest unclaimed event of
another gesture within Δ (a confusion), else counted missed; each event still
unclaimed is a false alarm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

TOLERANCES_S = (0.333, 0.5, 1.0)


@dataclass(frozen=True)
class TimedLabel:
    """An event or an action point: a time in seconds and a gesture."""

    time_s: float
    label: str


@dataclass(frozen=True)
class Matching:
    """One recording matched at one Δ: correct pairs with their delays, and the unmatched counts."""

    matched: tuple[tuple[str, float], ...]  # (gesture, delay s)
    false_positives: tuple[str, ...]  # gestures of unmatched events
    missed: tuple[str, ...]  # gestures of unmatched points


def _claim(events: Sequence[TimedLabel], points: Sequence[TimedLabel], tolerance_s: float,
           ) -> tuple[list[tuple[TimedLabel, TimedLabel]], list[TimedLabel], list[TimedLabel]]:  # fmt: skip
    """The one-to-one rule (module docstring): (event, point) pairs, then the unclaimed events and points, each
    in time order."""
    free = sorted(range(len(points)), key=lambda i: points[i].time_s)
    pairs, unclaimed = [], []
    for event in sorted(events, key=lambda e: e.time_s):
        candidates = [i for i in free if points[i].label == event.label
                      and abs(event.time_s - points[i].time_s) <= tolerance_s + 1e-9]  # fmt: skip
        if not candidates:
            unclaimed.append(event)
            continue
        best = min(candidates, key=lambda i: abs(event.time_s - points[i].time_s))
        free.remove(best)
        pairs.append((event, points[best]))
    return pairs, unclaimed, [points[i] for i in free]


def match_points(events: Sequence[TimedLabel], points: Sequence[TimedLabel], tolerance_s: float) -> Matching:
    """Match one recording's events to its action points (see the module docstring)."""
    pairs, unclaimed, missed = _claim(events, points, tolerance_s)
    return Matching(tuple((event.label, event.time_s - point.time_s) for event, point in pairs),
                    tuple(event.label for event in unclaimed), tuple(point.label for point in missed))  # fmt: skip


NO_GESTURE = "no gesture"
"""`point_confusion`'s last row: events that no action point of any gesture claimed."""
MISSED = "missed"
"""`point_confusion`'s last column: action points that no event claimed."""


def point_confusion(recordings: Sequence[tuple[Sequence[TimedLabel], Sequence[TimedLabel]]],
                    labels: Sequence[str], tolerance_s: float) -> np.ndarray:  # fmt: skip
    """(G + 1, G + 1) counts over (events, points) recordings: row = a point's gesture (last row `NO_GESTURE`),
    column = the event's gesture (last column `MISSED`). The diagonal is `match_points`'s correct events; a
    point it left unclaimed takes the nearest unclaimed event of another gesture within Δ, in time order."""
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels) + 1, len(labels) + 1), dtype=np.int64)
    for events, points in recordings:
        pairs, free_events, free_points = _claim(events, points, tolerance_s)
        for event, _ in pairs:
            matrix[index[event.label], index[event.label]] += 1
        for point in free_points:
            near = [e for e in free_events if abs(e.time_s - point.time_s) <= tolerance_s + 1e-9]
            if near:
                event = min(near, key=lambda e: abs(e.time_s - point.time_s))
                free_events.remove(event)
                matrix[index[point.label], index[event.label]] += 1
            else:
                matrix[index[point.label], -1] += 1
        for event in free_events:
            matrix[-1, index[event.label]] += 1
    return matrix


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")
    return precision, recall, f1


def point_event_scores(recordings: Sequence[tuple[Sequence[TimedLabel], Sequence[TimedLabel]]],
                       labels: Sequence[str], tolerances_s: Sequence[float] = TOLERANCES_S) -> dict:  # fmt: skip
    """Scores of (events, points) pairs, one per recording.

    Returns ``event_f1``, ``event_precision``, ``event_recall`` (each Δ as ``"0.333"`` → pooled figure),
    ``per_gesture`` (gesture → the same three maps), ``delay_ms`` (``p50``, ``p90``, ``count`` of the
    correct events at the largest Δ, and ``by_tolerance``), and the counts.
    """
    result: dict = {"event_f1": {}, "event_precision": {}, "event_recall": {},
                    "per_gesture": {g: {"f1": {}, "precision": {}, "recall": {}} for g in labels},
                    "counts": {}, "delay_ms": {"by_tolerance": {}}}  # fmt: skip
    for tolerance in tolerances_s:
        key = str(float(tolerance))
        matchings = [match_points(events, points, tolerance) for events, points in recordings]
        tp = [g for m in matchings for g, _ in m.matched]
        fp = [g for m in matchings for g in m.false_positives]
        fn = [g for m in matchings for g in m.missed]
        precision, recall, f1 = _prf(len(tp), len(fp), len(fn))
        result["event_precision"][key], result["event_recall"][key], result["event_f1"][key] = precision, recall, f1
        result["counts"][key] = {"correct": len(tp), "false": len(fp), "missed": len(fn)}
        for gesture in labels:
            p, r, f = _prf(tp.count(gesture), fp.count(gesture), fn.count(gesture))
            scores = result["per_gesture"][gesture]
            scores["precision"][key], scores["recall"][key], scores["f1"][key] = p, r, f
        delays = np.array([d for m in matchings for _, d in m.matched]) * 1000.0
        result["delay_ms"]["by_tolerance"][key] = _delay_summary(delays)
    widest = str(float(max(tolerances_s)))
    result["delay_ms"].update(result["delay_ms"]["by_tolerance"][widest])
    return result


def _delay_summary(delays_ms: np.ndarray) -> dict:
    if delays_ms.size == 0:
        return {"p50": float("nan"), "p90": float("nan"), "count": 0}
    return {"p50": float(np.median(delays_ms)), "p90": float(np.percentile(delays_ms, 90)), "count": int(delays_ms.size)}
