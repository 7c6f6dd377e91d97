"""The simple baseline on the stream's windows: what it pools, what it is fitted on, and that it learns."""

from __future__ import annotations

import numpy as np
import pytest

from models.checkpoint import read_config
from models.evaluation.baseline import LogisticBaseline
from models.evaluation.window_baseline import WindowBaseline
from models.pretrained import DEFAULT_CHECKPOINT
from models.training.config import load_train_config
from models.training.detection_data import DetectionData, detection_data
from models.windows import cut_window


@pytest.fixture(scope="module")
def checkpoint():
    return read_config(DEFAULT_CHECKPOINT)


def test_a_windows_features_pool_its_last_span_and_nothing_before(checkpoint):
    baseline = WindowBaseline(LogisticBaseline(), checkpoint, span=16)
    rng = np.random.default_rng(0)
    window = rng.normal(size=(1, *checkpoint.model.input_shape)).astype(np.float32)
    earlier = window.copy()
    earlier[:, :, :-16] = rng.normal(size=earlier[:, :, :-16].shape)  # frames before the span changed
    np.testing.assert_array_equal(baseline.window_features(window), baseline.window_features(earlier))
    inside = window.copy()
    inside[:, :, -3] += 0.5  # one frame of the span moved
    assert not np.allclose(baseline.window_features(window), baseline.window_features(inside))
    ignored = window.copy()
    ignored[..., 1] = 7.0  # the second body is not the baseline's
    np.testing.assert_array_equal(baseline.window_features(window), baseline.window_features(ignored))
    with pytest.raises(ValueError, match="span"):
        WindowBaseline(LogisticBaseline(), checkpoint, span=checkpoint.num_frames + 1)


def test_it_is_fitted_on_data_in_the_checkpoints_vocabulary(checkpoint):
    other = DetectionData(labels=["background", "wave"], sequences=[], targets=[], groups=[], shares={0: 1.0},
                          onsets=[])
    with pytest.raises(ValueError, match="not the checkpoint's"):
        WindowBaseline.fit(other, checkpoint, windows=10)


def test_fitted_on_two_utkinect_people_it_labels_a_third_better_than_the_commonest_class(checkpoint, data_root):
    def data(subjects: str) -> DetectionData:
        config = load_train_config(task="detect", train=[f"utkinect:{subjects}"], data_root=str(data_root), val=[])
        return detection_data(config, synthetic=False)

    baseline = WindowBaseline.fit(data("1,2"), checkpoint, windows=600)
    test = data("5")
    right, truth = [], []
    for sequence, targets in zip(test.sequences, test.targets, strict=True):
        ends = np.arange(0, sequence.num_frames, 6)
        windows = np.stack([cut_window(sequence, int(e), checkpoint.num_frames, checkpoint.normalization)[0]
                            for e in ends])  # fmt: skip
        probabilities = baseline.probabilities(windows)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
        right.append(probabilities.argmax(axis=1) == targets[ends])
        truth.append(targets[ends])
    accuracy = np.concatenate(right).mean()
    commonest = np.bincount(np.concatenate(truth)).max() / len(np.concatenate(truth))
    assert accuracy > commonest + 0.02, (accuracy, commonest)
