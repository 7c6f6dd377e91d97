"""Azure Kinect driver body markers → Person skeletons, on real two-person NTU RGB+D Kinect joints."""

from __future__ import annotations

import numpy as np
import pytest

from models.datasets.ntu import read_ntu_skeleton
from models.skeleton.layouts import AZURE_KINECT_32, KINECT_V2_25, UNIFIED_30
from models.skeleton.unified import to_unified
from stream.sources.azure_kinect_bodies import LAYOUT, marker_id, people_from_markers
from tests.conftest import shared_dataset

FACE = ("nose", "eye_left", "ear_left", "eye_right", "ear_right")  # k4abt joints NTU's Kinect v2 lacks


def k4abt_from_kinect_v2(joints: np.ndarray) -> dict[int, np.ndarray]:
    """The k4abt joints of a Kinect v2 skeleton (25, 3): each joint from its Kinect v2 counterpart,
    the clavicles halfway between SpineShoulder and the shoulder; no face joints."""
    v2 = {name: joints[KINECT_V2_25.index(name)] for name in KINECT_V2_25.joint_names}
    counterpart = {"pelvis": "spine_base", "spine_navel": "spine_mid", "spine_chest": "spine_shoulder"}
    out = {}
    for index, name in enumerate(AZURE_KINECT_32.joint_names):
        if name in FACE:
            continue
        if name.startswith("clavicle_"):
            out[index] = (v2["spine_shoulder"] + v2[name.replace("clavicle", "shoulder")]) / 2
        else:
            out[index] = v2[counterpart.get(name, name)]
    return out


def driver_markers(bodies: dict[int, dict[int, np.ndarray]]) -> list[tuple[int, float, float, float]]:
    """What the driver publishes for k4abt bodies given in skelstream's convention (x left, y up):
    depth_camera_link coordinates (x right, y down, z forward) under id body * 100 + joint."""
    return [(body * 100 + joint, -float(p[0]), -float(p[1]), float(p[2]))
            for body, joints in bodies.items() for joint, p in joints.items()]  # fmt: skip


@pytest.fixture(scope="module")
def two_people():
    """Every 4th frame of an NTU interaction clip (A058, handshake; both people in every frame): (F, 2, 25, 3)."""
    sequence = read_ntu_skeleton(shared_dataset("ntu_rgbd_skeleton") / "S001C003P008R002A058.skeleton")
    assert sequence.mask.any(axis=2).all()  # inferred joints (mask 0.5) still have positions
    return sequence.joints[::4]


def test_real_bodies_come_back_in_our_convention_and_map_to_the_same_unified_joints(two_people):
    rng = np.random.default_rng(0)
    for frame in two_people:
        bodies = {3: k4abt_from_kinect_v2(frame[0]), 7: k4abt_from_kinect_v2(frame[1])}  # SDK body ids
        markers = driver_markers(bodies)
        rng.shuffle(markers)  # the id, not the order, says which joint a marker is
        people = people_from_markers(markers)
        assert [p.source_id for p in people] == [3, 7] and all(p.layout == LAYOUT for p in people)
        for person, kinect in zip(people, frame, strict=True):
            present = np.array([name not in FACE for name in AZURE_KINECT_32.joint_names], np.float32)
            assert np.array_equal(person.confidence, present)
            head, pelvis = person.joints[AZURE_KINECT_32.index("head")], person.joints[AZURE_KINECT_32.index("pelvis")]
            assert head[1] - pelvis[1] > 0.3  # y up again: the driver's y points down
            unified, mask = to_unified(person.joints, person.confidence, person.layout)
            np.testing.assert_allclose(unified[:25], kinect, atol=1e-6)  # the 25 Kinect v2 joints, unchanged
            assert (mask[:25] == 1).all() and (mask[25:] == 0).all()  # the face is missing, never zero
            assert UNIFIED_30.joint_names[25:] == ("nose", "eye_left", "eye_right", "ear_left", "ear_right")


def test_marker_ids_follow_the_driver():
    assert marker_id(0, 0) == 0 and marker_id(2, 31) == 231 and marker_id(12, 5) == 1205
    people = people_from_markers([(marker_id(12, 26), 0.1, -0.5, 2.0)])
    assert people[0].source_id == 12
    np.testing.assert_allclose(people[0].joints[26], [-0.1, 0.5, 2.0])
    assert people[0].confidence.sum() == 1


def test_missing_and_non_finite_joints_are_marked_missing():
    people = people_from_markers([(0, 0.0, 0.0, 2.0), (1, np.nan, 0.0, 2.0), (100, np.inf, 0.0, 1.0)])
    assert len(people) == 1  # body 1 has no finite joint: nobody to report
    assert people[0].confidence[:2].tolist() == [1.0, 0.0] and people[0].confidence.sum() == 1
    assert np.isfinite(people[0].joints).all()
    assert people_from_markers([]) == []


@pytest.mark.parametrize("markers, message", [
    ([(-5, 0.0, 0.0, 1.0)], "negative"),
    ([(145, 0.0, 0.0, 1.0)], "joint 45 is not an Azure Kinect body tracking joint"),
    ([(101, 0.0, 0.0, 1.0), (101, 0.0, 0.0, 1.0)], "body 1 has joint 1 twice"),
])  # fmt: skip
def test_malformed_marker_arrays_are_clear_errors(markers, message):
    with pytest.raises(ValueError, match=message):
        people_from_markers(markers)
