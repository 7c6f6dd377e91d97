"""PKU-MMD skeleton and label readers: the real sequence in ../shared/data and files written here."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from foundation.errors import DataFormatError
from models.datasets.pku_mmd import read_pku_mmd, read_pku_mmd_labels, read_pku_mmd_skeleton
from models.skeleton.sequence import Segment
from tests.conftest import shared_dataset


REAL = "A10N08-L"


def real_file() -> Path:
    return shared_dataset("pku_mmd") / "skeleton" / f"{REAL}.txt"


# ---------------------------------------------------------------- real data


def test_real_sequence_shape_and_metadata() -> None:
    seq = read_pku_mmd_skeleton(real_file())
    assert seq.joints.shape == (1040, 2, 25, 3) and seq.joints.dtype == np.float32
    assert seq.mask.shape == (1040, 2, 25) and set(np.unique(seq.mask)) == {0.0, 1.0}
    assert (seq.layout, seq.fps, seq.name, seq.label, seq.segments) == ("kinect_v2_25", 30.0, REAL, None, [])
    np.testing.assert_array_equal(seq.frame_ids, np.arange(1040))
    assert seq.skipped == {}


def test_every_file_in_the_folder_reads() -> None:
    for path in sorted((shared_dataset("pku_mmd") / "skeleton").glob("*.txt")):
        seq = read_pku_mmd_skeleton(path)
        assert seq.num_frames == len(path.read_text().splitlines())


def test_values_match_raw_text() -> None:
    path = real_file()
    lines = path.read_text().splitlines()
    seq = read_pku_mmd_skeleton(path)
    for frame in (0, 311, 312, 777, 1039):
        values = [float(v) for v in lines[frame].split()]
        for body, joint in [(0, 0), (0, 3), (0, 24), (1, 0), (1, 11)]:
            start = body * 75 + joint * 3
            np.testing.assert_allclose(seq.joints[frame, body, joint], values[start : start + 3], rtol=1e-6)
            absent = not any(values[body * 75 : body * 75 + 75])
            assert seq.mask[frame, body, joint] == (0.0 if absent else 1.0)


def test_second_body_slot_as_in_file() -> None:
    seq = read_pku_mmd_skeleton(real_file())
    present = seq.mask.max(axis=2) > 0
    assert present[:, 0].all()
    # slot 2 is zeros up to frame 311, then a small static Kinect detection stays in the file's slot
    np.testing.assert_array_equal(present[:, 1], np.arange(1040) >= 312)
    spine = np.linalg.norm(seq.joints[312:, :, 20] - seq.joints[312:, :, 0], axis=-1).mean(axis=0)
    assert spine[0] > 0.5 and spine[1] < 0.3


def test_bone_lengths_constant_for_main_body() -> None:
    seq = read_pku_mmd_skeleton(real_file())
    for a, b in [(4, 5), (5, 6), (8, 9), (9, 10), (12, 13), (16, 17), (0, 1)]:
        length = np.linalg.norm(seq.joints[:, 0, a] - seq.joints[:, 0, b], axis=-1)
        assert 0.12 < length.mean() < 0.5
        assert length.std() / length.mean() < 0.2, f"bone {a}-{b}"


# ---------------------------------------------------------------- synthetic skeleton files


def body(offset: float = 0.0) -> np.ndarray:
    """(25, 3) plausible joint positions in metres."""
    return np.stack([offset + np.linspace(-0.3, 0.3, 25), np.linspace(-0.8, 0.8, 25), np.full(25, 2.5)], axis=1)


def write_skeleton(path: Path, frames: np.ndarray, sep: str = " ") -> Path:
    """Write (T, 2, 25, 3) frames one line each."""
    path.write_text("".join(sep.join(f"{v:.6f}" for v in row) + "\n" for row in frames.reshape(len(frames), -1)))
    return path


def three_frames() -> np.ndarray:
    frames = np.zeros((3, 2, 25, 3))
    frames[:, 0] = body()
    frames[1:, 1] = body(1.0)
    return frames


def raises_at(reader, path: Path, line: int, match: str) -> None:
    with pytest.raises(DataFormatError, match=match) as info:
        reader(path)
    assert info.value.line == line and f"{path.name}:{line}:" in str(info.value)


def test_synthetic_sequence(tmp_path: Path) -> None:
    seq = read_pku_mmd_skeleton(write_skeleton(tmp_path / "0002-L.txt", three_frames()))
    np.testing.assert_allclose(seq.joints, three_frames(), atol=1e-6)
    np.testing.assert_array_equal(seq.mask.max(axis=2), [[1, 0], [1, 1], [1, 1]])
    assert seq.skipped == {}


def test_comma_separated_as_the_readme_writes(tmp_path: Path) -> None:
    seq = read_pku_mmd_skeleton(write_skeleton(tmp_path / "c.txt", three_frames(), sep=","))
    np.testing.assert_allclose(seq.joints, three_frames(), atol=1e-6)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("")
    raises_at(read_pku_mmd_skeleton, path, 1, "empty file")


def test_truncated_last_line(tmp_path: Path) -> None:
    path = write_skeleton(tmp_path / "cut.txt", three_frames())
    path.write_text(path.read_text()[:-200])  # the copy stopped mid-line
    raises_at(read_pku_mmd_skeleton, path, 3, r"expected 150 values, found 1[0-4]\d")


def test_wrong_column_count(tmp_path: Path) -> None:
    path = write_skeleton(tmp_path / "cols.txt", three_frames())
    lines = path.read_text().splitlines()
    lines[1] += " 0.5"
    path.write_text("\n".join(lines))
    raises_at(read_pku_mmd_skeleton, path, 2, "expected 150 values, found 151")


def test_blank_line_inside(tmp_path: Path) -> None:
    path = write_skeleton(tmp_path / "blank.txt", three_frames())
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:1] + [""] + lines[1:]) + "\n\n")
    raises_at(read_pku_mmd_skeleton, path, 2, "expected 150 values, found 0")


def test_non_numeric_value(tmp_path: Path) -> None:
    path = write_skeleton(tmp_path / "text.txt", three_frames())
    lines = path.read_text().splitlines()
    lines[2] = lines[2].replace("2.500000", "2.5OO000", 1)
    path.write_text("\n".join(lines))
    raises_at(read_pku_mmd_skeleton, path, 3, "non-numeric value '2.5OO000'")


def test_nan_and_zero_joints_masked_and_counted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    frames = three_frames()
    frames[0, 0, 7] = np.nan
    frames[2, 1, 3, 1] = np.inf
    frames[1, 0, 9] = 0.0
    path = write_skeleton(tmp_path / "quirks.txt", frames)
    with caplog.at_level(logging.WARNING, logger="models.datasets.pku_mmd"):
        seq = read_pku_mmd_skeleton(path)
    assert seq.skipped == {"nonfinite_joints": 2, "zero_joints": 1}
    assert np.isfinite(seq.joints).all()
    assert seq.mask[0, 0, 7] == seq.mask[2, 1, 3] == seq.mask[1, 0, 9] == 0.0
    assert seq.mask.sum() == 25 * 5 - 3
    assert "zero_joints" in caplog.text and "quirks.txt" in caplog.text


def test_frame_without_any_body_is_counted(tmp_path: Path) -> None:
    frames = three_frames()
    frames[1] = 0.0
    seq = read_pku_mmd_skeleton(write_skeleton(tmp_path / "gap.txt", frames))
    assert seq.skipped == {"frames_without_body": 1} and not seq.mask[1].any()


# ---------------------------------------------------------------- labels


def write_labels(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_labels_end_inclusive_to_exclusive(tmp_path: Path) -> None:
    path = write_labels(tmp_path / "0002-L.txt", "3,0,1,1\n12, 5, 9, 2\n\n")
    assert read_pku_mmd_labels(path) == [Segment("3", 0, 2, 1.0), Segment("12", 5, 10, 2.0)]
    named = read_pku_mmd_labels(path, label_names={3: "brushing teeth", 12: "hand waving"})
    assert [segment.label for segment in named] == ["brushing teeth", "hand waving"]


@pytest.mark.parametrize(
    ("text", "line", "match"),
    [
        ("", 1, "empty file"),
        ("3,0,10,1\n4,20,30\n", 2, "expected 4 comma-separated fields"),
        ("3,0,10,1\n4,20,30,1,7\n", 2, "found 5"),
        ("3,0,10,1\n4,x,30,1\n", 2, "start_frame must be an integer, got 'x'"),
        ("3,nan,10,1\n", 1, "start_frame must be an integer, got 'nan'"),
        ("3,0,10.5,1\n", 1, "end_frame must be an integer"),
        ("3,0,10,nan\n", 1, "confidence must be finite"),
        ("3,0,10,high\n", 1, "confidence is not a number"),
        ("3,0,10,1\n\n5,40,30,1\n", 3, "0 <= start_frame <= end_frame"),
        ("0,4,30,1\n", 1, "action_id >= 1"),
    ],
)
def test_malformed_labels(tmp_path: Path, text: str, line: int, match: str) -> None:
    path = write_labels(tmp_path / "labels.txt", text)
    raises_at(read_pku_mmd_labels, path, line, match)


def test_unknown_action_name(tmp_path: Path) -> None:
    path = write_labels(tmp_path / "labels.txt", "3,0,10,1\n")
    raises_at(lambda p: read_pku_mmd_labels(p, label_names={4: "x"}), path, 1, "action id 3 has no name")


def test_read_with_labels_clips_and_counts(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    frames = np.repeat(three_frames()[-1:], 10, axis=0)
    skeleton = write_skeleton(tmp_path / "0291-M.txt", frames)
    labels = write_labels(tmp_path / "labels.txt", "1,0,3,1\n2,6,12,1\n2,15,20,2\n1,2,4,1\n")
    with caplog.at_level(logging.WARNING, logger="models.datasets.pku_mmd"):
        seq = read_pku_mmd(skeleton, labels, label_names={1: "drink", 2: "eat"})
    assert seq.segments == [Segment("drink", 0, 4, 1.0), Segment("eat", 6, 10, 1.0), Segment("drink", 2, 5, 1.0)]
    assert seq.skipped == {"clipped_segments": 1, "dropped_segments": 1}
    assert "clipped" in caplog.text
    np.testing.assert_array_equal(seq.frame_labels(["background", "drink", "eat"]), [1, 1, 1, 1, 1, 0, 2, 2, 2, 2])
    assert read_pku_mmd(skeleton).segments == []


def test_real_sequence_with_a_label_file(tmp_path: Path) -> None:
    labels = write_labels(tmp_path / f"{REAL}.txt", "10,0,99,1\n10,300,1039,2\n")
    seq = read_pku_mmd(real_file(), labels)
    assert [(s.start, s.end) for s in seq.segments] == [(0, 100), (300, 1040)] and seq.skipped == {}
