"""Kinder-Gator reader: every real trial, values against the raw text by column name, labels against the movements,
anatomy of adults and children, bad inputs.

All 1 159 trials are read once per module (~12 s here, most of it xz decompression). Counts measured on the raw
files independently of the reader: ``for f in */*.xz; do xz -dc $f | tail -n +2; done | wc -l`` gives 194 523 rows.
"""

from __future__ import annotations

import csv
import io
import logging
import lzma
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from foundation.errors import DataFormatError
from models.datasets.kinder_gator import (
    KINDER_GATOR_CATEGORIES,
    KINDER_GATOR_MERGED_MOTIONS,
    KINDER_GATOR_MIRROR_VARIANTS,
    KINDER_GATOR_MOTIONS,
    KINDER_GATOR_PARTICIPANTS,
    merge_mirror_variants,
    motion_label,
    parse_kinder_gator_name,
    read_kinder_gator,
    read_kinder_gator_folder,
)
from models.datasets.registry import dataset_spec, load_dataset
from models.skeleton.layouts import KINECT_V1_20
from models.skeleton.sequence import SkeletonSequence
from tests.conftest import SHARED_DATA, shared_dataset
from tests.models.anatomy import assert_kinect_v1_body, bone_lengths, max_bone_cv, tracked_frames


_J = KINECT_V1_20.index
TRIALS, ROWS = 1_159, 194_523
CAMEL = {name: "".join(part.title() for part in name.split("_")) for name in KINECT_V1_20.joint_names}  # HipCenter
HEADER = "Timestamp," + ",".join(f"{CAMEL[j]}{axis}" for j in KINECT_V1_20.joint_names for axis in "XYZ")
CHECKED = ["POSE-p565_01-Raise-your-hand-1469182402284", "POSE-p337_14-Fly-like-an-airplane-1455367043169",
           "POSE-p921_16-Lift-your-leg-to-the-other-side-1455619251247"]  # the last has 8 repeated stamps  # fmt: skip


def raw_trial(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a trial, parsed with the csv module."""
    header, *rows = csv.reader(io.StringIO(lzma.decompress(path.read_bytes()).decode()))
    return header, rows


@pytest.fixture(scope="module")
def root() -> Path:
    return shared_dataset("kinder_gator")


@pytest.fixture(scope="module")
def trials(root: Path) -> dict[str, SkeletonSequence]:
    return {seq.name: seq for seq in read_kinder_gator_folder(root)}


@pytest.fixture(scope="module")
def by_motion(trials: dict[str, SkeletonSequence]) -> dict[str, dict[int, SkeletonSequence]]:
    table: dict[str, dict[int, SkeletonSequence]] = {}
    for seq in trials.values():
        table.setdefault(seq.label, {})[seq.subject] = seq
    return table


# --- real data -------------------------------------------------------------------------


def test_reads_every_trial(root: Path, trials: dict[str, SkeletonSequence]) -> None:
    files = sorted(root.glob("*/POSE-*.csv.xz"))
    assert len(files) == len(trials) == TRIALS and {p.name.removesuffix(".csv.xz") for p in files} == set(trials)
    assert sum(seq.num_frames for seq in trials.values()) == ROWS  # the data README's "≈ 195 k"
    assert Counter(seq.attributes["group"] for seq in trials.values()) == {"adult": 579, "child": 580}
    for seq in trials.values():
        assert seq.layout == "kinect_v1_20" and seq.joints.shape == (seq.num_frames, 1, 20, 3)
        assert seq.joints.dtype == np.float32 and (seq.mask == 1).all()  # no joint is ever missing or zero
        assert 50 <= seq.num_frames <= 525 and seq.segments == [] and seq.action_points == []


def test_every_participant_did_every_motion_once(trials: dict[str, SkeletonSequence]) -> None:
    """58 motions x 20 participants, less p565's "jump as high as you can" (a software error, per the README)."""
    done = Counter((seq.subject, seq.label) for seq in trials.values())
    assert set(done.values()) == {1} and {seq.label for seq in trials.values()} == set(KINDER_GATOR_MOTIONS)
    assert {(p, m) for p in KINDER_GATOR_PARTICIPANTS for m in KINDER_GATOR_MOTIONS} - set(done) == {
        (565, "jump_as_high_as_you_can")}  # fmt: skip
    orders = {}
    for seq in trials.values():
        orders.setdefault(seq.subject, []).append(int(seq.attributes["order"]))
    for participant, numbers in orders.items():  # the order each performed them in: 1..58 (p565 lacks 22)
        assert sorted(numbers) == [n for n in range(1, 59) if (participant, n) != (565, 22)]


def test_attributes_from_folder_and_readme(root: Path, trials: dict[str, SkeletonSequence]) -> None:
    """Group from the folder agrees with the README's tables; demographics parsed here from README.txt."""
    readme = (root / "README.txt").read_text()
    rows = re.findall(r"^(\d{3})\s+([FM])\s+(\d+)\s+([LRB])\s.*?\|\|\s+(\d{3})\s+([FM])\s+(\d+)\s+([LRB])\s", readme,
                      re.MULTILINE)  # fmt: skip
    table = {int(r[0]): ("child", *r[1:4]) for r in rows} | {int(r[4]): ("adult", *r[5:8]) for r in rows}
    assert len(table) == 20
    for pid, person in KINDER_GATOR_PARTICIPANTS.items():
        assert table[pid] == (person.group, person.sex, str(person.age), person.handedness)
    for seq in trials.values():
        group, sex, age, handedness = table[seq.subject]
        assert seq.attributes["group"] == group and seq.attributes["age"] == age
        assert seq.attributes["sex"] == sex and seq.attributes["handedness"] == handedness
        assert seq.attributes["category"] in KINDER_GATOR_CATEGORIES
        assert seq.label in KINDER_GATOR_CATEGORIES[seq.attributes["category"]]
    assert trials[CHECKED[0]].attributes == {"order": "1", "category": "warm-up", "group": "adult", "sex": "F",
                                             "age": "19", "handedness": "R"}  # fmt: skip


def test_values_match_raw_text_by_column_name(root: Path, trials: dict[str, SkeletonSequence]) -> None:
    names = CHECKED + list(trials)[::60]
    for name in names:
        path = next(root.glob(f"*/{name}.csv.xz"))
        header, rows = raw_trial(path)
        assert ",".join(header).startswith(HEADER + ",User-ID,Action")  # every joint, in the SDK order
        seq = trials[name]
        assert seq.num_frames == len(rows) and seq.label == motion_label(rows[0][header.index("Action")])
        assert seq.subject == int(rows[0][header.index("User-ID")])
        for j, joint in enumerate(KINECT_V1_20.joint_names):
            expected = [[float(row[header.index(CAMEL[joint] + axis)]) for axis in "XYZ"] for row in rows]
            np.testing.assert_allclose(seq.joints[:, 0, j], expected, atol=1e-6)


def test_spot_values_fly_like_an_airplane_line_50(trials: dict[str, SkeletonSequence]) -> None:
    seq = trials["POSE-p337_14-Fly-like-an-airplane-1455367043169"]  # copied from line 50 of the raw file
    np.testing.assert_allclose(seq.joints[48, 0, _J("head")], [-0.2945021, 0.1588462, 3.42863], atol=1e-6)
    np.testing.assert_allclose(seq.joints[48, 0, _J("hand_left")], [-0.7112162, -0.2538498, 3.546251], atol=1e-6)
    np.testing.assert_allclose(seq.joints[48, 0, _J("foot_right")], [-0.1336627, -0.9537722, 3.423937], atol=1e-6)
    assert seq.num_frames == 311 and seq.label == "fly_like_an_airplane" and seq.subject == 337


def test_timestamps_milliseconds_at_30_fps(root: Path, trials: dict[str, SkeletonSequence]) -> None:
    """Steps of 16-78 ms (a ~15.6 ms timer), median 32 ms; rows per second are the Kinect's 30."""
    for name in CHECKED:
        header, rows = raw_trial(next(root.glob(f"*/{name}.csv.xz")))
        stamps = np.array([float(row[0]) for row in rows])
        assert trials[name].fps == pytest.approx(1000 * (len(rows) - 1) / (stamps[-1] - stamps[0]))
        assert trials[name].frame_ids.tolist() == list(range(len(rows)))
    fps = np.array([seq.fps for seq in trials.values()])
    assert 29.85 < fps.min() and fps.max() < 30.3 and np.median(fps) == pytest.approx(29.97, abs=0.02)


def test_quirks_are_counted(trials: dict[str, SkeletonSequence]) -> None:
    totals = Counter()
    for seq in trials.values():
        totals.update(seq.skipped)
    assert totals == {"repeated_timestamp": 88}
    assert trials[CHECKED[2]].skipped == {"repeated_timestamp": 8}
    assert sum(bool(seq.skipped) for seq in trials.values()) == 55


def test_bodies_are_kinect_v1_bodies(trials: dict[str, SkeletonSequence]) -> None:
    """Every trial: y up, hands and feet short, limbs equal left and right, the person's right side at larger x;
    adults' limb bones 0.18-0.65 m; children's forearms are all shorter than every adult's. One trial fails the
    left/right check: while p342 (6 years) touches the toes, Kinect's left shin is 0.20 m, the right 0.14 m."""
    variation, forearm, failed = [], {"adult": {}, "child": {}}, []
    for seq in trials.values():
        joints = tracked_frames(seq)
        group = seq.attributes["group"]
        try:
            assert_kinect_v1_body(seq.name, joints, shortest_limb=0.18 if group == "adult" else 0.10)
        except AssertionError as error:
            failed.append(error.args[0][:2])
        variation.append(max_bone_cv(joints))
        forearm[group].setdefault(seq.subject, []).append(np.median(bone_lengths(joints, "wrist_left", "elbow_left")))
    assert failed == [("POSE-p342_48-Touch-your-toes-1455372965246", "ankle_left")]
    assert np.median(variation) < 0.15 and np.percentile(variation, 95) < 0.3  # bone lengths hold
    children = [np.median(v) for v in forearm["child"].values()]
    adults = [np.median(v) for v in forearm["adult"].values()]
    assert max(children) < min(adults) and 0.13 < min(children) and max(adults) < 0.3


def test_labels_match_the_movements(by_motion: dict[str, dict[int, SkeletonSequence]]) -> None:
    """Raising a hand takes a wrist above the head; touching the toes takes a hand below the knees; jumping as high
    as you can lifts the ankles more than a jump, which lifts them more than a bow."""

    def wrist_over_head(seq: SkeletonSequence) -> float:
        j = seq.joints[:, 0]
        return float((np.maximum(j[:, _J("wrist_left"), 1], j[:, _J("wrist_right"), 1]) - j[:, _J("head"), 1]).max())

    def hand_under_knees(seq: SkeletonSequence) -> float:
        j = seq.joints[:, 0]
        hand = np.minimum(j[:, _J("hand_left"), 1], j[:, _J("hand_right"), 1])
        return float((hand - np.minimum(j[:, _J("knee_left"), 1], j[:, _J("knee_right"), 1])).min())

    def ankle_lift(seq: SkeletonSequence) -> float:
        return float(np.ptp(seq.joints[:, 0, _J("ankle_left"), 1]))

    def values(motion: str, feature) -> np.ndarray:
        return np.array([feature(seq) for seq in by_motion[motion].values()])

    for motion in ("raise_your_hand", "raise_your_other_hand"):
        assert (values(motion, wrist_over_head) > 0).sum() >= 19
    assert (values("bow", wrist_over_head) < 0).sum() >= 15
    toes, raised = values("touch_your_toes", hand_under_knees), values("raise_your_hand", hand_under_knees)
    assert np.median(toes) < 0 < raised.min()
    high, jump, bow = (np.median(values(m, ankle_lift)) for m in ("jump_as_high_as_you_can", "jump", "bow"))
    assert high > 1.5 * jump and jump > 1.5 * bow


def test_other_side_variants_use_the_other_side(by_motion: dict[str, dict[int, SkeletonSequence]]) -> None:
    """Left and right by side: each participant raises the other hand, kicks with the other leg. Which side came
    first was theirs to choose (not always the right), which is why `merge_mirror_variants` exists."""

    def raised_hand(seq: SkeletonSequence) -> str:
        j = seq.joints[:, 0]
        return max(("left", "right"), key=lambda s: (j[:, _J(f"wrist_{s}"), 1] - j[:, _J(f"shoulder_{s}"), 1]).max())

    def kicking_leg(seq: SkeletonSequence) -> str:
        j = seq.joints[:, 0]
        travel = {s: np.linalg.norm(np.diff(j[:, _J(f"ankle_{s}")], axis=0), axis=1).sum() for s in ("left", "right")}
        return max(travel, key=travel.get)

    observed = {
        ("raise_your_hand", raised_hand): {("right", "left"): 17, ("left", "right"): 3},
        ("kick_a_ball", kicking_leg): {("right", "left"): 18, ("left", "left"): 1, ("right", "right"): 1},
        ("kick_a_ball_as_far_as_you_can", kicking_leg): {("right", "left"): 18, ("left", "right"): 2},
    }  # (side in the first variant, side in the "other" variant): participants
    for (first, side_of), expected in observed.items():
        other = next(v for v, base in KINDER_GATOR_MIRROR_VARIANTS.items() if base == first)
        assert Counter((side_of(by_motion[first][p]), side_of(by_motion[other][p])) for p in by_motion[first]) == \
            expected, first  # fmt: skip


def test_mirror_merge() -> None:
    assert len(KINDER_GATOR_MOTIONS) == len(set(KINDER_GATOR_MOTIONS)) == 58
    assert [len(m) for m in KINDER_GATOR_CATEGORIES.values()] == [9, 14, 16, 19]  # as the README lists them
    assert len(KINDER_GATOR_MIRROR_VARIANTS) == 11 and len(KINDER_GATOR_MERGED_MOTIONS) == 47
    assert set(KINDER_GATOR_MIRROR_VARIANTS) | set(KINDER_GATOR_MIRROR_VARIANTS.values()) <= set(KINDER_GATOR_MOTIONS)
    assert {merge_mirror_variants(m) for m in KINDER_GATOR_MOTIONS} == set(KINDER_GATOR_MERGED_MOTIONS)
    assert merge_mirror_variants("kick_a_ball_with_the_other_leg") == merge_mirror_variants("kick_a_ball") == \
        "kick_a_ball"  # fmt: skip
    assert merge_mirror_variants("bow") == "bow"
    for variant, base in KINDER_GATOR_MIRROR_VARIANTS.items():
        assert ("other" in variant or "right_to_left" in variant) and base in KINDER_GATOR_MERGED_MOTIONS


def test_registry(trials: dict[str, SkeletonSequence]) -> None:
    spec = dataset_spec("kinder-gator")
    assert spec.task == "classification" and spec.labels == KINDER_GATOR_MOTIONS and spec.folder == "kinder_gator"
    child = load_dataset("kinder-gator", SHARED_DATA, [337])
    assert [seq.name for seq in child] == sorted(name for name, seq in trials.items() if seq.subject == 337)
    assert len(child) == 58


# --- synthetic files ---------------------------------------------------------------------

NAME = "POSE-p106_07-Throw-a-ball--1455361234567.csv"


def _rows(count: int = 5, step: float = 33.3) -> list[list[str]]:
    """Rows in HEADER order: a timestamp, then x y z per joint, then User-ID, Action and the trailing empty field."""
    rows = []
    for t in range(count):
        joints = [f"{v:.4f}" for j in range(20) for v in (0.01 * j, 0.5 - 0.05 * j, 2 + 0.001 * t)]
        rows.append([f"{1000 + step * t:.4f}", *joints, "106", "Throw-a-ball-", ""])
    return rows


def _write(folder: Path, rows: list[list[str]], header: str = HEADER + ",User-ID,Action,", name: str = NAME,
           end: str = "\n") -> Path:  # fmt: skip
    path = folder / name
    text = "\n".join([header] + [",".join(row) for row in rows]) + end
    path.write_bytes(lzma.compress(text.encode()) if name.endswith(".xz") else text.encode())
    return path


def test_synthetic_trial(tmp_path: Path) -> None:
    seq = read_kinder_gator(_write(tmp_path, _rows()))
    assert seq.label == "throw_a_ball" and seq.subject == 106 and seq.name == NAME.removesuffix(".csv")
    assert seq.attributes == {"order": "7", "category": "mime", "group": "child", "sex": "M", "age": "6",
                              "handedness": "R"}  # fmt: skip
    np.testing.assert_allclose(seq.joints[2, 0, 3], [0.03, 0.35, 2.002], atol=1e-6)
    assert seq.fps == pytest.approx(1000 / 33.3) and seq.skipped == {}


def test_joints_are_mapped_by_header_name(tmp_path: Path) -> None:
    """Columns in another order, one joint absent: values land on the named joints, the absent one is masked."""
    names = [f"{CAMEL[j]}{axis}" for j in KINECT_V1_20.joint_names for axis in "XYZ"]
    rows = _rows()
    order = list(range(57, 60)) + list(range(3, 57))  # foot_right first; hip_center (columns 0-2) left out
    header = ",".join(["Action", "Timestamp"] + [names[c] for c in order] + ["User-ID", ""])
    shuffled = [[row[-2], row[0]] + [row[1 + c] for c in order] + [row[-3], ""] for row in rows]
    reference = read_kinder_gator(_write(tmp_path, rows, name="POSE-p106_07-Throw-a-ball--1.csv"))
    seq = read_kinder_gator(_write(tmp_path, shuffled, header=header))
    np.testing.assert_array_equal(seq.joints[:, :, 1:], reference.joints[:, :, 1:])
    assert (seq.mask[..., 0] == 0).all() and (seq.mask[..., 1:] == 1).all() and (seq.joints[..., 0, :] == 0).all()
    assert seq.skipped == {"missing_joint": 1}


def test_synthetic_quirks(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    rows = _rows(6)
    rows[2][0] = rows[1][0]  # stamped as the previous row
    rows[3][1:61] = ["0"] * 60  # no one tracked
    rows[4][1 + 3 * 5 : 1 + 3 * 6] = ["0", "0", "0"]  # joint 5 at the origin
    rows[5][1 + 3 * 7 + 1] = "nan"  # joint 7: y not a number
    rows[1][-3] = "107"
    rows[5][-2] = "Punch"
    with caplog.at_level(logging.INFO, logger="models.datasets.kinder_gator"):
        seq = read_kinder_gator(_write(tmp_path, rows))
    assert seq.skipped == {"repeated_timestamp": 1, "all_zero_frame": 1, "zero_joint": 1, "nan_joint": 1,
                           "user_id_mismatch": 1, "action_mismatch": 1}  # fmt: skip
    assert (seq.mask[3] == 0).all() and seq.mask[4, 0, 5] == 0 and seq.mask[5, 0, 7] == 0 and seq.mask.sum() == 98
    assert np.isfinite(seq.joints).all() and seq.label == "throw_a_ball" and seq.subject == 106
    assert "rows whose Action is not the file name's 'throw_a_ball'" in caplog.text


def test_folder_shapes_and_subjects(tmp_path: Path) -> None:
    (tmp_path / "Children").mkdir()
    _write(tmp_path / "Children", _rows(), name=NAME + ".xz")
    _write(tmp_path, _rows(), name="POSE-p565_02-Bow-1.csv")  # beside Adults/Children: not read
    assert [seq.name for seq in read_kinder_gator_folder(tmp_path)] == [NAME.removesuffix(".csv")]
    assert [seq.name for seq in read_kinder_gator_folder(tmp_path / "Children", {106})] == [NAME.removesuffix(".csv")]
    assert read_kinder_gator_folder(tmp_path / "Children", {565}) == []
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataFormatError, match="no Kinder-Gator trials"):
        read_kinder_gator_folder(tmp_path / "empty")


def test_names_and_labels() -> None:
    parsed = parse_kinder_gator_name("POSE-p976_25-Climb-and-imaginary-ladder-1466766291553.csv.xz")
    assert (parsed.participant, parsed.order, parsed.motion) == (976, 25, "climb_an_imaginary_ladder")
    assert parse_kinder_gator_name("POSE-p976_25-Dance-1.csv") is None and parse_kinder_gator_name("x.csv") is None
    assert motion_label("Throw-a-ball-") == "throw_a_ball" and motion_label("Draw-the-letter-A") == "draw_the_letter_a"


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        (lambda rows: rows[2].pop(5), 4, "expected 64 comma-separated fields as in the header, got 63"),
        (lambda rows: rows[1].__setitem__(7, "1.2.3"), 3, r"column 8 \(ShoulderCenterX\): '1.2.3' is not a number"),
        (lambda rows: rows[3].__setitem__(0, "5"), 5, r"timestamp goes back \(1066.6000 -> 5.0000\)"),
        (lambda rows: rows[1].__setitem__(0, "inf"), 3, "timestamp is not a finite number"),
        (lambda rows: rows[-1].__setitem__(slice(30, None), []), 6, r"got 30 \(truncated last line\?\)"),
        (lambda rows: rows[2].__setitem__(-3, ""), 4, r"column 62 \(User-ID\): '' is not a number"),
    ],
)
@pytest.mark.parametrize("suffix", ["", ".xz"])
def test_malformed_trial(tmp_path: Path, edit, line: int, message: str, suffix: str) -> None:
    rows = _rows()
    edit(rows)
    path = _write(tmp_path, rows, name=NAME + suffix, end="")
    with pytest.raises(DataFormatError, match=message) as error:
        read_kinder_gator(path)
    assert str(error.value).startswith(f"{path}:{line}: ")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (HEADER.replace("Timestamp,", "Time,") + ",User-ID,Action,", "header column 1 'Time' is not Timestamp"),
        (HEADER + ",HeadX,User-ID,Action,", "header column 62 'HeadX' appears twice"),
        (HEADER + ",Timestamp,User-ID,Action,", "header column 62 'Timestamp' appears twice"),
        (HEADER.replace(",HeadZ", ",Extra") + ",User-ID,Action,", "header column 13 'Extra' is not"),
    ],
)
def test_malformed_header(tmp_path: Path, header: str, message: str) -> None:
    path = _write(tmp_path, _rows(), header=header)
    with pytest.raises(DataFormatError, match=message) as error:
        read_kinder_gator(path)
    assert str(error.value).startswith(f"{path}:1: ")


def test_header_needs_timestamp_and_whole_joints(tmp_path: Path) -> None:
    rows = [row[1:] for row in _rows()]
    with pytest.raises(DataFormatError, match="no Timestamp column"):
        read_kinder_gator(_write(tmp_path, rows, header=HEADER.removeprefix("Timestamp,") + ",User-ID,Action,"))
    rows = [row[:12] + row[13:] for row in _rows()]  # HeadZ dropped
    with pytest.raises(DataFormatError, match="only some of joint head's X, Y, Z"):
        read_kinder_gator(_write(tmp_path, rows, header=HEADER.replace(",HeadZ", "") + ",User-ID,Action,"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        ((HEADER + ",User-ID,Action,\n").encode(), "need at least two frames"),
        (b"\xff\xfe\x00", "not a text file"),
    ],
)
def test_empty_or_binary_trial(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / NAME
    path.write_bytes(content)
    with pytest.raises(DataFormatError, match=message) as error:
        read_kinder_gator(path)
    assert str(path) in str(error.value)


def test_timestamps_that_never_advance(tmp_path: Path) -> None:
    rows = _rows(3)
    for row in rows:
        row[0] = "1000.0"
    with pytest.raises(DataFormatError, match="the timestamps never advance"):
        read_kinder_gator(_write(tmp_path, rows))


def test_bad_file_name(tmp_path: Path) -> None:
    path = _write(tmp_path, _rows(), name="trial.csv")
    with pytest.raises(DataFormatError, match="file name must be POSE-p"):
        read_kinder_gator(path)
