"""Sources on real files and real OpenCV: pacing, drop-oldest, lossless fast mode, clear failures."""

from __future__ import annotations

import hashlib
import time

import numpy as np
import pytest

from foundation.errors import SourceError
from models.datasets.utkinect import UTKINECT_ACTIONS
from models.synthetic.generator import SyntheticConfig, generate_people
from stream.sources import make_source
from stream.sources.base import READ_FAILED, Capture, Source, SourceConfig
from stream.sources.camera import CameraConfig
from stream.sources.skeleton_file import SkeletonFileConfig, read_skeleton_file
from stream.sources.synthetic import SyntheticSourceConfig
from stream.sources.video import VideoConfig
from tests.conftest import shared_dataset


cv2 = pytest.importorskip("cv2")

EXERCISE_FRAMES = 393  # 384x288, 10 fps
NTU_CLIP_FRAMES = 103  # 1920x1080, 30 fps


def video(name: str):
    return shared_dataset("videos") / name


def drain(source, sleep: float = 0.0):
    frames = []
    while (frame := source.read(timeout=10.0)) is not None:
        frames.append(frame)
        if sleep:
            time.sleep(sleep)
    assert source.ended, "read() returned None before the end of the stream (timeout)"
    return frames


def digest(image: np.ndarray) -> str:
    """Identifies a decoded frame (a sparse sample of its pixels: cheap on 1080p frames)."""
    return hashlib.blake2b(np.ascontiguousarray(image[::4, ::4]).tobytes(), digest_size=16).hexdigest()


# --- video ------------------------------------------------------------------------------------------


VIDEOS = [("exercise.avi", EXERCISE_FRAMES, (288, 384, 3)),
          ("S001C001P001R001A001_rgb.avi", NTU_CLIP_FRAMES, (1080, 1920, 3))]  # fmt: skip


@pytest.mark.parametrize("name, count, shape", VIDEOS)
def test_fast_video_delivers_every_frame_once_in_order(name, count, shape):
    path = video(name)
    expected = []
    capture = cv2.VideoCapture(str(path))
    while (got := capture.read())[0]:
        expected.append(digest(got[1]))
    capture.release()
    assert len(expected) == count

    with make_source(VideoConfig(path, fast=True, queue_size=2)) as source:
        frames = drain(source, sleep=0.0005)
    assert source.error is None and source.fps == pytest.approx(30.0 if count == NTU_CLIP_FRAMES else 10.0)
    assert [f.index for f in frames] == list(range(count))
    assert [digest(f.image) for f in frames] == expected  # the same frames, each once, in order
    assert frames[0].image.shape == shape and frames[0].image.dtype == np.uint8 and frames[0].people is None
    stamps = np.array([f.stamp_ns for f in frames])
    assert (np.diff(stamps) > 0).all()
    assert source.frames_captured == count and source.frames_dropped == 0 and source.frames_delivered == count


def test_real_time_video_is_paced_by_its_frame_rate():
    with make_source(VideoConfig(video("S001C001P001R001A001_rgb.avi"), queue_size=64)) as source:
        frames = [source.read(timeout=5.0) for _ in range(12)]
    assert [f.index for f in frames] == list(range(12))
    offsets = np.array([f.stamp_ns - frames[0].stamp_ns for f in frames]) / 1e9
    # Frame k is never released before k / fps; late releases are possible on a busy machine, so the
    # upper bound is loose: the average spacing is at most a few frame periods.
    assert (offsets >= np.arange(12) / 30.0 - 1e-3).all()
    assert offsets[-1] / 11 < 5 / 30.0


def test_missing_unreadable_and_truncated_videos_fail_at_start(tmp_path):
    with pytest.raises(SourceError, match="cannot open video .*nothing.avi: no such file"):
        make_source(VideoConfig(tmp_path / "nothing.avi")).start()
    garbage = tmp_path / "garbage.avi"
    garbage.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    with pytest.raises(SourceError, match="garbage.avi"):
        make_source(VideoConfig(garbage)).start()
    head = tmp_path / "head.avi"  # a real file cut inside its header
    head.write_bytes(video("exercise.avi").read_bytes()[:4096])
    with pytest.raises(SourceError, match="head.avi"):
        make_source(VideoConfig(head)).start()


def test_truncated_video_ends_at_its_last_decodable_frame(tmp_path):
    cut = tmp_path / "cut.avi"
    cut.write_bytes(video("exercise.avi").read_bytes()[:200_000])
    with make_source(VideoConfig(cut, fast=True)) as source:
        frames = drain(source)
    assert 0 < len(frames) < EXERCISE_FRAMES and source.error is None


def test_looping_video_continues_indices_and_time():
    path = video("exercise.avi")
    with make_source(VideoConfig(path, fast=True, loop=True)) as source:
        frames = [source.read(timeout=10.0) for _ in range(EXERCISE_FRAMES + 5)]
    assert [f.index for f in frames] == list(range(EXERCISE_FRAMES + 5))
    assert digest(frames[EXERCISE_FRAMES].image) == digest(frames[0].image)
    assert source.ended and source.error is None  # stop() ends an endless stream without an error


# --- camera -----------------------------------------------------------------------------------------


def test_absent_camera_is_a_clear_start_error():
    source = make_source(CameraConfig(99))
    with pytest.raises(SourceError, match=r"^cannot open camera 99: "):
        source.start()
    assert not source.running


def test_camera_that_stops_delivering_ends_with_an_error():
    # OpenCV opens a file path like a device; at its end reads fail as an unplugged camera's do.
    path = video("exercise.avi")
    with make_source(CameraConfig(str(path), queue_size=EXERCISE_FRAMES, max_consecutive_failures=3)) as source:
        frames = drain(source)
    assert len(frames) == EXERCISE_FRAMES and frames[0].image.shape == (288, 384, 3)
    assert source.error == f"camera {path} stopped delivering frames after {EXERCISE_FRAMES} frames"


def test_camera_config_validation():
    assert CameraConfig("2").device == 2
    assert CameraConfig("/dev/video0").device == "/dev/video0"
    for kwargs, field in [({"device": -1}, "device"), ({"device": ""}, "device"), ({"width": 0}, "width"),
                          ({"fps": float("nan")}, "fps"), ({"queue_size": 0}, "queue_size"),
                          ({"max_consecutive_failures": 0}, "max_consecutive_failures")]:  # fmt: skip
        with pytest.raises(ValueError, match=f"CameraConfig.{field} "):
            CameraConfig(**kwargs)


# --- synthetic: queue policy ------------------------------------------------------------------------


def test_slow_consumer_in_real_time_drops_the_oldest_frames():
    scene = SyntheticConfig(num_people=1, fps=200.0, num_frames=100, seed=1)
    with make_source(SyntheticSourceConfig(scene, queue_size=4)) as source:
        frames = drain(source, sleep=0.02)
    indices = [f.index for f in frames]
    assert source.frames_captured == 100
    assert source.frames_dropped > 0 and len(frames) + source.frames_dropped == 100
    assert indices == sorted(set(indices)) and indices[-1] == 99  # in order, and the newest still delivered
    assert source.error is None


def test_fast_mode_never_drops_even_for_a_slow_consumer():
    scene = SyntheticConfig(num_people=2, fps=200.0, num_frames=40, seed=2)
    with make_source(SyntheticSourceConfig(scene, fast=True, queue_size=2)) as source:
        frames = drain(source, sleep=0.003)
    assert [f.index for f in frames] == list(range(40)) and source.frames_dropped == 0


def test_synthetic_people_carry_ids_and_truth_labels():
    scene = SyntheticConfig(num_people=2, fps=30.0, duration=8.0, seed=4)
    with make_source(SyntheticSourceConfig(scene, fast=True)) as source:
        frames = drain(source)
    people = generate_people(scene)
    assert len(frames) == people[0].num_frames
    for m, sequence in enumerate(people):
        truth = [None] * sequence.num_frames
        for segment in sequence.segments:
            truth[segment.start : segment.end] = [segment.label] * segment.length
        got = [next(p for p in f.people if p.source_id == m) for f in frames]
        assert [p.truth for p in got] == truth
        assert all(p.layout == "unified_30" and p.joints.shape == (30, 3) and p.confidence.shape == (30,) for p in got)
        np.testing.assert_array_equal(got[17].joints, sequence.joints[17, 0])
    assert any(t is not None for f in frames for t in (p.truth for p in f.people))


def test_stop_ends_an_endless_stream_and_readers_see_the_end():
    with make_source(SyntheticSourceConfig(SyntheticConfig(fps=100.0))) as source:
        first = source.read(timeout=5.0)
        assert first is not None and source.running
        newest = source.async_read(timeout=5.0)
        assert newest.index > first.index
        latest = source.read_latest()
        assert latest is not None and latest.index >= newest.index
        assert source.read_latest(max_age_s=0.0) is None  # every frame is older than that
        stats = source.stats()  # one consistent snapshot
        assert stats["captured"] == stats["delivered"] + stats["dropped"] + stats["queue_depth"]
    assert source.ended and not source.running and source.error is None
    while source.read(timeout=0.1) is not None:  # what was queued stays readable, then the end
        pass
    assert source.read(timeout=0.1) is None and source.stats()["ended"] is True


def test_read_before_start_and_unknown_config():
    source = make_source(SyntheticSourceConfig())
    with pytest.raises(RuntimeError, match="not started"):
        source.read()
    with pytest.raises(ValueError, match="unknown source config"):
        make_source(SourceConfig())
    with pytest.raises(ValueError, match="SyntheticSourceConfig.scene "):
        SyntheticSourceConfig(scene={"num_people": 2})
    with pytest.raises(ValueError, match="VideoConfig.fast "):
        VideoConfig("a.avi", fast="yes")


# --- failures, counted --------------------------------------------------------------------------------


class FlakySource(Source):
    """A real Source over a scripted device: ``good`` frames, then reads that keep failing."""

    def __init__(self, good: int, failures: int, error: Exception | None = None) -> None:
        super().__init__(SourceConfig(max_consecutive_failures=failures, queue_size=100), name="flaky",
                         paced=False, lossless=False)  # fmt: skip
        self.good, self.error_to_raise, self.calls = good, error, 0

    def _open(self) -> None:
        pass

    def _next(self):
        self.calls += 1
        if self.calls <= self.good:
            return Capture(people=[])
        if self.error_to_raise is not None:
            raise self.error_to_raise
        return READ_FAILED


def test_consecutive_failures_end_the_source_with_an_error_instead_of_spinning():
    with FlakySource(good=5, failures=3) as source:
        frames = drain(source)
    assert len(frames) == 5 and source.calls == 5 + 3
    assert source.error == "flaky stopped delivering frames after 5 frames (3 failed reads in a row)"


def test_an_exception_in_the_capture_thread_is_reported():
    with FlakySource(good=2, failures=3, error=OSError("device unplugged")) as source:
        frames = drain(source)
    assert len(frames) == 2 and "OSError: device unplugged" in source.error


# --- skeleton files -------------------------------------------------------------------------------------


def replay(path, format, **kwargs):
    with make_source(SkeletonFileConfig(path, format, fast=True, **kwargs)) as source:
        frames = drain(source)
    assert source.error is None
    return source, frames


def test_utkinect_replay_delivers_every_frame_with_segment_truth():
    path = shared_dataset("utkinect_action3d") / "joints_s01_e01.txt"
    source, frames = replay(path, "utkinect")
    sequence = source.sequence
    assert len(frames) == sequence.num_frames and [f.index for f in frames] == list(range(len(frames)))
    names = ["background", *UTKINECT_ACTIONS]
    expected = [None if k == 0 else names[k] for k in sequence.frame_labels(names)]
    truth = [f.people[0].truth if f.people else None for f in frames]
    present = sequence.mask[:, 0].any(axis=1)
    assert [t for t, p in zip(truth, present) if p] == [e for e, p in zip(expected, present) if p]
    assert set(truth) >= set(UTKINECT_ACTIONS) and None in truth
    person = frames[0].people[0]
    assert person.layout == "kinect_v1_20" and person.joints.shape == (20, 3) and person.source_id == 0


def test_real_time_replay_follows_the_frame_ids():
    path = shared_dataset("utkinect_action3d") / "joints_s01_e01.txt"
    with make_source(SkeletonFileConfig(path, "utkinect", queue_size=16)) as source:
        frames = [source.read(timeout=5.0) for _ in range(5)]
    ids = source.sequence.frame_ids[:5]  # skipping ids (steps of 2 and 4 at 30 fps)
    offsets = np.array([f.stamp_ns - frames[0].stamp_ns for f in frames]) / 1e9
    assert (offsets >= (ids - ids[0]) / 30.0 - 1e-3).all()
    assert offsets[-1] < 5 * (ids[-1] - ids[0]) / 30.0


def test_ntu_replay_two_people_with_clip_label_and_image_points():
    path = shared_dataset("ntu_rgbd_skeleton") / "S001C003P008R002A058.skeleton"
    source, frames = replay(path, "ntu")
    sequence = source.sequence
    assert len(frames) == sequence.num_frames
    present = sequence.mask.any(axis=2)
    assert [len(f.people) for f in frames] == present.sum(axis=1).tolist()
    assert max(len(f.people) for f in frames) == 2
    person = next(p for f in frames for p in f.people if p.source_id == 1)
    assert person.truth == "A058" and person.layout == "kinect_v2_25" and person.image_points.shape == (25, 2)


def test_msr_replay_is_labelled_with_its_action():
    path = shared_dataset("msr_action3d") / "a01_s01_e01_skeleton3D.txt"
    source, frames = replay(path, "msr")
    assert len(frames) == source.sequence.num_frames
    assert {p.truth for f in frames for p in f.people} == {"high arm wave"}


def test_pku_replay_with_and_without_a_label_file(tmp_path):
    path = shared_dataset("pku_mmd") / "skeleton" / "A10N08-L.txt"
    source, frames = replay(path, "pku")
    assert len(frames) == source.sequence.num_frames == 1040
    assert {p.truth for f in frames for p in f.people} == {None}
    labels = tmp_path / "A10N08-L.txt"
    labels.write_text("7,100,199,1\n")
    source, frames = replay(path, "pku", labels=labels)
    truth = [{p.truth for p in f.people} for f in frames]
    assert all(t <= {"7"} for t in truth[100:200]) and any(t == {"7"} for t in truth[100:200])
    assert all(t <= {None} for t in truth[:100] + truth[200:])


def test_skeleton_file_errors():
    with pytest.raises(ValueError, match="SkeletonFileConfig.format "):
        SkeletonFileConfig("x.txt", "bvh")
    with pytest.raises(ValueError, match="SkeletonFileConfig.labels "):
        SkeletonFileConfig("x.skeleton", "ntu", labels="y.txt")
    with pytest.raises(SourceError, match="cannot open skeleton file .*missing.txt: no such file"):
        make_source(SkeletonFileConfig("missing.txt", "msr")).start()


def test_a_malformed_dataset_file_fails_at_start(tmp_path):
    bad = tmp_path / "a01_s01_e01_skeleton3D.txt"
    bad.write_text("1 2 3 4\n" * 21)  # 21 joint lines: not whole frames
    with pytest.raises(SourceError, match="cannot read msr skeleton file .*multiple of 20"):
        make_source(SkeletonFileConfig(bad, "msr")).start()


def test_read_skeleton_file_matches_the_readers():
    path = shared_dataset("msr_action3d") / "a02_s03_e01_skeleton3D.txt"
    sequence = read_skeleton_file(path, "msr")
    assert sequence.label == "horizontal arm wave" and sequence.fps == 15.0


def test_open_validates_without_capturing_and_stop_releases_it():
    videos = shared_dataset("videos")
    source = make_source(VideoConfig(path=videos / "exercise.avi")).open()
    assert source.frames_captured == 0 and not source.running  # opened: nothing captured until start()
    source.stop()  # never started: the capture is released here
    assert source.ended
    with pytest.raises(SourceError):
        make_source(VideoConfig(path=videos / "missing.avi")).open()
