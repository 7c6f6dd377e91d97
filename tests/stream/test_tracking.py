"""Tracker: stable ids through crossings and occlusion, birth/death hysteresis, any layout, bad input."""

import numpy as np
import pytest

from models.skeleton.layouts import KINECT_V2_25, get_layout
from models.synthetic.generator import SyntheticConfig, iter_frames
from stream.stages.tracking import Tracker
from stream.types import Person

PERIOD_NS = 33_333_333  # 30 fps


def _project(joints: np.ndarray) -> np.ndarray:
    """Pinhole projection of camera-frame metres to pixels (f = 500 px, 640 x 480)."""
    z = joints[:, 2]
    return np.stack([320 + 500 * joints[:, 0] / z, 240 - 500 * joints[:, 1] / z], axis=-1)


def _people(frame, keep=None) -> list[Person]:
    indices = range(frame.joints.shape[0]) if keep is None else keep
    return [Person(frame.joints[i], frame.mask[i], "unified_30", image_points=_project(frame.joints[i]),
                   source_id=i, truth=frame.labels[i]) for i in indices]  # fmt: skip


def _run_crossing(tracker: Tracker, seed: int, step: int = 1, occlude: bool = False) -> tuple[int, dict, int, int]:
    """Two people crossing; returns (id switches, source id -> track id, reported observations, image swaps)."""
    config = SyntheticConfig(num_people=2, crossing=True, duration=20.0, seed=seed, noise_std=0.01, missing_prob=0.05)
    order_rng = np.random.default_rng(seed)
    ids: dict[int, int] = {}
    switches = reported = swaps = 0
    previous_side = None
    for frame in iter_frames(config):
        if frame.index % step:
            continue
        side = np.sign(frame.joints[0, 0, 0] - frame.joints[1, 0, 0])
        swaps += previous_side is not None and side != previous_side
        previous_side = side
        keep = [0, 1]
        u = [_project(frame.joints[i])[0, 0] for i in (0, 1)]
        if occlude and abs(u[0] - u[1]) < 60:  # overlapping in the image: the farther person is not detected
            keep = [int(np.argmin(frame.joints[:, 0, 2]))]
        people = _people(frame, keep)
        people = [people[k] for k in order_rng.permutation(len(people))]  # detection order carries no identity
        for tracked in tracker.update(people, frame.index * PERIOD_NS):
            reported += 1
            source = tracked.person.source_id
            switches += source in ids and ids[source] != tracked.track_id
            ids[source] = tracked.track_id
    return switches, ids, reported, swaps


@pytest.mark.parametrize("space", ["3d", "image"])
def test_crossing_people_keep_their_ids(space):
    switches, ids, reported, swaps = _run_crossing(Tracker(space=space), seed=0)
    assert swaps >= 2  # they really do swap sides in the image, twice
    assert switches == 0 and sorted(ids.values()) == [1, 2]
    assert reported == 2 * (600 - 1)  # everyone reported from the birth frame on (birth_frames=2)


def test_occluded_crossing_at_10_fps_needs_the_prediction():
    """The farther walker vanishes while they overlap; at 10 fps only constant velocity bridges the gap."""
    for seed in (0, 2):
        switches, ids, _, _ = _run_crossing(Tracker(space="image", death_frames=30), seed, step=3, occlude=True)
        assert switches == 0 and sorted(ids.values()) == [1, 2]
    no_prediction = Tracker(space="image", death_frames=30, max_prediction_s=0.0)
    assert _run_crossing(no_prediction, seed=0, step=3, occlude=True)[0] > 0  # the scenario is not trivial


def _standing(x: float, layout=KINECT_V2_25) -> Person:
    joints = np.zeros((layout.num_joints, 3), np.float32)
    joints[:, 0] = x
    joints[:, 1] = np.linspace(-0.9, 0.8, layout.num_joints)
    joints[:, 2] = 3.0
    return Person(joints, np.ones(layout.num_joints, np.float32), layout.name)


def test_tentative_tracks_are_not_reported_and_one_frame_blips_never_get_an_id():
    tracker = Tracker(birth_frames=3)
    assert tracker.update([_standing(0.0)], 0) == []
    assert tracker.update([_standing(0.0), _standing(2.0)], PERIOD_NS) == []  # blip at x = 2 appears once
    third = tracker.update([_standing(0.0)], 2 * PERIOD_NS)
    assert [t.track_id for t in third] == [1]  # confirmed after 3 consecutive matches
    assert tracker.active_ids == [1]
    assert tracker.update([_standing(2.0)], 3 * PERIOD_NS) == []  # new person: tentative again, no id yet


def test_leaving_and_reentering_gets_a_new_id_after_death():
    tracker = Tracker(birth_frames=2, death_frames=5)
    stamp = 0
    for _ in range(4):
        out = tracker.update([_standing(0.0)], stamp)
        stamp += PERIOD_NS
    assert [t.track_id for t in out] == [1]
    for k in range(5):  # gone: coasting for 4 frames, ended at the 5th miss
        assert tracker.update([], stamp) == []
        stamp += PERIOD_NS
        assert tracker.pop_ended() == ([1] if k == 4 else [])
    tracker.update([_standing(0.0)], stamp)
    out = tracker.update([_standing(0.0)], stamp + PERIOD_NS)
    assert [t.track_id for t in out] == [2]  # documented: identity does not survive death


def test_short_absence_keeps_the_id_and_timeout_ends_the_track():
    tracker = Tracker(birth_frames=1, death_frames=10, timeout_ns=200_000_000)
    assert [t.track_id for t in tracker.update([_standing(0.0)], 0)] == [1]
    tracker.update([], PERIOD_NS)
    tracker.update([], 2 * PERIOD_NS)
    assert [t.track_id for t in tracker.update([_standing(0.01)], 3 * PERIOD_NS)] == [1]
    assert tracker.update([], 3 * PERIOD_NS + 150_000_000) == [] and tracker.pop_ended() == []
    tracker.update([], 3 * PERIOD_NS + 250_000_000)  # unseen for 0.25 s > timeout, after only 2 misses
    assert tracker.pop_ended() == [1] and tracker.active_ids == []


def test_missing_and_nan_joints_are_treated_as_missing():
    tracker = Tracker(birth_frames=1)
    person = _standing(0.0)
    tracker.update([person, _standing(1.5)], 0)
    holey = _standing(0.02)
    holey.joints[:10] = np.nan  # NaN coordinates
    holey.confidence[10:15] = 0.0  # and missing joints
    holey.confidence[15] = np.nan
    other = _standing(1.52)
    other.joints[3, 1] = np.inf
    out = tracker.update([other, holey], PERIOD_NS)
    assert {t.person is holey: t.track_id for t in out} == {False: 2, True: 1}
    nothing = _standing(0.0)
    nothing.joints[:] = np.nan
    out = tracker.update([nothing, holey], 2 * PERIOD_NS)  # a skeleton with no usable joint is skipped
    assert [(t.track_id, t.person is holey) for t in out] == [(1, True)]


def test_layouts_compare_in_unified_space():
    """A Kinect v1 skeleton continues the track of a Kinect v2 skeleton of the same body."""
    v2 = _standing(0.0)
    v1_layout = get_layout("kinect_v1_20")
    v1_joints = np.array([v2.joints[KINECT_V2_25.index(n)] if n in KINECT_V2_25.joint_names else
                          v2.joints[KINECT_V2_25.index({"hip_center": "spine_base", "spine": "spine_mid",
                                                        "shoulder_center": "spine_shoulder"}[n])]
                          for n in v1_layout.joint_names])  # fmt: skip
    v1 = Person(v1_joints, np.ones(20, np.float32), "kinect_v1_20")
    tracker = Tracker(birth_frames=1, max_distance=0.05)
    assert [t.track_id for t in tracker.update([v2], 0)] == [1]
    assert [t.track_id for t in tracker.update([v1], PERIOD_NS)] == [1]


def test_image_skeletons_from_coco_track_in_pixels():
    coco = get_layout("coco_17")
    rng = np.random.default_rng(0)
    base = rng.uniform(0, 100, (17, 2))
    tracker = Tracker(birth_frames=1)
    ids = []
    for k in range(10):  # two people 300 px apart, moving 10 px per frame towards each other
        a = Person(base + [100 + 10 * k, 100], np.ones(17), coco.name)
        b = Person(base + [400 - 10 * k, 100], np.ones(17), coco.name)
        ids.append([t.track_id for t in tracker.update([a, b], k * PERIOD_NS)])
    assert all(pair == [1, 2] for pair in ids)
    with pytest.raises(ValueError, match="2D"):
        Tracker(space="3d").update([Person(base, np.ones(17), coco.name)], 0)


def test_end_all_ends_every_live_track():
    tracker = Tracker(birth_frames=1)
    tracker.update([_standing(0.0), _standing(2.0)], 0)
    assert tracker.end_all() == [1, 2] and tracker.active_ids == []


@pytest.mark.parametrize("kwargs", [
    {"max_distance": 0}, {"max_distance": -1.0}, {"max_distance": float("nan")}, {"max_image_distance": 0},
    {"birth_frames": 0}, {"birth_frames": 1.5}, {"death_frames": 0}, {"timeout_ns": 0},
    {"min_confidence": 1.0}, {"space": "2d"}, {"velocity_smoothing": 0.0}, {"max_prediction_s": -1},
])  # fmt: skip
def test_invalid_parameters_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        Tracker(**kwargs)
