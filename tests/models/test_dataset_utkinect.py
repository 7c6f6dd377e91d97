"""UTKinect-Action3D reader: every real file against its raw text, each label quirk, bad inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from foundation.errors import DataFormatError
from models.datasets.utkinect import (
    UTKINECT_ACTIONS,
    UTKINECT_FPS,
    read_utkinect,
    read_utkinect_folder,
    read_utkinect_labels,
)
from models.skeleton.sequence import SkeletonSequence
from tests.conftest import shared_dataset


@pytest.fixture(scope="module")
def root() -> Path:
    return shared_dataset("utkinect_action3d")


@pytest.fixture(scope="module")
def sequences(root: Path) -> dict[str, SkeletonSequence]:
    return {seq.name: seq for seq in read_utkinect_folder(root)}


@pytest.fixture(scope="module")
def raw_labels(root: Path) -> dict[str, list[tuple[str, int, int]]]:
    """The label file parsed independently of the reader: name -> [(label, start, end)]."""
    blocks: dict[str, list[tuple[str, int, int]]] = {}
    for line in (root / "actionLabel.txt").read_text().splitlines():
        if ":" not in line and line.strip():
            current = blocks[line.strip()] = []
        elif ":" in line:
            label, bounds = line.split(":")
            start, end = bounds.split()
            current.append((label.strip(), int(start), int(end)))
    return blocks


def _raw_rows(path: Path) -> list[list[float]]:
    return [[float(v) for v in line.split()] for line in path.read_text().splitlines() if line.strip()]


# --- real data -------------------------------------------------------------------------


def test_reads_all_twelve_sequences(sequences: dict[str, SkeletonSequence]) -> None:
    assert sorted(sequences) == [f"s{s:02d}_e{e:02d}" for s in range(1, 7) for e in (1, 2)]
    for name, seq in sequences.items():
        assert seq.layout == "kinect_v1_20"
        assert seq.fps == UTKINECT_FPS == 30.0
        assert seq.joints.shape == (seq.num_frames, 1, 20, 3) and seq.joints.dtype == np.float32
        assert seq.mask.dtype == np.float32 and (seq.mask == 1).all()  # no all-zero rows in s01-s06
        assert seq.subject == int(name[1:3]) and seq.label is None


def test_every_file_matches_raw_text(root: Path, sequences: dict[str, SkeletonSequence]) -> None:
    for path in sorted(root.glob("joints_*.txt")):
        rows = _raw_rows(path)
        first_of_id: dict[int, list[float]] = {}
        for row in rows:
            first_of_id.setdefault(int(row[0]), row)
        seq = sequences[path.stem.removeprefix("joints_")]
        assert seq.num_frames == len(first_of_id)
        assert seq.frame_ids.tolist() == sorted(first_of_id)
        for t in (0, seq.num_frames // 2, seq.num_frames - 1):
            row = first_of_id[int(seq.frame_ids[t])]
            np.testing.assert_allclose(seq.joints[t, 0], np.reshape(row[1:], (20, 3)), atol=1e-6)


def test_spot_values_s01_e01(sequences: dict[str, SkeletonSequence]) -> None:
    seq = sequences["s01_e01"]
    # line 1 and line 2 both carry id 190; line 3 is id 194 (copied from the raw file)
    assert seq.frame_ids[:2].tolist() == [190, 194]
    np.testing.assert_allclose(seq.joints[0, 0, 0], [0.807139, -0.063421, 1.998671], atol=1e-6)
    np.testing.assert_allclose(seq.joints[0, 0, 19], [1.144314, -0.746678, 2.263423], atol=1e-6)
    np.testing.assert_allclose(seq.joints[1, 0, 3], [0.780846, 0.472549, 1.948428], atol=1e-6)
    assert seq.frame_ids[-1] == 2290


def test_duplicate_frame_ids_counted(root: Path, sequences: dict[str, SkeletonSequence]) -> None:
    total = 0
    for path in sorted(root.glob("joints_*.txt")):
        ids = [int(row[0]) for row in _raw_rows(path)]
        expected = len(ids) - len(set(ids))
        assert sequences[path.stem.removeprefix("joints_")].skipped["duplicate_frame_id"] == expected
        total += expected
    assert total == 273  # the data README's count
    for seq in sequences.values():
        assert (np.diff(seq.frame_ids) > 0).all()


def test_repeated_row_is_a_later_capture(root: Path) -> None:
    """Why the reader keeps the first row of a repeated id: the second lies nearer the next frame."""
    nearer_next = []
    for path in sorted(root.glob("joints_*.txt")):
        rows = np.array(_raw_rows(path))
        poses = rows[:, 1:].reshape(-1, 20, 3)
        for i in np.flatnonzero(np.diff(rows[:, 0]) == 0):
            if 0 < i and i + 2 < len(rows):
                gap = lambda a, b: np.linalg.norm(poses[a] - poses[b], axis=1).mean()  # noqa: E731
                nearer_next.append(gap(i + 1, i + 2) < gap(i, i + 2))
    assert len(nearer_next) > 250 and np.mean(nearer_next) > 0.95


def test_segments_map_to_recorded_frames(
    sequences: dict[str, SkeletonSequence], raw_labels: dict[str, list[tuple[str, int, int]]]
) -> None:
    for name, seq in sequences.items():
        raw = {label: (start, end) for label, start, end in raw_labels[name]}
        assert [s.start for s in seq.segments] == sorted(s.start for s in seq.segments)
        for segment in seq.segments:
            start, end = raw[segment.label]
            ids = seq.frame_ids
            assert start <= ids[segment.start] and ids[segment.end - 1] <= end
            assert segment.start == 0 or ids[segment.start - 1] < start
            assert segment.end == seq.num_frames or ids[segment.end] > end
        expected = set(UTKINECT_ACTIONS) - ({"push"} if name == "s03_e01" else set())
        assert {s.label for s in seq.segments} == expected


def test_label_quirks(sequences: dict[str, SkeletonSequence]) -> None:
    quirks = {
        name: {k: v for k, v in seq.skipped.items() if k != "duplicate_frame_id"} for name, seq in sequences.items()
    }
    assert quirks == {
        # pull listed after push, and both hold frame id 1686
        "s01_e01": {"segments_out_of_order": 1, "overlapping_segments": 1},
        "s01_e02": {"segment_boundary_between_ids": 1},  # walk starts at 154, not recorded
        "s02_e01": {}, "s02_e02": {},
        "s03_e01": {"segment_contains_other": 1},  # push: 2556 3622 swallows throw
        "s03_e02": {}, "s04_e01": {}, "s04_e02": {}, "s05_e01": {},
        "s05_e02": {"segments_out_of_order": 1},  # pull listed after push, no shared frame
        "s06_e01": {},
        "s06_e02": {"segment_boundary_between_ids": 1},  # carry starts at odd id 2031
    }  # fmt: skip


def test_shared_boundary_and_reordering_s01_e01(sequences: dict[str, SkeletonSequence]) -> None:
    seq = sequences["s01_e01"]
    pull, push = (next(s for s in seq.segments if s.label == label) for label in ("pull", "push"))
    assert seq.segments.index(pull) + 1 == seq.segments.index(push)
    assert seq.frame_ids[pull.end - 1] == seq.frame_ids[push.start] == 1686


def test_contained_segment_kept_container_dropped_s03_e01(sequences: dict[str, SkeletonSequence]) -> None:
    seq = sequences["s03_e01"]
    throw = next(s for s in seq.segments if s.label == "throw")
    assert 3226 <= seq.frame_ids[throw.start] and seq.frame_ids[throw.end - 1] <= 3282
    assert "push" not in {s.label for s in seq.segments}


def test_boundary_between_ids_s06_e02(sequences: dict[str, SkeletonSequence]) -> None:
    seq = sequences["s06_e02"]
    carry = next(s for s in seq.segments if s.label == "carry")
    assert 2031 not in seq.frame_ids
    assert seq.frame_ids[carry.start - 1] < 2031 < seq.frame_ids[carry.start]


def test_single_file_matches_folder(root: Path, sequences: dict[str, SkeletonSequence]) -> None:
    seq = read_utkinect(root / "joints_s05_e02.txt", root / "actionLabel.txt")
    assert seq.segments == sequences["s05_e02"].segments
    np.testing.assert_array_equal(seq.joints, sequences["s05_e02"].joints)
    assert read_utkinect(root / "joints_s05_e02.txt").segments == []


def test_subject_filter(root: Path) -> None:
    names = [seq.name for seq in read_utkinect_folder(root, subjects=[2, 5, 99])]
    assert names == ["s02_e01", "s02_e02", "s05_e01", "s05_e02"]


def test_read_labels_real(root: Path) -> None:
    blocks = read_utkinect_labels(root / "actionLabel.txt")
    assert len(blocks) == 12 and all(len(segments) == 10 for segments in blocks.values())
    carry = blocks["s04_e02"][4]  # written "carry:  1868 2122" (two spaces)
    assert (carry.label, carry.start, carry.end) == ("carry", 1868, 2122)


# --- synthetic files ---------------------------------------------------------------------


def _row(frame_id: int, value: float = 0.5) -> str:
    return " ".join([str(frame_id)] + [f"{value + 0.01 * j:.3f}" for j in range(60)])


def _write(tmp_path: Path, rows: list[str], labels: str | None = None, name: str = "s07_e01") -> Path:
    path = tmp_path / f"joints_{name}.txt"
    path.write_text("\n".join(rows) + "\n")
    if labels is not None:
        (tmp_path / "actionLabel.txt").write_text(labels)
    return path


def test_synthetic_quirks(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    rows = [_row(i) for i in (10, 10, 14, 18, 22, 26, 30, 60, 64)] + ["68 " + " ".join(["0"] * 60)]
    labels = (
        "s07_e01\n"
        "walk: 10 22\n"
        "carry: NaN 30\n"  # NaN boundary: dropped
        "throw: 12 26\n"  # boundary 12 not recorded; overlaps walk
        "push: 40 50\n"  # no recorded frame inside: dropped
        "pull: 59 69\n"  # contains clapHands: dropped
        "clapHands: 60 64\n"
        "sitDown: 2 9\n"  # listed out of order; before the first frame: dropped
    )
    path = _write(tmp_path, rows, labels)
    seq = read_utkinect(path, tmp_path / "actionLabel.txt")
    assert seq.frame_ids.tolist() == [10, 14, 18, 22, 26, 30, 60, 64, 68]
    assert seq.mask[:, 0, 0].tolist() == [1, 1, 1, 1, 1, 1, 1, 1, 0]
    assert [(s.label, s.start, s.end) for s in seq.segments] == [("walk", 0, 4), ("throw", 1, 5), ("clapHands", 6, 8)]
    assert seq.skipped == {
        "duplicate_frame_id": 1,
        "all_zero_frame": 1,
        "nan_segment_boundary": 1,
        "segment_contains_other": 1,
        "segments_out_of_order": 1,  # sitDown
        "segment_boundary_between_ids": 5,  # throw 12, push 40 and 50, sitDown 2 and 9
        "segment_without_frames": 2,
        "overlapping_segments": 1,
    }
    assert "NaN" in caplog.text and "contains clapHands" in caplog.text


@pytest.mark.parametrize(
    ("rows", "line", "message"),
    [
        ([_row(0), _row(4)[:-6]], 2, "expected 61 numbers, got 60"),
        ([_row(0), _row(4) + " 1.0"], 2, "expected 61 numbers, got 62"),
        ([_row(0), _row(4).replace("0.510", "abc")], 2, "non-numeric"),
        ([_row(0), _row(4), _row(8).replace("0.510", "NaN")], 3, "non-finite"),
        ([_row(0), "", _row(8).replace("0.510", "inf")], 3, "non-finite"),
        ([_row(0), _row(8), _row(4)], 3, "goes backwards"),
        ([_row(0), "4.5 " + _row(4).split(" ", 1)[1]], 2, "not an integer"),
    ],
)
def test_malformed_joints(tmp_path: Path, rows: list[str], line: int, message: str) -> None:
    path = _write(tmp_path, rows)
    with pytest.raises(DataFormatError, match=message) as error:
        read_utkinect(path)
    assert error.value.line == line and error.value.path == str(path)
    assert str(error.value).startswith(f"{path}:{line}: ")


def test_empty_joints_file(tmp_path: Path) -> None:
    path = tmp_path / "joints_s01_e01.txt"
    path.write_text("\n  \n")
    with pytest.raises(DataFormatError, match="empty file"):
        read_utkinect(path)


def test_bad_file_name(tmp_path: Path) -> None:
    path = tmp_path / "skeleton.txt"
    path.write_text(_row(0) + "\n")
    with pytest.raises(DataFormatError, match="joints_sXX_eYY"):
        read_utkinect(path)


@pytest.mark.parametrize(
    ("labels", "line", "message"),
    [
        ("walk: 1 2\n", 1, "before any"),
        ("s07_e01\nwalk 1 2\n", 2, "expected"),
        ("s07_e01\nwalk: 1\n", 2, "expected"),
        ("s07_e01\nrun: 1 2\n", 2, "unknown action 'run'"),
        ("s07_e01\nwalk: 1 x\n", 2, "not an integer frame id or NaN"),
        ("s07_e01\nwalk: 5 2\n", 2, "ends before it starts"),
        ("s07_e01\nwalk: 1 2\n\ns07_e01\n", 4, "appears twice"),
        ("\n\n", None, "no 'sXX_eYY' block"),
    ],
)
def test_malformed_labels(tmp_path: Path, labels: str, line: int | None, message: str) -> None:
    path = tmp_path / "actionLabel.txt"
    path.write_text(labels)
    with pytest.raises(DataFormatError, match=message) as error:
        read_utkinect_labels(path)
    assert error.value.line == line and error.value.path == str(path)


def test_label_file_without_the_sequence(tmp_path: Path) -> None:
    path = _write(tmp_path, [_row(0), _row(4)], "s01_e01\nwalk: 0 4\n")
    with pytest.raises(DataFormatError, match="no block for sequence s07_e01"):
        read_utkinect(path, tmp_path / "actionLabel.txt")


def test_folder_without_label_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _write(tmp_path, [_row(0), _row(4)], name="s01_e01")
    _write(tmp_path, [_row(0), _row(4)], name="s02_e01")
    sequences = read_utkinect_folder(tmp_path, subjects=[2])
    assert [s.name for s in sequences] == ["s02_e01"] and sequences[0].segments == []
    assert "no actionLabel.txt" in caplog.text
