"""Per-frame metrics: frame accuracy and per-class frame average precision.

AP here is the step-wise (non-interpolated) area under the precision-recall
curve, the definition of scikit-learn's ``average_precision_score``:

    AP = sum_n (R_n - R_{n-1}) * P_n

over the distinct score thresholds in decreasing order (frames with tied scores
enter together, as one threshold), with R_0 = 0. It is not the interpolated AP
used for segment detection (`models.evaluation.segment_map`).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def _as_labels(labels: np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(labels)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must hold integer class indices, got dtype {array.dtype}")
    return array


def frame_accuracy(pred_labels: np.ndarray, true_labels: np.ndarray) -> float:
    """Fraction of frames whose predicted class equals the true class (background included)."""
    pred = _as_labels(pred_labels, "pred_labels")
    true = _as_labels(true_labels, "true_labels")
    if pred.shape != true.shape:
        raise ValueError(f"pred_labels {pred.shape} and true_labels {true.shape} differ in length")
    return float(np.mean(pred == true))


def binary_average_precision(scores: np.ndarray, positives: np.ndarray) -> float:
    """Step-wise AP of one binary problem (sklearn's definition); NaN when there is no positive."""
    scores = np.asarray(scores, dtype=np.float64)
    positives = np.asarray(positives, dtype=bool)
    if scores.ndim != 1 or scores.shape != positives.shape:
        raise ValueError(f"scores {scores.shape} and positives {positives.shape} must be equal-length 1-D arrays")
    if scores.size == 0:
        raise ValueError("scores is empty")
    num_positives = int(positives.sum())
    if num_positives == 0:
        return float("nan")
    order = np.argsort(-scores, kind="stable")
    sorted_scores = scores[order]
    true_positives = np.cumsum(positives[order])
    # One threshold per distinct score: the last position of each run of ties.
    last_of_tie = np.r_[np.flatnonzero(np.diff(sorted_scores)), scores.size - 1]
    true_positives = true_positives[last_of_tie]
    precision = true_positives / (last_of_tie + 1)
    recall = true_positives / num_positives
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def frame_average_precision(
    scores: np.ndarray,
    true_labels: np.ndarray,
    classes: Iterable[int] | None = None,
    background: int = 0,
) -> dict[int, float]:
    """Per-class frame AP from per-frame class scores.

    Args:
        scores: (N_frames, K+1) per-frame scores (e.g. softmax probabilities);
            column k scores class k.
        true_labels: (N_frames,) true class index per frame.
        classes: classes to evaluate; default every class except ``background``
            that occurs in ``true_labels``. A requested class with no true
            frame gets NaN (AP is undefined without positives).
        background: the background class index, left out of the default.

    Returns:
        class index -> AP, where frames of that class are the positives and
        column k is their score (see the module docstring for the AP definition).
    """
    scores = np.asarray(scores)
    true = _as_labels(true_labels, "true_labels")
    if scores.ndim != 2:
        raise ValueError(f"scores must be (N_frames, K+1), got shape {scores.shape}")
    if scores.shape[0] != true.shape[0]:
        raise ValueError(f"scores has {scores.shape[0]} frames but true_labels has {true.shape[0]}")
    num_classes = scores.shape[1]
    if true.min() < 0 or true.max() >= num_classes:
        raise ValueError(f"true_labels must lie in [0, {num_classes}), got [{true.min()}, {true.max()}]")
    if classes is None:
        selected = [int(c) for c in np.unique(true) if c != background]
    else:
        selected = [int(c) for c in classes]
        bad = [c for c in selected if not 0 <= c < num_classes]
        if bad:
            raise ValueError(f"classes {bad} outside [0, {num_classes})")
    return {c: binary_average_precision(scores[:, c], true == c) for c in selected}


def frame_map(scores: np.ndarray, true_labels: np.ndarray, background: int = 0) -> float:
    """Mean frame AP over the action classes present in ``true_labels`` (background excluded).

    Raises:
        ValueError: when no action class occurs in ``true_labels``.
    """
    per_class = frame_average_precision(scores, true_labels, background=background)
    if not per_class:
        raise ValueError("true_labels holds no action class (only background): frame mAP is undefined")
    return float(np.mean(list(per_class.values())))
