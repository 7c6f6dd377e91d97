"""NW-UCLA reader: all 1 020 real clips against their raw JSON, the joint order from the data, quirks, bad inputs.

Joint order (Kinect SDK v1, layout ``kinect_v1_20``), each a test below: y is
up and the spine chain runs hip_center (first) → spine → shoulder_center → head
(fourth); the arms hang from shoulder_center and the legs from hip_center;
bones keep their length and left and right limbs match. Left vs right: the
right joints have the larger x (the Kinect convention for a person facing the
sensor, 98.8 % of frames for the shoulders), and the body's own orientation
agrees: while a person walks towards the sensor, up × (right − left), the way a
body with those sides faces, points where they walk (99 % / 96 % of moving
frames in views 1 / 2). So neither the sides nor the x axis are flipped. The
data hold no instructed handedness (pick-ups and throws use either hand:
right/left ratios near 1), so a file both mirrored and side-swapped could not
be told apart; nothing suggests one.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from foundation.errors import DataFormatError
from models.datasets.nw_ucla import (
    NW_UCLA_ACTION_IDS,
    NW_UCLA_ACTIONS,
    NW_UCLA_FPS,
    NW_UCLA_TEST_VIEWS,
    NW_UCLA_TRAIN_VIEWS,
    read_nw_ucla,
    read_nw_ucla_folder,
)
from models.datasets.registry import load_dataset
from models.skeleton.layouts import KINECT_V1_20
from models.skeleton.sequence import SkeletonSequence
from tests.conftest import shared_dataset
from tests.fuzzing import FUZZ, mutated


J = KINECT_V1_20.index
QUIRKS = {
    "a04_s01_e01_v01": {"zero_joint": 6},
    "a04_s04_e02_v01": {"zero_joint": 6},
    "a01_s08_e03_v01": {"repeated_frame": 1},
    "a02_s09_e04_v02": {"single_frame": 1},
    # sit-downs whose hip centre rises > 10 cm, stand-ups whose hip centre drops > 10 cm (kept as labelled)
    **{name: {"motion_opposes_label": 1} for name in (
        "a05_s04_e00_v02", "a05_s04_e01_v02", "a05_s04_e02_v02", "a05_s04_e03_v02", "a05_s04_e04_v02",
        "a05_s04_e05_v02", "a05_s05_e00_v01", "a06_s04_e00_v02", "a06_s04_e03_v02", "a06_s06_e00_v01")},
}
CLIPS_PER_ACTION = {1: 102, 2: 102, 3: 96, 4: 124, 5: 101, 6: 102, 8: 99, 9: 99, 11: 98, 12: 97}


@pytest.fixture(scope="module")
def root() -> Path:
    return shared_dataset("nw_ucla")


@pytest.fixture(scope="module")
def clips(root: Path) -> dict[str, SkeletonSequence]:
    return {clip.name: clip for clip in read_nw_ucla_folder(root)}


@pytest.fixture(scope="module")
def frames(clips: dict[str, SkeletonSequence]) -> np.ndarray:
    """(F, 20, 3) joints of every frame with every joint present."""
    joints = np.concatenate([clip.joints[:, 0] for clip in clips.values()])
    mask = np.concatenate([clip.mask[:, 0] for clip in clips.values()])
    return joints[(mask == 1).all(axis=1)]


# --- every file ----------------------------------------------------------------------------


def test_reads_every_clip(clips: dict[str, SkeletonSequence]) -> None:
    assert len(clips) == 1020 and list(clips) == sorted(clips)
    assert {a: sum(n.startswith(f"a{a:02d}_") for n in clips) for a in NW_UCLA_ACTION_IDS} == CLIPS_PER_ACTION
    assert [sum(c.attributes["view"] == v for c in clips.values()) for v in ("1", "2")] == [516, 504]
    assert {c.subject for c in clips.values()} == set(range(1, 11))
    assert sum(c.num_frames for c in clips.values()) == 44_144


def test_every_clip_matches_its_json(root: Path, clips: dict[str, SkeletonSequence]) -> None:
    for name, clip in clips.items():
        document = json.loads((root / f"{name}.json").read_text())
        raw = np.array(document["skeletons"])
        np.testing.assert_array_equal(clip.joints[:, 0], raw.astype(np.float32))
        assert clip.label == NW_UCLA_ACTIONS[document["label"] - 1] and document["file_name"] == name
        action, subject, take, view = (int(part[1:]) for part in name.split("_"))
        assert NW_UCLA_ACTION_IDS[document["label"] - 1] == action
        assert (clip.subject, clip.attributes) == (subject, {"view": str(view), "take": str(take)})
        assert clip.layout == "kinect_v1_20" and clip.fps == NW_UCLA_FPS == 15.0
        assert clip.frame_ids.tolist() == list(range(clip.num_frames))


def test_spot_values_a01_s01_e00_v01(clips: dict[str, SkeletonSequence]) -> None:
    clip = clips["a01_s01_e00_v01"]  # the first and the last triple of the raw file
    assert clip.label == "pick up with one hand" and clip.num_frames == 44
    np.testing.assert_allclose(clip.joints[0, 0, J("hip_center")], [-0.619699, 0.328046, 3.18186], atol=1e-6)
    np.testing.assert_allclose(clip.joints[-1, 0, J("foot_right")], [0.0572132, -0.679824, 2.6159], atol=1e-6)
    assert clips["a12_s10_e04_v02"].label == "carry"


def test_quirks_counted_and_masked(clips: dict[str, SkeletonSequence]) -> None:
    assert {name: clip.skipped for name, clip in clips.items() if clip.skipped} == QUIRKS
    zeros = clips["a04_s01_e01_v01"]
    assert (zeros.mask[34, 0] == 0).sum() == 6 and (zeros.joints[34, 0][zeros.mask[34, 0] == 0] == 0).all()
    assert (zeros.mask[:34] == 1).all() and (zeros.mask[35:] == 1).all()
    assert clips["a02_s09_e04_v02"].num_frames == 1


def test_subject_and_view_filters(root: Path) -> None:
    view1 = read_nw_ucla_folder(root, views=NW_UCLA_TRAIN_VIEWS)
    assert len(view1) == 516 and {c.attributes["view"] for c in view1} == {"1"}
    assert {c.attributes["view"] for c in read_nw_ucla_folder(root, subjects=[1], views=NW_UCLA_TEST_VIEWS)} == {"2"}
    some = load_dataset("nw-ucla", root.parent, [3, 11])
    assert {c.subject for c in some} == {3} and len(some) == 104


# --- the joint order, from the data -----------------------------------------------------------


def test_y_is_up_and_the_spine_runs_from_the_hips_up(frames: np.ndarray) -> None:
    height = np.median(frames[:, :, 1], axis=0)
    chain = ["head", "shoulder_center", "spine", "hip_center"]  # positions 3, 2, 1, 0
    assert all(height[J(a)] > height[J(b)] for a, b in zip(chain, chain[1:]))  # 0.76 > 0.59 > 0.26 > 0.19
    for side in ("left", "right"):
        leg = ["hip_center", f"hip_{side}", f"knee_{side}", f"ankle_{side}", f"foot_{side}"]
        assert all(height[J(a)] > height[J(b)] for a, b in zip(leg, leg[1:]))
    no_arms = [J(n) for n in KINECT_V1_20.joint_names if not n.startswith(("elbow", "wrist", "hand"))]
    assert (frames[:, no_arms, 1].argmax(axis=1) == no_arms.index(J("head"))).mean() > 0.95
    extent = np.median(frames.max(axis=1) - frames.min(axis=1), axis=0)
    assert 1.3 < extent[1] < 1.9 and extent[0] < 0.8 and extent[2] < 0.8


def test_limbs_hang_from_the_right_spine_joints(frames: np.ndarray) -> None:
    spine = ["hip_center", "spine", "shoulder_center", "head"]
    for root_joint, attach in (("shoulder", "shoulder_center"), ("hip", "hip_center")):
        for side in ("left", "right"):
            distance = [np.median(np.linalg.norm(frames[:, J(f"{root_joint}_{side}")] - frames[:, J(s)], axis=1))
                        for s in spine]  # fmt: skip
            assert spine[int(np.argmin(distance))] == attach, (root_joint, side, distance)


def test_bone_lengths_constant_and_left_matches_right(clips: dict[str, SkeletonSequence], frames: np.ndarray) -> None:
    tracked = [c.joints[:, 0][(c.mask[:, 0] == 1).all(axis=1)] for c in clips.values() if c.num_frames > 1]
    for child, parent in KINECT_V1_20.bones:
        name = KINECT_V1_20.joint_names[child]
        cv = np.median([np.std(v) / np.mean(v) for v in (np.linalg.norm(x[:, child] - x[:, parent], axis=1)
                                                          for x in tracked)])  # fmt: skip
        assert cv < 0.25, (name, cv)  # measured 0.08-0.21 (hips and hands the loosest): side views wobble
        if name.endswith("_left"):
            mirror = J(name.replace("_left", "_right")), J(KINECT_V1_20.parents[name.replace("_left", "_right")])
            left = np.median(np.linalg.norm(frames[:, child] - frames[:, parent], axis=1))
            right = np.median(np.linalg.norm(frames[:, mirror[0]] - frames[:, mirror[1]], axis=1))
            assert left == pytest.approx(right, rel=0.05), name  # measured: within 4 % (shoulders)


@pytest.mark.parametrize("part", ["shoulder", "hip", "elbow"])
def test_right_joints_have_larger_x(frames: np.ndarray, part: str) -> None:
    assert (frames[:, J(f"{part}_right"), 0] > frames[:, J(f"{part}_left"), 0]).mean() > 0.94  # 0.95-0.99


@pytest.mark.parametrize("view", ["1", "2"])
def test_walkers_face_where_they_go(clips: dict[str, SkeletonSequence], view: str) -> None:
    """Walking towards the sensor, the facing direction up × (right − left) agrees with the hips' motion."""
    agree, total = 0, 0
    for name, clip in clips.items():
        if not name.startswith("a04_") or clip.attributes["view"] != view or clip.num_frames < 12:
            continue
        x = clip.joints[:, 0].astype(np.float64)
        motion = x[6:, J("hip_center")] - x[:-6, J("hip_center")]
        across = (x[:, J("shoulder_right")] - x[:, J("shoulder_left")] + x[:, J("hip_right")] - x[:, J("hip_left")])
        facing = np.cross([0.0, 1.0, 0.0], across[3:-3])
        motion[:, 1] = facing[:, 1] = 0
        towards = (np.linalg.norm(motion, axis=1) > 0.15) & (motion[:, 2] < 0)  # > 15 cm in 6 frames, nearer
        agree += int(((motion * facing).sum(axis=1)[towards] > 0).sum())
        total += int(towards.sum())
    assert total > 900 and agree / total > 0.9  # measured: 0.99 (view 1, 1 564 frames), 0.96 (view 2, 934)


# --- synthetic files ---------------------------------------------------------------------------


def _frames(count: int = 3) -> list:
    return [[[0.1 * j + t, 0.5 - 0.05 * j, 2.5] for j in range(20)] for t in range(count)]


def _write(tmp_path: Path, document: object, name: str = "a11_s03_e02_v01.json") -> Path:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def test_synthetic_clip(tmp_path: Path) -> None:
    skeletons = _frames(4)
    skeletons[2] = [[0, 0, 0]] * 20
    skeletons[3][5] = [0, 0, 0]
    clip = read_nw_ucla(_write(tmp_path, {"file_name": "a11_s03_e02_v01", "skeletons": skeletons, "label": 9}))
    assert (clip.name, clip.label, clip.subject, clip.attributes) == ("a11_s03_e02_v01", "throw", 3,
                                                                      {"view": "1", "take": "2"})  # fmt: skip
    assert clip.skipped == {"zero_joint": 1, "all_zero_frame": 1}
    assert clip.mask[2].sum() == 0 and clip.mask[3, 0, 5] == 0 and clip.mask.sum() == 59
    np.testing.assert_allclose(clip.joints[1, 0, 4], [1.4, 0.3, 2.5], atol=1e-6)


@pytest.mark.parametrize(("name", "rise", "opposes"), [
    ("a05_s01_e00_v01.json", 0.2, True),     # a "sit down" whose hips go up 20 cm
    ("a05_s01_e00_v01.json", -0.3, False),   # ... and one that sits
    ("a06_s01_e00_v01.json", -0.2, True),    # a "stand up" whose hips go down
    ("a06_s01_e00_v01.json", 0.05, False),   # within 10 cm: not counted
    ("a11_s01_e00_v01.json", 0.5, False),    # a throw may do anything
])  # fmt: skip
def test_sit_and_stand_clips_that_move_opposite_to_their_label_are_counted(tmp_path, name, rise, opposes) -> None:
    skeletons = _frames(10)
    for t, frame in enumerate(skeletons):
        frame[0][1] += rise * t / 9  # the hip centre's height, from 0.5 m to 0.5 m + rise
    clip = read_nw_ucla(_write(tmp_path, {"skeletons": skeletons}, name))
    assert clip.skipped == ({"motion_opposes_label": 1} if opposes else {})


def test_label_and_file_name_are_optional(tmp_path: Path) -> None:
    assert read_nw_ucla(_write(tmp_path, {"skeletons": _frames(1)})).skipped == {"single_frame": 1}


@pytest.mark.parametrize(
    ("document", "message", "line"),
    [
        ('{"skeletons": [[[0.1, 0.2, 0.3]]', "invalid JSON", 1),
        ('{\n"skeletons":\n [1,\n 2,,\n]}', "invalid JSON", 4),
        ('{"skeletons": [[[NaN, 0.2, 0.3]]]}', "non-finite number NaN", None),
        ([1, 2], "expected a JSON object with 'skeletons'", None),
        ({"frames": _frames()}, "expected a JSON object with 'skeletons'", None),
        ({"skeletons": []}, "non-empty list of frames", None),
        ({"skeletons": _frames() + [_frames()[0][:19]]}, "frame 3: expected 20 joints, found 19", None),
        ({"skeletons": [_frames()[0][:4] + [[0.1, 0.2]] + _frames()[0][5:]]}, "frame 0 joint 4: expected 3", None),
        ({"skeletons": [_frames()[0][:4] + [[0.1, "0.2", 3]] + _frames()[0][5:]]}, "frame 0 joint 4", None),
        ({"skeletons": [_frames()[0][:4] + [[0.1, True, 3]] + _frames()[0][5:]]}, "frame 0 joint 4", None),
        ({"skeletons": [_frames()[0][:7] + [[0.1, 1e39, 3]] + _frames()[0][8:]]}, "frame 0 joint 7: value", None),
        (json.dumps({"skeletons": _frames(1)}).replace("2.5", "1" + "0" * 400, 1), "a number beyond float range", None),
        ({"skeletons": _frames(), "label": 3}, "'label' is 3, but action a11 is class 9", None),
        ({"skeletons": _frames(), "file_name": "a11_s03_e02_v02"}, "'file_name' is 'a11_s03_e02_v02'", None),
    ],
)
def test_malformed_clip(tmp_path: Path, document: object, message: str, line: int | None) -> None:
    path = _write(tmp_path, document)
    with pytest.raises(DataFormatError, match=message) as error:
        read_nw_ucla(path)
    assert str(error.value).startswith(str(path)) and error.value.line == line


@pytest.mark.parametrize(("content", "message"), [(b"", "empty file"), (b"\xff\xfe\x00{", "not a text file")])
def test_empty_or_binary_file(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "a01_s01_e00_v01.json"
    path.write_bytes(content)
    with pytest.raises(DataFormatError, match=message):
        read_nw_ucla(path)


@pytest.mark.parametrize(("name", "message"), [("clip.json", "a{action}_s{subject}"), ("a07_s01_e00_v01.json", "a07")])
def test_bad_file_name(tmp_path: Path, name: str, message: str) -> None:
    with pytest.raises(DataFormatError, match=message):
        read_nw_ucla(_write(tmp_path, {"skeletons": _frames()}, name))


def test_folder_without_clips(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="no a{action}_s{subject}_e{take}_v{view}.json files"):
        read_nw_ucla_folder(tmp_path)


@FUZZ
@given(data=st.data())
def test_damaged_files_raise_only_data_format_error(data: st.DataObject, tmp_path_factory) -> None:
    valid = json.dumps({"file_name": "a01_s01_e00_v01", "skeletons": _frames(2), "label": 1}).encode()
    path = tmp_path_factory.mktemp("nw") / "a01_s01_e00_v01.json"
    path.write_bytes(mutated(data, valid, b'0123456789.-+e,[]{}":NaInfty \n\xff'))
    try:
        read_nw_ucla(path)
    except DataFormatError as error:
        assert str(path) in str(error)
