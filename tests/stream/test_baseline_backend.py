"""The simple baseline as a backend: the last frame's probabilities for every frame, no min_score, the checkpoint's
gesture rules."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from models.checkpoint import read_config
from models.evaluation.baseline import LogisticBaseline
from models.evaluation.window_baseline import WindowBaseline
from models.fusion import softmax
from models.pretrained import shipped_checkpoints
from stream.backends.baseline_backend import BaselineBackend


class _Fitted(LogisticBaseline):
    """A logistic regression fitted on random features in two of the classes."""

    def __init__(self, dimension: int) -> None:
        super().__init__(strengths=(1.0,), folds=2)
        rng = np.random.default_rng(0)
        features = rng.normal(size=(60, dimension))
        self.fit(features, np.r_[np.zeros(30, int), np.full(30, 3)], np.arange(60) % 2)


def test_every_frame_gets_the_last_frames_probabilities_min_score_is_dropped_and_the_gesture_rules_kept():
    config = dataclasses.replace(read_config(shipped_checkpoints()["gestures"]), min_score=0.4)
    assert config.points is not None  # a checkpoint with gesture events and a min_score
    features = WindowBaseline(LogisticBaseline(), config).window_features(
        np.zeros((1, *config.model.input_shape), np.float32)).shape[1]  # fmt: skip
    baseline = WindowBaseline(_Fitted(features), config)
    backend = BaselineBackend(baseline)
    windows = np.random.default_rng(1).normal(size=(3, *config.model.input_shape)).astype(np.float32)
    logits = backend.run(windows)
    assert logits.shape == (3, config.num_frames, len(config.labels)) and logits.dtype == np.float32
    np.testing.assert_array_equal(logits, np.repeat(logits[:, -1:], config.num_frames, axis=1))
    np.testing.assert_allclose(softmax(logits[:, -1]), baseline.probabilities(windows), atol=1e-5)
    assert np.isfinite(logits).all()  # classes never seen: a floor, not -inf
    assert backend.config.min_score == 0.0 and backend.config.points == config.points
    assert backend.config.labels == config.labels
    with pytest.raises(ValueError, match="baseline backend expects float32 windows"):
        backend.run(windows[:, :, :10])
