"""NTU RGB+D ``.skeleton`` reader: the real files in ../shared/data and malformed files written here."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foundation.errors import DataFormatError
from models.datasets.ntu import NtuName, parse_ntu_name, read_ntu_skeleton
from tests.conftest import shared_dataset


FRAMES = {
    "S001C001P001R001A001": 103,
    "S001C001P001R001A002": 158,
    "S001C001P001R001A003": 104,
    "S001C001P001R001A004": 99,
    "S001C001P001R001A005": 54,
    "S001C003P008R002A058": 70,
}
TWO_PEOPLE = "S001C003P008R002A058"
LIMBS = {"upper arm L": (4, 5), "forearm L": (5, 6), "upper arm R": (8, 9), "forearm R": (9, 10),
         "thigh L": (12, 13), "shin L": (13, 14), "thigh R": (16, 17), "shin R": (17, 18), "spine": (0, 1)}


def ntu_file(name: str) -> Path:
    return shared_dataset("ntu_rgbd_skeleton") / f"{name}.skeleton"


def raw_bodies(path: Path) -> list[list[tuple[str, list[list[str]]]]]:
    """Plain-Python parse for cross-checking: per frame, [(bodyID, 25 rows of 12 strings)]."""
    lines = path.read_text().splitlines()
    frames, i = [], 1
    for _ in range(int(lines[0])):
        count, i = int(lines[i]), i + 1
        bodies = []
        for _ in range(count):
            body_id, i = lines[i].split()[0], i + 2  # body line, joint count line
            bodies.append((body_id, [line.split() for line in lines[i : i + 25]]))
            i += 25
        frames.append(bodies)
    return frames


# ---------------------------------------------------------------- real data


@pytest.mark.parametrize("name", sorted(FRAMES))
def test_real_file_shape_and_metadata(name: str) -> None:
    path = ntu_file(name)
    seq = read_ntu_skeleton(path)
    assert seq.num_frames == FRAMES[name] == int(path.read_text().splitlines()[0])
    assert seq.joints.shape == (FRAMES[name], 2, 25, 3) and seq.joints.dtype == np.float32
    assert seq.mask.shape == (FRAMES[name], 2, 25) and seq.mask.dtype == np.float32
    assert set(np.unique(seq.mask)) <= {0.0, 0.5, 1.0}
    assert seq.layout == "kinect_v2_25" and seq.fps == 30.0
    np.testing.assert_array_equal(seq.frame_ids, np.arange(FRAMES[name]))
    take = parse_ntu_name(name)
    assert seq.name == name and seq.label == name[-4:] and seq.subject == take.performer
    assert seq.skipped == {}


def test_every_file_in_the_folder_reads() -> None:
    paths = sorted(shared_dataset("ntu_rgbd_skeleton").glob("*.skeleton"))
    assert {path.stem for path in paths} >= set(FRAMES)
    for path in paths:
        seq = read_ntu_skeleton(path)
        assert seq.num_frames == len(raw_bodies(path))
        assert (seq.mask[:, 0] > 0).any(axis=1).all(), f"{path.name}: a frame without its main body"


def test_values_match_raw_text() -> None:
    path = ntu_file("S001C001P001R001A001")
    lines = path.read_text().splitlines()
    seq = read_ntu_skeleton(path)
    # one body per frame: header, then 28 lines a frame (count, body line, joint count, 25 joints)
    for frame, joint in [(0, 0), (0, 5), (0, 24), (50, 7), (102, 11)]:
        fields = lines[1 + 28 * frame + 3 + joint].split()
        x, y, z, dx, dy, cx, cy = (float(value) for value in fields[:7])
        np.testing.assert_allclose(seq.joints[frame, 0, joint], [x, y, z], rtol=1e-6)
        np.testing.assert_allclose(seq.projections["depth"][frame, 0, joint], [dx, dy], rtol=1e-6)
        np.testing.assert_allclose(seq.projections["color"][frame, 0, joint], [cx, cy], rtol=1e-6)
        assert seq.mask[frame, 0, joint] == {"2": 1.0, "1": 0.5, "0": 0.0}[fields[11]]
    assert seq.mask[0, 0, 5] == 0.5  # line 10 of the file: left elbow inferred (state 1)
    assert not seq.mask[:, 1].any() and not seq.joints[:, 1].any()  # one person: slot 1 absent


def test_every_value_matches_a_plain_parse() -> None:
    path = ntu_file(TWO_PEOPLE)
    seq = read_ntu_skeleton(path)
    frames = raw_bodies(path)
    slot_of = {}
    for t, bodies in enumerate(frames):
        for body_id, rows in bodies:
            values = np.array(rows, dtype=np.float64)
            slot = slot_of.setdefault(body_id, int(np.argmin(np.abs(seq.joints[t, :, 0] - values[0, :3]).sum(-1))))
            np.testing.assert_allclose(seq.joints[t, slot], values[:, :3], rtol=1e-6)
            np.testing.assert_allclose(seq.projections["color"][t, slot], values[:, 5:7], rtol=1e-6)
            np.testing.assert_array_equal(seq.mask[t, slot], np.array([0.0, 0.5, 1.0])[values[:, 11].astype(int)])
    assert sorted(slot_of.values()) == [0, 1]


def test_two_person_file_keeps_both_ranked_by_motion() -> None:
    path = ntu_file(TWO_PEOPLE)
    seq = read_ntu_skeleton(path)
    assert (seq.mask > 0).any(axis=2).all(), "both people are in every frame"
    assert np.linalg.norm(seq.joints[:, 0, 0] - seq.joints[:, 1, 0], axis=-1).min() > 0.3  # two distinct people
    energy = {}
    for bodies in raw_bodies(path):
        for body_id, rows in bodies:
            energy.setdefault(body_id, []).append(np.array(rows, dtype=np.float64)[:, :3])
    ranked = sorted(energy, key=lambda b: -np.var(np.stack(energy[b]), axis=0).sum())
    most_active = np.array(dict(raw_bodies(path)[0])[ranked[0]], dtype=np.float64)
    np.testing.assert_allclose(seq.joints[0, 0], most_active[:, :3], rtol=1e-6)

    single = read_ntu_skeleton(path, max_bodies=1)
    assert single.joints.shape == (70, 1, 25, 3)
    np.testing.assert_array_equal(single.joints[:, 0], seq.joints[:, 0])
    assert single.skipped == {"dropped_bodies": 1, "dropped_body_frames": 70}


@pytest.mark.parametrize("name", sorted(FRAMES))
def test_projections_plausible(name: str) -> None:
    seq = read_ntu_skeleton(ntu_file(name))
    seen = seq.mask > 0
    color, depth, joints = seq.projections["color"][seen], seq.projections["depth"][seen], seq.joints[seen]
    assert ((color >= 0) & (color <= [1920, 1080])).all()
    assert ((depth >= 0) & (depth <= [512, 424])).all()
    assert (joints[:, 2] > 0.5).all() and (joints[:, 2] < 8).all()  # Kinect v2 range, metres
    # pinhole: image x follows x/z, image y runs opposite to y/z (y up in metres, down in pixels)
    assert np.corrcoef(joints[:, 0] / joints[:, 2], color[:, 0])[0, 1] > 0.99
    assert np.corrcoef(joints[:, 1] / joints[:, 2], color[:, 1])[0, 1] < -0.99


@pytest.mark.parametrize("name", sorted(FRAMES))
def test_bone_lengths_constant_for_tracked_joints(name: str) -> None:
    seq = read_ntu_skeleton(ntu_file(name))
    variations = []
    for body in range(seq.num_bodies):
        for bone, (a, b) in LIMBS.items():
            tracked = (seq.mask[:, body, a] == 1.0) & (seq.mask[:, body, b] == 1.0)
            if tracked.sum() < 10:
                continue
            length = np.linalg.norm(seq.joints[tracked, body, a] - seq.joints[tracked, body, b], axis=-1)
            assert 0.12 < length.mean() < 0.5, f"{bone} of body {body}: {length.mean():.3f} m"
            assert length.std() / length.mean() < 0.2, f"{bone} of body {body} varies by {length.std():.3f} m"
            variations.append(length.std() / length.mean())
    assert len(variations) >= 7 and np.median(variations) < 0.08


def test_crlf_and_lf_read_the_same(tmp_path: Path) -> None:
    path = ntu_file(TWO_PEOPLE)
    assert b"\r\n" in path.read_bytes()  # this one file of the sample has Windows line ends
    lf = tmp_path / path.name
    lf.write_bytes(path.read_bytes().replace(b"\r\n", b"\n"))
    np.testing.assert_array_equal(read_ntu_skeleton(lf).joints, read_ntu_skeleton(path).joints)


# ---------------------------------------------------------------- synthetic files


def joint_rows(offset: float = 0.0, state: int = 2, rng: np.random.Generator | None = None) -> np.ndarray:
    """(25, 12) joint values: a plausible body at ``offset`` metres, optionally jittered."""
    rows = np.zeros((25, 12))
    rows[:, 0] = offset + np.linspace(-0.3, 0.3, 25)
    rows[:, 1] = np.linspace(-0.8, 0.8, 25)
    rows[:, 2] = 3.0
    if rng is not None:
        rows[:, :3] += rng.normal(0.0, 0.05, (25, 3))
    rows[:, 3:5] = [250.0, 200.0]
    rows[:, 5:7] = [960.0, 540.0]
    rows[:, 7] = 1.0
    rows[:, 11] = state
    return rows


def write_ntu(path: Path, frames: list[list[tuple[int, np.ndarray]]], header: int | None = None) -> Path:
    """Write frames of [(bodyID, (25, 12) rows)] in the NTU text format."""
    out = [str(len(frames) if header is None else header)]
    for bodies in frames:
        out.append(str(len(bodies)))
        for body_id, rows in bodies:
            out.append(f"{body_id} 0 1 1 1 1 0 0.02 0.05 2")
            out.append("25")
            out.extend(" ".join(f"{v:.9g}" for v in row[:11]) + f" {int(row[11])}" for row in rows)
    path.write_text("\n".join(out) + "\n")
    return path


def two_frames(tmp_path: Path, name: str = "S002C003P004R001A120.skeleton") -> Path:
    return write_ntu(tmp_path / name, [[(7, joint_rows())], [(7, joint_rows(0.01))]])


def edit_line(path: Path, number: int, new: str | None) -> Path:
    lines = path.read_text().splitlines()
    if new is None:
        del lines[number - 1]
    else:
        lines[number - 1] = new
    path.write_text("\n".join(lines) + "\n")
    return path


def raises_at(path: Path, line: int, match: str) -> DataFormatError:
    with pytest.raises(DataFormatError, match=match) as info:
        read_ntu_skeleton(path)
    assert info.value.line == line
    assert f"{path.name}:{line}:" in str(info.value)
    return info.value


def test_synthetic_file_reads(tmp_path: Path) -> None:
    seq = read_ntu_skeleton(two_frames(tmp_path))
    assert seq.joints.shape == (2, 2, 25, 3)
    assert (seq.label, seq.subject, seq.name) == ("A120", 4, "S002C003P004R001A120")
    np.testing.assert_allclose(seq.joints[1, 0], joint_rows(0.01)[:, :3], rtol=1e-6)
    assert seq.mask[:, 0].min() == 1.0 and seq.mask[:, 1].max() == 0.0


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.skeleton"
    path.write_text("\n\n")
    raises_at(path, 1, "empty file")


def test_truncated_file(tmp_path: Path) -> None:
    path = two_frames(tmp_path)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-10]) + "\n")  # cut inside frame 2's joints
    raises_at(path, len(lines) - 10 + 1, r"ends early: expected 25 lines of joints of frame 2 of 2.*found 15")


def test_frame_count_larger_than_data(tmp_path: Path) -> None:
    path = edit_line(two_frames(tmp_path), 1, "3")
    raises_at(path, 58, "ends early: expected body count of frame 3 of 3")


def test_frame_count_smaller_than_data(tmp_path: Path) -> None:
    path = edit_line(two_frames(tmp_path), 1, "1")
    raises_at(path, 30, "frame count mismatch: line 1 declares 1 frames")


def test_wrong_joint_column_count(tmp_path: Path) -> None:
    path = two_frames(tmp_path)
    line = path.read_text().splitlines()[40]
    raises_at(edit_line(path, 41, line.rsplit(" ", 2)[0]), 41, "expected 12 values, found 10")


def test_wrong_body_column_count(tmp_path: Path) -> None:
    raises_at(edit_line(two_frames(tmp_path), 31, "7 0 1 1 1 1 0 0.02 2"), 31, "expected 10 body fields, found 9")


def test_non_numeric_joint_value(tmp_path: Path) -> None:
    path = two_frames(tmp_path)
    line = path.read_text().splitlines()[9]
    raises_at(edit_line(path, 10, "abc " + line.split(" ", 1)[1]), 10, "non-numeric value 'abc'")


def test_non_numeric_counts_and_ids(tmp_path: Path) -> None:
    raises_at(edit_line(two_frames(tmp_path), 1, "two"), 1, "expected frame count")
    raises_at(edit_line(two_frames(tmp_path), 2, "nan"), 2, "expected body count of frame 1")
    raises_at(edit_line(two_frames(tmp_path), 4, "25.0"), 4, "expected joint count of frame 1")
    raises_at(edit_line(two_frames(tmp_path), 3, "x7 0 1 1 1 1 0 0.02 0.05 2"), 3, "bodyID must be an integer")
    raises_at(edit_line(two_frames(tmp_path), 2, "-1"), 2, "negative")


def test_wrong_joint_count(tmp_path: Path) -> None:
    raises_at(edit_line(two_frames(tmp_path), 4, "20"), 4, "expected 25 joints")


def test_nan_tracking_state_is_an_error(tmp_path: Path) -> None:
    path = two_frames(tmp_path)
    line = path.read_text().splitlines()[6]
    raises_at(edit_line(path, 7, line.rsplit(" ", 1)[0] + " nan"), 7, "trackingState must be 0, 1 or 2, got 'nan'")
    raises_at(edit_line(path, 7, line.rsplit(" ", 1)[0] + " 3"), 7, "trackingState")


def test_nan_joint_is_masked_and_counted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = two_frames(tmp_path)
    line = path.read_text().splitlines()[6]  # frame 1, joint 2
    edit_line(path, 7, "nan " + line.split(" ", 1)[1])
    with caplog.at_level(logging.WARNING, logger="models.datasets.ntu"):
        seq = read_ntu_skeleton(path)
    assert seq.skipped == {"nonfinite_joints": 1}
    assert seq.mask[0, 0, 2] == 0.0 and np.isfinite(seq.joints).all() and not seq.joints[0, 0, 2].any()
    assert seq.mask[0, 0].sum() == 24 and seq.mask[1, 0].sum() == 25
    assert "nonfinite_joints" in caplog.text and path.name in caplog.text


def test_extra_bodies_dropped_by_motion_and_counted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    rng = np.random.default_rng(0)
    frames = []
    for t in range(6):
        bodies = [(11, joint_rows(-1.0)),  # still: least motion
                  (22, joint_rows(0.0, rng=rng) + [[0.2 * t] + [0] * 11]),  # walks: most motion
                  (33, joint_rows(1.0, rng=rng))]  # jitters
        frames.append(bodies if t < 4 else bodies[1:])
    path = write_ntu(tmp_path / "crowd.skeleton", frames)
    with caplog.at_level(logging.WARNING, logger="models.datasets.ntu"):
        seq = read_ntu_skeleton(path)
    assert seq.skipped == {"dropped_bodies": 1, "dropped_body_frames": 4}
    walker = np.stack([dict(bodies)[22][:, :3] for bodies in frames])
    np.testing.assert_allclose(seq.joints[:, 0], walker, rtol=1e-6)
    np.testing.assert_allclose(seq.joints[:, 1, 0, 0].mean(), 1.0 - 0.3, atol=0.1)
    assert (seq.label, seq.subject) == (None, None)  # not an NTU file name
    assert "dropped_bodies" in caplog.text


def test_bodies_come_and_go(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    frames = [[(5, joint_rows(rng=rng))], [], [(5, joint_rows(rng=rng)), (6, joint_rows(1.0))], [(6, joint_rows(1.0))]]
    seq = read_ntu_skeleton(write_ntu(tmp_path / "S001C001P001R001A001.skeleton", frames))
    assert seq.skipped == {"frames_without_body": 1}
    present = (seq.mask > 0).any(axis=2)
    np.testing.assert_array_equal(present, [[True, False], [False, False], [True, True], [False, True]])
    assert not seq.joints[1].any() and not seq.projections["color"][1].any()


def test_duplicate_body_id_in_a_frame_is_counted(tmp_path: Path) -> None:
    frames = [[(5, joint_rows()), (5, joint_rows(2.0))], [(5, joint_rows())]]
    seq = read_ntu_skeleton(write_ntu(tmp_path / "dup.skeleton", frames))
    assert seq.skipped == {"duplicate_body_ids": 1}
    np.testing.assert_allclose(seq.joints[0, 0], joint_rows()[:, :3], rtol=1e-6)
    assert not seq.mask[:, 1].any()


def test_large_body_ids_and_zero_frames(tmp_path: Path) -> None:
    seq = read_ntu_skeleton(write_ntu(tmp_path / "big.skeleton", [[(2**64 - 1, joint_rows())]]))
    assert seq.mask[0, 0].all()
    empty = read_ntu_skeleton(write_ntu(tmp_path / "none.skeleton", []))
    assert empty.joints.shape == (0, 2, 25, 3)


def test_max_bodies_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_bodies"):
        read_ntu_skeleton(two_frames(tmp_path), max_bodies=0)


def test_parse_ntu_name() -> None:
    assert parse_ntu_name("S017C003P020R002A120.skeleton") == NtuName(17, 3, 20, 2, 120)
    assert parse_ntu_name("/x/S001C001P001R001A001").label == "A001"
    assert parse_ntu_name("A10N08-L.txt") is None


@settings(max_examples=20, deadline=None)
@given(
    counts=st.lists(st.integers(0, 3), min_size=1, max_size=6),
    seed=st.integers(0, 2**16),
)
def test_round_trip(tmp_path_factory: pytest.TempPathFactory, counts: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    frames = []
    for count in counts:
        bodies = []
        for body_id in rng.permutation(3)[:count]:
            rows = joint_rows(float(body_id), rng=rng)
            rows[:, 11] = rng.integers(0, 3, 25)
            bodies.append((int(body_id) + 100, rows))
        frames.append(bodies)
    path = write_ntu(tmp_path_factory.mktemp("rt") / "rt.skeleton", frames)
    seq = read_ntu_skeleton(path, max_bodies=3)
    for t, bodies in enumerate(frames):
        assert (seq.mask[t].sum(axis=1) > 0).sum() <= len(bodies)
        for _, rows in bodies:
            slot = int(np.argmin(np.abs(seq.joints[t, :, :, 0] - rows[:, 0]).sum(axis=1)))
            np.testing.assert_allclose(seq.joints[t, slot], rows[:, :3], rtol=1e-6, atol=1e-7)
            np.testing.assert_array_equal(seq.mask[t, slot], np.array([0.0, 0.5, 1.0])[rows[:, 11].astype(int)])
    assert seq.skipped.get("frames_without_body", 0) == counts.count(0)
