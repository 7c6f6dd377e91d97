"""Structure of every layout and the rules that map it into unified_30."""

import numpy as np
import pytest

from models.skeleton.layouts import LAYOUTS, UNIFIED_30, get_layout


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_parents_form_one_tree(name):
    layout = get_layout(name)
    roots = [j for j, p in enumerate(layout.parent_indices) if j == p]
    assert len(roots) == 1
    for joint in range(layout.num_joints):  # every joint reaches the root without a cycle
        node, steps = joint, 0
        while layout.parent_indices[node] != node:
            node = layout.parent_indices[node]
            steps += 1
            assert steps <= layout.num_joints
        assert node == roots[0]
    assert len(layout.bones) == layout.num_joints - 1


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_flip_pairs_are_left_right_and_involutive(name):
    layout = get_layout(name)
    perm = layout.flip_permutation
    assert np.array_equal(perm[perm], np.arange(layout.num_joints))
    for left, right in layout.flip_pairs:
        assert left.replace("left", "right") == right
    sided = [n for n in layout.joint_names if n.endswith("_left") or n.endswith("_right")]
    assert len(sided) == 2 * len(layout.flip_pairs)


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_rules_target_unified_joints_and_sum_to_one(name):
    layout = get_layout(name)
    for target, rule in layout.unified_rules.items():
        assert target in UNIFIED_30.joint_names
        assert sum(w for _, w in rule) == pytest.approx(1.0)


def test_flip_maps_parents_consistently():
    # flipping a skeleton must map bones onto bones
    for layout in LAYOUTS.values():
        perm = layout.flip_permutation
        bones = set(layout.bones)
        assert {(int(perm[c]), int(perm[p])) for c, p in bones} == bones


def test_kinect_v2_order_matches_design():
    layout = get_layout("kinect_v2_25")
    assert layout.joint_names[0] == "spine_base"
    assert layout.joint_names[20] == "spine_shoulder"
    assert layout.joint_names[4:8] == ("shoulder_left", "elbow_left", "wrist_left", "hand_left")
    assert layout.joint_names[21:] == ("hand_tip_left", "thumb_left", "hand_tip_right", "thumb_right")
    assert UNIFIED_30.joint_names[25:] == ("nose", "eye_left", "eye_right", "ear_left", "ear_right")


def test_unknown_layout_lists_known_names():
    with pytest.raises(KeyError, match="kinect_v2_25"):
        get_layout("kinect_v3")


def test_azure_kinect_order_and_hierarchy_match_the_body_tracking_sdk():
    layout = get_layout("azure_kinect_32")
    # k4abt_joint_id_t values and parent joints of the SDK's joint hierarchy table
    sdk_index = {"pelvis": 0, "spine_navel": 1, "spine_chest": 2, "neck": 3, "clavicle_left": 4, "wrist_left": 7,
                 "hand_tip_left": 9, "thumb_left": 10, "clavicle_right": 11, "thumb_right": 17, "hip_left": 18,
                 "foot_left": 21, "hip_right": 22, "foot_right": 25, "head": 26, "nose": 27, "eye_left": 28,
                 "ear_left": 29, "eye_right": 30, "ear_right": 31}  # fmt: skip
    assert layout.num_joints == 32
    assert {name: layout.index(name) for name in sdk_index} == sdk_index
    sdk_parent = {"spine_navel": "pelvis", "neck": "spine_chest", "clavicle_right": "spine_chest",
                  "shoulder_right": "clavicle_right", "thumb_left": "wrist_left", "hand_tip_right": "hand_right",
                  "hip_left": "pelvis", "head": "neck", "nose": "head", "ear_right": "head"}  # fmt: skip
    assert {name: layout.parents[name] for name in sdk_parent} == sdk_parent


def test_azure_kinect_fills_every_unified_joint_from_its_counterpart():
    from models.skeleton.unified import to_unified

    layout = get_layout("azure_kinect_32")
    joints = np.random.default_rng(0).normal(size=(layout.num_joints, 3)).astype(np.float32)
    unified, mask = to_unified(joints, np.ones(layout.num_joints, np.float32), layout)
    assert (mask == 1).all()  # nothing missing: k4abt has every unified joint
    counterpart = {"spine_base": "pelvis", "spine_mid": "spine_navel", "spine_shoulder": "spine_chest"}
    for name in UNIFIED_30.joint_names:
        source = counterpart.get(name, name)
        assert np.array_equal(unified[UNIFIED_30.index(name)], joints[layout.index(source)]), name
