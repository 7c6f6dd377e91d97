"""The MSR Action3D joint order (layout ``msr_action3d_20``), established from the data.

Evidence, each a test below:
- y is up: along the body the named joints stack head > shoulder_center > spine
  > hip_center > knees > ankles, and the head is the highest joint.
- The assumed bones are bones: their lengths barely change over time, and the
  left and right limbs match.
- Left vs right, two independent ways that agree (so the files are not
  mirrored): the dataset asked subjects to use the right arm or leg for
  one-limb actions, and the wrist named ``wrist_right`` moves 3-8x more than
  ``wrist_left`` in those clips (``ankle_right`` for the kicks); and, as in the
  Kinect convention (x to the sensor's left, i.e. the person's right) that the
  UTKinect data also follows, right joints have the larger x.
"""

from __future__ import annotations

import numpy as np
import pytest

from models.datasets.msr_action3d import MSR_ACTION3D_ACTIONS, read_msr_action3d_folder
from models.datasets.utkinect import read_utkinect_folder
from models.skeleton.layouts import KINECT_V1_20, MSR_ACTION3D_20
from tests.conftest import shared_dataset

LAYOUT = MSR_ACTION3D_20
J = LAYOUT.index
ONE_ARM = ("a01", "a02", "a03", "a04", "a05", "a06", "a07", "a08", "a09")  # high arm wave .. draw circle
KICKS = ("a14", "a15")  # forward kick, side kick


@pytest.fixture(scope="module")
def clips() -> dict[str, np.ndarray]:
    """Clip name -> (T, 20, 3) joints of the frames where the person was tracked."""
    root = shared_dataset("msr_action3d")
    return {c.name: c.joints[c.mask[:, 0, 0] > 0, 0] for c in read_msr_action3d_folder(root)}


@pytest.fixture(scope="module")
def frames(clips: dict[str, np.ndarray]) -> np.ndarray:
    return np.concatenate(list(clips.values()))


def _energy(joints: np.ndarray, joint: str) -> float:
    """Path length of one joint over a clip (metres)."""
    return float(np.linalg.norm(np.diff(joints[:, J(joint)], axis=0), axis=1).sum())


def test_same_joints_and_bones_as_kinect_v1() -> None:
    assert sorted(LAYOUT.joint_names) == sorted(KINECT_V1_20.joint_names)
    assert LAYOUT.parents == KINECT_V1_20.parents
    assert MSR_ACTION3D_ACTIONS[0] == "high arm wave" and MSR_ACTION3D_ACTIONS[13] == "forward kick"


def test_y_is_up(frames: np.ndarray) -> None:
    height = np.median(frames[:, :, 1], axis=0)
    chain = ["head", "shoulder_center", "spine", "hip_center"]
    assert all(height[J(a)] > height[J(b)] for a, b in zip(chain, chain[1:]))
    for side in ("left", "right"):
        legs = ["hip_center", f"knee_{side}", f"ankle_{side}"]
        assert all(height[J(a)] > height[J(b)] for a, b in zip(legs, legs[1:]))
    highest = frames[:, :, 1].argmax(axis=1)
    assert (highest == J("head")).mean() > 0.85  # the rest: a hand raised above it
    no_arms = [J(n) for n in LAYOUT.joint_names if not n.startswith(("elbow", "wrist", "hand"))]
    assert (frames[:, no_arms, 1].argmax(axis=1) == no_arms.index(J("head"))).mean() > 0.97  # bends: 1.5 %
    # the vertical extent head to feet is a person's height; the horizontal ones are not
    extent = np.median(frames.max(axis=1) - frames.min(axis=1), axis=0)
    assert 1.4 < extent[1] < 2.0 and extent[0] < 0.8 and extent[2] < 0.8


def test_bone_lengths_constant_over_time(clips: dict[str, np.ndarray]) -> None:
    spread = {}  # bone -> per-clip coefficient of variation of its length
    for child, parent in LAYOUT.bones:
        lengths = [np.linalg.norm(x[:, child] - x[:, parent], axis=1) for x in clips.values() if len(x) > 1]
        spread[LAYOUT.joint_names[child]] = np.array([v.std() / v.mean() for v in lengths])
    for joint, cv in spread.items():
        assert np.median(cv) < 0.08, joint  # head and spine, the loosest, are at 0.07 and 0.05
        if not joint.startswith(("head", "spine")):
            assert np.percentile(cv, 90) < 0.05, joint


def test_left_and_right_limbs_match(frames: np.ndarray) -> None:
    for child, parent in LAYOUT.bones:
        name = LAYOUT.joint_names[child]
        if name.endswith("_left"):
            mirror = J(name.replace("_left", "_right")), J(LAYOUT.parents[name.replace("_left", "_right")])
            left = np.median(np.linalg.norm(frames[:, child] - frames[:, parent], axis=1))
            right = np.median(np.linalg.norm(frames[:, mirror[0]] - frames[:, mirror[1]], axis=1))
            assert left == pytest.approx(right, rel=0.02), name


def test_right_arm_moves_in_one_arm_actions(clips: dict[str, np.ndarray]) -> None:
    ratios = {
        name: _energy(x, "wrist_right") / _energy(x, "wrist_left") for name, x in clips.items() if name[:3] in ONE_ARM
    }
    assert len(ratios) > 150
    assert min(ratios.values()) > 1.0  # every one of those clips
    for action in ONE_ARM:
        assert np.median([r for n, r in ratios.items() if n.startswith(action)]) > 3.0, action
    # two-hand actions (hand clap, two hand wave) move both wrists alike
    both = [_energy(x, "wrist_right") / _energy(x, "wrist_left") for n, x in clips.items() if n[:3] in ("a10", "a11")]
    assert 0.9 < np.median(both) < 1.1


def test_right_leg_kicks(clips: dict[str, np.ndarray]) -> None:
    for action in KICKS:
        ratios = [_energy(x, "ankle_right") / _energy(x, "ankle_left") for n, x in clips.items() if n[:3] == action]
        assert np.median(ratios) > 3.0, action


@pytest.fixture(scope="module")
def utkinect_frames() -> np.ndarray:
    return np.concatenate([s.joints[:, 0] for s in read_utkinect_folder(shared_dataset("utkinect_action3d"))])


@pytest.mark.parametrize("part", ["shoulder", "hip", "elbow"])
def test_right_joints_have_larger_x_as_in_utkinect(frames: np.ndarray, utkinect_frames: np.ndarray, part: str) -> None:
    msr = (frames[:, J(f"{part}_right"), 0] > frames[:, J(f"{part}_left"), 0]).mean()
    v1 = KINECT_V1_20.index
    utk = (utkinect_frames[:, v1(f"{part}_right"), 0] > utkinect_frames[:, v1(f"{part}_left"), 0]).mean()
    assert msr > 0.95 and utk > 0.95  # measured: MSR 0.98-0.99, UTKinect 0.97-0.996
