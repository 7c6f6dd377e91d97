"""Temporal IoU and segment-level mean average precision (the PKU-MMD detection protocol).

Matching, at one tIoU threshold θ: all detections of all sequences are sorted by
score, highest first (ties keep input order: sequences in mapping order, then
list order). Each detection takes, among the ground truths of the same class in
the same sequence that no earlier detection took, the one with the highest
tIoU, if that tIoU ≥ θ: a true positive. Otherwise it is a false positive — in
particular a second detection of an already matched ground truth.

AP is the all-point interpolated area under the precision-recall curve (PASCAL
VOC 2010+, ActivityNet): precision is replaced by its running maximum from the
high-recall end, then summed over the recall steps,
``AP = sum_i (r_i - r_{i-1}) * max_{j >= i} p_j``; unmatched ground truths
keep recall below 1. A class with ground truth but no detection has AP 0.

mAP_a (``average="action"``) is the mean AP over the classes that have at least
one ground-truth segment; classes with detections but no ground truth are left
out. mAP_v (``average="video"``) pools every class of one sequence into one AP
(a detection is a true positive only when matched to a same-class ground truth)
and averages over the sequences that have ground truth.

Differences from the official PKU-MMD ``evaluate.py`` (ECHO960/PKU-MMD), which
we do not reproduce: it scores a detection by its best overlap with any
same-class ground truth with no one-to-one matching, so duplicate detections
all count as true positives; its AP loop drops the top-ranked detection's
precision (a single correct detection scores 0); and mAP_a divides by all 52
label slots including the empty background slot. Our one-to-one matching is the
one used by ActivityNet/THUMOS evaluation and later PKU-MMD papers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np

from models.evaluation.segments import ClassSegment

DEFAULT_THRESHOLDS = (0.1, 0.3, 0.5)


def _iou_one_to_many(start: float, end: float, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    intersection = np.clip(np.minimum(end, ends) - np.maximum(start, starts), 0.0, None)
    union = (end - start) + (ends - starts) - intersection
    return intersection / union


def temporal_iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Intersection over union of two intervals (start, end), end exclusive: 0 when disjoint, 1 when equal."""
    for name, (start, end) in (("a", a), ("b", b)):
        if end <= start:
            raise ValueError(f"interval {name} is empty or reversed: ({start}, {end})")
    return float(_iou_one_to_many(a[0], a[1], np.array([b[0]], float), np.array([b[1]], float))[0])


def interpolated_average_precision(is_true_positive: np.ndarray, num_ground_truths: int) -> float:
    """All-point interpolated AP of detections already sorted by decreasing score."""
    if num_ground_truths <= 0:
        raise ValueError(f"num_ground_truths must be positive, got {num_ground_truths}")
    hits = np.asarray(is_true_positive, dtype=bool)
    if hits.size == 0:
        return 0.0
    true_positives = np.cumsum(hits)
    precision = true_positives / np.arange(1, hits.size + 1)
    recall = true_positives / num_ground_truths
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * envelope))


def _match(
    detections: Mapping[str, Sequence[ClassSegment]],
    ground_truths: Mapping[str, Sequence[ClassSegment]],
    iou_threshold: float,
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Sequence id, class and true-positive flag of every detection, in decreasing score order."""
    if not 0.0 < iou_threshold <= 1.0:
        raise ValueError(f"iou_threshold must lie in (0, 1], got {iou_threshold}")
    unknown = [name for name in detections if name not in ground_truths]
    if unknown:
        raise ValueError(f"detections for sequences without a ground-truth entry: {unknown[:5]}")
    flat = [(name, d) for name, found in detections.items() for d in found]
    order = np.argsort([-d.score for _, d in flat], kind="stable")

    pools: dict[tuple[str, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for name, truths in ground_truths.items():
        for label in {g.label for g in truths}:
            same = [g for g in truths if g.label == label]
            pools[name, label] = (
                np.array([g.start for g in same], float),
                np.array([g.end for g in same], float),
                np.zeros(len(same), bool),
            )

    names, labels, hits = [], np.zeros(len(flat), int), np.zeros(len(flat), bool)
    for rank, index in enumerate(order):
        name, detection = flat[index]
        names.append(name)
        labels[rank] = detection.label
        pool = pools.get((name, detection.label))
        if pool is None:
            continue
        starts, ends, taken = pool
        iou = np.where(taken, -1.0, _iou_one_to_many(detection.start, detection.end, starts, ends))
        best = int(np.argmax(iou))
        if iou[best] >= iou_threshold:
            taken[best] = True
            hits[rank] = True
    return names, labels, hits


def _check_ground_truths(ground_truths: Mapping[str, Sequence[ClassSegment]]) -> None:
    if not any(ground_truths.values()):
        raise ValueError("ground_truths holds no segment: AP is undefined")


def segment_average_precision(
    detections: Mapping[str, Sequence[ClassSegment]],
    ground_truths: Mapping[str, Sequence[ClassSegment]],
    iou_threshold: float,
) -> dict[int, float]:
    """Per-class AP at one tIoU threshold, pooled over all sequences.

    Args:
        detections: sequence id -> detected segments (with scores).
        ground_truths: sequence id -> true segments; every sequence that has
            detections needs an entry (an empty list when it has no action).
        iou_threshold: θ in (0, 1]; a match needs tIoU ≥ θ.

    Returns:
        class index -> AP, for every class with ground truth (module docstring).
    """
    _check_ground_truths(ground_truths)
    _, labels, hits = _match(detections, ground_truths, iou_threshold)
    counts: dict[int, int] = {}
    for truths in ground_truths.values():
        for g in truths:
            counts[g.label] = counts.get(g.label, 0) + 1
    return {
        label: interpolated_average_precision(hits[labels == label], count)
        for label, count in sorted(counts.items())
    }


def segment_map(
    detections: Mapping[str, Sequence[ClassSegment]],
    ground_truths: Mapping[str, Sequence[ClassSegment]],
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    average: Literal["action", "video"] = "action",
) -> dict[float, float]:
    """Segment mAP at each tIoU threshold: mAP_a (``"action"``) or mAP_v (``"video"``), see the module docstring."""
    _check_ground_truths(ground_truths)
    if average not in ("action", "video"):
        raise ValueError(f"average must be 'action' or 'video', got {average!r}")
    if len(thresholds) == 0:
        raise ValueError("thresholds is empty")
    results: dict[float, float] = {}
    for threshold in thresholds:
        if average == "action":
            per_class = segment_average_precision(detections, ground_truths, threshold)
            results[threshold] = float(np.mean(list(per_class.values())))
            continue
        names, _, hits = _match(detections, ground_truths, threshold)
        name_array = np.array(names, dtype=object)
        per_video = [
            interpolated_average_precision(hits[name_array == name], len(truths))
            for name, truths in ground_truths.items()
            if truths
        ]
        results[threshold] = float(np.mean(per_video))
    return results
