"""The florence-camera dataset: clip files written and read back, bad files named, its home in the cache, and
its labels in the `actions` and `gestures` vocabularies (the clips made from real video:
tests/stream/test_video_evaluation.py)."""

from __future__ import annotations

import numpy as np
import pytest

from foundation.errors import DataFormatError, SkelstreamError
from models.datasets.florence_camera import (FLORENCE_ACTIONS, default_folder, read_clip_skeletons,
                                             read_florence_camera_folder, write_clip_skeletons)  # fmt: skip
from models.datasets.registry import load_ref, resolve_root
from models.training.detection_targets import detection_targets
from models.training.vocabularies import MSRC12_MAP, UTKINECT_MAP, mapped_label


def _clip(frames: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    joints = rng.normal(size=(frames, 30, 3)).astype(np.float32)
    mask = rng.uniform(0.5, 1.0, size=(frames, 30)).astype(np.float32)
    return joints, mask, np.array([1, 2, 3, 5, 6, 7][:frames], np.int64)


def test_a_clip_round_trips_as_a_one_body_unified_sequence(tmp_path):
    joints, mask, frames = _clip()
    joints[2, 4] = np.nan  # a joint the pose step lost
    path = tmp_path / "GestureRecording_Id5actor1idAction5category2.npz"
    write_clip_skeletons(path, joints, mask, frames, 20.0, "drink from a bottle", 1)
    assert not list(tmp_path.glob("*.partial"))
    sequence = read_clip_skeletons(path)
    assert sequence.layout == "unified_30" and sequence.joints.shape == (6, 1, 30, 3) and sequence.fps == 20.0
    assert sequence.label == "drink from a bottle" and sequence.subject == 1 and sequence.name == path.stem
    assert sequence.frame_ids.tolist() == [1, 2, 3, 5, 6, 7]  # a frame without the person stays a gap
    assert sequence.mask[2, 0, 4] == 0 and sequence.joints[2, 0, 4].tolist() == [0, 0, 0]
    assert sequence.skipped == {"missing_joint": 1}
    keep = np.ones((6, 30), bool)
    keep[2, 4] = False
    np.testing.assert_array_equal(sequence.joints[:, 0][keep], joints[keep])
    np.testing.assert_array_equal(sequence.mask[:, 0][keep], mask[keep])


def test_bad_files_are_named_with_what_is_wrong(tmp_path):
    joints, mask, frames = _clip()
    with pytest.raises(ValueError, match="unknown Florence action 'juggle'"):
        write_clip_skeletons(tmp_path / "x.npz", joints, mask, frames, 20.0, "juggle", 1)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not an archive")
    with pytest.raises(DataFormatError, match="garbage.npz: not a readable .npz"):
        read_clip_skeletons(garbage)
    torn = tmp_path / "torn.npz"
    write_clip_skeletons(torn, joints, mask, frames, 20.0, "wave", 1)
    torn.write_bytes(torn.read_bytes()[:200])
    with pytest.raises(DataFormatError, match="torn.npz"):
        read_clip_skeletons(torn)
    partial = tmp_path / "partial.npz"
    np.savez(partial, joints=joints, mask=mask)
    with pytest.raises(DataFormatError, match="partial.npz: no array frame_ids, fps, action, actor"):
        read_clip_skeletons(partial)
    short = tmp_path / "short.npz"
    write_clip_skeletons(short, joints, mask[:3], frames, 20.0, "wave", 1)
    with pytest.raises(DataFormatError, match=r"short.npz: expected joints \(T, 30, 3\)"):
        read_clip_skeletons(short)
    backwards = tmp_path / "backwards.npz"
    write_clip_skeletons(backwards, joints, mask, frames[::-1], 20.0, "wave", 1)
    with pytest.raises(DataFormatError, match="backwards.npz: frame_ids do not increase"):
        read_clip_skeletons(backwards)


def test_the_folder_reads_by_actor_and_says_how_to_make_it_when_empty(tmp_path):
    with pytest.raises(DataFormatError, match="--save-skeletons"):
        read_florence_camera_folder(tmp_path)
    for actor, action in ((1, "wave"), (2, "bow"), (3, "clap")):
        joints, mask, frames = _clip(seed=actor)
        write_clip_skeletons(tmp_path / f"clip{actor}.npz", joints, mask, frames, 20.0, action, actor)
    assert [s.label for s in read_florence_camera_folder(tmp_path)] == ["wave", "bow", "clap"]
    assert [s.subject for s in read_florence_camera_folder(tmp_path, {1, 3})] == [1, 3]


def test_the_dataset_lives_in_the_skelstream_cache_not_under_the_data_root(tmp_path, monkeypatch):
    monkeypatch.setenv("SKELSTREAM_CACHE", str(tmp_path / "cache"))
    assert default_folder() == tmp_path / "cache" / "derived" / "florence_camera"
    with pytest.raises(SkelstreamError, match="florence_camera does not exist; make it with `stream-eval"):
        resolve_root("florence-camera", tmp_path / "data")
    default_folder().mkdir(parents=True)
    for actor in (1, 2):
        joints, mask, frames = _clip(seed=actor)
        write_clip_skeletons(default_folder() / f"clip{actor}.npz", joints, mask, frames, 20.0, "clap", actor)
    assert resolve_root("florence-camera", tmp_path / "anywhere") == default_folder()
    assert [s.subject for s in load_ref("florence-camera:2", tmp_path / "anywhere")] == [2]


def test_the_actions_vocabulary_keeps_four_florence_actions_and_makes_the_rest_background():
    mapped = {action: mapped_label(UTKINECT_MAP, "florence-camera", action) for action in FLORENCE_ACTIONS}
    assert mapped == {"wave": "waveHands", "drink from a bottle": "background", "answer phone": "background",
                      "clap": "clapHands", "tie lace": "background", "sit down": "sitDown", "stand up": "standUp",
                      "read watch": "background", "bow": "background"}  # fmt: skip


def test_the_gestures_vocabulary_learns_the_bow_from_its_active_span_and_nothing_else(tmp_path):
    assert {action: mapped_label(MSRC12_MAP, "florence-camera", action) for action in FLORENCE_ACTIONS} == {
        action: "bow" if action == "bow" else "background" for action in FLORENCE_ACTIONS}
    frames = 20
    joints = np.zeros((frames, 30, 3), np.float32)
    joints[:, 1, 1] = 0.5  # a torso of 0.5 m (spine_shoulder above spine_base)
    joints[6:14, :, 2] = np.linspace(0.0, 0.4, 8)[:, None]  # the bow: frames 6-13 move, the ends stand still
    joints[14:, :, 2] = 0.4
    for action in ("bow", "tie lace"):
        write_clip_skeletons(tmp_path / f"{action}.npz", joints, np.ones((frames, 30), np.float32),
                             np.arange(frames), 20.0, action, 1)  # fmt: skip
    vocabulary = ["background", "bow", "duck"]
    targets = {sequence.label: target for sequence, target in detection_targets(
        read_florence_camera_folder(tmp_path), "classification", vocabulary,
        lambda label: mapped_label(MSRC12_MAP, "florence-camera", label), (0.3, 0.3))}  # fmt: skip
    bow = np.flatnonzero(targets["bow"] == 1)
    assert 4 <= bow[0] <= 7 and 13 <= bow[-1] <= 16 and set(targets["bow"]) == {0, 1}  # the motion, not the rest
    assert not targets["tie lace"].any()
