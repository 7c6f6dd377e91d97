"""UTD-MHAD reader: all 861 real trials against the raw files, the joint order from the data, bad inputs.

Joint order (layout ``utd_mhad_20``), each a test below: the order file's names
are the layout's; y is up and the spine chain runs from the head (first) down to
hip_center (fourth), the reverse of the Kinect SDK's; the arms hang from
shoulder_center and the legs from hip_center; bones keep their length and left
and right limbs match; left vs right, two independent ways that agree: the
actions the list names "right arm"/"right hand" move ``wrist_right`` (the
dataset's wrist sensor sat on the right wrist) and the lunge "left foot forward"
brings ``ankle_left`` nearer the sensor, while the right joints have the larger
x, the Kinect convention for a person facing the sensor.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from hypothesis import given
from hypothesis import strategies as st

from foundation.errors import DataFormatError
from models.datasets.registry import load_dataset
from models.datasets.utd_mhad import (
    UTD_MHAD_ACTIONS,
    UTD_MHAD_FPS,
    UTD_MHAD_TEST_SUBJECTS,
    UTD_MHAD_TRAIN_SUBJECTS,
    read_utd_mhad,
    read_utd_mhad_folder,
)
from models.skeleton.layouts import UNIFIED_30, UTD_MHAD_20
from models.skeleton.sequence import SkeletonSequence
from models.skeleton.unified import sequence_to_unified
from tests.conftest import shared_dataset
from tests.fuzzing import FUZZ, mutated


J = UTD_MHAD_20.index
MISSING = {"a8_s1_t4", "a23_s6_t4", "a27_s8_t4"}  # not in the published dataset either
# "right arm swipe to the left/right", "right hand wave", "right arm throw", "bowling (right hand)"
RIGHT_ARM = (1, 2, 3, 5, 12)
TWO_ARMS = (4, 6, 16, 18)  # clap, cross arms, arm curl (two arms), two hand push
LUNGE = 26  # "forward lunge (left foot forward)"


@pytest.fixture(scope="module")
def root() -> Path:
    return shared_dataset("utd_mhad")


@pytest.fixture(scope="module")
def trials(root: Path) -> dict[str, SkeletonSequence]:
    return {trial.name: trial for trial in read_utd_mhad_folder(root)}


@pytest.fixture(scope="module")
def frames(trials: dict[str, SkeletonSequence]) -> np.ndarray:
    return np.concatenate([trial.joints[:, 0] for trial in trials.values()])


def _action(name: str) -> int:
    return int(name[1 : name.index("_")])


def _path_length(joints: np.ndarray, joint: str) -> float:
    return float(np.linalg.norm(np.diff(joints[:, 0, J(joint)], axis=0), axis=1).sum())


# --- every file ----------------------------------------------------------------------------


def test_reads_every_trial(trials: dict[str, SkeletonSequence]) -> None:
    expected = {f"a{a}_s{s}_t{t}" for a in range(1, 28) for s in range(1, 9) for t in range(1, 5)} - MISSING
    assert set(trials) == expected and len(trials) == 861
    keys = [(_action(n), trials[n].subject, int(trials[n].attributes["take"])) for n in trials]
    assert keys == sorted(keys)  # ordered by action, subject, take
    assert sum(trial.num_frames for trial in trials.values()) == 58_299
    assert min(t.num_frames for t in trials.values()) == 41 and max(t.num_frames for t in trials.values()) == 125


def test_metadata(trials: dict[str, SkeletonSequence]) -> None:
    for name, trial in trials.items():
        action, subject, take = (int(v) for v in re.fullmatch(r"a(\d+)_s(\d+)_t(\d+)", name).groups())
        assert trial.label == UTD_MHAD_ACTIONS[action - 1] and trial.subject == subject
        assert trial.attributes == {"take": str(take)}
        assert trial.layout == "utd_mhad_20" and trial.fps == UTD_MHAD_FPS == 30.0
        assert trial.joints.shape == (trial.num_frames, 1, 20, 3) and trial.joints.dtype == np.float32
        assert trial.frame_ids.tolist() == list(range(trial.num_frames))
        assert (trial.mask == 1).all() and trial.skipped == {}  # no joint at (0, 0, 0) anywhere
    assert trials["a1_s1_t1"].label == "right arm swipe to the left" and trials["a27_s8_t3"].label == "squat"


def test_every_trial_matches_its_mat_file(root: Path, trials: dict[str, SkeletonSequence]) -> None:
    for name, trial in trials.items():
        raw = scipy.io.loadmat(root / f"{name}_skeleton.mat")["d_skel"]  # joint x coordinate x frame
        np.testing.assert_array_equal(trial.joints[:, 0], raw.transpose(2, 0, 1).astype(np.float32))


def test_spot_values_against_the_csv_copy(root: Path, trials: dict[str, SkeletonSequence]) -> None:
    """``a1_s1_t2_skeleton.csv`` (beside the .mat, not read) is that trial as text: a row per joint, x y z per frame."""
    rows = [[float(v) for v in line.split(",")] for line in (root / "a1_s1_t2_skeleton.csv").read_text().splitlines()]
    trial = trials["a1_s1_t2"]
    text = np.array(rows).reshape(20, trial.num_frames, 3).transpose(1, 0, 2)
    np.testing.assert_allclose(trial.joints[:, 0], text, atol=1e-4)  # the csv keeps 5 significant digits
    np.testing.assert_allclose(trial.joints[0, 0, J("head")], [-0.047672, 0.47898, 2.8249], atol=5e-5)  # row 1


def test_action_names_are_those_of_the_list_file(root: Path) -> None:
    listed = re.findall(r"^\s*(\d+)\.\s+(.+?)\s+\(\w+\)\s*$", (root / "Action_List.txt").read_text(), re.MULTILINE)
    assert [int(number) for number, _ in listed] == list(range(1, 28))
    assert tuple(" ".join(name.split()) for _, name in listed) == UTD_MHAD_ACTIONS


def test_joint_order_file_names_the_layout(root: Path) -> None:
    listed = re.findall(r"^\s*\d+\.\s*(\w+);", (root / "Skeleton_joint_order.txt").read_text(), re.MULTILINE)
    as_layout = [re.sub(r"^(left|right)_(\w+)$", r"\2_\1", name) for name in listed]
    assert tuple(as_layout) == UTD_MHAD_20.joint_names


def test_subject_filter_and_protocol(root: Path) -> None:
    assert {t.subject for t in read_utd_mhad_folder(root, subjects=[2, 9])} == {2}
    train = load_dataset("utd-mhad", root, UTD_MHAD_TRAIN_SUBJECTS)
    test = load_dataset("utd-mhad", root, UTD_MHAD_TEST_SUBJECTS)
    assert (len(train), len(test)) == (431, 430)  # a8_s1_t4 is a training trial, the other two missing are test


# --- the joint order, from the data -----------------------------------------------------------


def test_y_is_up_and_the_spine_runs_from_the_head_down(frames: np.ndarray) -> None:
    height = np.median(frames[:, :, 1], axis=0)
    chain = ["head", "shoulder_center", "spine", "hip_center"]  # positions 0, 1, 2, 3
    assert [J(name) for name in chain] == [0, 1, 2, 3]
    assert all(height[J(a)] > height[J(b)] for a, b in zip(chain, chain[1:]))  # 0.43 > 0.25 > -0.08 > -0.14
    for side in ("left", "right"):
        leg = ["hip_center", f"hip_{side}", f"knee_{side}", f"ankle_{side}", f"foot_{side}"]
        assert all(height[J(a)] > height[J(b)] for a, b in zip(leg, leg[1:]))
    no_arms = [J(n) for n in UTD_MHAD_20.joint_names if not n.startswith(("elbow", "wrist", "hand"))]
    assert (frames[:, no_arms, 1].argmax(axis=1) == no_arms.index(J("head"))).mean() > 0.99
    extent = np.median(frames.max(axis=1) - frames.min(axis=1), axis=0)
    assert 1.3 < extent[1] < 1.9 and extent[0] < 0.8 and extent[2] < 0.8  # a person's height is along y


def test_limbs_hang_from_the_right_spine_joints(frames: np.ndarray) -> None:
    spine = ["head", "shoulder_center", "spine", "hip_center"]
    for root_joint, attach in (("shoulder", "shoulder_center"), ("hip", "hip_center")):
        for side in ("left", "right"):
            distance = [np.median(np.linalg.norm(frames[:, J(f"{root_joint}_{side}")] - frames[:, J(s)], axis=1))
                        for s in spine]  # fmt: skip
            assert spine[int(np.argmin(distance))] == attach, (root_joint, side, distance)


def test_bone_lengths_constant_and_left_matches_right(trials: dict[str, SkeletonSequence], frames: np.ndarray) -> None:
    for child, parent in UTD_MHAD_20.bones:
        name = UTD_MHAD_20.joint_names[child]
        lengths = [np.linalg.norm(t.joints[:, 0, child] - t.joints[:, 0, parent], axis=1) for t in trials.values()]
        cv = np.median([v.std() / v.mean() for v in lengths])
        # measured: 0.03-0.08; the hand bones (6 cm, jittery) 0.29-0.33
        assert cv < (0.4 if name.startswith("hand") else 0.1), (name, cv)
        if name.endswith("_left"):
            mirror = J(name.replace("_left", "_right")), J(UTD_MHAD_20.parents[name.replace("_left", "_right")])
            left = np.median(np.linalg.norm(frames[:, child] - frames[:, parent], axis=1))
            right = np.median(np.linalg.norm(frames[:, mirror[0]] - frames[:, mirror[1]], axis=1))
            assert left == pytest.approx(right, rel=0.05), name  # measured: within 3.4 % (knees)


def test_right_arm_actions_move_the_right_wrist(trials: dict[str, SkeletonSequence]) -> None:
    ratios = {name: _path_length(trial.joints, "wrist_right") / _path_length(trial.joints, "wrist_left")
              for name, trial in trials.items()}  # fmt: skip
    for action in RIGHT_ARM:
        mine = [r for n, r in ratios.items() if _action(n) == action]
        # measured: every clip above 1.97, medians 2.6-56 per action
        assert len(mine) == 32 and min(mine) > 1.5 and np.median(mine) > 2.5, action
    for action in TWO_ARMS:
        assert 0.8 < np.median([r for n, r in ratios.items() if _action(n) == action]) < 1.25, action


def test_left_foot_forward_in_the_lunge(trials: dict[str, SkeletonSequence]) -> None:
    lunges = [t.joints[:, 0] for n, t in trials.items() if _action(n) == LUNGE]
    assert len(lunges) == 32
    for joints in lunges:  # at the widest stance the left ankle is 0.4-0.8 m nearer the sensor (smaller z)
        depth = joints[:, J("ankle_left"), 2] - joints[:, J("ankle_right"), 2]
        assert depth[np.argmax(np.abs(depth))] < -0.3


@pytest.mark.parametrize("part", ["shoulder", "hip", "elbow"])
def test_right_joints_have_larger_x(frames: np.ndarray, part: str) -> None:
    assert (frames[:, J(f"{part}_right"), 0] > frames[:, J(f"{part}_left"), 0]).mean() > 0.99  # measured 0.995-1


def test_unified_mapping(trials: dict[str, SkeletonSequence]) -> None:
    trial = trials["a26_s3_t1"]
    unified = sequence_to_unified(trial)
    u = UNIFIED_30.index
    for target, source in (("spine_base", "hip_center"), ("spine_mid", "spine"), ("spine_shoulder", "shoulder_center"),
                           ("head", "head"), ("wrist_left", "wrist_left"), ("foot_right", "foot_right")):  # fmt: skip
        np.testing.assert_array_equal(unified.joints[:, 0, u(target)], trial.joints[:, 0, J(source)])
    neck = (trial.joints[:, 0, J("head")] + trial.joints[:, 0, J("shoulder_center")]) / 2
    np.testing.assert_allclose(unified.joints[:, 0, u("neck")], neck, atol=1e-6)
    missing = {"hand_tip_left", "thumb_left", "hand_tip_right", "thumb_right", "nose", "eye_left", "eye_right",
               "ear_left", "ear_right"}  # fmt: skip
    assert {name for name in UNIFIED_30.joint_names if (unified.mask[:, 0, u(name)] == 0).all()} == missing
    assert unified.label == trial.label and unified.attributes == trial.attributes


# --- synthetic files ---------------------------------------------------------------------------


def _write(tmp_path: Path, name: str = "a12_s9_t3_skeleton.mat", **variables) -> Path:
    path = tmp_path / name
    scipy.io.savemat(path, variables or {"d_skel": np.random.default_rng(0).normal(size=(20, 3, 5))})
    return path


def test_synthetic_trial_with_a_zero_joint(tmp_path: Path) -> None:
    skeleton = np.arange(20 * 3 * 4, dtype=np.float64).reshape(20, 3, 4) / 100 + 0.01
    skeleton[7, :, 2] = 0
    trial = read_utd_mhad(_write(tmp_path, d_skel=skeleton))
    assert (trial.name, trial.label, trial.subject, trial.num_frames) == ("a12_s9_t3", "bowling (right hand)", 9, 4)
    assert trial.skipped == {"zero_joint": 1} and trial.mask[2, 0, 7] == 0 and trial.mask.sum() == 79
    np.testing.assert_allclose(trial.joints[3, 0, 5], skeleton[5, :, 3], atol=1e-7)


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"skeleton": np.zeros((20, 3, 4))}, "no variable 'd_skel'"),
        ({"d_skel": np.ones((19, 3, 4))}, r"shape \(19, 3, 4\), expected \(20, 3, frames\)"),
        ({"d_skel": np.ones((20, 3))}, "expected 3 dimensions"),
        ({"d_skel": np.ones((20, 3, 0))}, "expected 3 dimensions|expected \\(20, 3, frames\\)"),
        ({"d_skel": np.full((20, 3, 2), np.nan)}, "non-finite value at index"),
        ({"d_skel": np.full((20, 3, 2), 1e39)}, "non-finite value at index"),  # no float32 holds it
        ({"d_skel": "twenty joints"}, "not a real numeric array"),
    ],
)
def test_malformed_variables(tmp_path: Path, variables: dict, message: str) -> None:
    path = _write(tmp_path, **variables)
    with pytest.raises(DataFormatError, match=message) as error:
        read_utd_mhad(path)
    assert str(error.value).startswith(str(path))


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty file"), (b"0.1 0.2 0.3\n" * 20, "not a MATLAB 5 file")],
)
def test_empty_or_text_file(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "a1_s1_t1_skeleton.mat"
    path.write_bytes(content)
    with pytest.raises(DataFormatError, match=message):
        read_utd_mhad(path)


def test_truncated_file(tmp_path: Path) -> None:
    whole = _write(tmp_path).read_bytes()
    for cut in (10, 128, 200, len(whole) - 8):
        path = tmp_path / "a1_s2_t1_skeleton.mat"
        path.write_bytes(whole[:cut])
        with pytest.raises(DataFormatError) as error:
            read_utd_mhad(path)
        assert str(error.value).startswith(str(path)), cut


@pytest.mark.parametrize(
    ("name", "message"), [("trial.mat", "a{action}_s{subject}_t{take}"), ("a28_s1_t1_skeleton.mat", "a28")]
)
def test_bad_file_name(tmp_path: Path, name: str, message: str) -> None:
    with pytest.raises(DataFormatError, match=message):
        read_utd_mhad(_write(tmp_path, name))


def test_folder_without_trials(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="no a{action}_s{subject}_t{take}_skeleton.mat files"):
        read_utd_mhad_folder(tmp_path)


@FUZZ
@given(data=st.data())
def test_damaged_files_raise_only_data_format_error(data: st.DataObject, tmp_path_factory) -> None:
    folder = tmp_path_factory.mktemp("utd")
    compressed = data.draw(st.booleans(), label="compressed")  # the real files are compressed
    scipy.io.savemat(folder / "valid.mat", {"d_skel": np.ones((20, 3, 2)) / 3}, do_compression=compressed)
    path = folder / "a1_s1_t1_skeleton.mat"
    path.write_bytes(mutated(data, (folder / "valid.mat").read_bytes()))
    try:
        read_utd_mhad(path)
    except DataFormatError as error:
        assert str(path) in str(error)
