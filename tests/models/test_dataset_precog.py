"""PRECOG 2016 reader: all 72 real files against their raw text, joints and tags against kinematics, bad inputs."""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest

from foundation.errors import DataFormatError
from models.datasets.precog import (
    PRECOG_ACTIONS,
    PRECOG_FPS,
    PRECOG_SEQUENCE_ORDER,
    parse_precog_name,
    read_precog,
    read_precog_folder,
)
from models.skeleton.layouts import KINECT_V1_20
from models.skeleton.sequence import SkeletonSequence
from tests.conftest import shared_dataset
from tests.models.anatomy import assert_kinect_v1_anatomy, bone_lengths, tracked_frames


_J = KINECT_V1_20.index
EMPTY_FILES = {"Seq2_10", "Seq4_10"}  # every joint of every row is 0 0 0
SDK_NAMES = ["HipCenter", "Spine", "ShoulderCenter", "Head", "ShoulderLeft", "ElbowLeft", "WristLeft", "HandLeft",
             "ShoulderRight", "ElbowRight", "WristRight", "HandRight", "HipLeft", "KneeLeft", "AnkleLeft", "FootLeft",
             "HipRight", "KneeRight", "AnkleRight", "FootRight"]  # fmt: skip


@pytest.fixture(scope="module")
def root() -> Path:
    return shared_dataset("precog_2016")


@pytest.fixture(scope="module")
def sequences(root: Path) -> dict[str, SkeletonSequence]:
    return {seq.name: seq for seq in read_precog_folder(root / "CSV")}


def raw_file(path: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Header names, (T, 20, 3) positions in header order and (T,) tags, parsed independently of the reader."""
    header, *lines = path.read_text().splitlines()
    rows = [line.split(";") for line in lines]
    xyz = np.array([[[float(v) for v in field.split()] for field in row[:-1]] for row in rows])
    return [name.strip() for name in header.split(";")], xyz, np.array([int(row[-1]) for row in rows])


# --- real data -------------------------------------------------------------------------


def test_reads_all_72_files(sequences: dict[str, SkeletonSequence]) -> None:
    assert sorted(sequences) == sorted(f"Seq{kind}_{subject}" for kind in range(1, 7) for subject in range(1, 13))
    assert list(sequences) == sorted(sequences)  # sorted by file name
    for name, seq in sequences.items():
        kind, subject = parse_precog_name(name)
        assert seq.subject == subject and kind in PRECOG_SEQUENCE_ORDER
        assert seq.layout == "kinect_v1_20" and seq.fps == PRECOG_FPS == 30.0 and seq.label is None
        assert seq.joints.shape == (seq.num_frames, 1, 20, 3) and seq.joints.dtype == np.float32
        assert seq.frame_ids.tolist() == list(range(seq.num_frames))


def test_frames_values_and_tags_match_raw_text(root: Path, sequences: dict[str, SkeletonSequence]) -> None:
    for path in sorted((root / "CSV").glob("*.csv")):
        names, xyz, tags = raw_file(path)
        assert names == SDK_NAMES  # every file has the SDK order, so columns map one to one
        seq = sequences[path.stem]
        assert seq.num_frames == len(path.read_text().splitlines()) - 1 == len(tags)
        for t in (0, seq.num_frames // 2, seq.num_frames - 1):
            np.testing.assert_allclose(seq.joints[t, 0], xyz[t], atol=1e-6)
        assert (seq.frame_labels(["none", *PRECOG_ACTIONS]) == tags).all()


def test_spot_values_seq1_1(sequences: dict[str, SkeletonSequence]) -> None:
    joints = sequences["Seq1_1"].joints[0, 0]  # copied from line 2 of the raw file
    np.testing.assert_allclose(joints[_J("hip_center")], [0.1756747, -0.01422022, 2.907105], atol=1e-6)
    np.testing.assert_allclose(joints[_J("foot_right")], [0.2674209, -0.7630621, 2.803326], atol=1e-6)
    assert [(s.label, s.start, s.end) for s in sequences["Seq1_1"].segments] == [
        ("right_punch", 37, 74), ("left_punch", 82, 100), ("side_right_kick", 108, 133),
        ("side_left_kick", 134, 166), ("front_right_kick", 172, 217),
    ]  # fmt: skip


def test_untracked_files_masked(sequences: dict[str, SkeletonSequence]) -> None:
    for name, seq in sequences.items():
        if name in EMPTY_FILES:
            assert (seq.mask == 0).all() and seq.skipped == {"all_zero_frame": seq.num_frames}
            assert len(seq.segments) >= 5  # the tags are still there
        else:
            assert (seq.mask == 1).all() and seq.skipped == {}


def test_tags_follow_the_scripted_order(sequences: dict[str, SkeletonSequence]) -> None:
    for name, seq in sequences.items():
        order = [s.label for i, s in enumerate(seq.segments) if i == 0 or s.label != seq.segments[i - 1].label]
        assert tuple(order) == PRECOG_SEQUENCE_ORDER[parse_precog_name(name)[0]], name
    # Seq6_3 tags side_left_kick, one untagged frame, side_left_kick again: kept as two segments
    assert [s.label for s in sequences["Seq6_3"].segments][-2:] == ["side_left_kick"] * 2


def test_sequence_order_matches_the_slides(root: Path) -> None:
    """Slides 4-9 show each sequence's five actions left to right; read them by position, not XML order."""
    ns = {"p": "http://schemas.openxmlformats.org/presentationml/2006/main",
          "a": "http://schemas.openxmlformats.org/drawingml/2006/main"}  # fmt: skip
    spoken = {name.replace("_", " "): name for name in PRECOG_ACTIONS}
    with zipfile.ZipFile(root / "PRECOG_DATASET.pptx") as pptx:
        for kind in range(1, 7):
            tree = ElementTree.fromstring(pptx.read(f"ppt/slides/slide{kind + 3}.xml"))
            title = "".join(t.text or "" for t in tree.find(".//p:sp", ns).iter(f"{{{ns['a']}}}t"))
            assert title.split() == ["Sequence", str(kind)]
            placed = []
            for shape in tree.find(".//p:spTree", ns):  # top-level shapes; a group's offset is where it sits
                text = " ".join("".join(t.text or "" for t in shape.iter(f"{{{ns['a']}}}t")).split()).lower()
                names = [name for words, name in spoken.items() if words in text]
                if names:
                    placed.append((int(shape.find(".//a:off", ns).get("x")), names[0]))
            assert tuple(name for _, name in sorted(placed)) == PRECOG_SEQUENCE_ORDER[kind]


def test_tags_match_the_movement(sequences: dict[str, SkeletonSequence]) -> None:
    """Punches reach with the named hand, kicks lift the named foot: checks joint sides and tag names together."""
    votes: dict[str, list[bool]] = {name: [] for name in PRECOG_ACTIONS if "punch" in name or "kick" in name}
    for seq in sequences.values():
        joints = seq.joints[:, 0]
        for segment in seq.segments:
            if segment.label not in votes or not seq.mask[segment.start : segment.end].all():
                continue
            part = joints[segment.start : segment.end]
            side = "right" if "right" in segment.label else "left"
            other = "left" if side == "right" else "right"
            if "punch" in segment.label:
                reach = {s: np.linalg.norm(part[:, _J(f"hand_{s}")] - part[:, _J(f"shoulder_{s}")], axis=1).max()
                         for s in (side, other)}  # fmt: skip
                votes[segment.label].append(reach[side] > reach[other])
            else:
                height = {s: part[:, _J(f"ankle_{s}"), 1].max() for s in (side, other)}
                votes[segment.label].append(height[side] > height[other])
    for label, agree in votes.items():
        assert len(agree) >= 30 and np.mean(agree) > 0.85, (label, np.mean(agree))  # measured: 0.91-1.0


def test_joint_order_is_kinect_v1(sequences: dict[str, SkeletonSequence]) -> None:
    for name, seq in sequences.items():
        if name not in EMPTY_FILES:
            assert_kinect_v1_anatomy(name, tracked_frames(seq))


def test_bone_lengths_constant(sequences: dict[str, SkeletonSequence]) -> None:
    """Upper arm length coefficient of variation: fast strikes blur it (up to 0.24), but it stays low overall."""
    cvs = []
    for name, seq in sequences.items():
        if name not in EMPTY_FILES:
            joints = tracked_frames(seq)
            for side in ("left", "right"):
                upper_arm = bone_lengths(joints, f"elbow_{side}", f"shoulder_{side}")
                cvs.append(upper_arm.std() / upper_arm.mean())
    assert max(cvs) < 0.3 and np.median(cvs) < 0.15


# --- synthetic files ---------------------------------------------------------------------


def _joint(j: int) -> str:
    return f"{0.1 + 0.01 * j:.3f} {0.5 - 0.05 * j:.3f} 2.500"


def _line(tag: int = 0) -> list[str]:
    return [_joint(j) for j in range(20)] + [str(tag)]


def _write(tmp_path: Path, lines: list[list[str]], header: list[str] = SDK_NAMES, name: str = "Seq3_7.csv") -> Path:
    path = tmp_path / name
    path.write_text("; ".join(header) + "\n" + "\n".join(";".join(line) for line in lines))  # no final newline
    return path


def test_synthetic_tags_quirks_and_name(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    lines = [_line(tag) for tag in (0, 1, 1, 0, 8, 8, 3)]
    lines[0][:20] = ["0 0 0"] * 20  # nobody tracked
    lines[2][4] = "0.1 nan 2.5"  # shoulder_left
    lines[5][19] = "0 0 0"  # foot_right
    with caplog.at_level(logging.WARNING, logger="models.datasets.precog"):
        seq = read_precog(_write(tmp_path, lines))
    assert seq.name == "Seq3_7" and seq.subject == 7 and parse_precog_name("Seq3_7.csv") == (3, 7)
    assert [(s.label, s.start, s.end) for s in seq.segments] == [
        ("right_punch", 1, 3), ("elbow_strike", 4, 6), ("front_right_kick", 6, 7),
    ]  # fmt: skip
    assert seq.skipped == {"all_zero_frame": 1, "nan_joint": 1, "zero_joint": 1}
    assert (seq.mask[0] == 0).all() and seq.mask[2, 0, _J("shoulder_left")] == 0
    assert seq.mask[5, 0, _J("foot_right")] == 0 and seq.mask.sum() == 6 * 20 - 2
    assert np.isfinite(seq.joints).all()
    assert "1 joints with a non-finite value" in caplog.text


def test_header_mapped_by_name(tmp_path: Path) -> None:
    """Columns in another order and spelling map to the same joints."""
    lines = [_line(), _line(2)]
    reference = read_precog(_write(tmp_path, lines, name="Seq1_1.csv"))
    order = list(range(19, -1, -1))
    shuffled = [[line[j] for j in order] + [line[20]] for line in lines]
    header = [SDK_NAMES[j].upper() if j % 2 else SDK_NAMES[j] for j in order]
    seq = read_precog(_write(tmp_path, shuffled, header=header, name="Seq1_2.csv"))
    np.testing.assert_array_equal(seq.joints, reference.joints)
    assert seq.segments == reference.segments


def test_unconventional_name_has_no_subject(tmp_path: Path) -> None:
    assert read_precog(_write(tmp_path, [_line()], name="take.csv")).subject is None
    assert parse_precog_name("take.csv") is None


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (SDK_NAMES[:-1] + ["Toe"], "unknown joint name 'Toe'"),
        (SDK_NAMES[:-1], "header lacks joint\\(s\\): foot_right"),
        (SDK_NAMES[:-1] + ["HipCenter"], "joint 'HipCenter' appears twice"),
        (SDK_NAMES + [""], "unknown joint name ''"),
    ],
)
def test_bad_header(tmp_path: Path, header: list[str], message: str) -> None:
    path = _write(tmp_path, [_line()], header=header)
    with pytest.raises(DataFormatError, match=message) as error:
        read_precog(path)
    assert str(error.value).startswith(f"{path}:1: ")


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        (lambda lines: lines[1].pop(), 3, "expected 21 ';'-separated fields"),
        (lambda lines: lines[0].append("0"), 2, "expected 21 ';'-separated fields"),
        (lambda lines: lines[2].__setitem__(5, "0.1 0.2"), 4, "field 6: expected 3 numbers 'x y z', got '0.1 0.2'"),
        (lambda lines: lines[2].__setitem__(7, "0.1 zero 2"), 4, "field 8: 'zero' is not a number"),
        (lambda lines: lines[1].__setitem__(20, "9"), 3, "action id '9' is not an integer in 0-8"),
        (lambda lines: lines[1].__setitem__(20, "1.5"), 3, "action id '1.5'"),
        (lambda lines: lines[3].__setitem__(slice(12, None), ["0.3 0."]), 5, "truncated last line\\?"),
    ],
)
def test_malformed_rows(tmp_path: Path, edit, line: int, message: str) -> None:
    lines = [_line(1) for _ in range(4)]
    edit(lines)
    path = _write(tmp_path, lines)
    with pytest.raises(DataFormatError, match=message) as error:
        read_precog(path)
    assert str(error.value).startswith(f"{path}:{line}: ")


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty file"), ("; ".join(SDK_NAMES).encode() + b"\n", "no frames"), (b"\xff\xfe\x00", "not a text file")],
)
def test_empty_or_binary_file(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "Seq1_1.csv"
    path.write_bytes(content)
    with pytest.raises(DataFormatError, match=message) as error:
        read_precog(path)
    assert str(path) in str(error.value)


def test_folder_without_sequences(tmp_path: Path) -> None:
    (tmp_path / "notes.csv").write_text("x")
    with pytest.raises(DataFormatError, match="no PRECOG Seq"):
        read_precog_folder(tmp_path)
