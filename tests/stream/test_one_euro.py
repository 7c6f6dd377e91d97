"""The One-Euro filter: constant in → constant out, less noise, steps followed, reset, missing values."""

from __future__ import annotations

import numpy as np
import pytest

from stream.pose.one_euro import OneEuroConfig, OneEuroFilter

FPS = 30.0


def run(filter_: OneEuroFilter, samples: np.ndarray, fps: float = FPS, value_scale: float = 1.0) -> np.ndarray:
    return np.array([filter_(x, i / fps, value_scale) for i, x in enumerate(samples)])


def test_constant_signal_stays_constant():
    samples = np.broadcast_to(np.array([[1.5, -2.0, 0.25]]), (60, 3))
    out = run(OneEuroFilter(), samples)
    np.testing.assert_allclose(out, samples, atol=1e-12)


def test_noise_on_a_constant_is_reduced():
    rng = np.random.default_rng(0)
    samples = 3.0 + rng.normal(0.0, 0.05, size=(300, 33, 2))
    out = run(OneEuroFilter(OneEuroConfig(min_cutoff=1.0, beta=0.0)), samples)
    settled = slice(30, None)
    assert out[settled].std() < 0.5 * samples[settled].std()
    assert abs(out[settled].mean() - 3.0) < 0.01


def test_a_step_is_followed():
    samples = np.concatenate([np.zeros(30), np.ones(60)])[:, None]
    out = run(OneEuroFilter(OneEuroConfig(min_cutoff=1.0, beta=10.0)), samples)[:, 0]
    assert np.all(out[:30] == 0.0)
    assert np.all((out[30:] > 0.0) & (out[30:] <= 1.0 + 1e-12))  # no overshoot
    assert np.all(np.diff(out[30:]) >= -1e-12)  # approaches monotonically
    assert out[30 + 15] > 0.95  # within half a second
    assert out[-1] > 0.999


def test_higher_beta_lags_less_in_motion():
    ramp = np.linspace(0.0, 4.0, 60)[:, None]  # 2 units per second
    slow = run(OneEuroFilter(OneEuroConfig(min_cutoff=0.5, beta=0.0)), ramp)
    fast = run(OneEuroFilter(OneEuroConfig(min_cutoff=0.5, beta=5.0)), ramp)
    assert np.abs(ramp - fast)[-1, 0] < 0.5 * np.abs(ramp - slow)[-1, 0]


def test_value_scale_acts_like_beta():
    ramp = np.linspace(0.0, 400.0, 60)[:, None]
    scaled = run(OneEuroFilter(OneEuroConfig(beta=1.0)), ramp, value_scale=0.01)
    plain = run(OneEuroFilter(OneEuroConfig(beta=0.01)), ramp)
    np.testing.assert_allclose(scaled, plain, rtol=1e-9)


def test_reset_starts_afresh():
    f = OneEuroFilter(OneEuroConfig(min_cutoff=0.5, beta=0.0))
    run(f, np.zeros((30, 2)))
    assert f.initialized
    f.reset()
    assert not f.initialized
    np.testing.assert_array_equal(f(np.array([5.0, -5.0]), 0.0), [5.0, -5.0])  # passes through, no memory
    with pytest.raises(ValueError, match="shape"):
        f(np.zeros(3), 1.0)


def test_elements_are_independent():
    rng = np.random.default_rng(1)
    samples = rng.normal(size=(40, 4)).cumsum(axis=0)
    together = run(OneEuroFilter(), samples)
    for column in range(4):
        alone = run(OneEuroFilter(), samples[:, column : column + 1])
        np.testing.assert_allclose(together[:, column], alone[:, 0], rtol=1e-12)


def test_missing_values_pass_through_and_do_not_poison_the_state():
    f = OneEuroFilter(OneEuroConfig(min_cutoff=1.0, beta=0.0))
    f(np.array([1.0, np.nan]), 0.0)
    out = f(np.array([np.nan, 2.0]), 1 / FPS)
    assert np.isnan(out[0]) and out[1] == 2.0  # missing stays missing; a first value starts there
    out = f(np.array([1.0, 2.0]), 2 / FPS)
    np.testing.assert_allclose(out, [1.0, 2.0])  # element 0 resumes from its last state, element 1 from its start


def test_timestamps_must_increase():
    f = OneEuroFilter()
    f(np.zeros(2), 1.0)
    with pytest.raises(ValueError, match="increase"):
        f(np.zeros(2), 1.0)


@pytest.mark.parametrize(
    "kwargs", [{"min_cutoff": 0.0}, {"d_cutoff": -1.0}, {"beta": -0.1}, {"min_cutoff": float("nan")}]
)
def test_config_rejects_bad_values(kwargs):
    with pytest.raises(ValueError, match="OneEuroConfig"):
        OneEuroConfig(**kwargs)
