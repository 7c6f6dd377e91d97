"""Online resampling, ring buffers and batched windows, checked against the offline window path."""

import numpy as np
import pytest

from models.skeleton.layouts import KINECT_V2_25, get_layout
from models.skeleton.normalize import NormalizationConfig
from models.skeleton.sequence import SkeletonSequence
from models.skeleton.unified import to_unified
from models.synthetic.generator import SyntheticConfig, generate_people
from models.windows import cut_window, prepare_sequence, window_ends
from stream.types import Person
from stream.stages.windowing import OnlineResampler, TrackBuffer, WindowBatcher, person_to_unified

RAW = NormalizationConfig(center="none", align="none", scale="none")
V = 30
KINECT_V2_BODY = tuple(get_layout("unified_30").joint_names[:21])  # a checkpoint's joint set: no hand tips, face


def _ramp(value: float) -> tuple[np.ndarray, np.ndarray]:
    """Unified joints whose x is ``value`` everywhere (interpolation is then easy to check), all present."""
    joints = np.zeros((V, 3), np.float32)
    joints[:, 0] = value
    return joints, np.ones(V, np.float32)


def _stream(resampler: OnlineResampler, stamps_ns, values, frames=None):
    out = []
    for k, (stamp, value) in enumerate(zip(stamps_ns, values)):
        out += resampler.push(int(stamp), *_ramp(value), frame=k if frames is None else frames[k])
    return out


def test_30_fps_to_15_fps_keeps_every_other_frame():
    stamps = np.round(np.arange(30) * 1e9 / 30).astype(np.int64)
    samples = _stream(OnlineResampler(15.0), stamps, np.arange(30.0))
    assert len(samples) == 15
    assert np.allclose([s[0][0, 0] for s in samples], np.arange(0, 30, 2))
    infos = [s[2] for s in samples]
    assert [i.index for i in infos] == list(range(15))
    assert [i.frame for i in infos] == list(range(0, 30, 2)) and all(i.primary for i in infos)
    assert [i.stamp_ns for i in infos] == stamps[::2].tolist()
    truncated = _stream(OnlineResampler(15.0), np.arange(30) * 33_333_333, np.arange(30.0))  # ns rounding drifts
    assert [s[2].frame for s in truncated] == list(range(0, 30, 2))  # ... and the last tick still lands
    assert np.allclose([s[0][0, 0] for s in truncated], np.arange(0, 30, 2))


def test_10_fps_to_15_fps_interpolates_linearly():
    stamps = np.arange(10) * 100_000_000
    speed = 2.0  # x = 2 m/s * t
    samples = _stream(OnlineResampler(15.0), stamps, speed * stamps * 1e-9)
    assert len(samples) == 14  # ticks at k/15 s up to 0.9 s
    ticks = np.array([s[2].tick_ns for s in samples])
    assert np.allclose([s[0][0, 0] for s in samples], speed * ticks * 1e-9, atol=1e-6)
    frames = [s[2].frame for s in samples]
    assert frames == [int(np.floor(k * 10 / 15 + 1e-9)) for k in range(14)]  # the source frame at or before
    assert [s[2].primary for s in samples] == [True] + [b != a for a, b in zip(frames, frames[1:])]


def test_irregular_timestamps_and_out_of_order_frames():
    rng = np.random.default_rng(1)
    stamps = np.cumsum(rng.uniform(10e6, 60e6, size=80)).astype(np.int64)  # jittery 16-100 fps
    values = np.sin(stamps * 1e-9)
    resampler = OnlineResampler(15.0)
    samples = _stream(resampler, stamps, values)
    expected_count = int(np.floor((stamps[-1] - stamps[0]) * 15e-9)) + 1
    assert len(samples) == expected_count
    ticks = np.array([s[2].tick_ns for s in samples])
    assert np.allclose([s[0][0, 0] for s in samples], np.interp(ticks, stamps, values), atol=1e-5)
    assert all(s[2].stamp_ns <= s[2].tick_ns for s in samples)  # attributed to the frame at or before
    assert resampler.push(int(stamps[-1]), *_ramp(0.0), frame=999) == [] and resampler.dropped == 1


def _jittered_30_fps(frames: int = 12, offset_ns: int = -3_000_000) -> np.ndarray:
    """30 fps capture stamps whose frames on a 15 fps tick (every other one) arrive ``offset_ns`` off it."""
    stamps = np.round(np.arange(frames) * 1e9 / 30).astype(np.int64)
    stamps[2::2] += offset_ns
    return stamps


def _arrivals(stamps: np.ndarray, jitter_ns: int) -> list[list]:
    resampler = OnlineResampler(15.0)
    return [resampler.push(int(stamp), *_ramp(float(k)), frame=k, jitter_ns=jitter_ns) for k, stamp in enumerate(stamps)]


def test_a_live_frame_just_short_of_its_tick_completes_it_on_arrival():
    stamps = _jittered_30_fps(offset_ns=-3_000_000)
    exact, live = _arrivals(stamps, 0), _arrivals(stamps, 5_000_000)
    for tick in range(1, 6):  # frame 2 * tick arrives 3 ms before tick
        assert exact[2 * tick] == [] and live[2 * tick + 1] == []
        (late_joints, _, late), = exact[2 * tick + 1]  # exact rules: the tick waits a frame for the next one
        (joints, _, info), = live[2 * tick]  # live: completed by the frame itself, taken as it is
        assert late.index == info.index == tick and late.frame == info.frame == 2 * tick
        assert 2 * tick < late_joints[0, 0] < 2 * tick + 0.2 and joints[0, 0] == 2 * tick
    stamps[4] -= 3_000_000  # 6 ms short: beyond the tolerance, the tick waits as before
    waits = _arrivals(stamps, 5_000_000)
    assert waits[4] == [] and waits[5][0][2].index == 2


def test_a_live_frame_just_past_its_tick_is_that_ticks_frame():
    stamps = _jittered_30_fps(offset_ns=3_000_000)
    exact, live = _arrivals(stamps, 0), _arrivals(stamps, 5_000_000)
    for tick in range(1, 6):  # frame 2 * tick arrives 3 ms after tick: it completes the tick either way ...
        (_, _, before), = exact[2 * tick]
        (joints, _, info), = live[2 * tick]
        assert before.index == info.index == tick
        assert before.frame == 2 * tick - 1 and info.frame == 2 * tick  # ... but only live rules give it its frame
        assert joints[0, 0] == 2 * tick
    # exact rules label the frame before instead, captured a frame interval (33 ms) earlier than the tick's own
    assert [s[2].frame for arrival in exact for s in arrival] == [0, 1, 3, 5, 7, 9]
    assert [s[2].frame for arrival in live for s in arrival] == [0, 2, 4, 6, 8, 10]


def test_the_batcher_treats_observations_without_a_media_clock_as_live():
    stamps = _jittered_30_fps()
    live, replayed = WindowBatcher(15.0, 4, 1, RAW), WindowBatcher(15.0, 4, 1, RAW)
    for k, stamp in enumerate(stamps):
        person = Person(*_ramp(float(k)), "unified_30")
        completed_live = live.push(1, person, k, int(stamp))  # a camera: the capture stamp is the clock
        completed_replayed = replayed.push(1, person, k, int(stamp), clock_ns=int(stamp))  # a media clock: exact
        if k % 2 == 0 and k > 0:
            assert (completed_live, completed_replayed) == (1, 0)
        elif k % 2 == 1 and k > 1:
            assert (completed_live, completed_replayed) == (0, 1)


def test_a_long_gap_is_marked_missing_not_invented():
    stamps = np.array([0, 33, 67, 100, 1100, 1133]) * 1_000_000  # 1 s without observations
    samples = _stream(OnlineResampler(15.0, max_gap_s=0.5), stamps, [0.0, 1, 2, 3, 100, 101])
    ticks = np.array([s[2].tick_ns for s in samples])
    masks = np.array([s[1].max() for s in samples])
    inside = (ticks > 100_000_000) & (ticks < 1_100_000_000)
    assert inside.sum() == 15 and (masks[inside] == 0).all() and (masks[~inside] == 1).all()
    gap = [s[2] for s, i in zip(samples, inside) if i]
    assert all(g.missing and g.frame == 3 for g in gap)
    assert gap[0].primary and not any(g.primary for g in gap[1:])  # frame 3 had no tick of its own: labelled once
    xs = np.array([s[0][0, 0] for s in samples])
    assert set(xs[inside].tolist()) <= {3.0, 100.0}  # copies of the nearer observation, no motion invented
    short = _stream(OnlineResampler(15.0, max_gap_s=2.0), stamps, [0.0, 1, 2, 3, 100, 101])
    assert all(s[1].max() == 1 for s in short)  # within the limit: interpolated


def test_interpolation_uses_only_joints_present_on_both_sides():
    resampler = OnlineResampler(20.0)
    a, mask_a = _ramp(0.0)
    b, mask_b = _ramp(10.0)
    mask_b[5] = 0.0
    resampler.push(0, a, mask_a, 0)
    (joints, mask, _), = resampler.push(100_000_000, b, mask_b, 1)[:1]  # tick at 50 ms, weight 0.5
    assert np.isclose(joints[0, 0], 5.0) and mask[0] == 1
    assert joints[5, 0] == 10.0 and mask[5] == 0  # nearer side (right at w = 0.5) kept with its mask


def _single_person(seconds: float, seed: int, drop: np.ndarray | None = None) -> SkeletonSequence:
    config = SyntheticConfig(num_people=1, duration=seconds, seed=seed, noise_std=0.01, missing_prob=0.1)
    person = generate_people(config)[0]
    if drop is not None:  # frames the source skipped (ids jump, as in UTKinect)
        keep = np.setdiff1d(np.arange(person.num_frames), drop)
        person = SkeletonSequence(joints=person.joints[keep], mask=person.mask[keep], layout=person.layout,
                                  fps=person.fps, frame_ids=person.frame_ids[keep], name=person.name)  # fmt: skip
    return person


@pytest.mark.parametrize("joint_set, mark_missing", [(None, False), (KINECT_V2_BODY, False), (KINECT_V2_BODY, True)],
                         ids=["all-joints", "a-joint-set", "a-joint-set-missing-marked"])  # fmt: skip
@pytest.mark.parametrize("drop", [None, np.r_[40:62, 100:103]], ids=["regular", "gap-and-skips"])
def test_streamed_windows_equal_the_offline_windows(drop, joint_set, mark_missing):
    """Streaming a 30 fps sequence gives, window for window, what cut_window gives on the prepared sequence
    (NaN where a checkpoint with missing-joint prompts wants its joints marked)."""
    T, stride, fps = 16, 4, 15.0
    normalization = NormalizationConfig(joints=joint_set, mark_missing=mark_missing)  # every step of it
    sequence = _single_person(6.0, seed=4, drop=drop)
    prepared = prepare_sequence(sequence, fps, num_bodies=2)
    batcher = WindowBatcher(fps, T, stride, normalization)
    streamed: dict[int, np.ndarray] = {}
    for k, frame_id in enumerate(sequence.frame_ids):
        person = Person(sequence.joints[k, 0], sequence.mask[k, 0], "unified_30")
        batcher.push(7, person, int(frame_id), round(int(frame_id) * 1e9 / sequence.fps))
        windows, refs = batcher.due_windows()
        streamed.update({ref.end: w for ref, w in zip(refs, windows)})
    assert batcher.end_track(7)
    windows, refs = batcher.due_windows()
    assert len(refs) == 1 and refs[0].last
    streamed[refs[0].end] = windows[0]
    assert sorted(streamed) == window_ends(prepared.num_frames, stride).tolist()
    for end, window in streamed.items():
        offline, _ = cut_window(prepared, end, T, normalization)
        np.testing.assert_allclose(window, offline, atol=2e-5, err_msg=f"window ending at {end}")
        assert np.isnan(window).any() == mark_missing  # the joints outside the set
    assert streamed[3].shape == (3, T, V, 2) and (streamed[3][..., 1] == 0).all()  # young, padded; slot 1 empty


def test_batcher_batches_every_due_track_into_one_array():
    T, stride = 8, 4
    batcher = WindowBatcher(15.0, T, stride, RAW)
    period = round(1e9 / 15)
    starts = {1: 0, 2: 1, 3: 2}  # tracks start on different samples
    for k in range(12):
        for track_id, start in starts.items():
            if k >= start:
                batcher.push(track_id, Person(*_ramp(100 * track_id + k), "unified_30"), k, k * period)
    windows, refs = batcher.due_windows()  # one call: all tracks, every window due since the start
    assert windows.shape == (len(refs), 3, T, V, 2) and windows.dtype == np.float32
    assert [(r.track_id, r.end) for r in refs] == [(1, 3), (2, 3), (3, 3), (1, 7), (2, 7), (3, 7), (1, 11)]
    for window, ref in zip(windows, refs):
        first = starts[ref.track_id]
        expected = 100 * ref.track_id + np.clip(np.arange(ref.end - T + 1, ref.end + 1) + first, first, None)
        assert np.allclose(window[0, :, 0, 0], expected)  # young tracks padded with their first sample
        assert (window[..., 1] == 0).all()
        assert [s.index for s in ref.samples] == list(range(max(0, ref.end - T + 1), ref.end + 1))
    empty, none = batcher.due_windows()
    assert empty.shape == (0, 3, T, V, 2) and none == []
    assert batcher.end_track(2) and not batcher.end_track(1) and not batcher.end_track(99)  # 1 ended on a grid end
    _, refs = batcher.due_windows()
    assert [(r.track_id, r.end, r.last) for r in refs] == [(2, 10, True)]
    assert batcher.track_ids == [3]


def test_memory_per_track_is_bounded():
    buffer = TrackBuffer(num_frames=8)
    resampler = OnlineResampler(15.0)
    for k in range(1000):
        for joints, mask, info in resampler.push(round(k * 1e9 / 15), *_ramp(float(k)), frame=k):
            buffer.append(joints, mask, info)
    joints, mask, infos = buffer.window()
    assert buffer.joints.shape[0] == 8 and len(buffer.infos) == 8
    assert np.allclose(joints[:, 0, 0], np.arange(992, 1000)) and [i.frame for i in infos] == list(range(992, 1000))


def test_people_of_any_layout_map_to_unified_and_nan_becomes_missing():
    rng = np.random.default_rng(0)
    kinect = rng.normal(size=(25, 3)).astype(np.float32)
    joints, mask = person_to_unified(Person(kinect, np.ones(25, np.float32), "kinect_v2_25"))
    expected, expected_mask = to_unified(kinect, np.ones(25, np.float32), KINECT_V2_25)
    assert np.allclose(joints, expected) and np.array_equal(mask, expected_mask)
    coco = get_layout("coco_17")
    joints, mask = person_to_unified(Person(rng.normal(size=(17, 2)), np.ones(17), coco.name))
    assert joints.shape == (30, 3) and (joints[:, 2] == 0).all()  # 2D fed as (x, y, 0)
    unified = rng.normal(size=(30, 3)).astype(np.float32)
    unified[4] = np.nan
    joints, mask = person_to_unified(Person(unified, np.ones(30, np.float32), "unified_30"))
    assert mask[4] == 0 and np.isfinite(joints).all() and np.allclose(joints[4], unified[20])  # on its parent
    assert np.allclose(np.delete(joints, 4, 0), np.delete(unified, 4, 0))
    batcher = WindowBatcher(15.0, 4, 2, NormalizationConfig())
    for k in range(4):
        batcher.push(1, Person(unified, np.ones(30, np.float32), "unified_30"), k, k * 66_666_667)
    windows, _ = batcher.due_windows()
    assert windows.shape[0] == 2 and np.isfinite(windows).all()


@pytest.mark.parametrize("kwargs", [
    {"fps": 0}, {"fps": -15.0}, {"num_frames": 0}, {"stride": 0}, {"stride": 17}, {"num_bodies": 0},
    {"max_gap_s": 0},
])  # fmt: skip
def test_invalid_batcher_parameters_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        WindowBatcher(**{"fps": 15.0, "num_frames": 16, "stride": 4, **kwargs})


def test_media_clock_times_a_fast_replay_while_capture_stamps_are_reported():
    from stream.stages.windowing import OnlineResampler

    resampler = OnlineResampler(fps=15.0)
    joints, mask = np.zeros((30, 3), np.float32), np.ones(30, np.float32)
    emitted = []
    for k in range(7):  # a 30 fps recording replayed 10x faster: media 33.3 ms apart, captures 3.3 ms apart
        emitted += resampler.push(round(k * 1e9 / 30), joints, mask, frame=k, capture_ns=1_000 + k * 3_333_333)
    assert [info.frame for _, _, info in emitted] == [0, 2, 4, 6]  # 15 fps on the media clock
    assert [info.stamp_ns for _, _, info in emitted] == [1_000 + k * 3_333_333 for k in (0, 2, 4, 6)]
