"""Score calibration: ECE, temperature fitting, and both baked into the classifier."""

import numpy as np
import pytest
import torch

from models.fusion import softmax
from models.training.score_calibration import bake_into_head, expected_calibration_error, fit_temperature


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
