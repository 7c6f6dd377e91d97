"""Real sequences of every 3D layout mapped into unified_30: bones stay rigid and left matches right."""

import numpy as np
import pytest

from models.datasets.registry import load_dataset
from models.skeleton.layouts import UNIFIED_30
from models.skeleton.unified import sequence_to_unified

U = UNIFIED_30.index
# Bones every Kinect layout measures directly (no interpolated end): limbs.
LIMBS = [("shoulder", "elbow"), ("elbow", "wrist"), ("hip", "knee"), ("knee", "ankle")]


@pytest.fixture(scope="module")
def unified(request):
    from tests.conftest import SHARED_DATA

    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not available: {SHARED_DATA} is absent")
    picks = {"utkinect": [1], "msr-action3d": [1], "ntu": None, "msrc12": [6], "precog": [1]}
    return {name: [sequence_to_unified(s) for s in load_dataset(name, SHARED_DATA, subjects)[:6]]
            for name, subjects in picks.items()}  # fmt: skip


def _lengths(sequence, a: str, b: str) -> np.ndarray:
    both = (sequence.mask[:, 0, U(a)] > 0) & (sequence.mask[:, 0, U(b)] > 0)
    both &= np.linalg.norm(sequence.joints[:, 0, U(a)], axis=-1) > 0  # skip untracked frames
    return np.linalg.norm(sequence.joints[both, 0, U(a)] - sequence.joints[both, 0, U(b)], axis=-1)


@pytest.mark.parametrize("dataset", ["utkinect", "msr-action3d", "ntu", "msrc12", "precog"])
def test_limbs_are_rigid_and_symmetric_after_mapping(unified, dataset):
    for sequence in unified[dataset]:
        for upper, lower in LIMBS:
            left = _lengths(sequence, f"{upper}_left", f"{lower}_left")
            right = _lengths(sequence, f"{upper}_right", f"{lower}_right")
            if left.size < 10 or right.size < 10:
                continue
            for side in (left, right):
                # Kinect joint estimates wobble (NTU's inferred joints the most), but a wrong mapping
                # (e.g. elbow taken from a wrist) changes limb length by far more than this.
                assert np.median(np.abs(side - np.median(side))) / np.median(side) < 0.15, (sequence.name, upper)
            assert 0.7 < np.median(left) / np.median(right) < 1.4, (sequence.name, upper, lower)


@pytest.mark.parametrize("dataset", ["utkinect", "msr-action3d", "ntu", "msrc12", "precog"])
def test_mapped_body_is_upright_and_faces_sideways_correctly(unified, dataset):
    for sequence in unified[dataset]:
        present = sequence.mask[:, 0, U("spine_base")] > 0
        joints = sequence.joints[present, 0]
        if len(joints) < 10:
            continue
        height = lambda name: np.median(joints[:, U(name), 1])  # noqa: E731
        assert height("head") > height("spine_shoulder") > height("spine_mid") > height("spine_base")
        assert height("spine_base") > height("knee_left") > height("ankle_left")
        # neck is interpolated for Kinect v1 and lies between spine_shoulder and head
        assert height("head") >= height("neck") >= height("spine_shoulder")
        # the person's right side is at larger x (Kinect camera frame, person facing the sensor)
        assert np.median(joints[:, U("shoulder_right"), 0] - joints[:, U("shoulder_left"), 0]) > 0
