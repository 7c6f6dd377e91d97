"""The pose step: model provisioning (built offline from the mediapipe 0.10.21 wheel) and MediaPipe on real video.

The end-to-end test runs the NTU clip ``S001C001P001R001A001_rgb.avi`` through
MediaPipe and compares the image points with the Kinect's colour-image joints
of the same take. The clip is mirrored with respect to handedness (see
``shared/data/README.md``), so MediaPipe's left is compared with the Kinect's
right; the not-swapped error is reported too, and must be clearly worse.
Run with ``-s`` to see the per-joint table and the time per frame.
"""

from __future__ import annotations

import os
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from foundation.errors import PoseModelError
from models.datasets.ntu import read_ntu_skeleton
from models.skeleton.layouts import MEDIAPIPE_33, UNIFIED_30
from models.skeleton.unified import to_unified
from stream.pose import provision
from stream.pose.one_euro import OneEuroConfig
from stream.types import Frame
from tests.conftest import shared_dataset


TAKE = "S001C001P001R001A001"
LIMBS = [f"{part}_{side}" for part in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")
         for side in ("left", "right")]  # fmt: skip
LIMB_INDEX = [UNIFIED_30.index(name) for name in LIMBS]
SWAP = UNIFIED_30.flip_permutation  # unified joint i ← its other-side twin


# --- provisioning ----------------------------------------------------------------
@pytest.fixture(scope="session")
def built_model(tmp_path_factory) -> Path:
    """The full model built from the mediapipe==0.10.21 wheel (pip download), once per session."""
    pytest.importorskip("mediapipe", reason="the pose extra is not installed (pip install -e '.[pose]')")
    cache = tmp_path_factory.mktemp("skelstream-cache")
    started = time.perf_counter()
    try:
        path = provision.resolve_pose_model(cache_dir=cache)
    except PoseModelError as error:
        if "pip download" in str(error):
            pytest.skip(f"cannot fetch the mediapipe wheel to build the pose model: {error}")
        raise
    print(f"\nbuilt {path} in {time.perf_counter() - started:.1f} s")
    return path


def test_provision_builds_a_task_model_that_loads(built_model):
    from stream.pose.mediapipe_pose import MediaPipePoseEstimator

    assert built_model.name == provision.MODEL_FILENAME
    with zipfile.ZipFile(built_model) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        assert set(infos) == set(provision.TASK_MEMBERS)
        for info in infos.values():
            assert info.compress_type == zipfile.ZIP_STORED
            with open(built_model, "rb") as raw:  # data aligned for TFLite's zero-copy mapping
                raw.seek(info.header_offset + 26)
                name_len, extra_len = np.frombuffer(raw.read(4), dtype="<u2")
            assert (info.header_offset + 30 + int(name_len) + int(extra_len)) % 64 == 0
        landmark_graph = archive.read("pose_landmarks_detector.tflite")
    assert b"TFLITE_METADATA" in landmark_graph and b"pose_landmarks_detector" in landmark_graph  # our metadata
    assert oct(built_model.stat().st_mode & 0o777) == oct(0o644)
    with MediaPipePoseEstimator(built_model) as estimator:
        assert estimator.estimate(Frame(index=0, stamp_ns=0, image=np.zeros((240, 320, 3), np.uint8))) == []


def test_provision_reuses_the_cached_model(built_model):
    before = built_model.stat().st_mtime_ns
    started = time.perf_counter()
    again = provision.resolve_pose_model(cache_dir=built_model.parent, allow_download=False)
    assert again == built_model and again.stat().st_mtime_ns == before
    assert time.perf_counter() - started < 1.0


def test_provision_cli(built_model, tmp_path, capsys):
    assert provision.main(["--output", str(built_model), "--no-download"]) == 0
    assert capsys.readouterr().out.strip() == str(built_model)
    copy = tmp_path / "copy.task"
    assert provision.main(["--pose-model", str(built_model), "--output", str(copy)]) == 0
    assert capsys.readouterr().out.strip() == str(copy)
    assert copy.read_bytes() == built_model.read_bytes()
    assert provision.main(["--output", str(tmp_path / "absent.task"), "--no-download"]) == 2
    assert "--pose-model" in capsys.readouterr().err


def test_cache_dir_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(provision.CACHE_ENV, str(tmp_path / "elsewhere"))
    assert provision.default_cache_dir() == tmp_path / "elsewhere"
    with pytest.raises(PoseModelError, match="--pose-model") as caught:
        provision.resolve_pose_model(allow_download=False)
    assert str(tmp_path / "elsewhere" / provision.MODEL_FILENAME) in str(caught.value)


def test_bad_pose_model_files_are_refused(tmp_path):
    from stream.pose.mediapipe_pose import MediaPipePoseEstimator

    text = tmp_path / "model.task"
    text.write_text("not a model")
    with pytest.raises(PoseModelError, match=r"model\.task is not a MediaPipe \.task file"):
        provision.resolve_pose_model(text)
    with pytest.raises(PoseModelError, match=r"model\.task"):
        MediaPipePoseEstimator(text)
    other = tmp_path / "hand_landmarker.task"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("hand_detector.tflite", b"x")
    with pytest.raises(PoseModelError, match=r"hand_landmarker\.task is not a PoseLandmarker .*pose_detector\.tflite"):
        provision.resolve_pose_model(other)
    with pytest.raises(PoseModelError, match=r"absent\.task does not exist.*--pose-model"):
        provision.resolve_pose_model(tmp_path / "absent.task")


def test_a_model_that_is_a_zip_of_garbage_fails_to_load_with_a_pose_model_error(tmp_path):
    pytest.importorskip("mediapipe")
    from stream.pose.mediapipe_pose import MediaPipePoseEstimator

    fake = tmp_path / "fake.task"
    with zipfile.ZipFile(fake, "w") as archive:
        for name in provision.TASK_MEMBERS:
            archive.writestr(name, b"garbage, not a tflite graph")
    with pytest.raises(PoseModelError, match=r"cannot load the pose model .*fake\.task"):
        MediaPipePoseEstimator(fake)


def test_build_without_the_package_index_says_what_to_do(monkeypatch, tmp_path):
    """pip pointed at an index nobody listens on: a clear error naming --pose-model, quickly."""
    for name in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    monkeypatch.delenv(provision.URL_ENV, raising=False)
    started = time.perf_counter()
    with pytest.raises(PoseModelError, match=r"pip download --no-deps mediapipe==0\.10\.21.*--pose-model"):
        provision.build_pose_model(tmp_path / "model.task")
    assert not (tmp_path / "model.task").exists()
    assert not list(tmp_path.glob(".model.task.*"))  # no partial file left behind
    assert time.perf_counter() - started < 60


def test_an_unreachable_model_url_fails_quickly_and_cleanly(tmp_path):
    started = time.perf_counter()
    with pytest.raises(PoseModelError, match=r"cannot download the pose model from http://127\.0\.0\.1:9/"):
        provision.download_pose_model("http://127.0.0.1:9/pose_landmarker_full.task", tmp_path / "m.task")
    assert not list(tmp_path.iterdir())  # neither the model nor a partial file
    assert time.perf_counter() - started < provision.URL_TIMEOUT_S + 1


# --- the estimator on synthetic inputs --------------------------------------------------
@pytest.fixture(scope="module")
def estimator(built_model):
    from stream.pose.mediapipe_pose import MediaPipePoseEstimator

    with MediaPipePoseEstimator(built_model) as estimator:
        yield estimator


def test_layout_order_matches_mediapipe():
    vision = pytest.importorskip("mediapipe.tasks.python.vision")
    for landmark in vision.PoseLandmark:
        words = landmark.name.lower().split("_")
        side = words.pop(0) if words[0] in ("left", "right") else words.pop(-1)
        assert MEDIAPIPE_33.joint_names[int(landmark)] == "_".join(words + [side])


def test_no_person_gives_no_people(estimator):
    black = np.zeros((480, 640, 3), np.uint8)
    noise = np.random.default_rng(0).integers(0, 256, size=(480, 640, 3), dtype=np.uint8)
    skipped = estimator.skipped_frames
    assert estimator.estimate(Frame(index=0, stamp_ns=10_000_000, image=black)) == []
    assert estimator.estimate(Frame(index=1, stamp_ns=10_000_000, image=noise)) == []  # same stamp: nudged, no error
    assert estimator.skipped_frames == skipped


@pytest.mark.parametrize(
    "image",
    [None, np.zeros((480, 640), np.uint8), np.zeros((480, 640, 3), np.float32), np.zeros((0, 0, 3), np.uint8),
     np.zeros((480, 640, 4), np.uint8), "not an image"],
    ids=["none", "gray", "float", "empty", "four-channel", "string"],
)  # fmt: skip
def test_unusable_images_are_skipped_and_counted(estimator, image):
    skipped = estimator.skipped_frames
    assert estimator.estimate(Frame(index=5, stamp_ns=20_000_000, image=image)) == []
    assert estimator.skipped_frames == skipped + 1


def test_closed_estimator_refuses_work(built_model):
    from stream.pose.mediapipe_pose import MediaPipePoseEstimator

    estimator = MediaPipePoseEstimator(built_model, num_poses=1)
    estimator.close()
    estimator.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        estimator.estimate(Frame(index=0, stamp_ns=0, image=np.zeros((8, 8, 3), np.uint8)))
    with pytest.raises(ValueError, match="num_poses"):
        MediaPipePoseEstimator(built_model, num_poses=0)


# --- real video end to end ---------------------------------------------------------------
def read_video(path: Path, limit: int | None = None):
    """(index, stamp_ns, BGR image) of each frame of a video file, at its nominal frame rate."""
    cv2 = pytest.importorskip("cv2")
    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened(), f"cannot open {path}"
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    index = 0
    try:
        while limit is None or index < limit:
            ok, image = capture.read()
            if not ok:
                break
            yield index, int(round(index * 1e9 / fps)), image
            index += 1
    finally:
        capture.release()


@pytest.fixture(scope="module")
def kinect():
    """The Kinect's body 0 of the same take: unified 3D joints, mask and colour-image pixels."""
    sequence = read_ntu_skeleton(shared_dataset("ntu_rgbd_skeleton") / f"{TAKE}.skeleton")
    joints, mask = to_unified(sequence.joints[:, 0], sequence.mask[:, 0], "kinect_v2_25")
    pixels, _ = to_unified(sequence.projections["color"][:, 0], sequence.mask[:, 0], "kinect_v2_25")
    return joints, mask, pixels


@pytest.fixture(scope="module")
def video_run(built_model):
    """One pass of the NTU clip through MediaPipe (no smoothing): people per frame and time per frame."""
    from stream.pose.mediapipe_pose import MediaPipePoseEstimator

    video = shared_dataset("videos") / f"{TAKE}_rgb.avi"
    people, seconds, size = [], [], None
    with MediaPipePoseEstimator(built_model, num_poses=2) as estimator:
        for index, stamp_ns, image in read_video(video):
            size = image.shape[:2]
            started = time.perf_counter()
            people.append(estimator.estimate(Frame(index=index, stamp_ns=stamp_ns, image=image)))
            seconds.append(time.perf_counter() - started)
        skipped = estimator.skipped_frames
    ms = 1000 * np.array(seconds)
    print(f"\npose on {len(people)} frames of {size[1]}x{size[0]}: median {np.median(ms):.1f} ms/frame, "
          f"p95 {np.percentile(ms, 95):.1f} ms (first frame {ms[0]:.0f} ms)")  # fmt: skip
    return {"people": people, "size": size, "skipped": skipped}


def unified_track(people) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The single person's unified joints, mask and image points per frame."""
    joints = np.stack([p[0].joints for p in people])
    conf = np.stack([p[0].confidence for p in people])
    points = np.stack([p[0].image_points for p in people])
    unified_joints, unified_mask = to_unified(joints, conf, MEDIAPIPE_33)
    unified_points, _ = to_unified(points, conf, MEDIAPIPE_33)
    return unified_joints, unified_mask, unified_points


def test_video_gives_one_well_formed_person_per_frame(video_run, kinect):
    people, (height, width) = video_run["people"], video_run["size"]
    assert len(people) == len(kinect[0]) == 103
    assert video_run["skipped"] == 0
    assert [len(p) for p in people] == [1] * len(people)
    for (person,) in people:
        assert person.layout == "mediapipe_33"
        assert person.joints.shape == (33, 3) and person.joints.dtype == np.float32
        assert person.image_points.shape == (33, 2)
        assert person.confidence.shape == (33,) and np.all((person.confidence >= 0) & (person.confidence <= 1))
        assert np.isfinite(person.joints).all() and np.isfinite(person.image_points).all()
        # the body (shoulders to ankles) is inside the image
        body = person.image_points[MEDIAPIPE_33.index("shoulder_left") :]
        assert np.all((body >= -0.05 * width) & (body <= [1.05 * width, 1.05 * height]))
    confidence = np.stack([p[0].confidence for p in people])
    assert np.median(confidence) > 0.9


def test_image_points_agree_with_the_kinect_colour_joints(video_run, kinect):
    _, _, points = unified_track(video_run["people"])
    _, kinect_mask, kinect_pixels = kinect
    assert kinect_mask[:, LIMB_INDEX].min() > 0
    swapped = np.linalg.norm(points[:, SWAP][:, LIMB_INDEX] - kinect_pixels[:, LIMB_INDEX], axis=-1)
    straight = np.linalg.norm(points[:, LIMB_INDEX] - kinect_pixels[:, LIMB_INDEX], axis=-1)
    print(f"\n{'Kinect joint':<16}{'swapped px':>11}{'straight px':>12}")
    for column, name in enumerate(LIMBS):
        print(f"{name:<16}{np.median(swapped[:, column]):>11.1f}{np.median(straight[:, column]):>12.1f}")
    print(f"{'overall':<16}{np.median(swapped):>11.1f}{np.median(straight):>12.1f}")
    assert np.median(swapped) < 30.0
    assert np.median(straight) > np.median(swapped) + 15.0
    assert np.sum(np.median(swapped, axis=0) < 30.0) >= 10  # all but a joint or two (a wrist is ~76 px off)


def test_world_joints_follow_the_camera_convention(video_run, kinect):
    """y up, z away, hip-centred metres; against the Kinect's 3D joints (mirrored clip: sides swap, x flips)."""
    joints, _, _ = unified_track(video_run["people"])
    kinect_joints = kinect[0]
    # hip-centred: the origin is the hips' midpoint (unified spine_base); head above it, ankles below
    assert np.abs(joints[:, UNIFIED_30.index("spine_base")]).max() < 0.05
    assert np.all(joints[:, UNIFIED_30.index("head"), 1] > 0.4)
    assert np.all(joints[:, [UNIFIED_30.index("ankle_left"), UNIFIED_30.index("ankle_right")], 1] < -0.6)
    ours = joints[:, SWAP] - joints[:, :1]
    theirs = kinect_joints - kinect_joints[:, :1]
    chosen = LIMB_INDEX + [UNIFIED_30.index("head")]
    corr = [np.corrcoef(ours[:, chosen, axis].ravel(), theirs[:, chosen, axis].ravel())[0, 1] for axis in range(3)]
    print(f"\nworld vs Kinect (spine-base centred, sides swapped), correlation x/y/z: {np.round(corr, 3)}")
    assert corr[0] < -0.8  # the clip is mirrored: our x is the Kinect's -x
    assert corr[1] > 0.9
    assert corr[2] > 0.8
    assert np.median(np.abs(ours[:, chosen, 1:] - theirs[:, chosen, 1:])) < 0.1  # metres


def test_smoothing_reduces_jitter_on_real_frames(built_model, kinect):
    """The first 30 frames with and without One-Euro smoothing: far less jitter, same agreement."""
    from stream.pose.mediapipe_pose import MediaPipePoseEstimator

    video = shared_dataset("videos") / f"{TAKE}_rgb.avi"
    frames = list(read_video(video, limit=30))
    tracks = {}
    for name, smoothing in (("raw", None), ("smoothed", OneEuroConfig())):
        with MediaPipePoseEstimator(built_model, num_poses=1, smoothing=smoothing) as estimator:
            people = [estimator.estimate(Frame(index=i, stamp_ns=s, image=im)) for i, s, im in frames]
        assert [len(p) for p in people] == [1] * len(frames)
        tracks[name] = (np.stack([p[0].image_points for p in people]), np.stack([p[0].joints for p in people]))
    jitter = {name: np.mean(np.abs(np.diff(points, 2, axis=0))) for name, (points, _) in tracks.items()}
    world_jitter = {name: np.mean(np.abs(np.diff(joints, 2, axis=0))) for name, (_, joints) in tracks.items()}
    errors = {}
    for name, (points, _) in tracks.items():
        unified, _ = to_unified(points, np.ones(points.shape[:2], np.float32), MEDIAPIPE_33)
        errors[name] = np.median(np.linalg.norm(unified[:, SWAP][:, LIMB_INDEX] - kinect[2][:30, LIMB_INDEX], axis=-1))
    print(f"\njitter px {jitter}, world m {world_jitter}, median px error {errors}")
    assert jitter["smoothed"] < 0.7 * jitter["raw"]  # measured 0.45x
    assert world_jitter["smoothed"] < 0.7 * world_jitter["raw"]  # measured 0.37x
    assert errors["smoothed"] < errors["raw"] + 2.0


def test_two_people_are_found_and_smoothed_separately(built_model, kinect):
    """Real frames made into a two-person scene (the person beside a mirrored copy of them)."""
    from stream.pose.mediapipe_pose import MediaPipePoseEstimator

    pixels_x = kinect[2][..., 0]
    left, right = int(pixels_x.min()) - 150, int(pixels_x.max()) + 150
    video = shared_dataset("videos") / f"{TAKE}_rgb.avi"
    scenes = [np.concatenate([im[:, left:right], im[:, left:right][:, ::-1]], axis=1)
              for _, _, im in read_video(video, limit=12)]  # fmt: skip
    width = scenes[0].shape[1]
    hips = [MEDIAPIPE_33.index("hip_left"), MEDIAPIPE_33.index("hip_right")]
    results = {}
    for name, smoothing in (("raw", None), ("smoothed", OneEuroConfig())):
        with MediaPipePoseEstimator(built_model, num_poses=2, smoothing=smoothing) as estimator:
            people = [estimator.estimate(Frame(index=i, stamp_ns=i * 33_333_333, image=scene))
                      for i, scene in enumerate(scenes)]  # fmt: skip
        assert [len(p) for p in people] == [2] * len(scenes)
        # order each frame's two people left to right
        results[name] = np.stack([
            np.stack([p.image_points for p in sorted(frame, key=lambda p: p.image_points[hips, 0].mean())])
            for frame in people
        ])  # fmt: skip
    raw = results["raw"]
    centres = raw[:, :, hips].mean(axis=2)  # (frames, 2 people, xy)
    np.testing.assert_allclose(centres[:, 1, 0], width - 1 - centres[:, 0, 0], atol=10)  # mirror images
    assert np.all(centres[:, 0, 0] < width / 2) and np.all(centres[:, 1, 0] > width / 2)
    # each smoothed person stays on their own raw track (a filter shared across people would drag them apart)
    gap = np.linalg.norm(results["smoothed"] - raw, axis=-1)
    print(f"\nsmoothed vs raw: median {np.median(gap):.2f} px, hips at most {gap[:, :, hips].max():.2f} px")
    assert np.median(gap) < 3.0  # measured 0.7
    assert gap[:, :, hips].max() < 20.0  # measured 3


def test_media_time_drives_smoothing_when_the_source_gives_it(built_model):
    """A fast replay (frames released 1 ms apart) smooths as the recording's 30 fps clock says."""
    from stream.pose.mediapipe_pose import MediaPipePoseEstimator

    frames = list(read_video(shared_dataset("videos") / f"{TAKE}_rgb.avi", limit=8))
    runs = []
    for stamps in ("recording", "fast replay"):
        with MediaPipePoseEstimator(built_model, num_poses=1, smoothing=OneEuroConfig()) as estimator:
            people = [
                estimator.estimate(Frame(index=i, stamp_ns=s if stamps == "recording" else i * 1_000_000,
                                         media_ns=None if stamps == "recording" else s, image=im))
                for i, s, im in frames
            ]  # fmt: skip
        runs.append(np.stack([p[0].image_points for p in people]))
    np.testing.assert_allclose(runs[0], runs[1], atol=1e-3)
