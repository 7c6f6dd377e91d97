"""MSRC-12 reader: every real recording and tagstream, values against the raw text, action points against the
MATLAB rule and the movements, the joint order from anatomy, bad inputs.

The full dataset (``msrc12/``) is read once per module (~15 s here, most of it xz decompression); the old
four-recording sample (``msrc12_kinect_gesture/``) is checked too. Counts below were measured on the raw files
independently of the reader: ``xz -dc data/*.csv.xz | wc -l`` gives 585 302 rows; 474 tagstreams hold 5 013 tag
rows. The anatomy checks live in `tests/models/anatomy.py`, shared with the PRECOG and Kinder-Gator tests.
"""

from __future__ import annotations

import logging
import lzma
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from foundation.errors import DataFormatError
from models.datasets.msrc12 import (
    MSRC12_GESTURES,
    MSRC12_INSTRUCTIONS,
    MSRC12_TAGS,
    msrc12_files,
    nearest_rows,
    parse_msrc12_name,
    read_msrc12,
    read_msrc12_folder,
    read_msrc12_tagstream,
)
from models.datasets.registry import dataset_spec, load_dataset
from models.skeleton.layouts import KINECT_V1_20
from models.skeleton.sequence import SkeletonSequence
from tests.conftest import SHARED_DATA, shared_dataset
from tests.models.anatomy import assert_kinect_v1_anatomy, assert_kinect_v1_body, bone_lengths, max_bone_cv, \
    tracked_frames  # fmt: skip


SAMPLE = ["P1_1_1_p06", "P1_1_1_p19", "P1_1_1_p21", "P1_1_1_p22"]
_J = KINECT_V1_20.index
RECORDINGS, ROWS, TAG_ROWS, TAGSTREAMS = 473, 585_302, 5_013, 474
MISSING = "P1_2_5_p04"  # its tagstream (14 tags) is there, its recording is not
EMPTY = "P1_1_12A_p19"  # 1029 rows, no one tracked in any
# Read against the raw text row by row: the quirky recordings and every 40th.
CHECKED = ["P1_1_1_p06", EMPTY, "P2_1_2A_p12", "P3_2_12_p15", "P3_2_4_p11", "P3_2_8_p29"]


def raw_rows(path: Path) -> list[list[float]]:
    data = path.read_bytes()
    text = (lzma.decompress(data) if path.suffix == ".xz" else data).decode()
    return [[float(v) for v in line.split()] for line in text.splitlines()]


def raw_tags(path: Path) -> list[tuple[int, str]]:
    """(tick, tag) rows of a tagstream, without its header."""
    return [(int(tick), tag) for tick, tag in (line.split(";") for line in path.read_text().splitlines()[1:])]


@pytest.fixture(scope="module")
def sample_root() -> Path:
    return shared_dataset("msrc12_kinect_gesture")


@pytest.fixture(scope="module")
def sample(sample_root: Path) -> dict[str, SkeletonSequence]:
    return {seq.name: seq for seq in read_msrc12_folder(sample_root)}


@pytest.fixture(scope="module")
def data() -> Path:
    return shared_dataset("msrc12") / "data"


@pytest.fixture(scope="module")
def full(data: Path) -> dict[str, SkeletonSequence]:
    return {seq.name: seq for seq in read_msrc12_folder(data.parent)}


# --- the full dataset -----------------------------------------------------------------------


def test_reads_every_recording(data: Path, full: dict[str, SkeletonSequence]) -> None:
    names = sorted(path.name.removesuffix(".csv.xz") for path in data.glob("*.csv.xz"))
    assert list(full) == names and len(names) == RECORDINGS
    assert sum(seq.num_frames for seq in full.values()) == ROWS  # the data README's "≈ 580 k"
    assert {seq.subject for seq in full.values()} == {2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 18, 19, 21,
                                                      22, 23, 25, 27, 28, 29}  # 24 people  # fmt: skip
    for name, seq in full.items():
        assert seq.layout == "kinect_v1_20" and seq.joints.shape == (seq.num_frames, 1, 20, 3) and seq.label is None
        assert seq.joints.dtype == np.float32 and seq.subject == int(name.split("_p")[-1])


def test_action_point_count_and_the_readme_figure(data: Path, full: dict[str, SkeletonSequence]) -> None:
    """4 999 action points. The data README's 5 011 counts ``cat *.tagstream | grep -v XQPCTick``: two tagstreams
    end without a newline, so their last row joins the next file's header line and is dropped; the 14 tags of the
    missing recording are in it too. 5 013 tag rows - 14 = 4 999."""
    tagstreams = sorted(data.glob("*.tagstream"))
    assert len(tagstreams) == TAGSTREAMS
    assert sum(len(raw_tags(path)) for path in tagstreams) == TAG_ROWS
    assert len(raw_tags(data / f"{MISSING}.tagstream")) == 14
    joined = b"".join(path.read_bytes() for path in tagstreams).decode().splitlines()
    assert sum("XQPCTick" not in line for line in joined) == 5_011
    assert sum(len(seq.action_points) for seq in full.values()) == TAG_ROWS - 14 == 4_999
    counts = Counter(point.label for seq in full.values() for point in seq.action_points)
    assert set(counts) == set(MSRC12_GESTURES) and counts["wind_it_up"] == 514 and counts["change_weapon"] == 369


def test_values_match_raw_text(data: Path, full: dict[str, SkeletonSequence]) -> None:
    for name in CHECKED + list(full)[::40]:
        rows = np.array(raw_rows(data / f"{name}.csv.xz"))
        seq = full[name]
        assert seq.num_frames == len(rows)
        raw = rows[:, 1:].reshape(-1, 20, 4)
        np.testing.assert_allclose(seq.joints[:, 0], raw[..., :3], atol=1e-6)
        assert (seq.mask[:, 0] == (raw[..., 3] > 0)).all()


def test_spot_values_p3_2_8_p29_line_500(full: dict[str, SkeletonSequence]) -> None:
    joints = full["P3_2_8_p29"].joints[499, 0]  # copied from line 500 of the raw file (demo1.m's recording)
    np.testing.assert_allclose(joints[_J("hip_center")], [-0.077812, 0.095469, 2.984576], atol=1e-6)
    np.testing.assert_allclose(joints[_J("head")], [-0.080063, 0.693903, 2.947546], atol=1e-6)
    np.testing.assert_allclose(joints[_J("foot_right")], [0.130783, -0.940891, 3.109115], atol=1e-6)
    assert full["P3_2_8_p29"].num_frames == 1390


def test_action_points_follow_the_matlab_rule(data: Path, full: dict[str, SkeletonSequence]) -> None:
    """µs = (tick*1000 + 49875/2) / 49875 (load_tagstream.m), frame = the row of nearest timestamp (tagstream_to_y.m),
    recomputed here with Python integers for the checked recordings."""
    for name in CHECKED[1:] + list(full)[::40]:
        stamps = [int(row[0]) for row in raw_rows(data / f"{name}.csv.xz")]
        tagstream = next(data.glob(f"[Pp]{name[1:]}.tagstream"))
        expected = []
        for tick, tag in raw_tags(tagstream):
            us = (tick * 1000 + 49875 // 2) // 49875
            frame = min(range(len(stamps)), key=lambda i: (abs(stamps[i] - us), i))
            expected.append((MSRC12_GESTURES[MSRC12_TAGS.index(tag)], frame))
        assert [(p.label, p.frame) for p in full[name].action_points] == expected, name


def test_every_recording_has_the_action_points_of_its_gesture(full: dict[str, SkeletonSequence]) -> None:
    for seq in full.values():
        assert 8 <= len(seq.action_points) <= 31, seq.name
        assert {point.label for point in seq.action_points} == {seq.attributes["gesture"]}, seq.name
        frames = [point.frame for point in seq.action_points]
        assert frames == sorted(frames) and len(set(frames)) == len(frames), seq.name


def test_action_points_fall_on_the_movement(full: dict[str, SkeletonSequence]) -> None:
    """At the action point the body is where the gesture puts it, against the rest of its own recording: ducking
    lowers the head, lifted arms raise the wrists above the shoulders, a kick raises an ankle. Points from a wrong
    clock (unit, offset or rounding by a second) would land on arbitrary frames."""
    features = {
        "duck": lambda j: -j[:, _J("head"), 1],
        "lift_outstretched_arms": lambda j: np.minimum(j[:, _J("wrist_left"), 1], j[:, _J("wrist_right"), 1]),
        "kick": lambda j: np.maximum(j[:, _J("ankle_left"), 1], j[:, _J("ankle_right"), 1]),
    }
    for gesture, feature in features.items():
        above_median = []
        for seq in full.values():
            tracked = (seq.mask[:, 0] > 0).all(axis=1)
            if seq.attributes["gesture"] != gesture or tracked.sum() < 30:
                continue
            value = feature(seq.joints[:, 0])
            median = np.median(value[tracked])
            above_median += [value[p.frame] > median for p in seq.action_points if tracked[p.frame]]
        assert len(above_median) > 350 and np.mean(above_median) > 0.95, (gesture, np.mean(above_median))


def test_quirks_are_counted(full: dict[str, SkeletonSequence]) -> None:
    totals = Counter()
    for seq in full.values():
        totals.update(seq.skipped)
    assert totals == {"leading_no_body": 12_053, "all_zero_frame": 7_229, "time_gap": 6, "action_point_untracked": 11,
                      "action_point_outside_recording": 1, "tagstream_name_case": 1}  # fmt: skip
    assert full[EMPTY].skipped == {"leading_no_body": 1029, "action_point_untracked": 10}
    assert (full[EMPTY].mask == 0).all() and len(full[EMPTY].action_points) == 10
    # the first tag of P3_2_12_p15 is stamped 33 ms before its first row: it goes on row 0 (no one tracked yet)
    assert full["P3_2_12_p15"].action_points[0].frame == 0
    assert full["P2_1_2A_p12"].skipped["tagstream_name_case"] == 1 and len(full["P2_1_2A_p12"].action_points) == 10
    leading = [seq.skipped["leading_no_body"] for name, seq in full.items() if name != EMPTY]
    assert min(leading) == 20 and np.median(leading) == 20  # every recording starts with no body


def test_missing_recording_is_reported(
    data: Path, full: dict[str, SkeletonSequence], caplog: pytest.LogCaptureFixture
) -> None:
    files = msrc12_files(data.parent)
    assert [path.name for path in files.orphan_tagstreams] == [f"{MISSING}.tagstream"]
    assert len(files.recordings) == RECORDINGS and all(tagstream for _, tagstream in files.recordings)
    with caplog.at_level(logging.WARNING, logger="models.datasets.msrc12"):
        person4 = load_dataset("msrc12", SHARED_DATA, [4])  # by name, only person 4's recordings
    assert f"recording {MISSING}.csv is missing" in caplog.text
    assert [seq.name for seq in person4] == [name for name, seq in full.items() if seq.subject == 4]
    assert len(person4) == 19 and MISSING not in {seq.name for seq in person4}


def test_instruction_from_the_file_name(full: dict[str, SkeletonSequence]) -> None:
    """The PDF's table: group P{a}_{b} gets one instruction per gesture; 'A' adds written text."""
    assert Counter(seq.attributes["instruction"] for seq in full.values()) == {
        "video": 95, "images": 95, "text": 94, "video+text": 93, "images+text": 96}  # fmt: skip
    cells = Counter((seq.attributes["gesture"], seq.attributes["instruction"]) for seq in full.values())
    assert len(cells) == 12 * 5 and 6 <= min(cells.values()) and max(cells.values()) <= 10  # "about 10 people"
    groups = {}
    for seq in full.values():
        parsed = parse_msrc12_name(seq.name)
        assert seq.attributes["instruction_group"] == parsed.group
        assert seq.attributes["instruction"].endswith("+text") == parsed.combined
        assert groups.setdefault(seq.subject, parsed.group) == parsed.group  # one group per person
    assert full["P1_1_1_p06"].attributes == {"instruction_group": "P1_1", "gesture": "lift_outstretched_arms",
                                             "instruction": "video"}  # fmt: skip
    assert full["P1_1_1A_p06"].attributes["instruction"] == "video+text"
    assert full["P2_1_1A_p03"].attributes["instruction"] == "images+text"
    assert full["P3_1_2_p10"].attributes["instruction"] == "video"  # G2: P3 groups get the video


def test_fps_is_rows_per_second(data: Path, full: dict[str, SkeletonSequence]) -> None:
    """Stamps jitter (20 and 45 ms alternate in P3_2_4_p11: its median step says 22 fps); rows per second do not."""
    for name in CHECKED:
        stamps = np.array([row[0] for row in raw_rows(data / f"{name}.csv.xz")])
        steps = np.diff(stamps)
        regular = steps[steps <= 3 * np.median(steps)]
        assert full[name].fps == pytest.approx(1e6 / regular.mean())
    assert 1e6 / np.median(np.diff([row[0] for row in raw_rows(data / "P3_2_4_p11.csv.xz")])) < 22.2
    assert full["P3_2_4_p11"].fps == pytest.approx(859 / 29.414332, rel=1e-3)  # rows / seconds, no pauses
    assert all(27.6 < seq.fps < 30.0 for seq in full.values())


def test_frame_ids_jump_over_pauses(full: dict[str, SkeletonSequence]) -> None:
    seq = full["P1_1_1_p06"]  # line 336 comes 2.034 s after line 335
    steps = np.diff(seq.frame_ids)
    assert steps[334] == round(2.033564 * seq.fps) == 59 and (np.delete(steps, 334) == 1).all()


def test_body_is_a_kinect_v1_body(full: dict[str, SkeletonSequence]) -> None:
    """Every recording with a body: y up, hands and feet short, limbs plausible and equal left and right, the
    person's right side at larger x. Bone lengths hold (max coefficient of variation of the long bones: median
    0.12 over the recordings; ducking and bowing, where Kinect loses the legs, reach 0.49)."""
    variation = []
    for seq in full.values():
        joints = tracked_frames(seq)
        if seq.name == EMPTY:
            assert len(joints) == 0
            continue
        assert_kinect_v1_body(seq.name, joints)
        variation.append(max_bone_cv(joints))
    assert np.median(variation) < 0.15 and np.percentile(variation, 95) < 0.3


def test_registry() -> None:
    spec = dataset_spec("msrc12")
    assert spec.task == "points" and spec.labels == MSRC12_GESTURES and spec.folder == "msrc12"
    assert dataset_spec("msrc12-sample").folder == "msrc12_kinect_gesture"


# --- the old four-recording sample folder ----------------------------------------------------


def test_sample_is_four_recordings_of_the_full_set(
    sample: dict[str, SkeletonSequence], full: dict[str, SkeletonSequence]
) -> None:
    assert list(sample) == SAMPLE
    for name, seq in sample.items():
        assert seq.action_points == [] and "no_tagstream" not in seq.skipped  # a folder without tagstreams
        np.testing.assert_array_equal(seq.joints, full[name].joints)  # same rows (the sample has LF line ends)
        assert seq.fps == full[name].fps and seq.attributes == full[name].attributes


def test_sample_reads(sample_root: Path, sample: dict[str, SkeletonSequence]) -> None:
    for name, seq in sample.items():
        rows = raw_rows(sample_root / f"{name}.csv")
        assert seq.num_frames == len(rows) and seq.subject == int(name[-2:])
        first_tracked = next(i for i, row in enumerate(rows) if any(row[1:]))
        for t in (0, first_tracked, seq.num_frames // 2, seq.num_frames - 1):
            raw = np.reshape(rows[t][1:], (20, 4))
            np.testing.assert_allclose(seq.joints[t, 0], raw[:, :3], atol=1e-6)
            assert (seq.mask[t, 0] == (raw[:, 3] > 0)).all()


def test_spot_values_p06_line_400(sample: dict[str, SkeletonSequence]) -> None:
    joints = sample["P1_1_1_p06"].joints[399, 0]  # copied from line 400 of the raw file
    np.testing.assert_allclose(joints[_J("hip_center")], [0.066300, 0.151708, 2.704694], atol=1e-6)
    np.testing.assert_allclose(joints[_J("head")], [0.069170, 0.739583, 2.700506], atol=1e-6)
    np.testing.assert_allclose(joints[_J("foot_right")], [0.158105, -0.832387, 2.718131], atol=1e-6)


def test_sample_untracked_rows_and_time_gap(
    sample_root: Path, sample: dict[str, SkeletonSequence], caplog: pytest.LogCaptureFixture
) -> None:
    leading = {"P1_1_1_p06": 20, "P1_1_1_p19": 20, "P1_1_1_p21": 20, "P1_1_1_p22": 26}
    for name, seq in sample.items():
        assert (seq.mask[: leading[name]] == 0).all() and (seq.mask[leading[name] :] == 1).all()
        assert (seq.joints[: leading[name]] == 0).all()
        gaps = {"time_gap": 1} if name == "P1_1_1_p06" else {}
        assert seq.skipped == {"leading_no_body": leading[name], **gaps}
    with caplog.at_level(logging.INFO, logger="models.datasets.msrc12"):
        read_msrc12(sample_root / "P1_1_1_p06.csv")
    assert "20 all-zero rows before the first body" in caplog.text
    assert "P1_1_1_p06.csv:336: 2.034 s since the previous row" in caplog.text


def test_sample_joint_order_is_kinect_v1(sample: dict[str, SkeletonSequence]) -> None:
    for name, seq in sample.items():
        assert_kinect_v1_anatomy(name, tracked_frames(seq))
        for side in ("left", "right"):  # upper arm length varies by less than 10 %
            upper_arm = bone_lengths(tracked_frames(seq), f"elbow_{side}", f"shoulder_{side}")
            assert upper_arm.std() / upper_arm.mean() < 0.1


# --- synthetic files ---------------------------------------------------------------------


def _row(stamp: int) -> list[str]:
    """A timestamp, then one 'x y z w' string per joint (so a test can edit one joint)."""
    return [str(stamp)] + [f"{0.5 + 0.01 * j:.3f} 0.500 2.000 1" for j in range(20)]


def _write(tmp_path: Path, rows: list[list[str]], name: str = "P2_1_4_p07.csv", end: str = "\n") -> Path:
    path = tmp_path / name
    text = "\n".join(" ".join(row) for row in rows) + end
    path.write_bytes(lzma.compress(text.encode()) if name.endswith(".xz") else text.encode())
    return path


def _tagstream(tmp_path: Path, ticks: list[int], name: str = "P2_1_4_p07.tagstream", tag: str = "G4  Goggles") -> Path:
    path = tmp_path / name
    path.write_text("XQPCTick;Tag\r\n" + "".join(f"{tick};{tag}\r\n" for tick in ticks))
    return path


def _tick(us: float) -> int:
    """The tick that load_tagstream.m turns into ``us`` microseconds."""
    return round(us * 49.875)


def test_synthetic_quirks(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    rows = [_row(1000 + 33333 * t) for t in range(7)]
    rows[0] = ["1000"] + ["0 0 0 0"] * 20  # nobody tracked yet
    rows[2][1 + 3] = "0.530 nan 2.000 1"  # joint 3 (head): y is NaN
    rows[4][1 + 5] = "0.5 0.5 2.000 0"  # joint 5: w = 0 in a tracked row
    rows[5] = [rows[5][0]] + ["0 0 0 0"] * 20  # body lost
    rows.append(_row(1000 + 33333 * 11))  # 4 frames lost
    with caplog.at_level(logging.INFO, logger="models.datasets.msrc12"):
        seq = read_msrc12(_write(tmp_path, rows))
    assert seq.skipped == {"leading_no_body": 1, "all_zero_frame": 1, "nan_joint": 1, "zero_weight_joint": 1,
                           "time_gap": 1}  # fmt: skip
    assert seq.subject == 7 and seq.name == "P2_1_4_p07" and seq.num_frames == 8
    assert seq.attributes == {"instruction_group": "P2_1", "gesture": "goggles", "instruction": "images"}
    assert seq.fps == pytest.approx(30.0, rel=1e-3) and seq.frame_ids.tolist() == [0, 1, 2, 3, 4, 5, 6, 11]
    assert (seq.mask[[0, 5]] == 0).all() and seq.mask[2, 0, 3] == 0 and seq.mask[4, 0, 5] == 0
    assert seq.mask.sum() == 6 * 20 - 2
    assert np.isfinite(seq.joints).all() and (seq.joints[2, 0, 3] == 0).all()
    assert "1 joints with a non-finite value" in caplog.text and "frames lost" in caplog.text


def test_xz_and_plain_read_alike(tmp_path: Path) -> None:
    rows = [_row(33333 * t) for t in range(5)]
    plain = read_msrc12(_write(tmp_path, rows))
    packed = read_msrc12(_write(tmp_path, rows, name="P2_1_4_p07.csv.xz"))
    assert packed.name == plain.name == "P2_1_4_p07"
    np.testing.assert_array_equal(packed.joints, plain.joints)


def test_action_points_nearest_row(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    stamps = [1_000_000 + 33_000 * t for t in range(10)]
    rows = [_row(s) for s in stamps]
    rows[0] = [rows[0][0]] + ["0 0 0 0"] * 20
    # before the first row; nearer row 1; the exact middle of rows 4 and 5 (the earlier wins); after the last row
    times = [stamps[0] - 40_000, stamps[1] + 16_000, stamps[4] + 16_500, stamps[9] + 90_000]
    tagstream = _tagstream(tmp_path, [_tick(us) for us in times])
    with caplog.at_level(logging.WARNING, logger="models.datasets.msrc12"):
        seq = read_msrc12(_write(tmp_path, rows), tagstream)
    assert [(p.label, p.frame) for p in seq.action_points] == [("goggles", f) for f in (0, 1, 4, 9)]
    assert seq.skipped["action_point_outside_recording"] == 2 and seq.skipped["action_point_untracked"] == 1
    assert "2 action points outside the recording's time span" in caplog.text
    assert nearest_rows(np.array([0.0, 10.0, 20.0]), np.array([-5.0, 5.0, 5.1, 14.9, 99.0])).tolist() == [0, 0, 1, 1, 2]


def test_tag_of_another_gesture_is_counted(tmp_path: Path) -> None:
    rows = [_row(33333 * t) for t in range(5)]
    seq = read_msrc12(_write(tmp_path, rows), _tagstream(tmp_path, [_tick(40_000)], tag="G12 Kick"))
    assert seq.action_points[0].label == "kick" and seq.skipped == {"tag_gesture_mismatch": 1}


def test_tagstream_reading(tmp_path: Path) -> None:
    path = tmp_path / "P1_1_1_p01.tagstream"
    path.write_text("XQPCTick;Tag\n32328528185;G1  lift outstretched arms\n\n33104335827;g10   change WEAPON")
    tags = read_msrc12_tagstream(path)
    assert [(t.time_us, t.label, t.line) for t in tags] == [
        ((32328528185 * 1000 + 24937) // 49875, "lift_outstretched_arms", 2), (663746082, "change_weapon", 4)]


def test_folder_pairing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data = tmp_path / "data"
    data.mkdir()
    rows = [_row(33333 * t) for t in range(5)]
    _write(data, rows, name="P2_1_4_p07.csv.xz")
    _tagstream(data, [_tick(40_000)], name="p2_1_4_p07.tagstream")  # letter case differs
    _write(data, rows, name="P2_1_4A_p07.csv")  # no tagstream
    _tagstream(data, [_tick(40_000)], name="P2_1_4_p09.tagstream")  # no recording
    with caplog.at_level(logging.INFO, logger="models.datasets.msrc12"):
        sequences = read_msrc12_folder(tmp_path)
    assert [seq.name for seq in sequences] == ["P2_1_4A_p07", "P2_1_4_p07"]
    assert sequences[0].skipped == {"no_tagstream": 1} and sequences[0].action_points == []
    assert sequences[1].skipped == {"tagstream_name_case": 1} and len(sequences[1].action_points) == 1
    assert "recording P2_1_4_p09.csv is missing" in caplog.text and "no tagstream beside it" in caplog.text
    assert [s.name for s in read_msrc12_folder(data, subjects={9})] == []  # the folder itself reads too
    _write(data, rows, name="P2_1_4_p07.csv")
    with pytest.raises(DataFormatError, match="P2_1_4_p07.csv and P2_1_4_p07.csv.xz are the same recording"):
        read_msrc12_folder(tmp_path)


def test_file_names() -> None:
    parsed = parse_msrc12_name("P3_2_12A_p17.csv.xz")
    assert (parsed.group, parsed.gesture, parsed.combined, parsed.person) == ("P3_2", 12, True, 17)
    assert parsed.instruction == "images+text" and parse_msrc12_name("recording.csv") is None
    assert parse_msrc12_name("P1_1_13_p01.csv").instruction is None  # no gesture 13 in the table
    assert MSRC12_INSTRUCTIONS == ("video", "images", "text", "video+text", "images+text")


def test_name_without_participant(tmp_path: Path) -> None:
    seq = read_msrc12(_write(tmp_path, [_row(0), _row(33333)], name="recording.csv"))
    assert seq.subject is None and seq.attributes == {}


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        (lambda rows: rows[2].pop(), 3, "expected 81 numbers"),
        (lambda rows: rows[1].append("0.1"), 2, "expected 81 numbers"),
        (lambda rows: rows[3].__setitem__(7, "1.2.3 0 0 1"), 4, "column 26: '1.2.3' is not a number"),
        (lambda rows: rows[4].__setitem__(0, "33333"), 5, "timestamp does not increase"),
        (lambda rows: rows[1].__setitem__(0, "nan"), 2, "timestamp is not a finite number"),
        (lambda rows: rows[-1].__setitem__(slice(10, None), []), 6, "truncated last line?"),
    ],
)
@pytest.mark.parametrize("name", ["P2_1_4_p07.csv", "P2_1_4_p07.csv.xz"])
def test_malformed_file(tmp_path: Path, edit, line: int, message: str, name: str) -> None:
    rows = [_row(33333 * t) for t in range(6)]
    edit(rows)
    path = _write(tmp_path, rows, name=name, end="")
    with pytest.raises(DataFormatError, match=message) as error:
        read_msrc12(path)
    assert str(error.value).startswith(f"{path}:{line}: ")


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        ("XQPCTick,Tag\n1;G1  lift outstretched arms\n", 1, "expected the header 'XQPCTick;Tag'"),
        ("XQPCTick;Tag\n12 G1\n2;G2  Duck\n", 2, "expected 'tick;tag'"),
        ("XQPCTick;Tag\n-5;G2  Duck\n", 2, "tick '-5' is not an integer"),
        ("XQPCTick;Tag\n5;G13 Dance\n", 2, r"unknown tag 'G13 Dance' \(known: 'G1  lift outstretched arms' .. "
                                             r"'G12 Kick'\)$"),
        ("XQPCTick;Tag\n5;G2  Duck\n6;G2  Du", 3, r"unknown tag 'G2  Du'.*\(truncated last line\?\)"),
        ("XQPCTick;Tag\n5;G2  Duck\n632328", 3, r"expected 'tick;tag'.*\(truncated last line\?\)"),
        ("", 1, "empty file"),
    ],
)
def test_malformed_tagstream(tmp_path: Path, content: str, line: int, message: str) -> None:
    path = tmp_path / "P1_1_2_p01.tagstream"
    path.write_text(content)
    with pytest.raises(DataFormatError, match=message) as error:
        read_msrc12_tagstream(path)
    assert str(error.value).startswith(f"{path}:{line}: ")


def test_broken_or_cut_xz(tmp_path: Path) -> None:
    path = _write(tmp_path, [_row(33333 * t) for t in range(50)], name="P2_1_4_p07.csv.xz")
    path.write_bytes(path.read_bytes()[:-30])  # cut off
    with pytest.raises(DataFormatError, match="not a readable .xz file") as error:
        read_msrc12(path)
    assert str(error.value).startswith(str(path))
    path.write_bytes(b"P1_1 plain text, not xz")
    with pytest.raises(DataFormatError, match="not a readable .xz file"):
        read_msrc12(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty file"), (b"\n  \n", "empty file"), (b"\xff\xfe\x00", "not a text file")],
)
def test_empty_or_binary_file(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "P1_1_1_p01.csv"
    path.write_bytes(content)
    with pytest.raises(DataFormatError, match=message) as error:
        read_msrc12(path)
    assert str(path) in str(error.value)


def test_single_frame_has_no_frame_rate(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="at least two frames"):
        read_msrc12(_write(tmp_path, [_row(0)]))


def test_folder_without_recordings(tmp_path: Path) -> None:
    (tmp_path / "P1_1_1_p01.tagstream").write_text("XQPCTick;Tag\n")
    with pytest.raises(DataFormatError, match=r"no MSRC-12 recordings \(\*\.csv or \*\.csv\.xz\)"):
        read_msrc12_folder(tmp_path)
