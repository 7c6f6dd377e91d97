"""Clip-level metrics for trimmed data: top-k accuracy and 1-nearest-neighbour retrieval accuracy."""

from __future__ import annotations

from typing import Literal

import numpy as np

_CHUNK = 1024  # test rows per distance block: bounds memory at _CHUNK x N_train


def clip_accuracy(predictions: np.ndarray, true_labels: np.ndarray, top_k: int = 1) -> float:
    """Fraction of clips classified correctly.

    Args:
        predictions: (N,) predicted class indices, or (N, K) class scores, of
            which the ``top_k`` highest count as a hit.
        true_labels: (N,) true class indices.
        top_k: with scores, a clip is correct when its true class is among its
            ``top_k`` highest-scored classes; must be 1 for label predictions.
    """
    predictions = np.asarray(predictions)
    true = np.asarray(true_labels)
    if true.ndim != 1 or true.size == 0:
        raise ValueError(f"true_labels must be a non-empty 1-D array, got shape {true.shape}")
    if predictions.ndim not in (1, 2) or predictions.shape[0] != true.shape[0]:
        raise ValueError(f"predictions {predictions.shape} must be (N,) or (N, K) with N = {true.shape[0]}")
    if predictions.ndim == 1:
        if top_k != 1:
            raise ValueError(f"top_k={top_k} needs (N, K) scores, got (N,) labels")
        return float(np.mean(predictions == true))
    if not 1 <= top_k <= predictions.shape[1]:
        raise ValueError(f"top_k must lie in [1, {predictions.shape[1]}], got {top_k}")
    top = np.argsort(-predictions, axis=1, kind="stable")[:, :top_k]
    return float(np.mean(np.any(top == true[:, None], axis=1)))


def _check_features(features: np.ndarray, labels: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    features = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels)
    if features.ndim != 2 or features.shape[0] == 0:
        raise ValueError(f"{name}_features must be a non-empty (N, D) array, got shape {features.shape}")
    if labels.shape != (features.shape[0],):
        raise ValueError(f"{name}_labels shape {labels.shape} != ({features.shape[0]},)")
    return features, labels


def nearest_neighbour_accuracy(
    train_features: np.ndarray,
    train_labels: np.ndarray,
    test_features: np.ndarray,
    test_labels: np.ndarray,
    metric: Literal["cosine", "euclidean"] = "cosine",
) -> float:
    """1-NN accuracy: each test clip takes the label of its nearest training clip.

    ``"cosine"`` ranks by cosine similarity (zero vectors have similarity 0 to
    everything); ``"euclidean"`` by L2 distance. Ties go to the lowest training
    index.
    """
    train, train_labels = _check_features(train_features, train_labels, "train")
    test, test_labels = _check_features(test_features, test_labels, "test")
    if train.shape[1] != test.shape[1]:
        raise ValueError(f"train features have {train.shape[1]} dims, test features {test.shape[1]}")
    if metric == "cosine":
        train = train / np.maximum(np.linalg.norm(train, axis=1, keepdims=True), 1e-12)
        test = test / np.maximum(np.linalg.norm(test, axis=1, keepdims=True), 1e-12)
    elif metric != "euclidean":
        raise ValueError(f"metric must be 'cosine' or 'euclidean', got {metric!r}")
    train_sq = np.sum(train**2, axis=1)
    nearest = np.empty(test.shape[0], dtype=np.int64)
    for begin in range(0, test.shape[0], _CHUNK):
        block = test[begin : begin + _CHUNK]
        if metric == "cosine":
            nearest[begin : begin + len(block)] = np.argmax(block @ train.T, axis=1)
        else:
            # ||x - y||² up to the per-row constant ||x||², which does not change the arg-min.
            nearest[begin : begin + len(block)] = np.argmin(train_sq[None, :] - 2.0 * block @ train.T, axis=1)
    return float(np.mean(train_labels[nearest] == test_labels))
