"""Score calibration: ECE, temperature fitting, and both baked into the classifier."""

import numpy as np
import pytest
import torch

from models.fusion import published_labels, softmax
from models.training.score_calibration import (bake_into_head, expected_calibration_error, fit_temperature,
                                               min_score_for_precision)


def test_an_over_confident_classifier_is_cooled_and_its_error_falls():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, size=4000)
    clean = rng.normal(size=(4000, 4)) + 1.5 * np.eye(4)[labels]  # logits of a decent, calibrated-ish model
    logits = 4.0 * clean  # the same model, four times too sure of itself
    temperature = fit_temperature(logits, labels)
    assert 2.5 < temperature < 6.0
    before = expected_calibration_error(softmax(logits), labels)
    after = expected_calibration_error(softmax(logits / temperature), labels)
    assert after < 0.5 * before and after < 0.05


def test_ece_of_a_perfectly_calibrated_constant_is_zero():
    probabilities = np.tile([0.7, 0.3], (1000, 1))
    labels = np.array([0] * 700 + [1] * 300)
    assert expected_calibration_error(probabilities, labels) == pytest.approx(0.0, abs=1e-9)


def test_baking_divides_by_the_temperature_and_shifts_the_background():
    torch.manual_seed(0)
    head = torch.nn.Linear(5, 3)
    x = torch.randn(7, 5)
    before = head(x)
    bake_into_head(head, temperature=2.0, background_offset=0.75)
    expected = before / 2.0
    expected[:, 0] -= 0.75
    torch.testing.assert_close(head(x), expected)
    with pytest.raises(ValueError, match="temperature"):
        bake_into_head(head, temperature=0.0)


def test_min_score_is_the_lowest_level_whose_published_actions_are_precise_enough():
    # background, then actions 1 and 2; the model is right when sure (0.9), wrong half the time when unsure (0.5)
    probabilities = np.array([[0.8, 0.1, 0.1], [0.1, 0.9, 0.0], [0.1, 0.0, 0.9], [0.2, 0.5, 0.3], [0.2, 0.3, 0.5]])
    labels = np.array([0, 1, 2, 1, 1])
    assert min_score_for_precision(probabilities, labels, 0.8) == pytest.approx(0.51)  # drops the unsure frames
    assert min_score_for_precision(probabilities, labels, 0.75) == 0.0  # 3 of the 4 published actions are right
    assert min_score_for_precision(probabilities[[0, 4]], labels[[0, 4]], 0.9) is None  # no level makes it right
    assert published_labels(probabilities, 0.51).tolist() == [0, 1, 2, 0, 0]
    assert published_labels(probabilities).tolist() == [0, 1, 2, 1, 2]
    with pytest.raises(ValueError, match="precision"):
        min_score_for_precision(probabilities, labels, 0.0)
