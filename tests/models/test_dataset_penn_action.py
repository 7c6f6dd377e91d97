"""Penn Action reader: all 2 326 real clips against their raw files, whose left and right, bad inputs.

Whose left/right, each a test below. The README lists the columns as head,
left/right shoulder, elbow, wrist, hip, knee, ankle; the data say its "left" is
the person's right (layout ``penn_action_13`` names sides as the person's own):
- the sides follow the body, not the image: the README's "left" joints sit on the
  image's left when the annotated viewpoint is ``front`` and on its right when it
  is ``back`` (so they are not the viewer's image sides);
- and they are the person's right: in the actions done with one hand -- strumming
  a guitar (filmed from the front), bowling (from behind), forehands, pitches --
  the README's "left_wrist" is the busy one, as the right hand is for most people;
  the strumming wrist is on the image's left, where a right hand is when the
  person faces the camera;
- in ``right`` views (the person faces the image's right -- knees, heads -- so the
  camera sees their right side) the README's "left" joints are the more visible.
``left`` views are inconsistent: their visible side is always the README's
"right", but only about half of those people face the image's left, so about
half of the ``left`` clips have their sides swapped with respect to the rest.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from hypothesis import given
from hypothesis import strategies as st

from foundation.errors import DataFormatError, SkelstreamError
from models.datasets.penn_action import (
    INVISIBLE_CONFIDENCE,
    PENN_ACTIONS,
    PENN_FPS,
    read_penn_action,
    read_penn_action_folder,
)
from models.datasets.registry import dataset_spec, load_dataset
from models.skeleton.layouts import PENN_ACTION_13, UNIFIED_30
from models.skeleton.sequence import SkeletonSequence
from models.skeleton.unified import sequence_to_unified
from tests.conftest import shared_dataset
from tests.fuzzing import FUZZ, mutated


J = PENN_ACTION_13.index
CLIPS_PER_ACTION = {"baseball_pitch": 167, "baseball_swing": 173, "bench_press": 140, "bowl": 220,
                    "clean_and_jerk": 88, "golf_swing": 166, "jump_rope": 82, "jumping_jacks": 112, "pullup": 199,
                    "pushup": 211, "situp": 100, "squat": 231, "strum_guitar": 94, "tennis_forehand": 157,
                    "tennis_serve": 186}  # fmt: skip
OUTSIDE_IMAGE = {"0979": 86, "1021": 387, "1024": 329, "1032": 210}  # visible joints beyond the image, jump_rope


@pytest.fixture(scope="module")
def root() -> Path:
    return shared_dataset("penn_action")


@pytest.fixture(scope="module")
def clips(root: Path) -> dict[str, SkeletonSequence]:
    return {clip.name: clip for clip in read_penn_action_folder(root)}


def _xy(clip: SkeletonSequence) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T, 13) image x, image y and whether each joint was annotated visible."""
    return clip.joints[:, 0, :, 0], clip.joints[:, 0, :, 1], clip.mask[:, 0] == 1


def _of(clips: dict[str, SkeletonSequence], action: str | None = None, view: str | None = None) -> list:
    return [c for c in clips.values() if action in (None, c.label) and view in (None, c.attributes["view"])]


def _right_on_image_left(clip: SkeletonSequence) -> float | None:
    """Share of frames whose right shoulder and hip are left of the left ones (None: no frame shows all four)."""
    x, _, visible = _xy(clip)
    parts = ("shoulder", "hip")
    both = np.all([visible[:, J(f"{p}_{s}")] for p in parts for s in ("left", "right")], axis=0)
    if not both.any():
        return None
    offset = sum(x[both, J(f"{p}_right")] - x[both, J(f"{p}_left")] for p in parts)
    return float((offset < 0).mean())


def _busier_wrist_is_right(clip: SkeletonSequence) -> bool:
    """Whether the right wrist travels further than the left, relative to its shoulder (camera pans cancel)."""
    x, y, _ = _xy(clip)
    travel = {side: np.linalg.norm(np.diff(np.stack([x[:, J(f"wrist_{side}")] - x[:, J(f"shoulder_{side}")],
                                                     y[:, J(f"wrist_{side}")] - y[:, J(f"shoulder_{side}")]], 1),
                                           axis=0), axis=1).sum() for side in ("left", "right")}  # fmt: skip
    return bool(travel["right"] > travel["left"])


def _faces_image_right(clip: SkeletonSequence) -> bool:
    """Side views: the way the person faces on the image, from the knees (squat, sit-up) or the head (push-up)."""
    x, y, _ = _xy(clip)
    hips = (x[:, J("hip_left")] + x[:, J("hip_right")]) / 2
    knees = (x[:, J("knee_left")] + x[:, J("knee_right")]) / 2
    if clip.label == "squat":  # at the deepest frame the knees are ahead of the hips
        deepest = int(np.argmax(y[:, J("hip_left")] + y[:, J("hip_right")]))
        return bool(knees[deepest] > hips[deepest])
    ahead = x[:, J("head")] if clip.label == "pushup" else knees
    return bool(np.mean(ahead > hips) > 0.5)


# --- every file ----------------------------------------------------------------------------


def test_reads_every_clip(clips: dict[str, SkeletonSequence]) -> None:
    assert list(clips) == [f"{n:04d}" for n in range(1, 2327)]
    assert Counter(c.label for c in clips.values()) == CLIPS_PER_ACTION and len(CLIPS_PER_ACTION) == len(PENN_ACTIONS)
    assert Counter(c.attributes["split"] for c in clips.values()) == {"train": 1258, "test": 1068}
    assert Counter(c.attributes["view"] for c in clips.values()) == {"front": 612, "back": 604, "right": 597,
                                                                     "left": 513}  # fmt: skip
    assert sum(c.num_frames for c in clips.values()) == 163_841


def test_every_clip_matches_its_mat_file(root: Path, clips: dict[str, SkeletonSequence]) -> None:
    for name, clip in clips.items():
        raw = scipy.io.loadmat(root / "labels" / f"{name}.mat")
        x, y, visibility = (raw[key].astype(np.float64) for key in ("x", "y", "visibility"))
        np.testing.assert_array_equal(clip.joints[:, 0], np.stack([x, y], axis=-1).astype(np.float32))
        height, width, frames = raw["dimensions"][0].astype(float)
        inside = (x >= 0) & (x <= width) & (y >= 0) & (y <= height)
        expected = np.where((visibility == 1) & inside, 1.0, INVISIBLE_CONFIDENCE) * ((x != 0) | (y != 0))
        np.testing.assert_array_equal(clip.mask[:, 0], expected)
        assert clip.num_frames == frames == int(raw["nframes"][0, 0])
        assert clip.label == raw["action"][0] and clip.attributes == {
            "split": "train" if raw["train"][0, 0] == 1 else "test", "view": raw["pose"][0],
            "image_width": f"{width:g}", "image_height": f"{height:g}"}  # fmt: skip
        assert clip.layout == "penn_action_13" and clip.fps == PENN_FPS == 30.0 and clip.subject is None
        assert clip.frame_ids.tolist() == list(range(clip.num_frames)) and clip.joints.dtype == np.float32


def test_spot_values_0001(clips: dict[str, SkeletonSequence]) -> None:
    clip = clips["0001"]  # row 1 of x, y and visibility in 0001.mat
    assert (clip.label, clip.attributes["view"], clip.attributes["split"], clip.num_frames) == (
        "baseball_pitch", "back", "test", 151)  # fmt: skip
    np.testing.assert_array_equal(clip.joints[0, 0, :3], [[136.5, 71.25], [135.0, 102.75], [102.75, 99.0]])
    assert clip.mask[0, 0, :3].tolist() == [1.0, 1.0, 0.5]  # the README's "right_shoulder" is not visible
    assert (clip.attributes["image_width"], clip.attributes["image_height"]) == ("480", "360")


def test_quirks_counted(clips: dict[str, SkeletonSequence]) -> None:
    total = Counter()
    for clip in clips.values():
        total.update(clip.skipped)
    assert total == {"no_visible_joint": 177, "zero_joint": 26, "visible_outside_image": 1012}
    assert {n: c.skipped["visible_outside_image"] for n, c in clips.items()
            if "visible_outside_image" in c.skipped} == OUTSIDE_IMAGE  # fmt: skip
    assert {clips[n].label for n in OUTSIDE_IMAGE} == {"jump_rope"}
    for clip in clips.values():
        assert int((clip.mask == 0).sum()) == clip.skipped.get("zero_joint", 0)
        assert (clip.joints[clip.mask == 0] == 0).all()


def test_registry(root: Path) -> None:
    spec = dataset_spec("penn-action")
    assert (spec.folder, spec.task, spec.labels) == ("penn_action", "classification", PENN_ACTIONS)
    with pytest.raises(SkelstreamError, match="no subject ids"):
        load_dataset("penn-action", root.parent, [1])


def test_invisible_joints_are_estimates(clips: dict[str, SkeletonSequence]) -> None:
    """Joints marked not visible hold positions where the limb would be: their bones are as long as visible ones."""
    ratio = {True: [], False: []}
    for clip in clips.values():
        x, y, visible = _xy(clip)
        torso = np.hypot(*(v[:, J("shoulder_right")] - v[:, J("hip_right")] for v in (x, y)))
        for side in ("left", "right"):
            for child, parent in ((f"elbow_{side}", f"shoulder_{side}"), (f"knee_{side}", f"hip_{side}")):
                length = np.hypot(x[:, J(child)] - x[:, J(parent)], y[:, J(child)] - y[:, J(parent)])
                known = visible[:, J(parent)] & visible[:, J("shoulder_right")] & visible[:, J("hip_right")]
                for seen in (True, False):
                    chosen = known & (visible[:, J(child)] == seen) & (torso > 0)
                    ratio[seen].extend(length[chosen] / torso[chosen])
    assert len(ratio[False]) > 30_000  # 37 279 hidden elbows and knees, 0.626 of the torso; visible 0.632
    assert np.median(ratio[False]) == pytest.approx(np.median(ratio[True]), rel=0.05)  # measured: within 1 %


def test_frame_rate_gives_human_cadences(clips: dict[str, SkeletonSequence]) -> None:
    """At 30 fps a jumping jack (one per clip) takes about a second and a rope skip about half of one."""
    jacks = np.median([c.num_frames for c in _of(clips, "jumping_jacks")]) / PENN_FPS
    assert 0.8 < jacks < 1.3  # measured 1.0 s
    periods = []
    for clip in _of(clips, "jump_rope"):
        _, y, _ = _xy(clip)
        signal = y[:, [J("ankle_left"), J("ankle_right")]].mean(axis=1)
        signal = signal - signal.mean()
        if len(signal) < 30 or not signal.any():
            continue
        correlation = np.correlate(signal, signal, "full")[len(signal) - 1 :] / np.dot(signal, signal)
        start = int(np.argmax(correlation < 0))
        lag = start + int(np.argmax(correlation[start:100]))
        if start and correlation[lag] > 0.3:
            periods.append(lag)
    assert len(periods) > 40 and 0.35 < np.median(periods) / PENN_FPS < 0.6  # measured 14 frames, 0.47 s


# --- whose left and right ----------------------------------------------------------------------


def test_sides_follow_the_body_not_the_image(clips: dict[str, SkeletonSequence]) -> None:
    share = {view: [s for s in map(_right_on_image_left, _of(clips, view=view)) if s is not None]
             for view in ("front", "back")}  # fmt: skip
    front = np.mean(np.array(share["front"]) > 0.5)  # facing the camera: the right side is on the image's left
    back = np.mean(np.array(share["back"]) < 0.5)  # seen from behind: on the image's right
    assert len(share["front"]) > 400 and len(share["back"]) > 500
    assert front > 0.95 and back > 0.8  # measured 0.964 and 0.832


@pytest.mark.parametrize(
    ("action", "view", "least"),  # measured shares: 0.95, 0.78, 0.77, 0.74
    [("strum_guitar", "front", 0.9), ("bowl", "back", 0.7), ("tennis_forehand", None, 0.7),
     ("baseball_pitch", None, 0.7)],  # fmt: skip
)
def test_one_handed_actions_use_the_right_hand(
    clips: dict[str, SkeletonSequence], action: str, view: str | None, least: float
) -> None:
    chosen = [c for c in _of(clips, action, view) if (c.mask[:, 0, [J("wrist_left"), J("wrist_right")]] == 1).any()]
    assert len(chosen) > 70
    assert np.mean([_busier_wrist_is_right(c) for c in chosen]) > least


def test_the_strumming_hand_is_on_the_image_left(clips: dict[str, SkeletonSequence]) -> None:
    """A guitarist facing the camera has the right hand on the image's left -- where the busy wrist is."""
    sides = []
    for clip in _of(clips, "strum_guitar", "front"):
        x, _, visible = _xy(clip)
        both = visible[:, J("wrist_right")] & visible[:, J("wrist_left")]
        if both.sum() >= 5:
            sides.append(np.mean(x[both, J("wrist_right")] < x[both, J("wrist_left")]) > 0.5)
    assert len(sides) > 70 and np.mean(sides) > 0.9  # measured: all 78


def test_right_views_show_the_right_side(clips: dict[str, SkeletonSequence]) -> None:
    right = [J(n) for n in PENN_ACTION_13.joint_names if n.endswith("_right")]
    left = [J(n) for n in PENN_ACTION_13.joint_names if n.endswith("_left")]
    def more_visible(clip: SkeletonSequence, joints: list[int], others: list[int]) -> bool:
        visible = clip.mask[:, 0] == 1
        return bool(visible[:, joints].mean() > visible[:, others].mean())

    assert np.mean([more_visible(c, right, left) for c in _of(clips, view="right")]) > 0.7  # measured 0.75
    side_views = [c for c in _of(clips, view="right") if c.label in ("squat", "pushup", "situp")]
    assert len(side_views) > 200 and np.mean([_faces_image_right(c) for c in side_views]) > 0.9  # measured 0.97
    # "left" views: the left side is the more visible, yet only about half of the people face the image's left
    assert np.mean([more_visible(c, left, right) for c in _of(clips, view="left")]) > 0.75  # measured 0.82
    left_views = [c for c in _of(clips, view="left") if c.label in ("squat", "pushup", "situp")]
    assert 0.3 < np.mean([not _faces_image_right(c) for c in left_views]) < 0.7  # measured 0.55


def test_unified_mapping(clips: dict[str, SkeletonSequence]) -> None:
    clip = clips["1037"]  # jumping jacks, every joint visible
    unified = sequence_to_unified(clip)
    u = UNIFIED_30.index
    joints, mask = clip.joints[:, 0], clip.mask[:, 0]
    for name in ("head", "shoulder_left", "elbow_right", "wrist_left", "hip_right", "knee_left", "ankle_right"):
        np.testing.assert_array_equal(unified.joints[:, 0, u(name)], joints[:, J(name)])
    mid = lambda a, b: (joints[:, J(a)] + joints[:, J(b)]) / 2  # noqa: E731
    np.testing.assert_allclose(unified.joints[:, 0, u("spine_shoulder")], mid("shoulder_left", "shoulder_right"))
    np.testing.assert_allclose(unified.joints[:, 0, u("spine_base")], mid("hip_left", "hip_right"))
    np.testing.assert_allclose(unified.joints[:, 0, u("spine_mid")],
                               (mid("shoulder_left", "shoulder_right") + mid("hip_left", "hip_right")) / 2, rtol=1e-6)
    np.testing.assert_allclose(unified.joints[:, 0, u("neck")],
                               (mid("shoulder_left", "shoulder_right") + joints[:, J("head")]) / 2, rtol=1e-6)
    missing = {f"{part}_{side}" for part in ("hand", "foot", "hand_tip", "thumb", "eye", "ear")
               for side in ("left", "right")} | {"nose"}  # fmt: skip
    assert {n for n in UNIFIED_30.joint_names if (unified.mask[:, 0, u(n)] == 0).all()} == missing
    assert (unified.mask[:, 0, u("spine_mid")] == mask[:, [J("shoulder_left"), J("hip_right")]].min(axis=1)).all()
    assert unified.joints.shape[-1] == 2 and unified.attributes == clip.attributes


# --- synthetic files ---------------------------------------------------------------------------


def _variables(frames: int = 3, **changes) -> dict:
    rng = np.random.default_rng(1)
    variables = {
        "action": "tennis_serve", "pose": "back", "train": np.array([[1]], dtype=np.int32),
        "x": rng.uniform(10, 400, (frames, 13)), "y": rng.uniform(10, 260, (frames, 13)),
        "visibility": np.ones((frames, 13), dtype=np.uint8), "bbox": np.ones((frames, 4)),
        "dimensions": np.array([[272, 481, frames]], dtype=np.uint16), "nframes": np.array([[frames]], dtype=np.uint8),
    }  # fmt: skip
    variables.update(changes)
    return {name: value for name, value in variables.items() if value is not None}


def _write(tmp_path: Path, variables: dict, name: str = "0042.mat") -> Path:
    path = tmp_path / name
    scipy.io.savemat(path, variables)
    return path


def test_synthetic_clip(tmp_path: Path) -> None:
    variables = _variables(4)
    variables["visibility"][1, 3] = 0
    variables["x"][2, 5], variables["y"][2, 5] = 0, 0
    variables["x"][3, 7] = 500  # visible, beyond the 481-pixel width
    clip = read_penn_action(_write(tmp_path, variables))
    assert (clip.name, clip.label, clip.num_frames, clip.attributes) == ("0042", "tennis_serve", 4, {
        "split": "train", "view": "back", "image_width": "481", "image_height": "272"})  # fmt: skip
    assert clip.mask[1, 0, 3] == INVISIBLE_CONFIDENCE and clip.mask[2, 0, 5] == 0 and clip.mask[3, 0, 7] == 0.5
    assert clip.skipped == {"zero_joint": 1, "visible_outside_image": 1} and clip.mask.sum() == 52 - 1 - 0.5 * 2
    np.testing.assert_allclose(clip.joints[0, 0, 4], [variables["x"][0, 4], variables["y"][0, 4]], rtol=1e-6)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"x": None}, "no variable 'x'"),
        ({"action": "curling"}, "action 'curling' is not one of"),
        ({"pose": "above"}, "pose \\(viewpoint\\) 'above'"),
        ({"train": np.array([[0]])}, "train is 0, expected 1"),
        ({"nframes": np.array([[4]])}, r"x has shape \(3, 13\), expected \(nframes=4, 13\)"),
        ({"nframes": np.array([[0]])}, "nframes is 0, expected at least 1"),
        ({"dimensions": np.array([[272, 481, 5]])}, "nframes is 3 but dimensions give 5"),
        ({"dimensions": np.array([[272, 481]])}, "dimensions must be"),
        ({"y": np.ones((3, 12))}, r"y has shape \(3, 12\)"),
        ({"visibility": np.full((3, 13), 2)}, "visibility holds values other than 0 and 1"),
        ({"x": np.full((3, 13), np.nan)}, "'x' holds a non-finite value"),
        ({"action": np.array([[1.0]])}, "'action' is not a string"),
        ({"train": np.array([[1, -1]])}, "expected one number"),
    ],
)
def test_malformed_clip(tmp_path: Path, changes: dict, message: str) -> None:
    path = _write(tmp_path, _variables(**changes))
    with pytest.raises(DataFormatError, match=message) as error:
        read_penn_action(path)
    assert str(error.value).startswith(str(path))


def test_split_filter(tmp_path: Path) -> None:
    (tmp_path / "labels").mkdir()
    for name, split in (("0001", 1), ("0002", -1), ("0003", 1)):
        _write(tmp_path / "labels", _variables(train=np.array([[split]])), f"{name}.mat")
    assert [c.name for c in read_penn_action_folder(tmp_path, split="train")] == ["0001", "0003"]
    assert [c.name for c in read_penn_action_folder(tmp_path / "labels", split="test")] == ["0002"]
    with pytest.raises(ValueError, match="split must be one of"):
        read_penn_action_folder(tmp_path, split="val")


def test_empty_truncated_and_misnamed_files(tmp_path: Path) -> None:
    whole = _write(tmp_path, _variables()).read_bytes()
    for content, message in ((b"", "empty file"), (whole[:300], "truncated file"),
                             (b"action: bowl\n", "shorter than the 128-byte MATLAB 5 header")):  # fmt: skip
        path = tmp_path / "0007.mat"
        path.write_bytes(content)
        with pytest.raises(DataFormatError, match=message):
            read_penn_action(path)
    with pytest.raises(DataFormatError, match="clip number"):
        read_penn_action(_write(tmp_path, _variables(), "clip.mat"))
    with pytest.raises(DataFormatError, match="no NNNN.mat clip files"):
        read_penn_action_folder(tmp_path / "nothing")


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> dict[bool, bytes]:
    """A valid clip file, uncompressed and compressed (as the real ones)."""
    folder = tmp_path_factory.mktemp("seeds")
    for compress in (False, True):
        scipy.io.savemat(folder / f"{compress}.mat", _variables(), do_compression=compress)
    return {compress: (folder / f"{compress}.mat").read_bytes() for compress in (False, True)}


@FUZZ
@given(data=st.data())
def test_damaged_files_raise_only_data_format_error(data: st.DataObject, seeds: dict, tmp_path_factory) -> None:
    path = tmp_path_factory.mktemp("penn") / "0001.mat"
    path.write_bytes(mutated(data, seeds[data.draw(st.booleans(), label="compressed")]))
    try:
        read_penn_action(path)
    except DataFormatError as error:
        assert str(path) in str(error)
