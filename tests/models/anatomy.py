"""Anatomy checks that pin a Kinect SDK v1 joint order on real recordings.

Shared by the MSRC-12, PRECOG and Kinder-Gator tests.
"""

from __future__ import annotations

import numpy as np

from models.skeleton.layouts import KINECT_V1_20, MSR_ACTION3D_20
from models.skeleton.sequence import SkeletonSequence

_J = KINECT_V1_20.index
# Bones whose length a tracker should hold: all but the short, jittery hand and foot bones.
LONG_BONES = [(c, p) for c, p in KINECT_V1_20.bones if not KINECT_V1_20.joint_names[c].startswith(("hand", "foot"))]
# Max over LONG_BONES of std/mean length, per file. Measured: MSRC-12 0.10-0.12, PRECOG 0.10-0.27;
# the same data read in MSR Action3D's joint order: 0.47-0.53 and 0.32-0.71.
BONE_CV_BOUND = 0.3
# Reading Kinect v1 data as if it were in MSR Action3D's order: column j holds joint WRONG_ORDER[j].
WRONG_ORDER = np.array([KINECT_V1_20.index(name) for name in MSR_ACTION3D_20.joint_names])


def tracked_frames(seq: SkeletonSequence) -> np.ndarray:
    """(F, 20, 3) joints of the frames where every joint is present."""
    return seq.joints[:, 0][(seq.mask[:, 0] == 1).all(axis=1)]


def bone_lengths(joints: np.ndarray, child: str, parent: str) -> np.ndarray:
    """(F,) length of the bone from joint ``parent`` to joint ``child`` in each frame of (F, 20, 3) joints."""
    return np.linalg.norm(joints[:, _J(child)] - joints[:, _J(parent)], axis=-1)


def max_bone_cv(joints: np.ndarray) -> float:
    """The largest coefficient of variation (std / mean) of a LONG_BONES length over the frames."""
    lengths = np.linalg.norm(joints[:, [c for c, _ in LONG_BONES]] - joints[:, [p for _, p in LONG_BONES]], axis=-1)
    return float((lengths.std(axis=0) / lengths.mean(axis=0)).max())


def assert_kinect_v1_anatomy(name: str, joints: np.ndarray) -> None:
    """The checks that pin a Kinect SDK v1 joint order on real data (F, 20, 3)."""
    assert max_bone_cv(joints) < BONE_CV_BOUND, name
    assert max_bone_cv(joints[:, WRONG_ORDER]) > BONE_CV_BOUND, name
    assert_kinect_v1_body(name, joints)


def assert_kinect_v1_body(name: str, joints: np.ndarray, shortest_limb: float = 0.18) -> None:
    """The body checks of `assert_kinect_v1_anatomy` without its bone-length variation bounds: y up, hands and feet
    short, limb bones (metres) in [``shortest_limb``, 0.65] and equal left and right, the person's right side at
    larger x. Children need a lower ``shortest_limb`` (Kinder-Gator's 5-year-olds: forearms of 0.14 m)."""
    mean_y = joints[..., 1].mean(axis=0)
    chain = ["head", "shoulder_center", "spine", "hip_center"]
    assert all(mean_y[_J(a)] > mean_y[_J(b)] for a, b in zip(chain, chain[1:])), name  # y is up
    for side in ("left", "right"):
        leg = ["hip_center", f"knee_{side}", f"ankle_{side}", f"foot_{side}"]
        assert all(mean_y[_J(a)] > mean_y[_J(b)] for a, b in zip(leg, leg[1:])), name
        for child, parent in [(f"hand_{side}", f"wrist_{side}"), (f"foot_{side}", f"ankle_{side}")]:
            assert bone_lengths(joints, child, parent).mean() < 0.15, (name, child)  # hands, feet are short
        forearm = bone_lengths(joints, f"wrist_{side}", f"elbow_{side}").mean()
        assert bone_lengths(joints, f"hand_{side}", f"elbow_{side}").mean() > forearm, (name, side)  # hand beyond wrist
        for child, parent in [(f"elbow_{side}", f"shoulder_{side}"), (f"wrist_{side}", f"elbow_{side}"),
                              (f"knee_{side}", f"hip_{side}"), (f"ankle_{side}", f"knee_{side}")]:  # fmt: skip
            left = bone_lengths(joints, child.replace(side, "left"), parent.replace(side, "left")).mean()
            right = bone_lengths(joints, child.replace(side, "right"), parent.replace(side, "right")).mean()
            assert shortest_limb < left < 0.65 and 0.75 < left / right < 1.33, (name, child, left, right)
    # the person faces the sensor: their right side is at the sensor's left, larger x
    mean_x = joints[..., 0].mean(axis=0)
    for part in ("shoulder", "hip"):
        assert mean_x[_J(f"{part}_right")] > mean_x[_J(f"{part}_left")], (name, part)
