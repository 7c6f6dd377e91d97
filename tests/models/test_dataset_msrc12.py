"""MSRC-12 reader: every real recording against its raw text, the joint order from anatomy, bad inputs.

The anatomy checks (`assert_kinect_v1_anatomy`) live in `tests/models/anatomy.py`, shared with the PRECOG tests.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from models.datasets.msrc12 import read_msrc12, read_msrc12_folder
from models.errors import DataFormatError
from models.skeleton.layouts import KINECT_V1_20
from models.skeleton.sequence import SkeletonSequence
from tests.conftest import shared_dataset
from tests.models.anatomy import assert_kinect_v1_anatomy, bone_lengths, tracked_frames

NAMES = ["P1_1_1_p06", "P1_1_1_p19", "P1_1_1_p21", "P1_1_1_p22"]
_J = KINECT_V1_20.index
def raw_rows(path: Path) -> list[list[float]]:
    return [[float(v) for v in line.split()] for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def root() -> Path:
    return shared_dataset("msrc12_kinect_gesture")


@pytest.fixture(scope="module")
def sequences(root: Path) -> dict[str, SkeletonSequence]:
    return {seq.name: seq for seq in read_msrc12_folder(root)}


# --- real data -------------------------------------------------------------------------


def test_reads_all_four_recordings(sequences: dict[str, SkeletonSequence]) -> None:
    assert list(sequences) == NAMES
    for name, seq in sequences.items():
        assert seq.layout == "kinect_v1_20" and seq.num_bodies == 1 and seq.num_joints == 20
        assert seq.joints.dtype == np.float32 and seq.mask.dtype == np.float32
        assert seq.frame_ids.tolist() == list(range(seq.num_frames))
        assert seq.subject == int(name[-2:]) and seq.label is None and seq.segments == []


def test_frames_and_values_match_raw_text(root: Path, sequences: dict[str, SkeletonSequence]) -> None:
    for name, seq in sequences.items():
        rows = raw_rows(root / f"{name}.csv")
        assert seq.num_frames == len(rows)
        first_tracked = next(i for i, row in enumerate(rows) if any(row[1:]))
        for t in (0, first_tracked, seq.num_frames // 2, seq.num_frames - 1):
            raw = np.reshape(rows[t][1:], (20, 4))
            np.testing.assert_allclose(seq.joints[t, 0], raw[:, :3], atol=1e-6)
            assert (seq.mask[t, 0] == (raw[:, 3] > 0)).all()


def test_spot_values_p06_line_400(sequences: dict[str, SkeletonSequence]) -> None:
    joints = sequences["P1_1_1_p06"].joints[399, 0]  # copied from line 400 of the raw file
    np.testing.assert_allclose(joints[_J("hip_center")], [0.066300, 0.151708, 2.704694], atol=1e-6)
    np.testing.assert_allclose(joints[_J("head")], [0.069170, 0.739583, 2.700506], atol=1e-6)
    np.testing.assert_allclose(joints[_J("foot_right")], [0.158105, -0.832387, 2.718131], atol=1e-6)


def test_fps_from_microsecond_timestamps(root: Path, sequences: dict[str, SkeletonSequence]) -> None:
    for name, seq in sequences.items():
        stamps = np.array([row[0] for row in raw_rows(root / f"{name}.csv")])
        assert seq.fps == pytest.approx(1e6 / np.median(np.diff(stamps)))
        assert 29.9 < seq.fps < 30.4  # the documented 30 Hz


def test_untracked_rows_and_time_gap(
    root: Path, sequences: dict[str, SkeletonSequence], caplog: pytest.LogCaptureFixture
) -> None:
    leading = {"P1_1_1_p06": 20, "P1_1_1_p19": 20, "P1_1_1_p21": 20, "P1_1_1_p22": 26}
    for name, seq in sequences.items():
        assert (seq.mask[: leading[name]] == 0).all() and (seq.mask[leading[name] :] == 1).all()
        assert (seq.joints[: leading[name]] == 0).all()
        gaps = {"time_gap": 1} if name == "P1_1_1_p06" else {}
        assert seq.skipped == {"all_zero_frame": leading[name], **gaps}
    with caplog.at_level(logging.INFO, logger="models.datasets.msrc12"):
        read_msrc12(root / "P1_1_1_p06.csv")
    assert "20 all-zero rows" in caplog.text
    assert "P1_1_1_p06.csv:336: 2.034 s since the previous row" in caplog.text


def test_joint_order_is_kinect_v1(sequences: dict[str, SkeletonSequence]) -> None:
    for name, seq in sequences.items():
        assert_kinect_v1_anatomy(name, tracked_frames(seq))


def test_bone_lengths_constant(sequences: dict[str, SkeletonSequence]) -> None:
    """Upper arm length coefficient of variation (the brief's example): < 0.1 here."""
    for seq in sequences.values():
        joints = tracked_frames(seq)
        for side in ("left", "right"):
            upper_arm = bone_lengths(joints, f"elbow_{side}", f"shoulder_{side}")
            assert upper_arm.std() / upper_arm.mean() < 0.1


# --- synthetic files ---------------------------------------------------------------------


def _row(stamp: int) -> list[str]:
    """A timestamp, then one 'x y z w' string per joint (so a test can edit one joint)."""
    return [str(stamp)] + [f"{0.5 + 0.01 * j:.3f} 0.500 2.000 1" for j in range(20)]


def _write(tmp_path: Path, rows: list[list[str]], name: str = "P2_3_4_p07.csv", end: str = "\n") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(" ".join(row) for row in rows) + end)
    return path


def test_synthetic_quirks(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    rows = [_row(1000 + 33333 * t) for t in range(6)]
    rows[0] = ["1000"] + ["0 0 0 0"] * 20  # nobody tracked
    rows[2][1 + 3] = "0.530 nan 2.000 1"  # joint 3 (head): y is NaN
    rows[4][1 + 5] = "0.5 0.5 2.000 0"  # joint 5: w = 0 in a tracked row
    rows.append(_row(1000 + 33333 * 10))  # 4 frames lost
    with caplog.at_level(logging.INFO, logger="models.datasets.msrc12"):
        seq = read_msrc12(_write(tmp_path, rows))
    assert seq.skipped == {"all_zero_frame": 1, "nan_joint": 1, "zero_weight_joint": 1, "time_gap": 1}
    assert seq.subject == 7 and seq.name == "P2_3_4_p07" and seq.num_frames == 7
    assert seq.fps == pytest.approx(30.0, rel=1e-3)
    assert (seq.mask[0] == 0).all() and seq.mask[2, 0, 3] == 0 and seq.mask[4, 0, 5] == 0
    assert seq.mask.sum() == 6 * 20 - 2
    assert np.isfinite(seq.joints).all() and (seq.joints[2, 0, 3] == 0).all()
    assert "1 joints with a non-finite value" in caplog.text and "frames lost" in caplog.text


def test_name_without_participant(tmp_path: Path) -> None:
    assert read_msrc12(_write(tmp_path, [_row(0), _row(33333)], name="recording.csv")).subject is None


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
def test_malformed_file(tmp_path: Path, edit, line: int, message: str) -> None:
    rows = [_row(33333 * t) for t in range(6)]
    edit(rows)
    path = _write(tmp_path, rows, end="")
    with pytest.raises(DataFormatError, match=message) as error:
        read_msrc12(path)
    assert str(error.value).startswith(f"{path}:{line}: ")


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
    with pytest.raises(DataFormatError, match=r"no MSRC-12 \*\.csv"):
        read_msrc12_folder(tmp_path)
