"""The automatic stride's decisions from injected costs: no clock, no model, every figure worked out by hand."""

from __future__ import annotations

import logging

import pytest

from stream.run.stride_control import StrideController, StrideSettings

FPS, T = 15.0, 64


def _feed(controller: StrideController, calls: int, windows: int, seconds: float, other_s: float = 0.0) -> None:
    for _ in range(calls):
        controller.observe_call(windows, seconds)
        controller.observe_frame(other_s)


def test_stride_1_when_the_model_fits():
    controller = StrideController(FPS, T)
    # 8 tracks, 2 ms a window: 8 · 15 / 1 · 0.002 = 0.24 of the loop, under 0.75
    _feed(controller, 10, windows=8, seconds=0.016)
    assert controller.load(1, 8) == pytest.approx(0.24)
    assert controller.update(10.0, tracks=8, frame_rate=30.0) is None and controller.stride == 1


def test_grows_to_the_smallest_stride_within_the_budget_when_overloaded():
    controller = StrideController(FPS, T)
    # 8 tracks, 20 ms a window (a loaded machine): load(s) = 8 · 15 · 0.02 / s = 2.4 / s;
    # other stages 5 ms a frame at 30 fps = 0.15 → budget 0.75 - 0.15 = 0.6 → s = 4 (2.4 / 4 = 0.6)
    _feed(controller, 10, windows=8, seconds=0.160, other_s=0.005)
    assert controller.budget(30.0) == pytest.approx(0.6)
    assert controller.update(5.0, tracks=8, frame_rate=30.0) == 4
    (change,) = controller.changes
    assert (change.old, change.new, change.tracks) == (1, 4, 8)
    assert change.load == pytest.approx(2.4) and change.budget == pytest.approx(0.6)


def test_the_number_of_tracks_drives_the_stride():
    controller = StrideController(FPS, T, settings=StrideSettings(hold_s=0.0, min_calls=1))
    _feed(controller, 4, windows=1, seconds=0.010)  # 10 ms a window
    # 2 tracks: 2 · 15 · 0.01 = 0.3 at stride 1: fits
    assert controller.update(1.0, tracks=2, frame_rate=30.0) is None
    # 12 tracks: 1.8 at stride 1 → smallest s with 1.8 / s <= 0.75 is 3 (0.6)
    assert controller.update(2.0, tracks=12, frame_rate=30.0) == 3


def test_shrinks_only_with_margin_and_after_the_hold():
    settings = StrideSettings(hold_s=2.0, min_calls=4, window_calls=4)  # the cost of the last 4 calls
    controller = StrideController(FPS, T, settings=settings)
    _feed(controller, 4, windows=4, seconds=0.080)  # 20 ms a window, 4 tracks: load(s) = 1.2 / s
    assert controller.update(0.0, tracks=4, frame_rate=30.0) == 2  # 0.6 <= 0.75
    _feed(controller, 4, windows=4, seconds=0.040)  # the machine got quieter: 10 ms a window → load(s) = 0.6 / s
    assert controller.update(1.0, tracks=4, frame_rate=30.0) is None  # within the hold
    # load(1) = 0.6 fits the budget 0.75, but not the shrink margin 0.7 · 0.75 = 0.525: stays at 2
    assert controller.update(3.0, tracks=4, frame_rate=30.0) is None
    _feed(controller, 4, windows=4, seconds=0.032)  # 8 ms a window: load(1) = 4 · 15 · 0.008 = 0.48 <= 0.525
    assert controller.update(3.5, tracks=4, frame_rate=30.0) == 1


def test_waits_for_enough_calls_after_each_change():
    controller = StrideController(FPS, T, settings=StrideSettings(min_calls=8, hold_s=0.0))
    _feed(controller, 7, windows=8, seconds=0.8)
    assert controller.update(1.0, tracks=8, frame_rate=30.0) is None  # 7 calls < 8
    _feed(controller, 1, windows=8, seconds=0.8)
    assert controller.update(1.0, tracks=8, frame_rate=30.0) == 16  # 100 ms a window: even 16 is over; the max


def test_other_stages_eat_the_budget_so_pose_estimation_makes_the_stride_grow():
    controller = StrideController(FPS, T, settings=StrideSettings(min_calls=1, other_memory=1.0))
    # 1 track, 3 ms a window: 0.045 at stride 1; MediaPipe 24 ms a frame at 30 fps = 0.72 → budget 0.03
    _feed(controller, 1, windows=1, seconds=0.003, other_s=0.024)
    assert controller.budget(30.0) == pytest.approx(0.03)
    assert controller.update(1.0, tracks=1, frame_rate=30.0) == 2  # 0.0225 <= 0.03


def test_a_pinned_stride_never_changes():
    controller = StrideController(FPS, T, pinned=8)
    _feed(controller, 50, windows=8, seconds=1.0)
    assert controller.update(100.0, tracks=8, frame_rate=30.0) is None and controller.stride == 8
    assert not controller.automatic


def test_each_change_is_logged(caplog):
    controller = StrideController(FPS, T, settings=StrideSettings(min_calls=1))
    _feed(controller, 1, windows=2, seconds=0.2)
    with caplog.at_level(logging.INFO, logger="stream.run.stride_control"):
        controller.update(1.0, tracks=2, frame_rate=30.0)
    assert "stride 1 → 4" in caplog.text and "2 tracks" in caplog.text


@pytest.mark.parametrize("kwargs", [{"fps": 0}, {"pinned": 0}, {"pinned": 65}])
def test_invalid_arguments_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        StrideController(**{"fps": FPS, "window": T, **kwargs})


@pytest.mark.parametrize("kwargs", [{"target_load": 0}, {"shrink_margin": 1.5}, {"max_stride": 0}, {"hold_s": -1}])
def test_invalid_settings_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        StrideSettings(**kwargs)
