"""Scores a robot can trust: temperature scaling and a background prior, baked into the classifier.

A detector's softmax is usually over-confident, and a detector trained with
many hard negatives learns a background prior larger than what a camera in
front of a person sees. Both are fixed in the last layer, so every backend
(torch, ONNX Runtime, TensorRT) and every consumer sees the same calibrated
probabilities with no runtime code:

- the **temperature** T divides the logits; it is fitted on validation windows
  by minimising the negative log-likelihood of their frames' classes;
- the **background offset** b is subtracted from the background logit (a
  prior shift), chosen by the recipe on validation data.

``head(x) = (W x + c) / T - b·e₀`` becomes a Linear with weight W / T and bias
c / T - b·e₀. The expected calibration error (ECE, 15 equal-width confidence
bins of the top class) is reported before and after.

A checkpoint's **min_score** is the level below which the stream publishes an
action as background (`models.fusion.published_labels`): `min_score_for_precision`
picks the lowest one at which the published action labels of validation data
are right at least as often as asked.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import minimize_scalar
from torch import nn


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """ECE of (N, K) probabilities against (N,) class indices: Σ_bins |accuracy − confidence| · share."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            error += abs(correct[members].mean() - confidence[members].mean()) * members.mean()
    return float(error)


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The T > 0 minimising the NLL of softmax(logits / T) for (N, K) logits and (N,) class indices."""
    logits = np.asarray(logits, np.float64)

    def nll(log_t: float) -> float:
        scaled = logits / np.exp(log_t)
        scaled -= scaled.max(axis=1, keepdims=True)
        log_probs = scaled - np.log(np.exp(scaled).sum(axis=1, keepdims=True))
        return float(-log_probs[np.arange(len(labels)), labels].mean())

    return float(np.exp(minimize_scalar(nll, bounds=(-3.0, 3.0), method="bounded").x))


@torch.no_grad()
def bake_into_head(head: nn.Linear, temperature: float = 1.0, background_offset: float = 0.0,
                   background: int = 0) -> None:  # fmt: skip
    """Make ``head`` output (logits / temperature) with ``background_offset`` taken off the background logit."""
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    head.weight.div_(temperature)
    head.bias.div_(temperature)
    head.bias[background] -= background_offset


def min_score_for_precision(probabilities: np.ndarray, labels: np.ndarray, precision: float,
                            step: float = 0.01) -> float | None:  # fmt: skip
    """The lowest level (a multiple of ``step`` below 1) at which the frames published as an action — (N, K + 1)
    ``probabilities`` whose most likely class is an action scoring at least the level — carry the true class
    (``labels``, (N,)) at least ``precision`` of the time; None when no level does."""
    if not 0.0 < precision <= 1.0:
        raise ValueError(f"precision must be in (0, 1], got {precision}")
    best, score = probabilities.argmax(axis=1), probabilities.max(axis=1)
    action, correct = best != 0, best == labels
    for level in np.arange(0.0, 1.0, step):
        published = action & (score >= level)
        if not published.any():
            return None
        if correct[published].mean() >= precision:
            return round(float(level), 6)
    return None
