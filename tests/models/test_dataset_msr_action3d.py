"""MSR Action3D reader: every real clip against its raw text, zero frames, confidence, bad inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from foundation.errors import DataFormatError
from models.datasets.msr_action3d import (
    MSR_ACTION3D_ACTIONS,
    MSR_ACTION3D_FPS,
    read_msr_action3d,
    read_msr_action3d_folder,
)
from models.skeleton.sequence import SkeletonSequence
from tests.conftest import shared_dataset


@pytest.fixture(scope="module")
def root() -> Path:
    return shared_dataset("msr_action3d")


@pytest.fixture(scope="module")
def clips(root: Path) -> dict[str, SkeletonSequence]:
    return {clip.name: clip for clip in read_msr_action3d_folder(root)}


def _raw_lines(path: Path) -> list[list[float]]:
    return [[float(v) for v in line.split()] for line in path.read_text().splitlines() if line.strip()]


def test_every_clip_matches_raw_text(root: Path, clips: dict[str, SkeletonSequence]) -> None:
    paths = sorted(root.glob("*_skeleton3D.txt"))
    assert len(paths) == len(clips) == 387
    for path in paths:
        lines = _raw_lines(path)
        clip = clips[path.name.removesuffix("_skeleton3D.txt")]
        assert clip.num_frames * 20 == len(lines)
        for t in (0, clip.num_frames // 2, clip.num_frames - 1):
            for j in (0, 7, 19):
                x, y, z, conf = lines[20 * t + j]
                np.testing.assert_allclose(clip.joints[t, 0, j], [x, y, z], atol=1e-6)
                assert clip.projections["confidence"][t, 0, j] == pytest.approx(conf, abs=1e-6)


def test_spot_values_a01_s01_e01(clips: dict[str, SkeletonSequence]) -> None:
    clip = clips["a01_s01_e01"]  # lines 2, 3 and 1080 of the raw file
    assert clip.num_frames == 54
    np.testing.assert_allclose(clip.joints[0, 0, 1], [-0.014095, 0.355341, 2.678124], atol=1e-6)
    assert clip.projections["confidence"][0, 0, 2] == 0.0 and clip.mask[0, 0, 2] == 1.0
    np.testing.assert_allclose(clip.joints[53, 0, 19], [-0.120735, 0.666254, 2.568600], atol=1e-6)


def test_metadata(clips: dict[str, SkeletonSequence]) -> None:
    for name, clip in clips.items():
        assert clip.label == MSR_ACTION3D_ACTIONS[int(name[1:3]) - 1]
        assert clip.subject == int(name[5:7])
        assert clip.layout == "msr_action3d_20" and clip.fps == MSR_ACTION3D_FPS == 15.0
        assert clip.joints.shape == (clip.num_frames, 1, 20, 3) and clip.joints.dtype == np.float32
        assert clip.projections["confidence"].shape == clip.mask.shape
        assert clip.frame_ids.tolist() == list(range(clip.num_frames))
    assert clips["a01_s01_e01"].label == "high arm wave"
    assert clips["a20_s07_e03"].label == "pickup and throw"
    assert len(MSR_ACTION3D_ACTIONS) == 20


def test_subject_and_paper_filters(root: Path) -> None:
    assert len(read_msr_action3d_folder(root, subjects=[4])) == 38  # the data README's count
    assert {c.subject for c in read_msr_action3d_folder(root, subjects=[4, 8])} == {4}
    paper = read_msr_action3d_folder(root, subjects=[3, 4, 7], paper_list_only=True)
    dropped = {"a02_s03_e02", "a04_s03_e01", "a07_s04_e01", "a14_s03_e01", "a20_s07_e01", "a20_s07_e03"}
    assert len(paper) == 56 + 38 + 59 - len(dropped)
    assert not dropped & {c.name for c in paper}


def test_all_zero_frames_kept_and_counted(clips: dict[str, SkeletonSequence]) -> None:
    counted = {name: clip.skipped["all_zero_frame"] for name, clip in clips.items() if clip.skipped}
    assert sum(counted.values()) == 260
    assert counted["a07_s04_e01"] == 36 and clips["a07_s04_e01"].num_frames == 45
    assert {name[:3] for name in counted} == {"a07", "a13", "a14", "a20"}
    for clip in clips.values():
        zero = (clip.joints == 0).all(axis=(1, 2, 3))
        assert (clip.mask[zero] == 0).all() and (clip.mask[~zero] == 1).all()
        assert zero.sum() == clip.skipped.get("all_zero_frame", 0)


def test_confidence_zero_marks_filled_in_joints(clips: dict[str, SkeletonSequence]) -> None:
    conf = np.concatenate([c.projections["confidence"][c.mask[:, 0, 0] > 0, 0] for c in clips.values()])
    assert 0.2 < (conf == 0).mean() < 0.35  # "about a quarter"
    per_joint = (conf == 0).mean(axis=0)
    # shoulder_center, spine, hip_center and the feet: positions filled in by the tracker
    assert set(np.flatnonzero(per_joint > 0.5).tolist()) == {2, 3, 6, 17, 18}


# --- synthetic files ---------------------------------------------------------------------


def _frame(value: float = 0.5) -> list[str]:
    return [f"{value + 0.01 * j:.6f} {-value:.6f} 2.500000 1.000000" for j in range(20)]


def _write(tmp_path: Path, lines: list[str], name: str = "a03_s09_e02_skeleton3D.txt") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def test_synthetic_clip(tmp_path: Path) -> None:
    lines = _frame(0.1) + ["0 0 0 0"] * 20 + _frame(0.3)
    lines[45] = "0.000000 0.000000 0.000000 0.000000"  # one zero joint in a present frame
    clip = read_msr_action3d(_write(tmp_path, lines))
    assert (clip.name, clip.label, clip.subject, clip.num_frames) == ("a03_s09_e02", "hammer", 9, 3)
    assert clip.skipped == {"all_zero_frame": 1}
    assert clip.mask[1].sum() == 0 and clip.mask[2, 0, 5] == 0 and clip.mask[2].sum() == 19
    np.testing.assert_allclose(clip.joints[2, 0, 6], [0.36, -0.3, 2.5], atol=1e-6)


@pytest.mark.parametrize(
    ("lines", "line", "message"),
    [
        (_frame() + _frame()[:7], 27, "27 joint lines is not a multiple of 20"),
        (_frame()[:3] + ["0.1 0.2 0.3"] + _frame()[4:], 4, "expected 4 numbers, got 3"),
        (_frame()[:3] + ["0.1 0.2 0.3 1 5"] + _frame()[4:], 4, "expected 4 numbers, got 5"),
        (_frame()[:9] + ["0.1 nan 0.3 1"] + _frame()[10:], 10, "non-finite"),
        (_frame()[:9] + ["0.1 0,2 0.3 1"] + _frame()[10:], 10, "non-numeric"),
        (["", *_frame()[:9], "0.1 0.2 0.3 1.#IND", *_frame()[10:]], 11, "non-numeric"),
    ],
)
def test_malformed_clip(tmp_path: Path, lines: list[str], line: int, message: str) -> None:
    path = _write(tmp_path, lines)
    with pytest.raises(DataFormatError, match=message) as error:
        read_msr_action3d(path)
    assert error.value.line == line and str(error.value).startswith(f"{path}:{line}: ")


def test_empty_clip(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="empty file"):
        read_msr_action3d(_write(tmp_path, []))


@pytest.mark.parametrize(("name", "message"), [("clip.txt", "aXX_sYY_eZZ"), ("a21_s01_e01_skeleton3D.txt", "a21")])
def test_bad_clip_name(tmp_path: Path, name: str, message: str) -> None:
    with pytest.raises(DataFormatError, match=message):
        read_msr_action3d(_write(tmp_path, _frame(), name=name))
