"""The synthetic skeleton generator: labels, body plausibility, continuity, actions, determinism, streaming."""

from __future__ import annotations

import itertools
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.skeleton.layouts import UNIFIED_30
from models.synthetic.actions import ACTIONS, SEATED, STANDING, ActionSpec, evaluate, rest_pose
from models.synthetic.generator import (
    SyntheticConfig,
    generate_people,
    generate_sequence,
    iter_frames,
    stack_people,
)
from models.synthetic.skeleton import JOINT, NUM_CHANNELS, BodyShape, forward_kinematics

J = JOINT
HEAD, BASE = J["head"], J["spine_base"]


def _frames_in(seq, label):
    return [s for s in seq.segments if s.label == label]


@pytest.fixture(scope="module")
def crowd():
    """Four clean people, 90 s, default vocabulary."""
    config = SyntheticConfig(num_people=4, duration=90.0, seed=7)
    return config, generate_people(config)


# --- labels --------------------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [
        SyntheticConfig(num_people=3, duration=60.0, seed=0),
        SyntheticConfig(num_people=2, num_frames=1000, seed=5, min_action_duration=1.0, max_action_duration=2.0),
        SyntheticConfig(num_people=3, duration=45.0, seed=1, crossing=True, idle_duration_range=(0.0, 0.5)),
    ],
    ids=["default", "short-actions", "crossing"],
)
def test_segments_are_valid(config):
    people = generate_people(config)
    assert len(people) == config.num_people
    for seq in people:
        assert seq.segments, "a minute of synthetic data has actions"
        for seg in seq.segments:
            assert seg.label in ACTIONS
            assert 0 <= seg.start < seg.end <= seq.num_frames
            assert config.min_action_frames <= seg.length <= config.max_action_frames
        for a, b in itertools.pairwise(seq.segments):
            assert a.end <= b.start, f"{a} overlaps or precedes {b}"


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    num_people=st.integers(1, 3),
    num_frames=st.integers(1, 600),
    fps=st.sampled_from([10.0, 15.0, 30.0]),
    durations=st.tuples(st.floats(0.5, 2.0), st.floats(0.0, 3.0)),
    idle=st.floats(0.0, 2.0),
    crossing=st.booleans(),
)
def test_any_config_gives_valid_segments(seed, num_people, num_frames, fps, durations, idle, crossing):
    config = SyntheticConfig(
        num_people=max(num_people, 2) if crossing else num_people, num_frames=num_frames, fps=fps, seed=seed,
        min_action_duration=durations[0], max_action_duration=durations[0] + durations[1],
        idle_duration_range=(0.0, idle), crossing=crossing,
    )  # fmt: skip
    for seq in generate_people(config):
        assert seq.joints.shape == (num_frames, 1, 30, 3) and np.isfinite(seq.joints).all()
        for seg in seq.segments:
            assert seg.label in ACTIONS and 0 <= seg.start and seg.end <= num_frames
            assert config.min_action_frames <= seg.length <= config.max_action_frames
        assert all(a.end <= b.start for a, b in itertools.pairwise(seq.segments))


def test_every_action_occurs_and_idle_is_background(crowd):
    _, people = crowd
    labels = {s.label for seq in people for s in seq.segments}
    assert labels == set(ACTIONS)
    for seq in people:
        covered = np.zeros(seq.num_frames, bool)
        for s in seq.segments:
            covered[s.start : s.end] = True
        assert 0.1 < 1 - covered.mean() < 0.7  # idle gaps between actions are background frames
        assert (seq.frame_labels(["idle", *ACTIONS])[~covered] == 0).all()


def test_action_list_and_probabilities_are_respected():
    people = generate_people(
        SyntheticConfig(num_people=2, duration=60.0, seed=3, actions=("throw", "push"), action_probs=(1.0, 0.0))
    )
    assert {s.label for seq in people for s in seq.segments} == {"throw"}


# --- the body ----------------------------------------------------------------------


def test_body_shape_stature_and_symmetry():
    rng = np.random.default_rng(0)
    for _ in range(20):
        body = BodyShape.sample(rng, (1.5, 1.95))
        assert 1.5 <= body.height <= 1.95
        pos = forward_kinematics(body, rest_pose(STANDING, body), np.zeros(1), np.zeros((1, 2)), floor_y=0.0)[0]
        assert pos[HEAD, 1] + body.crown == pytest.approx(body.height, abs=1e-9)
        assert pos[BASE, 1] == pytest.approx(body.pelvis_height, abs=0.02)
        assert min(pos[J["foot_left"], 1], pos[J["foot_right"], 1]) == pytest.approx(
            body.ankle_height - body.foot_drop, abs=1e-9
        )


def _bone_lengths(joints):
    """(T, B) lengths of every unified_30 bone of one body (T, V, 3)."""
    child, parent = np.array(UNIFIED_30.bones).T
    return np.linalg.norm(joints[:, child] - joints[:, parent], axis=-1)


def test_bones_are_rigid_symmetric_and_plausible(crowd):
    config, people = crowd
    bones = UNIFIED_30.bones
    flip = UNIFIED_30.flip_permutation
    bone_index = {b: i for i, b in enumerate(bones)}
    for seq in people:
        lengths = _bone_lengths(seq.joints[:, 0].astype(np.float64))
        assert lengths.std(axis=0).max() < 2e-4, "bones keep their length over time"
        mean = lengths.mean(axis=0)
        for i, (c, p) in enumerate(bones):
            mirrored = bone_index[(int(flip[c]), int(flip[p]))]
            assert mean[i] == pytest.approx(mean[mirrored], abs=1e-4), "left and right bones match"
        assert 0.02 < mean.min() and mean.max() < 0.27 * config.height_range[1]  # longest: the shank
        # Stature: head joint above the lowest foot, standing, about 0.92 of body height.
        head_over_feet = seq.joints[:, 0, HEAD, 1] - seq.joints[:, 0, [J["foot_left"], J["foot_right"]], 1].min(1)
        assert config.height_range[0] * 0.86 < head_over_feet.max() < config.height_range[1] * 0.96


def test_noisy_bones_stay_within_noise():
    kwargs = dict(num_people=2, duration=20.0, seed=4)
    clean = generate_sequence(SyntheticConfig(**kwargs))
    noisy = generate_sequence(SyntheticConfig(**kwargs, noise_std=0.01))
    for m in range(2):
        diff = _bone_lengths(noisy.joints[:, m].astype(np.float64)) - _bone_lengths(clean.joints[:, m])
        assert np.abs(diff.mean(axis=0)).max() < 0.006
        assert diff.std(axis=0).max() < 3 * 0.01 * np.sqrt(2)


def test_coordinate_convention_facing_the_camera():
    seq = generate_sequence(SyntheticConfig(duration=10.0, seed=2, yaw_range=(0.0, 0.0), actions=("clapHands",)))
    background = np.ones(seq.num_frames, bool)
    for s in seq.segments:
        background[s.start : s.end] = False
    x = seq.joints[background, 0]
    assert (x[:, J["shoulder_right"], 0] > x[:, J["shoulder_left"], 0] + 0.2).all(), "x is the person's right"
    assert (x[:, J["nose"], 2] < x[:, HEAD, 2] - 0.05).all(), "facing the camera: the nose is nearer"
    assert (x[:, HEAD, 1] > x[:, BASE, 1] + 0.4).all() and (x[:, BASE, 1] > x[:, J["ankle_left"], 1] + 0.6).all()
    assert (x[..., 2] > 1.0).all(), "in front of the camera"


# --- motion ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_joints_move_continuously(seed):
    seq = generate_sequence(SyntheticConfig(num_people=4, duration=60.0, seed=seed, crossing=seed == 2))
    step = np.linalg.norm(np.diff(seq.joints.astype(np.float64), axis=0), axis=-1)
    assert step.max() < 0.25, "no joint moves 25 cm between two frames at 30 fps"


def test_sit_down_lowers_and_stand_up_raises_the_pelvis():
    people = generate_people(SyntheticConfig(num_people=2, duration=60.0, seed=1, actions=("sitDown", "standUp")))
    sits = stands = 0
    for seq in people:
        y = seq.joints[:, 0, BASE, 1]
        for s in _frames_in(seq, "sitDown"):
            assert y[s.end - 1] < y[s.start] - 0.25
            sits += 1
        for s in _frames_in(seq, "standUp"):
            assert y[s.end - 1] > y[s.start] + 0.25
            stands += 1
        labels = [s.label for s in seq.segments]
        assert all(a != b for a, b in itertools.pairwise(labels)), "sitting and standing alternate"
    assert sits >= 2 and stands >= 2


def test_walk_and_carry_move_the_root():
    seq = generate_sequence(SyntheticConfig(duration=60.0, seed=3, actions=("walk", "carry")))
    root = seq.joints[:, 0, BASE][:, [0, 2]].astype(np.float64)
    assert len(seq.segments) >= 5
    for s in seq.segments:
        assert np.linalg.norm(root[s.end - 1] - root[s.start]) > 0.3
    speed = np.linalg.norm(np.diff(root, axis=0), axis=-1) * seq.fps
    assert speed.max() < 2.5, "a walk, not a sprint"
    moving = np.zeros(seq.num_frames - 1, bool)
    for s in seq.segments:
        moving[s.start : s.end - 1] = True
    assert speed[~moving].max() < 0.3, "the root stays (almost) put between walks"


def test_wave_raises_a_wrist_above_the_head():
    people = generate_people(SyntheticConfig(num_people=2, duration=40.0, seed=5, actions=("waveHands",)))
    for seq in people:
        j = seq.joints[:, 0]
        for s in seq.segments:
            wrists = j[s.start : s.end, [J["wrist_left"], J["wrist_right"]], 1].max(axis=1)
            assert (wrists - j[s.start : s.end, HEAD, 1]).max() > 0.1
        background = np.ones(seq.num_frames, bool)
        for s in seq.segments:
            background[s.start : s.end] = False
        assert (j[background][:, [J["wrist_left"], J["wrist_right"]], 1] < j[background][:, [BASE], 1] + 0.1).all()


def test_pick_up_reaches_the_floor_and_clap_joins_the_hands():
    people = generate_people(SyntheticConfig(num_people=2, duration=40.0, seed=6, actions=("pickUp", "clapHands")))
    for seq in people:
        j = seq.joints[:, 0]
        floor = j[:, [J["foot_left"], J["foot_right"]], 1].min()
        hands = [J["hand_left"], J["hand_right"]]
        for s in seq.segments:
            part = j[s.start : s.end]
            if s.label == "pickUp":
                assert part[:, hands, 1].min() - floor < 0.4
            else:
                gap = np.linalg.norm(part[:, hands[0]] - part[:, hands[1]], axis=-1)
                assert gap.min() < 0.08 and gap.max() > 0.2


def test_seated_people_wave_and_clap_seated():
    body = BodyShape.from_height(1.7)
    for label in ("waveHands", "clapHands"):
        motion = evaluate(ActionSpec(label, 3.0, posture=SEATED), np.linspace(0, 1, 91), body)
        pos = forward_kinematics(body, motion.angles, motion.heading, motion.xz)
        assert pos[:, BASE, 1].max() < body.pelvis_height - 0.3
    assert rest_pose(SEATED, body).shape == (1, NUM_CHANNELS)


def test_people_stand_apart():
    seq = generate_sequence(SyntheticConfig(num_people=8, duration=60.0, seed=5))
    root = seq.joints[:, :, BASE][..., [0, 2]]
    dist = np.linalg.norm(root[:, :, None] - root[:, None], axis=-1)
    dist[:, np.arange(8), np.arange(8)] = np.inf
    assert dist.min() > 0.35


def test_crossing_people_swap_sides_together():
    people = generate_people(SyntheticConfig(num_people=3, duration=40.0, seed=9, crossing=True))
    walks = [[(s.start, s.end) for s in _frames_in(p, "walk")] for p in people[:2]]
    assert walks[0] == walks[1] and len(walks[0]) >= 3
    x = [p.joints[:, 0, BASE, 0] for p in people[:2]]
    z = [p.joints[:, 0, BASE, 2] for p in people[:2]]
    for start, end in walks[0]:
        before, after = x[0][start] - x[1][start], x[0][end - 1] - x[1][end - 1]
        assert abs(before) > 2.5 and np.sign(before) != np.sign(after), "they pass each other"
    assert np.abs(z[0] - z[1]).min() > 0.5, "on separate lanes"


# --- determinism, streaming, noise ------------------------------------------------


def test_deterministic_for_a_seed_and_different_across_seeds():
    config = SyntheticConfig(num_people=2, duration=20.0, seed=11, noise_std=0.01, missing_prob=0.1)
    a, b = generate_sequence(config), generate_sequence(config)
    np.testing.assert_array_equal(a.joints, b.joints)
    np.testing.assert_array_equal(a.mask, b.mask)
    assert a.segments == b.segments
    c = generate_sequence(SyntheticConfig(num_people=2, duration=20.0, seed=12, noise_std=0.01, missing_prob=0.1))
    assert np.abs(a.joints - c.joints).mean() > 0.05
    assert a.segments != c.segments


def test_iter_frames_matches_generate_people():
    config = SyntheticConfig(num_people=2, num_frames=700, seed=3, noise_std=0.01, missing_prob=0.1)
    people = generate_people(config)
    frames = list(iter_frames(config))
    assert [f.index for f in frames] == list(range(700))
    np.testing.assert_array_equal(np.stack([f.joints for f in frames]), np.concatenate([p.joints for p in people], 1))
    np.testing.assert_array_equal(np.stack([f.mask for f in frames]), np.concatenate([p.mask for p in people], 1))
    for m, seq in enumerate(people):
        expected = [None] * seq.num_frames
        for s in seq.segments:
            expected[s.start : s.end] = [s.label] * s.length
        assert [f.labels[m] for f in frames] == expected
    assert frames[0].joints.shape == (2, 30, 3) and frames[0].joints.dtype == np.float32


def test_endless_stream_prefix_and_constant_memory():
    endless = iter_frames(SyntheticConfig(num_people=2, seed=8))
    head = list(itertools.islice(endless, 400))
    finite = list(itertools.islice(iter_frames(SyntheticConfig(num_people=2, num_frames=3000, seed=8)), 400))
    for a, b in zip(head, finite, strict=True):
        np.testing.assert_array_equal(a.joints, b.joints)
        assert a.labels == b.labels
    tracemalloc.start()
    try:
        for _ in itertools.islice(endless, 1000):
            pass
        early, _ = tracemalloc.get_traced_memory()
        for _ in itertools.islice(endless, 6000):
            pass
        late, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert late - early < 1_000_000


def test_missing_joints_are_masked_not_zeroed():
    kwargs = dict(num_people=2, duration=20.0, seed=13)
    clean = generate_sequence(SyntheticConfig(**kwargs))
    noisy = generate_sequence(SyntheticConfig(**kwargs, noise_std=0.01, missing_prob=0.2))
    missing = noisy.mask == 0
    assert set(np.unique(noisy.mask)) == {0.0, 1.0}
    assert 0.18 < missing.mean() < 0.22
    assert (clean.mask == 1).all()
    assert np.isfinite(noisy.joints).all()
    offset = np.linalg.norm(noisy.joints - clean.joints, axis=-1)
    assert offset[missing].max() < 0.1, "a missing joint keeps its (noisy) true position"
    assert offset.mean() == pytest.approx(0.01 * np.sqrt(8 / np.pi), rel=0.05)  # noise only: motion unchanged
    assert clean.segments == noisy.segments


def test_stack_people_and_generate_sequence():
    config = SyntheticConfig(num_people=3, duration=10.0, seed=2)
    people = generate_people(config)
    seq = generate_sequence(config)
    assert seq.joints.shape == (300, 3, 30, 3) and seq.joints.dtype == np.float32
    assert seq.layout == "unified_30" and seq.fps == 30.0
    assert seq.segments == people[0].segments
    np.testing.assert_array_equal(stack_people(people).joints, seq.joints)
    assert [p.subject for p in people] == [0, 1, 2]


# --- configuration ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"fps": 0}, "fps"),
        ({"num_people": 0}, "num_people"),
        ({"num_frames": 0}, "num_frames"),
        ({"num_frames": 10, "duration": 1.0}, "duration"),
        ({"duration": -1.0}, "duration"),
        ({"seed": -1}, "seed"),
        ({"height_range": (1.9, 1.5)}, "height_range"),
        ({"height_range": (1.5,)}, "height_range"),
        ({"speed_range": (0.0, 1.0)}, "speed_range"),
        ({"yaw_range": (-200.0, 0.0)}, "yaw_range"),
        ({"camera_distance_range": (0.2, 1.0)}, "camera_distance_range"),
        ({"noise_std": -0.1}, "noise_std"),
        ({"missing_prob": 1.0}, "missing_prob"),
        ({"actions": ("walk", "idle")}, "actions"),
        ({"actions": ()}, "actions"),
        ({"actions": "walk"}, "actions"),
        ({"action_probs": (1.0,)}, "action_probs"),
        ({"min_action_duration": 0.0}, "min_action_duration"),
        ({"max_action_duration": 1.0}, "max_action_duration"),
        ({"idle_duration_range": (-1.0, 1.0)}, "idle_duration_range"),
        ({"crossing": True}, "crossing"),
        ({"crossing": True, "num_people": 2, "actions": ("throw",)}, "crossing"),
    ],
)
def test_config_errors_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=rf"SyntheticConfig\.{field}\b"):
        SyntheticConfig(**kwargs)


def test_finite_output_needs_a_length():
    config = SyntheticConfig()
    assert config.total_frames is None
    with pytest.raises(ValueError, match="num_frames or .duration"):
        generate_people(config)
    assert SyntheticConfig(duration=2.0, fps=15).total_frames == 30
