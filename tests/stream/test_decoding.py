"""Online decoding: offline-equal fusion, exactly-once publication, finality, flush, events with hysteresis."""

import time

import numpy as np
import pytest

from models.action_runs import EventRules
from models.checkpoint import CheckpointConfig
from models.dste_config import DSTEConfig
from models.fusion import FrameFusion
from models.point_events import PointRules, detect_points
from models.synthetic.generator import SyntheticConfig, iter_frames
from models.windows import window_ends
from stream.stages.decoding import OnlineDecoder, softmax
from stream.stages.tracking import Tracker
from stream.types import Person
from stream.stages.windowing import WindowBatcher

LABELS = ["background", "wave", "clap", "walk"]
K1 = len(LABELS)


def _probabilities(labels) -> np.ndarray:
    """(n, K + 1) probabilities rebuilt from published top-k (top_k = K + 1), in publication order."""
    return np.array([[dict(label.top_k)[name] for name in LABELS] for label in labels])


@pytest.mark.parametrize("fusion", ["recent", "mean", "max"])
@pytest.mark.parametrize(("stride", "lookahead"), [(4, None), (4, 0), (4, 6), (1, 0), (1, 3), (8, 2), (16, None)])
def test_online_fusion_equals_offline_frame_fusion(stride, lookahead, fusion):
    T, n = 16, 96  # the stream ends on a window end (n a multiple of the stride)
    rng = np.random.default_rng(stride * 10 + (lookahead or 0))
    decoder = OnlineDecoder(LABELS, T, stride, lookahead, top_k=K1, fusion=fusion)
    offline = FrameFusion(n, K1, T, stride, lookahead, fusion)
    published = []
    for end in window_ends(n, stride):
        logits = rng.normal(scale=2.0, size=(T, K1))
        offline.add(int(end), softmax(logits))
        decoder.add(5, int(end), logits)
        published += decoder.pop_final()
    decoder.flush(5)
    published += decoder.pop_final()
    assert [label.frame for label in published] == list(range(n))  # every sample once, in order
    np.testing.assert_allclose(_probabilities(published), offline.probabilities(), atol=1e-6)


@pytest.mark.parametrize("lookahead", [0, 3, None])
def test_a_stride_that_changes_labels_every_sample_once_from_the_windows_that_hold_it(lookahead):
    T = 16
    decoder = OnlineDecoder(LABELS, T, 8, lookahead, top_k=K1, fusion="mean")
    decoder.add(1, 7, np.zeros((T, K1)))
    decoder.add(1, 15, np.zeros((T, K1)))
    decoder.set_stride(1)  # samples 16..19 arrived meanwhile: the next window, at stride 1, ends at 20
    for end in range(20, 40):
        decoder.add(1, end, np.zeros((T, K1)))
    decoder.flush(1)
    labels = decoder.pop_final()
    assert [label.frame for label in labels] == list(range(40))  # samples 16..19, between the grids, included
    assert all(label.label != "failed" and np.isclose(label.score, 1 / K1) for label in labels)
    with pytest.raises(ValueError, match="exceeds"):
        decoder.set_stride(17)


def test_lookahead_zero_publishes_at_the_earliest_point():
    T, s = 16, 8
    causal = OnlineDecoder(LABELS, T, s, lookahead=0)
    patient = OnlineDecoder(LABELS, T, s, lookahead=None)
    middle = OnlineDecoder(LABELS, T, s, lookahead=10)
    logits = np.zeros((T, K1))
    published = {"causal": [], "patient": [], "middle": []}
    for end in (7, 15, 23):
        for name, decoder in (("causal", causal), ("patient", patient), ("middle", middle)):
            decoder.add(1, end, logits)
            published[name].append([label.frame for label in decoder.pop_final()])
    assert published["causal"] == [list(range(0, 8)), list(range(8, 16)), list(range(16, 24))]
    assert published["patient"] == [[], list(range(0, 8)), list(range(8, 16))]  # t <= e + s - T
    assert published["middle"] == [list(range(0, 5)), list(range(5, 13)), list(range(13, 21))]  # t <= e + s - 1 - 10
    patient.flush(1)
    assert [label.frame for label in patient.pop_final()] == list(range(16, 24))
    assert patient.pending(1) == 0 and patient.track_ids == []


def test_interleaved_tracks_publish_every_sample_exactly_once_in_order():
    T, s = 16, 4
    decoder = OnlineDecoder(LABELS, T, s, lookahead=5)
    lengths = {1: 60, 2: 37, 3: 9}
    rng = np.random.default_rng(0)
    schedule = sorted(((int(end), track) for track, n in lengths.items() for end in window_ends(n, s)),
                      key=lambda item: (item[0], -item[1]))  # windows of all tracks interleaved by time
    seen: dict[int, list[int]] = {track: [] for track in lengths}
    for end, track in schedule:
        decoder.add(track, end, rng.normal(size=(T, K1)))
        if end == window_ends(lengths[track], s)[-1]:
            decoder.flush(track)  # the track ended: its final window is in
        for label in decoder.pop_final():
            seen[label.track_id].append(label.frame)
    assert seen == {track: list(range(n)) for track, n in lengths.items()}


def test_flush_publishes_pending_samples_with_the_windows_seen_so_far():
    T, s = 16, 4
    decoder = OnlineDecoder(LABELS, T, s, lookahead=None, top_k=K1)
    logits = np.zeros((T, K1))
    logits[:, 2] = 3.0  # "clap" everywhere
    for end in (3, 7, 11):
        decoder.add(9, end, logits)
    assert decoder.pop_final() == [] and decoder.pending(9) == 12
    decoder.flush(9)
    labels = decoder.pop_final()
    assert [label.frame for label in labels] == list(range(12)) and {label.label for label in labels} == {"clap"}
    decoder.flush(9)  # idempotent
    decoder.flush(12345)  # unknown track: nothing to do
    assert decoder.pop_final() == []
    decoder.add(9, 3, logits)  # a flushed id starts afresh
    decoder.flush_all()
    assert [label.frame for label in decoder.pop_final()] == [0, 1, 2, 3]


def _per_sample(decoder: OnlineDecoder, track: int, probabilities: np.ndarray):
    """Feed per-sample probabilities through T = 1, stride 1 windows; returns (labels, events) per sample."""
    timeline = []
    for t, p in enumerate(probabilities):
        decoder.add(track, t, p[None, :])
        timeline.append((decoder.pop_final(), decoder.pop_events()))
    return timeline


def _action(sequence, k: int = 1) -> np.ndarray:
    """Probabilities where action ``k`` has the given probability and background the rest."""
    p = np.zeros((len(sequence), K1))
    p[:, k] = sequence
    p[:, 0] = 1.0 - np.asarray(sequence)
    return p


def _decoder(**options) -> OnlineDecoder:
    settings = {"inputs": "probs", "runs": EventRules(0.6, 0.4, min_duration_frames=5)}
    return OnlineDecoder(LABELS, 1, 1, 0, **{**settings, **options})


def test_a_clear_action_run_gives_one_start_and_one_end_at_the_right_frames():
    p = np.full(60, 0.05)
    p[20:40] = 0.9
    decoder = _decoder()
    timeline = _per_sample(decoder, 3, _action(p, k=2))
    events = [(t, e.kind, e.label, e.frame) for t, (_, evs) in enumerate(timeline) for e in evs]
    assert events == [(24, "start", "clap", 20), (40, "end", "clap", 39)]  # start once 5 samples long
    start = next(e for _, evs in timeline for e in evs if e.kind == "start")
    assert start.track_id == 3 and np.isclose(start.score, 0.9)
    assert [labels[0].label for labels, _ in timeline] == ["clap" if 20 <= t < 40 else "background" for t in range(60)]


def test_a_run_shorter_than_the_minimum_duration_gives_no_event():
    p = np.full(40, 0.05)
    p[10:14] = 0.95  # 4 samples < 5
    decoder = _decoder()
    assert all(evs == [] for _, evs in _per_sample(decoder, 1, _action(p)))
    decoder.flush_all()
    assert decoder.pop_events() == []


def test_a_confident_run_starts_before_the_minimum_duration():
    """``confident_frames`` samples at or above ``confident_threshold`` start a run sooner (dated at its first
    sample as ever); a run that is long but never that sure still waits for the minimum duration."""
    sure = np.full(40, 0.05)
    sure[10:30] = [0.65, 0.85, 0.9, 0.7, 0.9, 0.95, 0.9, *[0.9] * 13]  # the 0.7 breaks the first confident streak
    unsure = np.full(40, 0.05)
    unsure[10:30] = 0.75
    rules = EventRules(0.6, 0.4, min_duration_frames=8, confident_threshold=0.8, confident_frames=3)
    for p, emitted in ((sure, 16), (unsure, 17)):
        timeline = _per_sample(_decoder(runs=rules), 1, _action(p))
        starts = [(t, e.frame) for t, (_, evs) in enumerate(timeline) for e in evs if e.kind == "start"]
        assert starts == [(emitted, 10)]
    off = [t for t, (_, evs) in enumerate(_per_sample(_decoder(runs=EventRules(0.6, 0.4, 8)), 1, _action(sure)))
           if any(e.kind == "start" for e in evs)]  # fmt: skip
    assert off == [17]


@pytest.mark.parametrize("fields", [
    {"enter_threshold": 0.0}, {"enter_threshold": 0.5, "exit_threshold": 0.6}, {"min_duration_frames": 0},
    {"exit_frames": 0}, {"confident_threshold": 0.5}, {"confident_threshold": 1.2}, {"confident_frames": -1},
    {"confident_frames": True},
])  # fmt: skip
def test_bad_event_rules_are_refused(fields):
    with pytest.raises(ValueError):
        EventRules(**fields)
    with pytest.raises(ValueError, match="unknown keys"):
        EventRules.from_dict({"min_duration": 4})


def test_hysteresis_prevents_flicker():
    p = np.full(70, 0.05)
    p[10:50] = np.where(np.arange(40) % 2 == 0, 0.65, 0.45)  # alternates around the enter threshold
    events = [e for _, evs in _per_sample(_decoder(), 1, _action(p)) for e in evs]
    assert [(e.kind, e.frame) for e in events] == [("start", 10), ("end", 49)]
    dips = np.full(70, 0.05)
    dips[10:50] = 0.8
    dips[[20, 30, 31]] = 0.3  # short dips below exit
    strict = [(e.kind, e.frame) for _, evs in _per_sample(_decoder(), 1, _action(dips)) for e in evs]
    tolerant = [(e.kind, e.frame) for _, evs in _per_sample(_decoder(runs=EventRules(0.6, 0.4, 5, exit_frames=3)), 1,
                                                            _action(dips)) for e in evs]  # fmt: skip
    assert strict == [("start", 10), ("end", 19), ("start", 21), ("end", 29), ("start", 32), ("end", 49)]
    assert tolerant == [("start", 10), ("end", 49)]


def test_flush_ends_an_open_event_and_smoothing_keeps_finality():
    p = np.full(30, 0.05)
    p[15:] = 0.9
    decoder = _decoder(smoothing=0.5)
    timeline = _per_sample(decoder, 2, _action(p))
    assert all(len(labels) == 1 and labels[0].frame == t for t, (labels, _) in enumerate(timeline))  # no delay
    scores = [labels[0].top_k for labels, _ in timeline]
    ema = 0.05
    for t in range(1, 30):
        ema = 0.5 * p[t] + 0.5 * ema
        assert np.isclose(dict(scores[t])["wave"], ema)
    assert [e.kind for _, evs in timeline for e in evs] == ["start"]
    decoder.flush(2)
    (end,) = decoder.pop_events()
    assert (end.kind, end.label, end.frame) == ("end", "wave", 29)


def test_pipeline_tracker_batcher_decoder_labels_each_source_frame_once():
    """Two crossing people at 30 fps → 15 fps windows (one batched call per stride) → final labels and truth."""
    T, s = 16, 4
    tracker = Tracker(birth_frames=2, death_frames=5)
    batcher = WindowBatcher(15.0, T, s)
    decoder = OnlineDecoder(LABELS, T, s, lookahead=4)
    rng = np.random.default_rng(0)
    config = SyntheticConfig(num_people=2, crossing=True, duration=6.0, seed=1, noise_std=0.01, missing_prob=0.05)
    origin = time.monotonic_ns() - 60_000_000_000  # a recording a minute old: capture precedes decoding
    published: dict[int, list] = {}
    truths: dict[tuple[int, int], str | None] = {}
    calls = 0
    for frame in iter_frames(config):
        stamp = origin + round(frame.index * 1e9 / 30)
        people = [Person(frame.joints[i], frame.mask[i], "unified_30", truth=frame.labels[i]) for i in (0, 1)]
        if frame.index >= 150:
            people = people[:1]  # person 1 leaves for good
        tracked = tracker.update(people, stamp)
        truths.update({(t.track_id, frame.index): t.person.truth for t in tracked})
        batcher.push_tracked(tracked, frame.index, stamp)
        ended = tracker.pop_ended() + (tracker.end_all() if frame.index == config.total_frames - 1 else [])
        for track_id in ended:
            batcher.end_track(track_id)  # queues the final, partial window
        windows, refs = batcher.due_windows()
        if refs:
            calls += 1
            assert windows.shape == (len(refs), 3, T, 30, 2)
            logits = rng.normal(size=(len(refs), T, K1))  # stands in for the model's batched output
            for ref, window_logits in zip(refs, logits):
                decoder.add(ref.track_id, ref.end, window_logits, ref.samples)
        for track_id in ended:
            decoder.flush(track_id)
        for label in decoder.pop_final():
            published.setdefault(label.track_id, []).append(label)
    assert sorted(published) == [1, 2] and decoder.track_ids == [] and batcher.track_ids == []
    for track_id, labels in published.items():
        frames = [label.frame for label in labels]
        assert frames == sorted(set(frames))  # each source frame at most once, in order
        assert all(f % 2 == 1 for f in frames)  # 30 -> 15 fps: every other frame (tracks confirmed at frame 1)
        assert all(label.latency_ns > 0 for label in labels)
        assert all(label.truth == truths[(track_id, label.frame)] for label in labels)
    assert sorted(len(labels) for labels in published.values()) == [75, 90]  # frames 1..149 and 1..179
    assert any(label.truth is not None for labels in published.values() for label in labels)
    assert calls <= 180 // 2  # one backend call per stride of samples, never one per track


RULES = PointRules(threshold=0.6, release=0.4, refractory_s=0.5, confirm_frames=2)
PEAK_RULES = PointRules(threshold=0.6, release=0.4, refractory_s=0.5, confirm_frames=2, peak_frames=5)


@pytest.mark.parametrize(("stride", "lookahead", "smoothing", "rules"),
                         [(1, 0, 0.0, RULES), (4, 0, 0.3, RULES), (4, 6, 0.0, RULES), (1, 0, 0.0, PEAK_RULES),
                          (4, 6, 0.3, PEAK_RULES)])  # fmt: skip
def test_gesture_events_are_detect_points_on_the_published_probabilities(stride, lookahead, smoothing, rules):
    """One gesture event per instance, exactly where `detect_points` finds it on the labels' probabilities."""
    T, n, fps = 16, 400, 15.0
    rng = np.random.default_rng(stride + lookahead)
    decoder = OnlineDecoder(LABELS, T, stride, lookahead, top_k=K1, smoothing=smoothing, points=rules, fps=fps)
    published, events = [], []
    for end in window_ends(n, stride):
        decoder.add(2, int(end), rng.normal(scale=3.0, size=(T, K1)))
        published += decoder.pop_final()
        events += decoder.pop_events()
    decoder.flush(2)
    published += decoder.pop_final()
    events += decoder.pop_events()
    gestures = [e for e in events if e.kind == "gesture"]
    offline = detect_points(_probabilities(published), rules, fps)
    assert len(offline) >= 10  # the random scores cross the threshold often: the comparison means something
    assert [(e.label, e.frame, e.track_id) for e in gestures] == [(LABELS[p.label], p.frame, 2) for p in offline]
    np.testing.assert_allclose([e.score for e in gestures], [p.score for p in offline], atol=1e-9)
    assert [e.delay_ms for e in gestures] == pytest.approx([p.evidence_frames / fps * 1e3 for p in offline])
    assert all(e.delay_ms >= (rules.confirm_frames - 1) / fps * 1e3 for e in gestures)
    assert {e.kind for e in events} <= {"start", "end", "gesture"}


def test_a_held_gesture_is_one_event_and_failed_samples_are_no_evidence():
    p = np.full(80, 0.05)
    p[10:14] = 0.9  # an instance
    p[15:18] = 0.9  # back after one sample below release, within the refractory period (8 samples): nothing
    p[30:50] = 0.9  # held for 20 samples (1.3 s): one instance
    p[60:64] = 0.9  # an instance with a failed sample in it
    decoder = _decoder(points=RULES, fps=15.0, runs=EventRules(min_duration_frames=100))
    probs = _action(p, k=1)
    for t in range(80):
        if t == 61:
            decoder.add_failed(4, t)  # the model failed here: no evidence either way
        else:
            decoder.add(4, t, probs[t : t + 1])
    decoder.flush(4)
    gestures = [(e.label, e.frame, round(e.delay_ms, 3)) for e in decoder.pop_events() if e.kind == "gesture"]
    assert gestures == [("wave", 11, 66.667), ("wave", 31, 66.667), ("wave", 62, 133.333)]  # confirm 2 samples


def test_peak_picking_dates_the_gesture_after_its_peak_and_a_flush_publishes_one_still_waiting():
    p = np.full(40, 0.05)
    p[5:12] = [0.5, 0.7, 0.8, 0.95, 0.85, 0.6, 0.2]  # confirmed at 7 (2nd sample >= 0.6), peak at 8, drop seen at 9
    p[36:] = [0.7, 0.8, 0.9, 0.97]  # confirmed at 37, still rising when the track ends
    decoder = _decoder(points=PEAK_RULES, fps=15.0, runs=EventRules(min_duration_frames=100))
    probs = _action(p, k=1)
    for t in range(40):
        decoder.add(4, t, probs[t : t + 1])
    assert [(e.frame, round(e.score, 3)) for e in decoder.pop_events() if e.kind == "gesture"] == [(9, 0.95)]
    decoder.flush(4)
    assert [(e.label, e.frame, round(e.score, 3), round(e.delay_ms, 3)) for e in decoder.pop_events()
            if e.kind == "gesture"] == [("wave", 39, 0.97, 200.0)]  # fmt: skip


def test_gesture_rules_come_from_the_checkpoint_and_need_fps():
    config = CheckpointConfig(model=DSTEConfig(dim=32, depth=1, T=16, num_classes=K1, frame_spatial_dim=8),
                              task="detection", labels=LABELS, fps=15.0)  # fmt: skip
    assert OnlineDecoder.from_checkpoint(config).points is None
    assert OnlineDecoder.from_checkpoint(config).rules == EventRules()  # no events.runs: the defaults
    config.runs = EventRules(0.7, 0.3, 4, confident_threshold=0.9, confident_frames=2)
    assert OnlineDecoder.from_checkpoint(config).rules == config.runs
    config.points = RULES
    decoder = OnlineDecoder.from_checkpoint(config, stride=1)
    assert (decoder.points, decoder.fps) == (RULES, 15.0)
    with pytest.raises(ValueError, match="fps must be > 0"):
        OnlineDecoder(LABELS, 16, 4, points=RULES)
    with pytest.raises(ValueError, match="PointRules"):
        OnlineDecoder(LABELS, 16, 4, points={"threshold": 0.5}, fps=15.0)


def test_an_action_below_min_score_is_published_as_background_with_its_top_k():
    config = CheckpointConfig(model=DSTEConfig(dim=32, depth=1, T=16, num_classes=K1, frame_spatial_dim=8),
                              task="detection", labels=LABELS, fps=15.0, min_score=0.5)  # fmt: skip
    decoder = OnlineDecoder.from_checkpoint(config, stride=4, top_k=K1)
    assert decoder.min_score == 0.5
    probabilities = np.tile([0.05, 0.45, 0.3, 0.2], (16, 1))  # wave is most likely, at 0.45
    probabilities[-2:] = [0.05, 0.8, 0.1, 0.05]  # ... then sure at 0.8
    decoder.add(1, 15, np.log(probabilities))
    labels = decoder.pop_final()
    assert [label.label for label in labels[-4:]] == ["background", "background", "wave", "wave"]
    assert labels[-4].score == pytest.approx(0.05) and labels[-1].score == pytest.approx(0.8)
    assert dict(labels[-4].top_k)["wave"] == pytest.approx(0.45)  # the action that fell short is still shown
    plain = OnlineDecoder.from_checkpoint(config, stride=4, min_score=0.0)  # a run's own level overrides it
    plain.add(1, 15, np.log(probabilities))
    assert {label.label for label in plain.pop_final()} == {"wave"}


@pytest.mark.parametrize("kwargs", [
    {"labels": ["background"]}, {"min_score": 1.0}, {"min_score": -0.5}, {"window": 0}, {"stride": 0}, {"stride": 17}, {"lookahead": -1},
    {"inputs": "scores"}, {"top_k": 0}, {"smoothing": 1.0}, {"runs": {"enter_threshold": 0.6}},
])  # fmt: skip
def test_invalid_parameters_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        OnlineDecoder(**{"labels": LABELS, "window": 16, "stride": 4, **kwargs})


def test_bad_windows_raise_value_error():
    decoder = OnlineDecoder(LABELS, 16, 4)
    with pytest.raises(ValueError, match="T, K"):
        decoder.add(1, 3, np.zeros((16, 3)))
    with pytest.raises(ValueError, match="finite"):
        decoder.add(1, 3, np.full((16, K1), np.nan))
    decoder.add(1, 7, np.zeros((16, K1)))
    with pytest.raises(ValueError, match="increasing"):
        decoder.add(1, 3, np.zeros((16, K1)))
