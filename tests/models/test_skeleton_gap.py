"""Skeleton gap statistics: known bias, slow error and white noise are recovered from synthetic takes."""

import numpy as np
import pytest

from models.evaluation.skeleton_gap import (bone_lengths, joint_errors, length_ratio, moving_average,
                                            white_noise_std)  # fmt: skip
from models.skeleton.layouts import UNIFIED_30

T, V = 4000, 30


def smooth_motion(rng: np.random.Generator) -> np.ndarray:
    """(T, V, 3) slow sinusoidal motion (a person moving at a camera's frame rate)."""
    t = np.arange(T)[:, None, None] / 30.0
    phase = rng.uniform(0, 2 * np.pi, size=(1, V, 3))
    return 0.3 * np.sin(2 * np.pi * 0.25 * t + phase) + rng.normal(size=(1, V, 3))


def test_white_noise_is_measured_through_smooth_motion():
    rng = np.random.default_rng(0)
    sigma = np.linspace(0.001, 0.03, V)[:, None] * np.array([1.0, 2.0, 3.0])
    noisy = smooth_motion(rng) + rng.normal(size=(T, V, 3)) * sigma
    estimated = white_noise_std(noisy, np.ones((T, V), bool))
    np.testing.assert_allclose(estimated, sigma, rtol=0.06, atol=2e-4)


def test_bias_slow_and_fast_error_are_told_apart():
    rng = np.random.default_rng(1)
    reference = smooth_motion(rng)
    bias = rng.normal(scale=0.1, size=(V, 3))
    t = np.arange(T)[:, None, None] / 30.0
    slow = 0.05 * np.sqrt(2) * np.sin(2 * np.pi * rng.uniform(0.1, 0.3, size=(1, V, 3)) * t
                                      + rng.uniform(0, 2 * np.pi, size=(1, V, 3)))  # drift, std 0.05
    fast = rng.normal(scale=0.01, size=(T, V, 3))
    valid = rng.uniform(size=(T, V)) > 0.05  # some frames missing per joint
    valid[:, 7] = False  # a joint never seen
    stats = joint_errors(reference + bias + slow + fast, reference, valid, smooth_frames=9)
    seen = np.arange(V) != 7
    np.testing.assert_allclose(stats["bias"][seen], bias[seen], atol=0.005)
    np.testing.assert_allclose(stats["std"][seen], np.sqrt(0.05**2 + 0.01**2), rtol=0.25)
    assert np.all(stats["slow_std"][seen] > 3 * stats["fast_std"][seen])  # slow error survives the moving average
    np.testing.assert_allclose(stats["fast_std"][seen], 0.01, rtol=0.2)
    assert np.isnan(stats["bias"][7]).all() and stats["count"][7] == 0 and np.isnan(stats["median"][7])
    assert stats["count"][0] == valid[:, 0].sum()


def test_invalid_frames_never_enter_the_statistics():
    rng = np.random.default_rng(2)
    reference = smooth_motion(rng)[:300]
    estimate = reference + 0.01
    valid = np.ones((300, V), bool)
    estimate[100:110, 3] += 50.0  # garbage exactly where the joint is invalid
    valid[100:110, 3] = False
    stats = joint_errors(estimate, reference, valid)
    assert stats["p90"][3] == pytest.approx(np.sqrt(3) * 0.01, rel=1e-6)
    assert stats["fast_std"][3].max() < 1e-9 and stats["slow_std"][3].max() < 1e-9


def test_shapes_are_checked():
    with pytest.raises(ValueError, match=r"\(T, V, C\)"):
        joint_errors(np.zeros((5, 30, 3)), np.zeros((5, 29, 3)), np.ones((5, 30), bool))
    with pytest.raises(ValueError, match="odd"):
        moving_average(np.zeros((5, 2, 3)), np.ones((5, 2), bool), 4)


def test_lengths_and_ratios_of_a_scaled_skeleton():
    rng = np.random.default_rng(3)
    reference = smooth_motion(rng)[:50]
    valid = np.ones((50, V), bool)
    valid[0, UNIFIED_30.index("neck")] = False
    ratio = length_ratio(1.25 * reference, reference, valid, UNIFIED_30.index("neck"), UNIFIED_30.index("head"))
    assert np.isnan(ratio[0]) and np.allclose(ratio[1:], 1.25)
    lengths = bone_lengths(reference, valid, UNIFIED_30)
    assert lengths.shape == (50, len(UNIFIED_30.bones)) and lengths.mask[0].sum() == 2  # neck's two bones
